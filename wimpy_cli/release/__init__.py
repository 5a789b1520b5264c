"""Blue/green releases: naming a release from any version, turning traffic shares into
Route53 weights, and the canary's step-by-step decisions. Pure logic: AWS calls are
made by the caller through small interfaces, so every decision is unit-tested."""

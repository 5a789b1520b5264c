"""The CDK context an application's stack for one version is synthesized with. A deploy
computes it before its first step, so that the foundation's synthesis (which then
includes that stack) is the one the application's own deploy reuses (wimpy_cli/deploy/stacks.py
keeps it); the strategies make theirs here too, so that the two cannot drift apart."""

from __future__ import annotations

from wimpy_cli.release.names import release_name


def for_version(*, version: str, image: str, machine_image: str, release_stack: bool) -> dict[str, str]:
    """The rolling strategy's application stack at `version`, or (`release_stack`) the
    blue/green release stack of `version`."""
    context = {"version": version, "image": image, "machine_image": machine_image}
    if release_stack:
        context["release"] = release_name(version)
    return context

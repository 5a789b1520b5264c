"""wimpy plan: how long a deploy will take on AWS, phase by phase, from the synthesized
application template plus stated assumptions; with --compare, the same model with each
peer tool's published defaults."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional, Sequence

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import (OFFLINE_CDK_FLAGS, ConfigOption, JsonOption, NumberOption, load,
                                       PATH_CHARACTERS, check_readable_file, offline_cdk_environment, path_parser,
                                       shown)
from wimpy_cli.errors import ExitCode, WimpyError

DEFAULT_VERSION = "plan"


def synthesize(config: Path, environments: Sequence[str] | None, version: str,
               out_dir: Path, *, release: str | None = None) -> dict[str, dict[str, Any]]:
    """Every template of `environments` (all when None) with the application stack of
    `version` (a blue/green release stack, named `release`, when given), through the same
    CDK CLI path as `wimpy synth`; stack name -> template."""
    from wimpy_cli import cdk  # imported by the commands that synthesize: `wimpy --help` does not pay

    context = cdk.context_arguments(config, list(environments) if environments else None)
    if release is not None:
        context += ["--context", f"release={release}"]
    cdk.run(["synth", "--app", cdk.app_argument(), *context, "--context", f"version={version}",
             *OFFLINE_CDK_FLAGS, "--output", str(out_dir), "--quiet"], what="Synthesis",
            extra_env=offline_cdk_environment())
    return {path.name.removesuffix(".template.json"): json.loads(path.read_text())
            for path in sorted(out_dir.glob("*.template.json"))}


def parse_steps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise WimpyError(f"--steps {shown(text)}: give rising traffic percentages separated by "
                         "commas, ending at 100, e.g. 10,50,100", code=ExitCode.USAGE) from None


def plan(
    config: Path = ConfigOption,
    env: str = typer.Option(..., "--env", "-e", help="Environment whose application stack to estimate."),
    version: str = typer.Option(DEFAULT_VERSION, "--version", help="Version (image tag) to synthesize the application stack with; it does not change the estimate."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="rolling or blue-green. Default: wimpy.yml's deploy.strategy."),
    capacity: Optional[int] = NumberOption(None, "--capacity", help="Instances to replace. Default: the group's MinSize.", minimum=1, integer=True, example=4),
    boot_seconds: float = NumberOption(40, "--boot-seconds", help="Assumed instance boot until user data runs.", unit="seconds"),
    install_seconds: float = NumberOption(3, "--install-seconds", help="Assumed start of Docker (the machine image carries it; about 60 for an image that must install it).", unit="seconds"),
    pull_seconds: float = NumberOption(30, "--pull-seconds", help="Assumed image login and pull.", unit="seconds"),
    start_seconds: float = NumberOption(5, "--start-seconds", help="Assumed container start until it answers its health path.", unit="seconds"),
    load_balancer_seconds: float = NumberOption(180, "--load-balancer-seconds", help="Assumed ALB creation (blue-green).", unit="seconds"),
    steps: Optional[str] = typer.Option(None, "--steps", help="Canary traffic steps in percent (blue-green). Default: wimpy.yml's deploy.canary.steps, else 10,50,100."),
    bake_seconds: Optional[float] = NumberOption(None, "--bake-seconds", help="Bake time per step (blue-green). Default: wimpy.yml's, else 300.", unit="seconds", example=300),
    ttl_seconds: Optional[float] = NumberOption(None, "--ttl-seconds", help="DNS TTL clients may cache (blue-green through DNS; behind the load balancer a step needs none). Default: wimpy.yml's deploy.dns_ttl_seconds, at least the 60 s Route 53 gives an alias to a load balancer.", unit="seconds", example=60),
    compare: bool = typer.Option(False, "--compare", help="Also evaluate the model with each peer tool's published defaults."),
    first_deploy: bool = typer.Option(False, "--first-deploy", help="Also estimate the application's first deploy into an empty account: the image, then every stack created one after another."),
    build_seconds: float = NumberOption(60, "--build-seconds", help="Assumed image build and push (--first-deploy).", unit="seconds"),
    template: Optional[Path] = typer.Option(None, "--template", help="Estimate this synthesized application template instead of synthesizing.",
                                            metavar="FILE", parser=path_parser("--template", what="a synthesized application template (JSON)", example="cdk.out/wimpy-staging-hello.template.json")),
    as_json: bool = JsonOption,
) -> None:
    """Estimate how long a deploy takes on AWS: each phase with its formula, the expected
    total and the worst case, from the synthesized template and stated assumptions.

    Example: wimpy plan -c examples/hello/wimpy.yml --env production --compare
    """
    from wimpy_cli.build import versions
    from wimpy_cli.release.dns import client_cache_seconds

    from wimpy_domain import naming
    from wimpy_cli.estimate import deploy_time as model

    versions.check(version)
    loaded = load(config, [env])
    deploy = loaded.deploy
    chosen = strategy or getattr(deploy, "strategy", model.ROLLING)
    if chosen not in model.STRATEGIES:
        raise WimpyError(f"--strategy {shown(chosen)} is not accepted; use one of "
                         f"{', '.join(model.STRATEGIES)}", code=ExitCode.USAGE)
    canary_config = getattr(deploy, "canary", None)
    # Behind the application's long-lived load balancer a step is in effect at once.
    through_front = dataclasses.replace(deploy, strategy=chosen).through_front
    plan_steps = parse_steps(steps) if steps is not None else tuple(
        getattr(canary_config, "steps", model.DEFAULT_CANARY_STEPS))
    canary = model.canary_plan(
        plan_steps,
        bake_seconds if bake_seconds is not None else getattr(canary_config, "bake_seconds",
                                                              model.DEFAULT_BAKE_SECONDS),
        # On AWS clients keep an alias answer 60 s whatever wimpy.yml says (wimpy_cli/release/dns.py).
        0 if through_front else ttl_seconds if ttl_seconds is not None else client_cache_seconds(
            getattr(deploy, "dns_ttl_seconds", model.DEFAULT_TTL_SECONDS), local=False))
    assumptions = model.Assumptions(boot_seconds=boot_seconds, install_seconds=install_seconds,
                                    pull_seconds=pull_seconds, start_seconds=start_seconds,
                                    load_balancer_seconds=load_balancer_seconds)
    stack = naming.rolling_stack(env, loaded.app.name)
    if template is not None and first_deploy:
        raise WimpyError("--first-deploy estimates every stack, which it synthesizes; it cannot "
                         "take --template (one stack)", code=ExitCode.USAGE)
    if template is not None:
        document = _read_template(template)
        source = str(template)
    else:
        import tempfile

        output.info(f"Synthesizing {stack} (version {version}) ...")
        with tempfile.TemporaryDirectory(prefix="wimpy-plan-") as folder:
            templates = synthesize(config, [env], version, Path(folder))
        if stack not in templates:
            raise WimpyError(f"synthesis wrote no {stack} template (it wrote "
                             f"{', '.join(sorted(templates))})")
        document, source = templates[stack], f"{stack}.template.json (synthesized)"

    result = model.estimate(document, strategy=chosen, assumptions=assumptions,
                            capacity=capacity, canary=canary, through_front=through_front,
                            keep_releases=deploy.keep_releases, kept=deploy.kept_release_capacity)
    rows = (model.compare(model.read_rollout(document), assumptions, capacity=capacity)
            if compare else [])
    data: dict[str, Any] = {"app": loaded.app.name, "environment": env, "template": source,
                            **result.to_dict()}
    if compare:
        data["comparison"] = [asdict(row) | {"assumed": list(row.assumed)} for row in rows]
    text = render(result, loaded.app.name, env, source, rows)
    if first_deploy:
        from wimpy_cli.deploy.foundation import foundation_stacks
        from wimpy_cli.estimate.first_deploy import estimate_first_deploy

        first = estimate_first_deploy(templates, [*foundation_stacks(loaded, env), stack],
                                      assumptions=assumptions, build_seconds=build_seconds)
        data["first_deploy"] = first.to_dict()
        text = render_first_deploy(first, loaded.app.name, env) + "\n\n" + text
    output.result(data, text, as_json=as_json)


def render_first_deploy(first: Any, app: str, env: str) -> str:
    from wimpy_cli.estimate.deploy_time import minutes

    width = max(len(p.name) for p in first.phases) + 2
    lines = [f"First deploy of {app} to {env} in an empty account: the image, then every stack "
             "created one after another, each as long as its slowest chain of resources",
             "(creation times assumed per resource type: wimpy_cli/estimate/first_deploy.py)", "",
             f"  {'Phase':<{width}}{'Time':>9}  Slowest links"]
    for phase in first.phases:
        lines.append(f"  {phase.name:<{width}}{minutes(phase.seconds):>9}  {phase.formula}")
    lines.append(f"  {'Expected':<{width}}{minutes(first.expected_seconds):>9}  "
                 f"({first.expected_seconds:g} s) the sum of the phases")
    return "\n".join(lines)


def _read_template(path: Path) -> dict[str, Any]:
    check_readable_file(path, "--template", what="a synthesized application template (JSON)",
                        example="--template cdk.out/wimpy-staging-hello.template.json")
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise WimpyError(f"--template {shown(path, PATH_CHARACTERS)}: cannot read it ({error.strerror})",
                         code=ExitCode.USAGE) from None
    except ValueError as error:
        raise WimpyError(f"--template {shown(path, PATH_CHARACTERS)}: not a JSON CloudFormation template ({error})",
                         code=ExitCode.USAGE) from None


def render(result: Any, app: str, env: str, source: str, rows: Sequence[Any]) -> str:
    from wimpy_cli.estimate.deploy_time import minutes

    a = result.assumptions
    first = result.phases[0].name if result.phases else ""
    batches = (f"{result.capacity} instance{'s' if result.capacity != 1 else ''} in {result.batches} batch"
               f"{'es' if result.batches != 1 else ''}" if result.strategy == "rolling"
               else f"a new release stack of {result.capacity} instances started in parallel")
    if result.strategy != "rolling":
        batches += (", through its own load balancer and DNS" if first.startswith("release stack")
                    else ", behind the application's load balancer")
    lines = [f"Deploy-time estimate for {app} in {env}: {result.strategy}, {batches}",
             f"from {source}; assumed boot {a.boot_seconds:g} s, Docker start {a.install_seconds:g} s, "
             f"pull {a.pull_seconds:g} s, start {a.start_seconds:g} s"
             + (f", ALB {a.load_balancer_seconds:g} s" if first.startswith("release stack") else ""),
             ""]
    width = max(len(p.name) for p in result.phases) + 2
    lines.append(f"  {'Phase':<{width}}{'Time':>9}  Formula")
    for phase in result.phases:
        lines.append(f"  {phase.name:<{width}}{minutes(phase.seconds):>9}  {phase.formula}")
    if result.serving_seconds is not None and result.serving_seconds < result.expected_seconds:
        lines.append(f"  {'New version serving':<{width}}{minutes(result.serving_seconds):>9}  "
                     f"({result.serving_seconds:g} s) every request on it, the old instances "
                     "gone; the bake can still roll it back")
    lines.append(f"  {'Expected':<{width}}{minutes(result.expected_seconds):>9}  "
                 f"({result.expected_seconds:g} s) the sum of the phases")
    lines.append(f"  {'Worst case':<{width}}{minutes(result.worst_seconds):>9}  "
                 f"({result.worst_seconds:g} s) {result.worst_formula}")
    for warning in result.warnings:
        lines.append(f"Warning: {warning}")
    if result.rollbacks:
        lines += ["", "Rollback, until all traffic is on the previous version"
                  + (" (deploy.kept_release_capacity: zero or warm):" if result.strategy != "rolling" else ":")]
        for rollback in result.rollbacks:
            mark = "  (wimpy.yml)" if rollback.configured and len(result.rollbacks) > 1 else ""
            name = {"zero": "kept at zero", "warm": "kept warm", "none": "none kept",
                    "rolling": "rolling"}[rollback.kept]
            lines.append(f"  {name:<{width - 2}}{minutes(rollback.seconds):>11}  {rollback.formula}{mark}")
    if rows:
        lines += ["", "The same rolling model with each tool's published defaults (boot, "
                      "install, pull and start held at the assumptions above):", ""]
        name_width = max(len(row.name) for row in rows) + 2
        lines.append(f"  {'Tool':<{name_width}}{'Batches':>7}  {'Healthy':<10}{'Drain':>6}"
                     f"{'Expected':>10}{'Worst':>10}  Assumed (not in the peer survey)")
        for row in rows:
            assumed = "; ".join(row.assumed) or "-"
            lines.append(f"  {row.name:<{name_width}}{row.batches:>7}  "
                         f"{row.health_formula:<10}{row.drain_seconds:>5g}s"
                         f"{minutes(row.expected_seconds):>10}{minutes(row.worst_seconds):>10}  "
                         f"{assumed}")
        notes = [f"  {row.name}: {row.note}." for row in rows if row.note]
        lines += ["Notes:", *notes] if notes else []
        lines.append("Sources: each row's public documentation or source, in --json "
                     "(\"sources\") and wimpy_cli/estimate/peers.py.")
    from wimpy_cli.commands.common import next_command

    lines.append(f"\nNext: {next_command('deploy', env=env)}")
    return "\n".join(lines)

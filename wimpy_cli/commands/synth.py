"""wimpy synth: write the CloudFormation templates, offline, without deploying."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import cdk, output
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.commands.common import (OFFLINE_CDK_FLAGS, ConfigOption, JsonOption, load,
                                       offline_cdk_environment, path_parser, shown,
                                       PATH_CHARACTERS)


def synth(
    config: Path = ConfigOption,
    env: Optional[list[str]] = typer.Option(None, "--env", "-e", help="Only these environments (repeatable). Default: all."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder. Default: cdk.out beside wimpy.yml.",
                                       metavar="DIR", parser=path_parser("-o/--out", what="an output folder", example="cdk.out")),
    version: Optional[str] = typer.Option(None, "--version", help="Also synthesize the application stack for this version (image tag)."),
    as_json: bool = JsonOption,
) -> None:
    """Synthesize every stack's template, checked by cdk-nag, with no AWS credentials.

    No AWS call is made, whatever credentials are set: the CDK CLI runs without them.

    Example: wimpy synth -c examples/hello/wimpy.yml --env staging
    """
    from wimpy_cli.build import versions

    if version is not None:
        versions.check(version)
    loaded = load(config, env)
    out_dir = (out or config.resolve().parent / "cdk.out").resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise WimpyError(f"-o/--out {shown(out or out_dir, PATH_CHARACTERS)}: is a file, not a folder; give a folder for "
                         "the templates, e.g. -o cdk.out", code=ExitCode.USAGE)
    started = time.monotonic()
    output.info(f"Synthesizing {loaded.app.name} ({', '.join(env or loaded.environment_names)}) ...")
    context = cdk.context_arguments(config, env) + (["--context", f"version={version}"] if version else [])
    cdk.run(["synth", "--app", cdk.app_argument(), *context, *OFFLINE_CDK_FLAGS,
             "--output", str(out_dir), "--quiet"], what="Synthesis",
            extra_env=offline_cdk_environment())
    templates = sorted(out_dir.glob("*.template.json"))
    stacks = [{"stack": t.name.removesuffix(".template.json"), "template": str(t),
               "resources": len(json.loads(t.read_text())["Resources"])} for t in templates]
    elapsed = time.monotonic() - started
    lines = [f"Synthesized {len(stacks)} stacks in {elapsed:.1f}s to {out_dir}:"]
    lines += [f"  {s['stack']:<40} {s['resources']:>3} resources  {s['template']}" for s in stacks]
    lines.append("All templates passed the cdk-nag AwsSolutions checks.")
    output.result({"output": str(out_dir), "stacks": stacks}, "\n".join(lines), as_json=as_json)

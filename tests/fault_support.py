"""What the fault-injection tests (tests/test_fault_injection.py) run `wimpy` with: a real
`wimpy` process per command, against the module's emulator over HTTP, killed by a real
signal at a named kill point (wimpy_cli/faults.py).

Two things differ from a user's run, both for time (the matrix runs dozens of deploys):

- Stacks are deployed from a template the real CDK CLI made once for the application
  (fetched back from the emulator), with the version's name put in place of a placeholder,
  through the same CloudFormation change sets the CDK CLI uses. The foundation, deployed
  once by the real CLI, is left alone. What is under test is the release record, the lock
  and traffic; the CDK CLI path is covered by tests/test_blue_green*.py.
- The canary's clock is a fake one that advances by what it is asked to sleep, as in the
  blue/green tests: bakes and TTL waits take no time.

Run as `python -m tests.fault_support <templates dir> <wimpy arguments...>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

PLACEHOLDER = "faultv0"  # the version a template was made for
RELEASE_PLACEHOLDER = "faultr0"  # its release name, when it differs from the version


def template_for(templates: Path, stack: str, version: str, release: str | None) -> str | None:
    """The cached template of `stack` with the version and release name in place of the
    placeholders; None for a stack not cached (the foundation: left as it is)."""
    release = release or version
    for path in templates.glob("*.json"):
        kind = json.loads(path.read_text())
        if kind["stack"].replace(RELEASE_PLACEHOLDER, release).replace(PLACEHOLDER, release) == stack:
            return kind["template"].replace(RELEASE_PLACEHOLDER, release).replace(PLACEHOLDER, version)
    return None


def deploy_from_templates(templates: Path):
    """A stand-in for wimpy_cli.deploy.stacks.deploy with the same signature and outcomes."""
    from wimpy_cli.errors import ExitCode, WimpyError

    def deploy(run: Any, stacks: Sequence[str], *, context: Mapping[str, str] = {},
               parameters: Mapping[str, Mapping[str, str]] = {}, exclusively: bool = False,
               what: str) -> None:
        cloudformation = run.target.client("cloudformation")
        for stack in stacks:
            body = template_for(templates, stack, context.get("version", ""), context.get("release"))
            if body is None:
                continue
            changed = _change_set(cloudformation, stack, body, parameters.get(stack, {}))
            if changed is False:
                raise WimpyError(f"{what} failed", code=ExitCode.FAILED)
    return deploy


def _change_set(cloudformation: Any, stack: str, body: str, given: Mapping[str, str]) -> bool | None:
    declared = json.loads(body).get("Parameters", {})
    existing = _existing(cloudformation, stack)
    parameters = []
    for name in declared:
        if name in given:
            parameters.append({"ParameterKey": name, "ParameterValue": given[name]})
        elif existing is not None and name in existing:
            parameters.append({"ParameterKey": name, "UsePreviousValue": True})
    kind = "UPDATE" if existing is not None else "CREATE"
    cloudformation.create_change_set(
        StackName=stack, ChangeSetName="fault-deploy", TemplateBody=body, Parameters=parameters,
        ChangeSetType=kind, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    described = cloudformation.describe_change_set(StackName=stack, ChangeSetName="fault-deploy")
    if described["Status"] == "FAILED":
        cloudformation.delete_change_set(StackName=stack, ChangeSetName="fault-deploy")
        return None  # no changes
    cloudformation.execute_change_set(StackName=stack, ChangeSetName="fault-deploy")
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    return status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def _existing(cloudformation: Any, stack: str) -> dict[str, str] | None:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError:
        return None
    if described["StackStatus"] in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE"):
        return None
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}


def main(argv: list[str]) -> None:
    templates, arguments = Path(argv[0]), argv[1:]
    from wimpy_cli.deploy import stacks
    from wimpy_cli.main import app
    from wimpy_cli.release.canary import SystemClock

    stacks.deploy = deploy_from_templates(templates)
    waited: list[float] = []
    SystemClock.sleep = lambda self, seconds: waited.append(seconds)  # type: ignore[method-assign]
    SystemClock.now = lambda self: sum(waited)  # type: ignore[method-assign]
    app(arguments, prog_name="wimpy")


if __name__ == "__main__":
    main(sys.argv[1:])

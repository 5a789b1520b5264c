"""Fault injection: a deploy killed at every phase boundary and between writes of the release
record, then a re-run, `abort` or `rollback`, and after each sequence the invariants a team
relies on.

Each deploy is a real `wimpy` process against the emulator over HTTP, killed by a real
signal (SIGINT, SIGTERM or SIGKILL) that it sends itself at a named kill point
(wimpy_cli/faults.py: WIMPY_KILL_AT), so the point is exact, not a matter of timing. After the
follow-up command, whatever it was:

- no lock is left;
- nothing is under way in the record (no release deploying, in a canary, retiring...);
- exactly one release is live in the record, and it is the only one Route53 sends
  traffic to (a blue/green release at weight 255; the rolling stack at its own weight);
- the live release passed its checks: every step of its last canary passed, or it was
  brought back by a rollback, or it is the application's first release;
- every stack of the application is in the record, alive only if the record says it
  serves or is kept (kept ones at weight 0 and zero capacity), none half-made.

The matrix: every kill point once, with the signal and the follow-up (a re-run, an abort
or a rollback) rotating so that every signal meets every follow-up; every signal goes
through the same unwinding (wimpy_cli/interrupts.py), and SIGKILL none at all.
WIMPY_FAULT_MATRIX=full runs every point with every signal. One application carries the whole chain: the state one
sequence ends in is the state the next one starts from. See tests/fault_support.py for
what is faster than in a user's run, and why."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.main import app as wimpy
from tests.conftest import EXAMPLE
from tests.fault_support import PLACEHOLDER

ENV = "staging"
SIGNALS = ("SIGINT", "SIGTERM", "SIGKILL")
FOLLOW_UPS = ("re-run", "abort", "rollback")

# The matrix's canary has two steps (50%, then 100%): every boundary of a step, fewer weight
# updates to wait for than three steps would need.
# ("lock taken", before the foundation, is the same state as "before begin" here: the
# foundation is not deployed again in the matrix. It is the first point of ROLLING_POINTS.)
BLUE_GREEN_POINTS = (
    "before begin",  # the lock held, the foundation deployed, nothing recorded
    "after begin",  # recorded, the release stack not made
    "before stack-ready",  # the release stack made, not recorded
    "after stack-ready",
    "after shift-1",  # step 1 recorded, its weights not set
    "weights set 1",  # weights set, the watch not recorded
    "after watching-1",  # mid-watch
    "after passed-1",  # between steps
    "weights set 2",  # all traffic on the canary, not watched
    "after watching-2",
    "after promote",  # live, the old release not yet retired
    "before retired",  # the old release kept or deleted, not recorded
)
ROLLING_POINTS = ("lock taken", "after begin", "stack deployed", "after stack-ready", "after go-live")


def matrix(points):
    """Every point once, the signal rotating and the follow-up rotating a step further each
    round of signals, so that any nine points in a row meet every (signal, follow-up) pair
    once. WIMPY_FAULT_MATRIX=full runs every point with every signal (about three times as
    long: more than the suite's budget allows in CI)."""
    if os.environ.get("WIMPY_FAULT_MATRIX") == "full":
        return [(point, signal_name, FOLLOW_UPS[(i + j) % len(FOLLOW_UPS)])
                for i, point in enumerate(points) for j, signal_name in enumerate(SIGNALS)]
    return [(point, SIGNALS[i % len(SIGNALS)], FOLLOW_UPS[(i + i // len(SIGNALS)) % len(FOLLOW_UPS)])
            for i, point in enumerate(points)]


@dataclass
class App:
    name: str
    strategy: str
    config: Path
    templates: Path
    emulator: object
    serial: int = 0

    def next_version(self) -> str:
        self.serial += 1
        return f"v{self.serial}"

    def wimpy(self, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
        """A real `wimpy` process (see tests/fault_support.py), `kill_at` "<point>:<SIGNAL>"."""
        env = {**os.environ, "WIMPY_KILL_AT": kill_at} if kill_at else {
            k: v for k, v in os.environ.items() if k != "WIMPY_KILL_AT"}
        return subprocess.run(
            [sys.executable, "-m", "tests.fault_support", str(self.templates), args[0],
             "-c", str(self.config), "--env", ENV, "--local", *args[1:]],
            capture_output=True, text=True, env=env, timeout=300,
            cwd=Path(__file__).resolve().parent.parent)


def make_app(emulator, tmp_path: Path, name: str, strategy: str) -> App:
    """The application with its foundation and a first release deployed by the real CLI,
    and the templates the CDK CLI made for it kept for the matrix."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["name"] = name
    data["deploy"] = {"strategy": strategy, "keep_releases": 1, "dns_ttl_seconds": 60}
    if strategy == "blue-green":
        data["deploy"]["canary"] = {"steps": [50, 100], "bake_seconds": 300}
    config = tmp_path / f"{name}.yml"
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(wimpy, ["deploy", "-c", str(config), "--env", ENV, "--local",
                                        "--version", PLACEHOLDER])
    assert result.exit_code == 0, result.output
    from wimpy_domain import naming

    stack = (naming.release_stack(ENV, name, PLACEHOLDER) if strategy == "blue-green"
             else naming.rolling_stack(ENV, name))
    body = emulator.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
    templates = tmp_path / f"{name}-templates"
    templates.mkdir()
    (templates / "release.json").write_text(json.dumps({
        "stack": stack, "template": body if isinstance(body, str) else json.dumps(body)}))
    return App(name=name, strategy=strategy, config=config, templates=templates, emulator=emulator)


@pytest.fixture(scope="module")
def blue_green(emulator, tmp_path_factory):
    return make_app(emulator, tmp_path_factory.mktemp("bg"), "faultbg", "blue-green")


@pytest.fixture(scope="module")
def rolling(emulator, tmp_path_factory):
    return make_app(emulator, tmp_path_factory.mktemp("rolling"), "faultroll", "rolling")


# -- the invariants ---------------------------------------------------------------------------

def check_invariants(app: App) -> list[str]:
    """Every way the state after a sequence is wrong (empty: all hold)."""
    from wimpy_domain import naming
    from wimpy_cli.deploy import outcome
    from wimpy_cli.release import inventory
    from wimpy_cli.release.record import KEPT, LIVE
    from wimpy_cli.release.session import read_record
    from wimpy_cli.release.store import RecordStore

    problems = []
    dynamodb, cloudformation = app.emulator.client("dynamodb"), app.emulator.client("cloudformation")
    holder = RecordStore(dynamodb, ENV, app.name).holder()
    if holder is not None:
        problems.append(f"a lock is left: {holder.describe()}")
    record = read_record(dynamodb, env=ENV, app=app.name)
    problems += [f"left under way: {r.describe()}" for r in record.unfinished()]
    live = [r for r in record.releases if r.state == LIVE]
    if len(live) != 1:
        return problems + [f"{len(live)} releases live in the record"]
    (current,) = live
    if not passed_its_checks(current, record):
        problems.append(f"{current.version} is live without having passed its checks: {current.events}")

    stacks = {r.stack: r for r in inventory.releases(cloudformation, ENV, app.name)}
    rolling = outcome.read(cloudformation, naming.rolling_stack(ENV, app.name))
    if rolling is not None:
        stacks[rolling.name] = None
    for name in stacks:
        status = outcome.read(cloudformation, name).status
        if status not in inventory.ACTIVE:
            problems.append(f"{name} is {status}")
    expected = {r.stack for r in record.releases if r.state in (LIVE, KEPT)}
    if set(stacks) != expected:
        problems.append(f"stacks {sorted(stacks)} but the record has {sorted(expected)} alive")
    weights = route53_weights(app)
    serving = serving_weights(app, weights)
    if serving and {s for s, w in serving.items() if w} != {current.stack}:
        problems.append(f"Route53 weights {weights} (behind the front: {serving}), but "
                        f"{current.stack} is live")
    entry = naming.front_stack(ENV, app.name) if current.stack in listener_weights_of(app) else current.stack
    if current.strategy == "blue-green" and weights.get(entry) != 255:
        problems.append(f"the live release's record ({entry}) has weight {weights.get(entry)}, not 255")
    for release in record.releases:
        if release.state == KEPT and release.stack in stacks:
            parameters = {p["ParameterKey"]: p["ParameterValue"] for p in cloudformation.describe_stacks(
                StackName=release.stack)["Stacks"][0]["Parameters"]}
            if (parameters.get("TrafficWeight", "0"), parameters.get("Capacity")) != ("0", "off"):
                problems.append(f"kept {release.stack} has {parameters}")
    return problems


def listener_weights_of(app: App) -> dict[str, int]:
    from tests.blue_green_support import listener_weights_by_stack

    return listener_weights_by_stack(app.emulator, app.name)


def serving_weights(app: App, records: dict[str, int]) -> dict[str, int]:
    """Each release stack's part of the traffic: its own record's weight, or (behind the
    front) its listener weight while the front's record has any."""
    from wimpy_domain import naming

    front = naming.front_stack(ENV, app.name)
    found = {stack: weight for stack, weight in records.items() if stack != front}
    if records.get(front):
        found.update(listener_weights_of(app))
    return found


def passed_its_checks(release, record) -> bool:
    """Its last canary passed every step, or a rollback brought it back, or it is the
    first release (nothing to canary against), or a rolling update CloudFormation finished."""
    if release.strategy == "rolling" or release.version == PLACEHOLDER:
        return True
    if release.events and any(e.state == "restoring" for e in release.events[-3:]):
        return True
    last_steps = {j.step: j.outcome for j in release.judged[-len(release.steps):]}
    return last_steps == {step: "passed" for step in range(len(release.steps))}


def route53_weights(app: App) -> dict[str, int]:
    route53 = app.emulator.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    if not zones:
        return {}
    records = route53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"]
    return {r["SetIdentifier"]: r["Weight"] for r in records
            if r["Name"] == f"{app.name}.{ENV}.example.com." and "SetIdentifier" in r}


# -- one sequence -----------------------------------------------------------------------------

def run_sequence(app: App, point: str, signal_name: str, follow_up: str) -> list[str]:
    """Deploy a new version killed at `point` by `signal_name`, then `follow_up`; the
    problems found (empty: the sequence converged)."""
    version = app.next_version()
    killed = app.wimpy("deploy", "--version", version, kill_at=f"{point}:{signal_name}")
    expected_code = -signal.SIGKILL if signal_name == "SIGKILL" else 128 + getattr(signal, signal_name)
    if killed.returncode != expected_code:
        return [f"the deploy killed at {point!r} by {signal_name} exited {killed.returncode}, not "
                f"{expected_code} (was the point reached?):\n{killed.stderr[-1500:]}"]
    problems = []
    if signal_name != "SIGKILL" and "Traffic of" not in killed.stderr:
        problems.append(f"an interrupted deploy did not say where traffic is:\n{killed.stderr[-1500:]}")
    if follow_up == "re-run":
        after = app.wimpy("deploy", "--version", version)
        accepted = {0}
    elif follow_up == "abort":
        after = app.wimpy("abort")
        accepted = {0, 1}  # 1: nothing was under way any more (finished first, then said so)
    else:
        after = app.wimpy("rollback")
        accepted = {0, 1}  # 1: no release to roll back to (said plainly)
    if after.returncode not in accepted or "Traceback" in after.stderr or "internal error" in after.stderr:
        problems.append(f"{follow_up} exited {after.returncode}:\n{after.stderr[-1500:]}")
    if signal_name == "SIGKILL" and "took over the lock left by" not in after.stderr:
        problems.append(f"{follow_up} did not take over the dead deploy's lock:\n{after.stderr[-1500:]}")
    if after.returncode == 1 and not any(words in after.stderr for words in (
            "nothing to abort", "to roll back to")):
        problems.append(f"{follow_up} failed without saying why plainly:\n{after.stderr[-1500:]}")
    if follow_up == "re-run" and after.returncode == 0:
        from wimpy_cli.release.session import read_record

        live = read_record(app.emulator.client("dynamodb"), env=ENV, app=app.name).live()
        if live is None or live.version != version:
            problems.append(f"the re-run of {version} left {live.version if live else 'nothing'} live")
    return [f"{point} / {signal_name} / {follow_up}: {p}" for p in problems + check_invariants(app)]


@pytest.mark.parametrize("point, signal_name, follow_up", matrix(BLUE_GREEN_POINTS),
                         ids=lambda v: v.replace(" ", "-"))
def test_blue_green_converges_after_a_kill(blue_green, point, signal_name, follow_up):
    assert run_sequence(blue_green, point, signal_name, follow_up) == []


@pytest.mark.parametrize("point, signal_name, follow_up", matrix(ROLLING_POINTS),
                         ids=lambda v: v.replace(" ", "-"))
def test_rolling_converges_after_a_kill(rolling, point, signal_name, follow_up):
    assert run_sequence(rolling, point, signal_name, follow_up) == []

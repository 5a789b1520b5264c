"""What a long command shows while it runs (wimpy_cli/live.py): in a terminal, a live area with
the phase, its elapsed time, a canary step's countdown and one line per stack; elsewhere,
plain lines (a stack's once it ends, every failure); the CDK CLI's raw events only with
--verbose; the local target explained once per `wimpy local start`."""

from __future__ import annotations

import io

import pytest

from wimpy_cli import live
from wimpy_cli.phases import Phases

# As the CDK CLI prints them with `--progress events`.
EVENTS = [
    "wimpy-staging-hello | 0/7 | 10:00:01 AM | UPDATE_IN_PROGRESS   | AWS::CloudFormation::Stack | wimpy-staging-hello User Initiated",
    "wimpy-staging-hello | 0/7 | 10:00:03 AM | UPDATE_IN_PROGRESS   | AWS::EC2::LaunchTemplate | ServiceLaunchTemplate9E6D0C2B ",
    "wimpy-staging-hello | 1/7 | 10:00:04 AM | UPDATE_COMPLETE      | AWS::EC2::LaunchTemplate | ServiceLaunchTemplate9E6D0C2B ",
    "wimpy-staging-hello | 6/7 | 10:00:09 AM | UPDATE_COMPLETE_CLEANUP_IN_PROGRESS | AWS::CloudFormation::Stack | wimpy-staging-hello ",
    "wimpy-staging-hello | 7/7 | 10:00:10 AM | UPDATE_COMPLETE      | AWS::CloudFormation::Stack | wimpy-staging-hello ",
]
FAILED = ("wimpy-staging-hello | 2/7 | 10:00:05 AM | UPDATE_FAILED        | AWS::AutoScaling::AutoScalingGroup"
          " | ServiceGroupASG15272EA1 Received 0 SUCCESS signal(s) out of 1")


@pytest.fixture(autouse=True)
def not_verbose():
    live.set_verbose(False)
    yield
    live.set_verbose(False)


def test_off_a_terminal_a_stack_is_one_line_when_it_ends_and_raw_events_need_verbose():
    stream = io.StringIO()
    phases = Phases(stream=stream)
    with phases.phase("application", "wimpy-staging-hello"):
        for line in ["wimpy-staging-hello: deploying... [1/1]", *EVENTS]:
            phases.display.cloudformation(line)
    assert stream.getvalue().splitlines() == [
        "▸ application: wimpy-staging-hello",
        "  wimpy-staging-hello: update complete (7 resources)",
        stream.getvalue().splitlines()[-1],
    ]
    assert stream.getvalue().splitlines()[-1].startswith("✓ application (")

    live.set_verbose(True)
    verbose = io.StringIO()
    phases = Phases(stream=verbose)
    for line in EVENTS:
        phases.display.cloudformation(line)
    assert verbose.getvalue().splitlines() == [f"  │ {line}" for line in EVENTS]


def test_a_failure_is_shown_at_once_with_its_reason():
    stream = io.StringIO()
    display = live.Display(stream=stream)
    display.cloudformation(FAILED)
    display.cloudformation(FAILED)  # the CDK CLI repeats failures in its summary
    assert stream.getvalue().splitlines() == [
        "  ✗ wimpy-staging-hello: UPDATE_FAILED AWS::AutoScaling::AutoScalingGroup "
        "ServiceGroupASG15272EA1: Received 0 SUCCESS signal(s) out of 1"]


def test_in_a_terminal_the_live_area_shows_the_phase_its_time_the_stacks_and_a_countdown(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    display = live.Display(stream=stream, terminal=True)
    display.start_phase("canary: v2 against v1")
    clock[0] += 12
    for line in EVENTS[:3]:
        display.cloudformation(line)
    display.countdown("step 1/3 at 10.0% of traffic, watched", 40)
    clock[0] += 15
    assert display.rows() == [
        "canary: v2 against v1 (27s)",
        "  step 1/3 at 10.0% of traffic, watched: 25s left",
        "  wimpy-staging-hello  1/7  UPDATE_COMPLETE AWS::EC2::LaunchTemplate ServiceLaunchTemplate9E6D0C2B",
    ]
    display.end_phase()
    assert display.rows() == []
    # The area is redrawn in place (cursor movements), and leaves nothing behind.
    assert "\x1b[" in stream.getvalue()


def test_in_a_terminal_finished_phases_and_notes_stay_and_the_area_goes():
    stream = io.StringIO()
    phases = Phases(stream=stream)
    phases.display = live.Display(stream=stream, terminal=True)
    with phases.phase("validate"):
        phases.note("wimpy.yml is valid")
    text = stream.getvalue()
    assert "▸" not in text  # the live area, not a line, shows a phase under way
    assert "wimpy.yml is valid" in text and "✓ validate (" in text
    assert phases.timings[0]["phase"] == "validate" and phases.timings[0]["ok"] is True


def test_nested_phases_keep_the_area_until_the_outer_one_ends():
    stream = io.StringIO()
    display = live.Display(stream=stream, terminal=True)
    display.start_phase("deploy")
    display.start_phase("local AWS")
    assert display.rows()[0].startswith("local AWS (")
    display.end_phase()
    assert display.rows()[0].startswith("deploy (") and display._live is not None
    display.end_phase()
    assert display._live is None


def test_a_canary_step_reports_its_time_left_at_each_look():
    from wimpy_cli.release.canary import Canary, CanaryPlan

    class Clock:
        t = 0.0

        def now(self):
            return self.t

        def sleep(self, seconds):
            self.t += seconds

    class Quiet:
        def problems(self):
            return []

    class Traffic:
        def set_split(self, split):
            pass

    left: list[float] = []
    plan = CanaryPlan(steps=(10.0, 100.0), bake_seconds=20, ttl_seconds=10, poll_seconds=10)
    canary = Canary(plan, Traffic(), Quiet(), Clock(), on_wait=left.append)
    canary.watch(10.0, None)
    assert left == [30.0, 20.0, 10.0, 0.0]


def test_the_local_target_is_explained_once_per_local_start(tmp_path, monkeypatch):
    from wimpy_cli import targets

    monkeypatch.setenv("WIMPY_LOCAL_STATE", str(tmp_path / "local.json"))
    state = {"endpoint": "http://127.0.0.1:4566"}
    assert targets._first_time_for(state, "data plane") is True
    assert targets._first_time_for(state, "data plane") is False
    # Another emulator, or the data plane started since: told again.
    assert targets._first_time_for({"endpoint": "http://127.0.0.1:5000"}, "data plane") is True
    assert targets._first_time_for({"endpoint": "http://127.0.0.1:5000"}, "no data plane") is True
    # A command's own emulator (no `wimpy local start`) is new every time.
    assert targets._first_time_for(None, "data plane") is True


def test_a_stack_that_rolled_back_says_how_far_it_got():
    stream = io.StringIO()
    display = live.Display(stream=stream)
    display.cloudformation("wimpy-staging-hello | 3/7 | 10:00:20 AM | UPDATE_ROLLBACK_COMPLETE | "
                           "AWS::CloudFormation::Stack | wimpy-staging-hello ")
    assert stream.getvalue() == "  wimpy-staging-hello: update rollback complete (3/7 resources)\n"


def test_a_phase_with_its_own_progress_gets_a_line_not_the_live_area():
    stream = io.StringIO()
    phases = Phases(stream=stream)
    phases.display = live.Display(stream=stream, terminal=True)
    with phases.phase("build and push", "registry/app:v1", live=False):
        assert phases.display._live is None
    assert stream.getvalue().splitlines()[0] == "▸ build and push: registry/app:v1"


def test_stderr_written_during_a_live_phase_goes_above_the_area_and_stdout_stays_apart(capsys):
    import sys

    stream = io.StringIO()
    display = live.Display(stream=stream, terminal=True)
    display.start_phase("CloudFormation")
    sys.stderr.write("warning: written straight to stderr\n")
    print("a result on stdout")  # may be a pipe (--json | jq): never the display's
    display.end_phase()
    assert "warning: written straight to stderr" in stream.getvalue()
    assert "a result on stdout" not in stream.getvalue()
    assert capsys.readouterr().out == "a result on stdout\n"


@pytest.mark.parametrize("terminal", [False, True])
def test_the_cdk_clis_own_failure_lines_are_shown_in_a_terminal_too(terminal):
    stream = io.StringIO()
    display = live.Display(stream=stream, terminal=terminal)
    display.cloudformation("wimpy-staging-hello: deploying... [1/1]")
    display.cloudformation(" ❌  wimpy-staging-hello failed: The stack named wimpy-staging-hello "
                           "failed to deploy: UPDATE_ROLLBACK_COMPLETE")
    assert "deploying..." not in stream.getvalue()
    assert "❌  wimpy-staging-hello failed: The stack named" in stream.getvalue()


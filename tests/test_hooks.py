"""wimpy.yml's hooks: shell commands run before and after a deploy. First `run_hooks` on
its own (environment, working directory, streamed output, failures, timeouts), then
through `wimpy deploy` against the embedded emulator: a failing before-deploy hook stops
the deploy before anything exists, after-deploy hooks learn the outcome, and their failure
is reported without failing a deploy that succeeded."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.hooks import HookFailed, run_hooks
from wimpy_cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
ENV = {"WIMPY_APP": "hello", "WIMPY_ENVIRONMENT": "staging", "WIMPY_VERSION": "v1.2.3",
       "WIMPY_IMAGE": "registry.example/hello:v1.2.3"}


def run(commands, tmp_path, *, timeout=30, phase="before_deploy", environment=ENV):
    run_hooks(commands, phase=phase, environment=environment, cwd=tmp_path,
              timeout_seconds=timeout)


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


# --- run_hooks ----------------------------------------------------------------------------

def test_hooks_get_the_deploy_in_their_environment_and_run_in_the_given_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLER_VARIABLE", "kept")
    run(["env > seen.env", "pwd > seen.pwd"], tmp_path)
    seen = read_env(tmp_path / "seen.env")
    for name, value in ENV.items():
        assert seen[name] == value
    assert seen["CALLER_VARIABLE"] == "kept" and "PATH" in seen  # the caller's environment too
    assert (tmp_path / "seen.pwd").read_text().strip() == str(tmp_path)


def test_commands_go_through_the_shell_in_order(tmp_path):
    run(['echo one > order && echo "two" >> order', "printf 'three\\n' | cat >> order"], tmp_path)
    assert (tmp_path / "order").read_text().split() == ["one", "two", "three"]


def test_output_is_streamed_to_stderr_with_a_prefix_and_stdout_stays_clean(tmp_path, capsys):
    run(["echo to-stdout; echo to-stderr >&2", "echo second"], tmp_path)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[before_deploy 1/2] to-stdout" in captured.err
    assert "[before_deploy 1/2] to-stderr" in captured.err
    assert "[before_deploy 2/2] second" in captured.err
    assert "✓ hook before_deploy 1/2" in captured.err


def test_output_is_shown_as_it_comes_not_at_the_end(tmp_path, monkeypatch):
    """A line printed before the command ends reaches stderr while it still runs: the hook
    waits for a file this test creates only once it has seen that line (output held back
    to the end would leave the hook waiting until its timeout)."""
    import wimpy_cli.hooks as hooks

    written: list[str] = []

    def write(line: str) -> None:
        written.append(line)
        if line.endswith("] early"):
            (tmp_path / "go").touch()

    monkeypatch.setattr(hooks, "_write", write)
    run(["echo early; while [ ! -e go ]; do sleep 0.05; done; echo late"], tmp_path, timeout=20)
    shown = [line.rsplit("] ", 1)[1] for line in written if "] " in line]
    assert shown == ["early", "late"]


class TickingClock:
    """The hooks' clock: every reading is `step` seconds after the one before, however
    fast or slow this machine is; records when each hook was stopped."""

    def __init__(self, step: float = 0.25):
        self.now, self.step = 0.0, step
        self.readings: list[float] = []
        self.stopped_at: list[float] = []

    def __call__(self) -> float:
        self.now += self.step
        self.readings.append(self.now)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    import wimpy_cli.hooks as hooks

    ticking = TickingClock()
    stop = hooks._stop

    def recording_stop(process, **kwargs):
        ticking.stopped_at.append(ticking.now)
        return stop(process, **kwargs)

    monkeypatch.setattr(hooks, "clock", ticking)
    monkeypatch.setattr(hooks, "_stop", recording_stop)
    return ticking


def assert_stopped_at_its_timeout(clock: TickingClock, timeout: float) -> None:
    """Stopped once, at the first reading of the clock at or past the deadline: not
    before the timeout, and not a reading later."""
    started = clock.readings[0]
    (stopped,) = clock.stopped_at
    assert started + timeout <= stopped < started + timeout + clock.step, (started, stopped)


def test_the_first_failure_stops_the_rest_and_names_hook_exit_code_and_last_lines(tmp_path):
    failing = "i=1; while [ $i -le 30 ]; do echo line-$i; i=$((i+1)); done; exit 3"
    with pytest.raises(HookFailed) as raised:
        run(["true", failing, "touch never"], tmp_path)
    error = raised.value
    message = str(error)
    assert message.startswith(f"hook `{failing}` (hooks.before_deploy, command 2 of 3) failed "
                              "with exit code 3.")
    assert error.code == ExitCode.FAILED and error.returncode == 3
    assert "Its last 20 lines of output:" in message
    assert "| line-30" in message and "| line-11" in message and "| line-10\n" not in message
    assert not (tmp_path / "never").exists()


def test_a_hook_that_prints_nothing_says_so(tmp_path):
    with pytest.raises(HookFailed, match=r"failed with exit code 1\. It printed nothing\."):
        run(["false"], tmp_path)


def test_a_missing_command_fails_with_the_shells_127(tmp_path):
    with pytest.raises(HookFailed) as raised:
        run(["./no-such-script.sh"], tmp_path)
    assert raised.value.returncode == 127
    assert "no-such-script.sh" in str(raised.value)


def test_a_missing_folder_is_a_clear_failure(tmp_path):
    with pytest.raises(HookFailed, match="could not start in .*missing"):
        run_hooks(["true"], phase="before_deploy", environment={}, cwd=tmp_path / "missing",
                  timeout_seconds=5)


def test_the_timeout_stops_the_hook_and_everything_it_started(tmp_path, clock):
    with pytest.raises(HookFailed) as raised:
        run(["echo waiting; sleep 300 & echo $! > child.pid; wait"], tmp_path, timeout=1)
    assert_stopped_at_its_timeout(clock, 1)
    message = str(raised.value)
    assert "did not finish within hooks.timeout_seconds (1s) and was stopped" in message
    assert "| waiting" in message and raised.value.returncode is None
    assert "raise hooks.timeout_seconds" in raised.value.hint
    child = int((tmp_path / "child.pid").read_text())
    assert gone(child), "the hook's background sleep outlived the timeout"


def test_a_sleep_hook_with_timeout_1_is_stopped_at_its_timeout(tmp_path, clock):
    with pytest.raises(HookFailed, match="within hooks.timeout_seconds"):
        run(["sleep 60"], tmp_path, timeout=1)
    assert_stopped_at_its_timeout(clock, 1)


def test_the_timeout_holds_for_a_hook_that_closed_its_output(tmp_path, clock):
    with pytest.raises(HookFailed, match="within hooks.timeout_seconds"):
        run(["exec >/dev/null 2>&1; echo $$ > hook.pid; sleep 60"], tmp_path, timeout=1)
    assert_stopped_at_its_timeout(clock, 1)
    assert gone(int((tmp_path / "hook.pid").read_text()))


def test_a_hook_that_ends_in_time_is_not_stopped(tmp_path, clock):
    run(["echo quick"], tmp_path, timeout=1)
    assert clock.stopped_at == []


def gone(pid: int) -> bool:
    """Whether `pid` has ended (or ends soon: a killed process takes a moment to go)."""
    deadline = time.monotonic() + 30  # only a failing test waits this long
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    return not _alive(pid)


def test_ctrl_c_during_a_hook_stops_it_too(tmp_path, monkeypatch):
    """The hook runs in its own session (so its group can be stopped whole), which also
    keeps the terminal's Ctrl-C from reaching it: Wimpy has to stop it."""
    import wimpy_cli.hooks as hooks

    def interrupt(line: str) -> None:
        if "] ready" in line:
            raise KeyboardInterrupt

    monkeypatch.setattr(hooks, "_write", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(["echo $$ > hook.pid; echo ready; sleep 300"], tmp_path)
    assert gone(int((tmp_path / "hook.pid").read_text()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# --- deploy_reporting without AWS: the outcome after-deploy hooks see ------------------------

def write_project(folder: Path, hooks: dict | None = None, notifications: dict | None = None,
                  app: str | None = None) -> Path:
    """The example's wimpy.yml with these sections (and this app name), in `folder`
    (hooks run there)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    if app is not None:
        data["app"]["name"] = app
    if hooks is not None:
        data["hooks"] = hooks
    if notifications is not None:
        data["notifications"] = notifications
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wimpy.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("raised, outcome", [
    (WimpyError("CloudFormation rolled back", code=ExitCode.ROLLED_BACK), "rolled-back"),
    (WimpyError("cdk exited 1"), "failed"),
    (RuntimeError("unexpected"), "failed"),
])
def test_after_deploy_hooks_learn_how_the_deploy_ended(tmp_path, raised, outcome):
    from wimpy_domain.config import load_config
    from wimpy_cli.notify.dispatch import deploy_reporting

    config = load_config(write_project(tmp_path, hooks={
        "after_deploy": ['echo "$WIMPY_OUTCOME|$WIMPY_URL|$WIMPY_VERSION" > outcome']}))
    with pytest.raises(type(raised)):
        with deploy_reporting(config, environment="staging", version="v7", image="img:v7",
                              client_factory=_no_aws):
            raise raised
    assert (tmp_path / "outcome").read_text().strip() == f"{outcome}||v7"


def test_a_failing_after_hook_does_not_hide_the_deploys_own_error(tmp_path, capsys):
    from wimpy_domain.config import load_config
    from wimpy_cli.notify.dispatch import deploy_reporting

    config = load_config(write_project(tmp_path, hooks={"after_deploy": ["exit 9"]}))
    with pytest.raises(WimpyError, match="CloudFormation rolled back") as raised:
        with deploy_reporting(config, environment="staging", version="v7", image="img:v7",
                              client_factory=_no_aws):
            raise WimpyError("CloudFormation rolled back", code=ExitCode.ROLLED_BACK)
    assert raised.value.code == ExitCode.ROLLED_BACK
    assert "warning: after-deploy hook `exit 9` (hooks.after_deploy) failed with exit code 9 " \
           "(its output is above); this is reported, not fatal: the deploy itself was rolled " \
           "back, as reported below." in capsys.readouterr().err


def test_after_a_success_they_get_the_url(tmp_path):
    from wimpy_domain.config import load_config
    from wimpy_cli.notify.dispatch import deploy_reporting

    config = load_config(write_project(tmp_path, hooks={
        "after_deploy": ['echo "$WIMPY_OUTCOME|$WIMPY_URL" > outcome']}))
    with deploy_reporting(config, environment="staging", version="v7", image="img:v7",
                          client_factory=_no_aws) as report:
        report.succeeded("https://hello.staging.example.com")
    assert (tmp_path / "outcome").read_text().strip() == \
        "succeeded|https://hello.staging.example.com"


def test_an_interrupted_deploy_runs_no_after_hooks(tmp_path):
    from wimpy_domain.config import load_config
    from wimpy_cli.notify.dispatch import deploy_reporting

    config = load_config(write_project(tmp_path, hooks={"after_deploy": ["touch ran"]}))
    with pytest.raises(KeyboardInterrupt):
        with deploy_reporting(config, environment="staging", version="v7", image="img:v7",
                              client_factory=_no_aws):
            raise KeyboardInterrupt
    assert not (tmp_path / "ran").exists()


def _no_aws(service: str):
    raise AssertionError(f"no AWS client should be needed, asked for {service}")


# --- through wimpy deploy, against the emulator ----------------------------------------------



def deploy(config: Path, version: str):
    return runner.invoke(app, ["deploy", "-c", str(config), "--env", "staging", "--local",
                               "--json", "--version", version])


DEPLOY_VARIABLES = "^WIMPY_(APP|ENVIRONMENT|VERSION|IMAGE|URL|OUTCOME)="


def stack_names(emulator) -> set[str]:
    return {s["StackName"] for s in emulator.client("cloudformation").describe_stacks()["Stacks"]}


def test_a_failing_before_hook_stops_the_deploy_before_anything_is_deployed(emulator, tmp_path):
    # An app of its own, so that nothing of it can exist before, whatever ran before.
    before = stack_names(emulator)
    config = write_project(tmp_path, app="hooked", hooks={
        "before_deploy": ["echo checking", "echo 'migrations pending: 0042_add_index'; exit 4",
                          "touch third-ran"],
        "after_deploy": ['echo "$WIMPY_OUTCOME" > outcome']})
    result = deploy(config, "v1.0.0")
    assert result.exit_code == ExitCode.FAILED == 1, result.output
    assert "hook `echo 'migrations pending: 0042_add_index'; exit 4` (hooks.before_deploy, " \
           "command 2 of 3) failed with exit code 4" in result.stderr
    assert "| migrations pending: 0042_add_index" in result.stderr  # its last output
    assert "Nothing was deployed" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "third-ran").exists()
    # Nothing of the application: on the account's first deploy only the shared baseline,
    # which holds the release record where the deploy lock is taken before any hook runs.
    assert stack_names(emulator) - before <= {"wimpy-baseline"}
    assert not any("hooked" in name for name in stack_names(emulator))
    from tests.lock_support import lock_holder

    assert lock_holder(emulator.client("dynamodb"), "staging", "hooked") is None  # released
    assert (tmp_path / "outcome").read_text().strip() == "failed"


def test_a_deploy_with_hooks_runs_them_around_it_and_survives_a_failing_after_hook(emulator, tmp_path):
    config = write_project(tmp_path, hooks={
        "before_deploy": [f"env | grep -E '{DEPLOY_VARIABLES}' > before.env", "pwd > before.pwd"],
        "after_deploy": [f"env | grep -E '{DEPLOY_VARIABLES}' > after.env", "echo smoke test failed; exit 7",
                         "touch after-the-failure"],
        "timeout_seconds": 60})
    # A version no other test deploys: were it already live, the deploy would have nothing
    # to do and skip the phases asserted here.
    result = deploy(config, "v1.0.0-hooks")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # hook output went to stderr: stdout is clean JSON
    # (The account's first deploy makes the baseline before the lock, and a foundation
    # unchanged since an earlier test's deploy is not deployed again.)
    phases = [p["phase"] for p in document["phases"] if p["phase"] not in ("baseline", "foundation")]
    assert phases == ["validate", "before-deploy hooks", "machine image", "CloudFormation",
                      "after-deploy hooks"]
    assert [p["ok"] for p in document["phases"]][-1] is False
    assert "wimpy-staging-hello" in stack_names(emulator)

    image = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.0.0-hooks"
    before = read_env(tmp_path / "before.env")
    assert before == {"WIMPY_APP": "hello", "WIMPY_ENVIRONMENT": "staging",
                      "WIMPY_VERSION": "v1.0.0-hooks", "WIMPY_IMAGE": image}
    assert (tmp_path / "before.pwd").read_text().strip() == str(tmp_path)
    after = read_env(tmp_path / "after.env")
    assert after == {**before, "WIMPY_URL": document["url"], "WIMPY_OUTCOME": "succeeded"}
    assert document["url"] == "https://hello.staging.example.com"

    assert "[after_deploy 2/3] smoke test failed" in result.stderr
    assert "warning: after-deploy hook `echo smoke test failed; exit 7` (hooks.after_deploy, " \
           "command 2 of 3) failed with exit code 7" in result.stderr
    assert "the deploy itself succeeded, so the exit code stays 0" in result.stderr
    assert not (tmp_path / "after-the-failure").exists()  # the first failure stops the rest


def test_a_deploy_refused_by_the_lock_runs_no_hook(emulator, tmp_path):
    from wimpy_cli.release.store import RecordStore
    from tests.lock_support import plant_lock

    config = write_project(tmp_path, hooks={
        "before_deploy": ["touch before-ran"],
        "after_deploy": ['echo "$WIMPY_OUTCOME" > outcome']})
    deploy(config, "v1.0.0")  # the account's first deploy: the release record is there now
    dynamodb = emulator.client("dynamodb")
    plant_lock(dynamodb, "staging", "hello", by="ci@runner-7", what="deploy v9")
    (tmp_path / "before-ran").unlink(missing_ok=True)
    (tmp_path / "outcome").unlink(missing_ok=True)
    try:
        result = deploy(config, "v2.0.0")
        assert result.exit_code == ExitCode.LOCKED, result.output
        # Hooks and notifications are for the deploy holding the lock: this one ran none.
        assert not (tmp_path / "before-ran").exists()
        assert not (tmp_path / "outcome").exists()
    finally:
        RecordStore(dynamodb, "staging", "hello").force_release()

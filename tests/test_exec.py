"""wimpy exec on AWS: the Session Manager session it opens (the local target's `docker
exec` runs for real in tests/test_local_data_plane.py)."""

from __future__ import annotations

import pytest

from wimpy_cli.commands.exec_shell import _refuse_missing_tools, _session
from wimpy_cli.errors import WimpyError


def test_a_command_runs_in_the_container_the_unit_names_after_the_application():
    argv = _session("i-0123456789abcdef0", "hello", "eu-west-1", ["bin/rails", "console"], host=False)
    assert argv == ["aws", "ssm", "start-session", "--target", "i-0123456789abcdef0",
                    "--region", "eu-west-1", "--document-name", "AWS-StartInteractiveCommand",
                    "--parameters", "command=sudo docker exec -it hello bin/rails console"]


def test_words_are_quoted_for_the_instance_shell():
    argv = _session("i-1", "hello", "eu-west-1", ["sh", "-c", "echo $HOME; id"], host=False)
    assert argv[-1] == "command=sudo docker exec -it hello sh -c 'echo $HOME; id'"


def test_host_gives_the_instance_shell_or_runs_the_command_there():
    assert _session("i-1", "hello", "eu-west-1", ["sh"], host=True) == [
        "aws", "ssm", "start-session", "--target", "i-1", "--region", "eu-west-1"]
    assert _session("i-1", "hello", "eu-west-1", ["df", "-h"], host=True)[-1] == "command=df -h"


def test_without_the_session_manager_plugin_it_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WimpyError) as raised:
        _refuse_missing_tools()
    assert "aws and session-manager-plugin" in str(raised.value)
    assert "session-manager-working-with-install-plugin" in raised.value.hint

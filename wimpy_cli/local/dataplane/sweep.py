"""What a data plane leaves behind when its emulator is killed (SIGKILL, a crash, a machine
that slept through `wimpy local stop`'s timeout): HAProxy and docker-registry processes
and application containers. Each data plane works in its own folder, named by the pid of
the emulator that ran it; the next data plane to start removes those of emulators that
no longer run: their processes (found by the pid files in the folder, and only if that pid
still runs that program from that folder), their containers (by name prefix), the folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from wimpy_cli.local.dataplane.controller import container_prefix
from wimpy_cli.processes import is_running


def sweep(root: Path, *, keep: int) -> list[str]:
    """Remove what data planes under `root` left, except the one of pid `keep`; say what."""
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for folder in sorted(root.iterdir()):
        if not folder.name.isdigit() or int(folder.name) == keep or is_running(int(folder.name)):
            continue
        for pid_file in [*folder.glob("balancers/*/haproxy.pid"), folder / "registry" / "registry.pid"]:
            removed += _stop(pid_file, folder)
        names = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter",
                                f"name=^{container_prefix(folder)}", "--format", "{{.Names}}"],
                               capture_output=True, text=True, check=False).stdout.split()
        if names:
            subprocess.run(["docker", "rm", "--force", *names], capture_output=True, check=False)
            removed += [f"container {name}" for name in names]
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(f"folder {folder}")
    return removed


def _stop(pid_file: Path, folder: Path) -> list[str]:
    try:
        pids = [int(word) for word in pid_file.read_text().split()]
    except (OSError, ValueError):
        return []
    stopped = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in command:  # that program, from that folder: not a reused pid
            try:
                if os.getpgid(pid) == pid:  # HAProxy's master leads its workers' group
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                stopped.append(f"process {pid} ({command.split()[0]})")
            except OSError:
                pass
    return stopped


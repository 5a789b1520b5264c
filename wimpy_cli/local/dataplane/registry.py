"""The image registry of the local target: Debian's docker-registry (the CNCF
distribution registry) on a loopback port, with its storage in the data plane's folder.
The emulator's ECR repositories are backed by it (wimpy_cli/local/ecr_images.py): `wimpy
deploy --local` pushes an application's image to it with the same build code that pushes
to ECR on AWS, and the data plane's instances pull from it.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from wimpy_cli.local.dataplane import free_port

PROGRAM = "docker-registry"
READY_SECONDS = 20.0


class LocalRegistry:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self.directory / "config.yml"
        # Deleting is on: a repository's images can be removed as ECR's are.
        config.write_text(
            "version: 0.1\nlog:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.directory / 'storage'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n")
        with open(self.directory / "registry.log", "ab") as log:
            self._process = subprocess.Popen([PROGRAM, "serve", str(config)], stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        (self.directory / "registry.pid").write_text(f"{self._process.pid}\n")  # for sweep.py
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{PROGRAM} exited ({self._process.returncode}); see "
                                   f"{self.directory / 'registry.log'}")
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{PROGRAM} did not answer on {self.host} within {READY_SECONDS:g}s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


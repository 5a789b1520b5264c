"""`wimpy` works however it is installed, not only from the clone's own .venv: a checkout
with no .venv, run by a Python from another virtualenv, starts the local emulator (which
runs `cdk bootstrap`) and synthesizes. Before, the CDK CLI ran cdk.json's app command,
`.venv/bin/python app.py`, and failed there."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv

from cli.toolchain import PROJECT_ROOT


def test_a_checkout_without_its_venv_works_from_another_virtualenv(tmp_path):
    checkout = tmp_path / "checkout"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source, target = PROJECT_ROOT / name, checkout / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    # The CDK CLI pinned in package.json, as scripts/setup would install it.
    (checkout / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    assert not (checkout / ".venv").exists()

    other = tmp_path / "other-venv"
    venv.EnvBuilder(with_pip=False).create(other)
    python = other / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies from this test's own environment, the project from the checkout.
    with open(os.path.join(site, "wimpy-test.pth"), "w") as pth:
        pth.write(f"{checkout}\n{sysconfig.get_paths()['purelib']}\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_", "VIRTUAL_ENV"))}
    env["WIMPY_LOCAL_STATE"] = str(tmp_path / "local.json")
    env["PATH"] = f"{other / 'bin'}{os.pathsep}/usr/bin:/bin"

    def wimpy(*args):
        return subprocess.run([str(python), "-m", "cli", *args], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=600)

    started = wimpy("local", "start", "-c", "examples/hello/wimpy.yml")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        synth = wimpy("synth", "-c", "examples/hello/wimpy.yml", "--env", "staging",
                      "-o", str(tmp_path / "out"))
        assert synth.returncode == 0, synth.stdout + synth.stderr
        assert (tmp_path / "out" / "wimpy-staging.template.json").exists()
    finally:
        stopped = wimpy("local", "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr

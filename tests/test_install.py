"""`wimpy` works however it is installed, not only from the clone's own .venv: a checkout
with no .venv, run by a Python from another virtualenv, starts the local emulator (which
runs `cdk bootstrap`) and synthesizes. Before, the CDK CLI ran cdk.json's app command,
`.venv/bin/python app.py`, and failed there."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv

from wimpy_cli.toolchain import PROJECT_ROOT


def copy_checkout(folder):
    """The files git tracks, as a fresh clone has them (no .venv, no node_modules)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source, target = PROJECT_ROOT / name, folder / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return folder


def virtualenv(folder, *, with_pip: bool, paths: list[str]):
    """A new virtualenv that also sees `paths` (a .pth file): its python and site-packages."""
    venv.EnvBuilder(with_pip=with_pip).create(folder)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "wimpy-test.pth"), "w") as pth:
        pth.write("".join(f"{path}\n" for path in paths))
    return python, site


def test_a_checkout_without_its_venv_works_from_another_virtualenv(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    # The CDK CLI pinned in package.json, as scripts/setup would install it.
    (checkout / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    assert not (checkout / ".venv").exists()

    other = tmp_path / "other-venv"
    # The project from the checkout, the dependencies from this test's own environment.
    python, _ = virtualenv(other, with_pip=False,
                           paths=[str(checkout), str(checkout / "library"), sysconfig.get_paths()["purelib"]])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_", "VIRTUAL_ENV"))}
    env["WIMPY_LOCAL_STATE"] = str(tmp_path / "local.json")
    env["PATH"] = f"{other / 'bin'}{os.pathsep}/usr/bin:/bin"

    def wimpy(*args):
        return subprocess.run([str(python), "-m", "wimpy_cli", *args], cwd=checkout, env=env,
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


def test_a_plain_pip_install_into_another_virtualenv_works(tmp_path):
    """`pip install` (not editable), as pipx does: no clone beside the installed package,
    so no node_modules and no cdk.json at a project root. The CDK CLI pinned in
    wimpy_cli/toolchain.py is installed into the user's cache on first use (here a fresh one)."""
    other = tmp_path / "venv"
    # The dependencies from this test's own environment; pip builds the package the usual
    # way (an isolated build environment with the build-system's setuptools, from PyPI).
    python, site = virtualenv(other, with_pip=True, paths=[sysconfig.get_paths()["purelib"]])
    source = copy_checkout(tmp_path / "source")  # pip builds in the source tree
    # The command's distribution and the construct library's, from the same source.
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                              "--disable-pip-version-check", str(source / "library"), str(source)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = subprocess.run([str(python), "-c", "import wimpy_cli, wimpy_stacks, wimpy_constructs; "
                                "print(wimpy_cli.__file__, wimpy_stacks.__file__, wimpy_constructs.__file__)"],
                               cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(source) not in installed and site in installed, installed
    # Only names of Wimpy's own on the import path: no `cli` or `stacks` to take the place
    # of a CDK app's folders of those names (a folder without __init__.py loses to them).
    top = subprocess.run([str(python), "-c", "import importlib.metadata as m, importlib.util as u; "
                          "print(sorted(m.distribution('wimpy').read_text('top_level.txt').split()), "
                          "[u.find_spec(n) is None for n in ('cli', 'stacks')])"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert top.strip() == "['wimpy_cli', 'wimpy_domain', 'wimpy_stacks'] [True, True]", top

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_", "VIRTUAL_ENV"))}
    env.update(WIMPY_LOCAL_STATE=str(tmp_path / "local.json"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PATH=f"{other / 'bin'}{os.pathsep}/usr/bin:/bin")
    config = tmp_path / "app" / "wimpy.yml"
    config.parent.mkdir()
    config.write_text((PROJECT_ROOT / "examples" / "hello" / "wimpy.yml").read_text())

    def wimpy(*args):
        return subprocess.run([str(other / "bin" / "wimpy"), *args], cwd=config.parent, env=env,
                              capture_output=True, text=True, timeout=900)

    started = wimpy("local", "start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        synth = wimpy("synth", "--env", "staging", "-o", str(tmp_path / "out"))
        assert synth.returncode == 0, synth.stdout + synth.stderr
        assert (tmp_path / "out" / "wimpy-staging.template.json").exists()
    finally:
        stopped = wimpy("local", "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert (tmp_path / "cache" / "wimpy").is_dir()  # the CDK CLI came from the cache


def test_the_pinned_cdk_cli_is_the_one_package_json_installs():
    import json

    from wimpy_cli import toolchain

    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert pinned == toolchain.CDK_CLI_VERSION


def test_the_construct_library_installs_alone_with_only_what_it_needs(tmp_path):
    """`pip install` of the library (library/) into a fresh virtualenv: it declares only
    aws-cdk-lib, constructs and cdk-nag, installs the `wimpy_constructs` package and
    nothing else (no `cli` or `stacks` to shadow a CDK app's own folders), and the
    constructs import and synthesize there without the command."""
    import json

    other = tmp_path / "venv"
    python, site = virtualenv(other, with_pip=True, paths=[sysconfig.get_paths()["purelib"]])
    source = copy_checkout(tmp_path / "source")
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                              "--disable-pip-version-check", str(source / "library")],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    report = subprocess.run(
        [str(python), "-c", "import json, importlib.metadata as m; d = m.distribution('wimpy-constructs'); "
         "print(json.dumps({'requires': d.requires, 'top': d.read_text('top_level.txt'), "
         "'files': sorted({f.parts[0] for f in d.files})}))"],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    found = json.loads(report)
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0] for r in found["requires"]) == [
        "aws-cdk-lib", "cdk-nag", "constructs"]
    assert found["top"].split() == ["wimpy_constructs"]
    assert {part for part in found["files"] if not part.endswith(".dist-info")} == {"wimpy_constructs"}

    probe = (
        "import importlib.util, wimpy_constructs\n"
        "assert all(importlib.util.find_spec(name) is None for name in ('wimpy_cli', 'wimpy_stacks', 'wimpy_domain', 'cli', 'stacks'))\n"
        "from wimpy_constructs.boot import BOOT_TEMPLATE\n"
        "assert BOOT_TEMPLATE.is_file()\n"  # the boot files came with the package
        "print(wimpy_constructs.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    imported = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert imported.stdout.startswith(site), imported.stdout

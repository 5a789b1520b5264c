"""Real parts for the build tests (and bench/build_push.py): the Docker engine, a local
registry (Debian's docker-registry, with and without htpasswd auth) on a free port of
127.0.0.1 with its storage in a temporary folder, and a test application built FROM
scratch with busybox-static's httpd, since no base image can be pulled here.

What has to be on the machine (CI installs and starts it, see .ci/run):
  apt packages docker.io, docker-registry, busybox-static, apache2-utils (htpasswd -B);
  a running Docker engine (`dockerd`), reachable at DOCKER_HOST or the default socket.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
BUSYBOX = Path("/bin/busybox")
READY_TIMEOUT_SECONDS = 60  # to answer at all; a loaded machine can be slow to start it
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY www /www
EXPOSE 8080
ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
"""

# A step that prints 30 numbered lines and fails: the error must show the last ~20.
FAILING_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "i=1; while [ $i -le 30 ]; do echo output-line-$i; i=$((i+1)); done; exit 3"]
"""


def missing_requirements() -> list[str]:
    """What the build tests need that this machine lacks, each with how to get it."""
    problems = []
    if not REGISTRY_BINARY.exists():
        problems.append(f"{REGISTRY_BINARY} is missing: apt-get install -y docker-registry")
    if not BUSYBOX.exists():
        problems.append(f"{BUSYBOX} is missing: apt-get install -y busybox-static")
    elif not is_static_elf(BUSYBOX):
        problems.append(f"{BUSYBOX} is not statically linked (a FROM scratch image cannot "
                        "run it): apt-get install -y busybox-static")
    if shutil.which("htpasswd") is None:
        problems.append("htpasswd is missing (bcrypt passwords for the registry): "
                        "apt-get install -y apache2-utils")
    try:
        import docker

        docker.from_env(timeout=10).ping()
    except Exception as error:  # any failure means the same thing here: no usable engine
        problems.append(f"no Docker engine answers ({' '.join(str(error).split())[:200]}): "
                        "apt-get install -y docker.io, then start it: "
                        "`dockerd > /tmp/dockerd.log 2>&1 &` (or `sudo systemctl start docker`)")
    return problems


def is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF without a program interpreter (PT_INTERP), i.e.
    one that runs in an empty image; what `file` calls "statically linked"."""
    import struct

    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP


def require_docker_parts() -> None:
    problems = missing_requirements()
    if problems:
        pytest.fail("the build tests run against a real Docker engine and registry:\n  "
                    + "\n  ".join(problems), pytrace=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_docker_host(folder: Path) -> str:
    """A DOCKER_HOST URL of a unix socket nobody listens on (bound, never accepted)."""
    path = folder / "closed-docker.sock"
    if len(str(path)) > 100:  # unix socket paths are limited to 108 bytes
        path = Path(tempfile.mkdtemp(prefix="wimpy-")) / "closed.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return f"unix://{path}"


class LocalRegistry:
    """docker-registry serving 127.0.0.1:<port> from `root`; with `users`, htpasswd auth.
    Stoppable and restartable on the same port and storage (for interrupted pushes)."""

    def __init__(self, root: Path, *, users: dict[str, str] | None = None,
                 port: int | None = None):
        self.root = root
        self.users = dict(users or {})
        self.port = port or free_port()
        self.host = f"localhost:{self.port}"
        self.process: subprocess.Popen | None = None
        self.config = root / "config.yml"
        self.log = root / "registry.log"
        (root / "storage").mkdir(parents=True, exist_ok=True)
        auth = ""
        if self.users:
            lines = [subprocess.run(["htpasswd", "-Bbn", user, password], check=True,
                                    capture_output=True, text=True).stdout.strip()
                     for user, password in self.users.items()]
            (root / "htpasswd").write_text("\n".join(lines) + "\n")
            auth = f"auth:\n  htpasswd:\n    realm: wimpy-tests\n    path: {root / 'htpasswd'}\n"
        # A fixed secret: upload sessions stay valid across a restart on the same storage.
        self.config.write_text(
            "version: 0.1\nlog:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n  secret: wimpy-tests-only\n" + auth)

    def start(self) -> LocalRegistry:
        log = self.log.open("ab")
        self.process = subprocess.Popen([str(REGISTRY_BINARY), "serve", str(self.config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited {self.process.returncode}:\n"
                                   + self.log.read_text()[-2000:])
            if self._status("/v2/", auth=False) in (200, 401):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer on {self.host} within "
                           f"{READY_TIMEOUT_SECONDS}s:\n" + self.log.read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    @property
    def auth_config(self) -> dict[str, str] | None:
        if not self.users:
            return None
        ((user, password),) = self.users.items()
        return {"username": user, "password": password}

    def tags(self, name: str) -> list[str]:
        """The tags of repository `name`, asked over the registry's HTTP API ([] if none)."""
        status, body, _ = self._get(f"/v2/{name}/tags/list")
        if status == 404:
            return []
        assert status == 200, (status, body)
        return sorted(json.loads(body).get("tags") or [])

    def digest(self, name: str, tag: str) -> str | None:
        status, _, headers = self._get(f"/v2/{name}/manifests/{tag}", accept=MANIFEST_V2)
        if status == 404:
            return None
        assert status == 200, status
        return headers["Docker-Content-Digest"]

    def _status(self, path: str, *, auth: bool = True) -> int | None:
        try:
            return self._get(path, auth=auth)[0]
        except OSError:
            return None

    def _get(self, path: str, *, accept: str | None = None, auth: bool = True):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if accept:
            request.add_header("Accept", accept)
        if auth and self.users:
            ((user, password),) = self.users.items()
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers


def write_project(folder: Path, *, app: str, registry_url: str = "", health: str = "ok\n",
                  dockerfile: str | None = DOCKERFILE, username_env: str = "",
                  password_env: str = "", push_latest: bool = False,
                  account: str = "123456789012", build_keys: str = "") -> Path:
    """An application folder (Dockerfile, busybox, www/health) and its wimpy.yml; returns
    the wimpy.yml's path. `dockerfile=None` leaves the Dockerfile out."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, folder / "busybox")
    (folder / "www").mkdir(exist_ok=True)
    (folder / "www" / "health").write_text(health)
    if dockerfile is not None:
        (folder / "Dockerfile").write_text(dockerfile)
    registry = ""
    if registry_url:
        registry = f"registry:\n  url: {registry_url}\n"
        if username_env:
            registry += f"  username_env: {username_env}\n  password_env: {password_env}\n"
    build = f"build:\n  push_latest: {'true' if push_latest else 'false'}\n{build_keys}"
    config = folder / "wimpy.yml"
    config.write_text(f"app:\n  name: {app}\naccount:\n  id: \"{account}\"\n"
                      f"  region: eu-west-1\n{build}{registry}")
    return config


def remove_images_of(client, host: str) -> None:
    """Remove every local image named in `host`'s registry (tags and digests)."""
    import docker

    # The raw list, not images.list(): that inspects each image after listing them, and
    # the other test worker may remove one in between (an error at session teardown).
    for image in client.api.images():
        names = (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
        if any(name.startswith(f"{host}/") for name in names):
            try:
                client.images.remove(image["Id"], force=True)
            except docker.errors.APIError:
                pass  # already removed through another name, or by the other worker


@pytest.fixture(scope="session")
def docker_client():
    require_docker_parts()
    import docker

    client = docker.from_env(timeout=120)
    yield client
    client.close()


def _registry(tmp_path_factory, docker_client, **kwargs):
    registry = LocalRegistry(tmp_path_factory.mktemp("registry"), **kwargs).start()
    try:
        yield registry
    finally:
        registry.stop()
        remove_images_of(docker_client, registry.host)


@pytest.fixture(scope="session")
def registry(tmp_path_factory, docker_client):
    """A registry without auth, for the whole session."""
    yield from _registry(tmp_path_factory, docker_client)


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory, docker_client):
    """A registry with htpasswd (bcrypt) auth and one user with a random password."""
    import secrets

    yield from _registry(tmp_path_factory, docker_client,
                         users={"wimpy-ci": f"pw-{secrets.token_urlsafe(18)}"})


@pytest.fixture
def own_registry(tmp_path_factory, docker_client):
    """A registry for one test, which may stop and restart it."""
    yield from _registry(tmp_path_factory, docker_client)


@pytest.fixture
def containers(docker_client):
    """Containers a test starts; removed afterwards whatever happens."""
    started: list = []
    yield started
    for container in started:
        try:
            container.remove(force=True)
        except Exception:
            pass  # already gone


@pytest.fixture(scope="module")
def moto_endpoint():
    """An AWS emulator (moto server) on 127.0.0.1, for the ECR path. The URL says
    localhost, as DESIGN.md notes moto needs for path-style requests."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://localhost:{port}"
    server.stop()


def http_get(url: str, timeout_seconds: float = 60) -> tuple[int, bytes]:
    """GET `url`, retrying while the server is still starting, for at most the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def environ_without(*names: str) -> dict[str, str | None]:
    """For CliRunner's env: these variables unset, whatever the caller's shell has."""
    return {name: None for name in names}

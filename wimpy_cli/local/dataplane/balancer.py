"""A load balancer of the local data plane: one HAProxy process (from the OS packages) per
application and environment, on a loopback port.

A request goes first to a release by the releases' weights, then to one of that release's
instances in service, round robin. A listener's weights (`exact`) are kept request by
request: the n-th request's pick is n * 617 mod 1000, which visits every thousandth once per
thousand requests, well spread, so any few hundred consecutive requests carry each
release's share to within a point. Weights between Route53 records are a resolver's pick
per client, so there the pick is at random. Each
release is a backend health-checked as its target group says (path, interval, healthy
and unhealthy thresholds, matcher). As on an ALB, a failed request is not retried
elsewhere: what a deploy breaks, the client sees.

Every change (weights, instances joining or leaving) is a new configuration and a reload
of HAProxy's master-worker mode: the new worker takes over the listening socket without
closing it, the old one finishes the requests it holds and then exits, and the servers'
health is carried over through HAProxy's server-state file. So no request in flight is
dropped, and no connection is refused, by a change.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HAPROXY = "haproxy"
# One line per request, to the data plane's request log (metrics.py reads it): when (epoch
# seconds), which release's backend and server, the status, and the server's response time
# in ms (-1 when no server answered: HAProxy answered itself).
LOG_FORMAT = "%Ts %b %s %ST %Tr"


@dataclass(frozen=True)
class HealthCheck:
    path: str
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str = "200"  # the target group's HttpCode: "200", "200-399" or "200,302"


@dataclass(frozen=True)
class Server:
    name: str  # the instance id
    port: int


@dataclass(frozen=True)
class Backend:
    name: str    # the target group's name
    weight: int  # its release's share, in any unit (Route53 weights: 0-255)
    health: HealthCheck
    servers: tuple[Server, ...]


# A step through the thousandths coprime with 1000 and near 1000 / golden ratio: the picks
# of consecutive requests spread evenly (a low-discrepancy sequence).
_PICK_STEP = 617


def render(port: int, backends: tuple[Backend, ...], directory: Path, log_socket: Path,
           *, exact: bool = False) -> str:
    lines = [
        "global",
        f"  stats socket {directory / 'admin.sock'} mode 600 level admin expose-fd listeners",
        f"  server-state-file {directory / 'server-state'}",
        "  hard-stop-after 120s",
        f"  log {log_socket} format raw local0 info",
        "defaults",
        "  mode http",
        "  log global",
        f'  log-format "{LOG_FORMAT}"',
        "  timeout connect 2s",
        "  timeout client 60s",
        "  timeout server 60s",
        "  timeout http-keep-alive 5s",
        "  retries 0",
        # On a reload the old worker answers each idle keep-alive connection's next request
        # with "Connection: close" instead of closing it under a client about to send one
        # (HAProxy's default since 2.4, which a client without retries sees as an error).
        "  option idle-close-on-response",
        "  load-server-state-from-file global",
        "frontend web",
        f"  bind 127.0.0.1:{port}",
    ]
    if exact:
        lines += ["  http-request track-sc0 int(1) table picks",
                  f"  http-request set-var(txn.pick) sc_inc_gpc0(0),mul({_PICK_STEP}),mod(1000),mul(1000)"]
    else:
        lines.append("  http-request set-var(txn.pick) rand(1000000)")
    total = sum(b.weight for b in backends if b.servers)
    threshold = 0
    live = [b for b in backends if b.servers and b.weight > 0]
    for backend in live:
        threshold += backend.weight * 1000000 // total
        if backend is live[-1]:
            lines.append(f"  default_backend {backend.name}")
        else:
            lines.append(f"  use_backend {backend.name} if {{ var(txn.pick) -m int lt {threshold} }}")
    if not live:
        lines.append("  http-request return status 503 content-type text/plain "
                     "string \"no release is in service\"")
    if exact:
        lines += ["backend picks", "  stick-table type integer size 1 store gpc0"]
    for backend in backends:
        health = backend.health
        lines += [
            f"backend {backend.name}",
            "  balance roundrobin",
            f"  option httpchk GET {health.path}",
            f"  http-check expect {_status_pattern(health.matcher)}",
            f"  timeout check {health.timeout_seconds}s",
            f"  default-server check inter {health.interval_seconds}s "
            f"rise {health.healthy_threshold} fall {health.unhealthy_threshold}",
        ]
        lines += [f"  server {server.name} 127.0.0.1:{server.port}" for server in backend.servers]
    return "\n".join(lines) + "\n"


def _status_pattern(matcher: str) -> str:
    """`http-check expect` for a target group's matcher: `status` takes one code, `rstatus`
    a regular expression for a list or range ("200-399", "200,302")."""
    if matcher.isdigit():
        return f"status {matcher}"
    codes: list[str] = []
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        codes += [str(code) for code in range(int(low), int(high or low) + 1)]
    return "rstatus ^(" + "|".join(codes) + ")$"


class Balancer:
    """An HAProxy master process and its configuration file, in `directory`."""

    def __init__(self, name: str, directory: Path, port: int, log_socket: Path) -> None:
        self.name = name
        self.directory = directory
        self.port = port
        self.log_socket = log_socket
        self._process: subprocess.Popen | None = None
        self._config = ""

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def apply(self, backends: tuple[Backend, ...], *, exact: bool = False) -> None:
        config = render(self.port, backends, self.directory, self.log_socket, exact=exact)
        if config == self._config and self._process is not None and self._process.poll() is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / "haproxy.cfg"
        path.write_text(config)
        check = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"HAProxy refused {path}: {check.stdout}{check.stderr}")
        if self._process is None or self._process.poll() is not None:
            self._start(path)
        else:
            self._reload()
        self._config = config

    def _start(self, path: Path) -> None:
        log = open(self.directory / "haproxy.log", "a")
        self._process = subprocess.Popen(
            [HAPROXY, "-W", "-db", "-f", str(path), "-p", str(self.directory / "haproxy.pid")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_for(lambda worker: worker is not None)

    def _reload(self) -> None:
        """Save the servers' health for the next worker, then have the master start one."""
        before = self._worker_pid()
        try:
            (self.directory / "server-state").write_text(self.command("show servers state"))
        except OSError:
            pass
        assert self._process is not None
        self._process.send_signal(signal.SIGUSR2)
        self._wait_for(lambda worker: worker is not None and worker != before)

    def _wait_for(self, ready, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready(self._worker_pid()):
                return
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"HAProxy exited ({self._process.returncode}); see "
                                   f"{self.directory / 'haproxy.log'}")
            time.sleep(0.05)
        raise RuntimeError(f"HAProxy did not (re)start within {timeout}s; see "
                           f"{self.directory / 'haproxy.log'}")

    def _worker_pid(self) -> int | None:
        try:
            info = self.command("show info")
        except OSError:
            return None
        for line in info.splitlines():
            if line.startswith("Pid:"):
                return int(line.split(":", 1)[1])
        return None

    def command(self, text: str) -> str:
        """One command on HAProxy's runtime API (the current worker's stats socket)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.directory / "admin.sock"))
            connection.sendall(text.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> list[dict[str, str]]:
        """`show stat`: one row per frontend, backend and server, HAProxy's counters."""
        text = self.command("show stat").lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()

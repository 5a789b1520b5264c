"""The local data plane for end-to-end tests: the emulator with a data plane acting on it
(real containers on the Docker engine, a real HAProxy), an application that says which
version answered, and a load generator (wrk, from the OS packages) running throughout a
deploy and counting every failed request and every response per version."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.docker_fixtures import BUSYBOX

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY www /www
EXPOSE 8080
USER 65534:65534
# busybox httpd, as a container's first process, ignores SIGTERM (it sets no handler):
# stopping it would always take the whole stop timeout.
STOPSIGNAL SIGKILL
# One line when it starts, for the log group (busybox httpd says nothing itself).
ENTRYPOINT ["/bin/busybox", "sh", "-c", "echo listening on 8080; exec /bin/busybox httpd -f -p 8080 -h /www"]
"""

# Counts the responses by their body (the version that answered) and the failures by
# status; printed at the end as lines the test parses.
COUNTING_SCRIPT = """\
local threads = {}
-- Each connection waits this long between requests (wrk's own pacing hook): a steady
-- few hundred requests a second, not a core spent flooding a shared 2-core machine.
function delay() return PACE_MS end
function setup(thread) table.insert(threads, thread) end
function init(args) seen = {} end
function response(status, headers, body)
  -- One line per key: a body's line breaks and tabs (an error page's) become spaces.
  local text = (body or ""):gsub("%s+$", ""):gsub("%s+", " ")
  local key = os.time() .. " " .. status .. " " .. text
  seen[key] = (seen[key] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local counts = thread:get("seen")
    for key, count in pairs(counts) do
      io.write("seen\\t" .. key .. "\\t" .. count .. "\\n")
    end
  end
  io.write(string.format("errors\\t%d\\t%d\\t%d\\t%d\\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency\\t%d\\t%d\\n", latency:percentile(50), latency:percentile(99)))
end
"""


def write_app(folder: Path, *, app: str, registry: str | None = None, strategy: str = "rolling",
              capacity: tuple[int, int] = (2, 4), steps: list[int] | None = None,
              bake_seconds: int = 6, traffic: str = "load-balancer",
              rolling_bake_seconds: int = 0) -> Path:
    """A busybox application answering its version on / and "ok" on /health, with the
    short health intervals, drain and alarm periods a laptop wants, set in its wimpy.yml.
    `registry`: a registry's host to push to (default: the app's ECR repository, which the
    local registry of the data plane backs). A rolling deploy's alarms watch only while
    instances are replaced unless `rolling_bake_seconds` asks for a bake after."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, folder / "busybox")
    (folder / "www").mkdir(exist_ok=True)
    (folder / "www" / "health").write_text("ok\n")
    (folder / "Dockerfile").write_text(DOCKERFILE)
    data = {
        "app": {"name": app, "port": 8080,
                "health_check": {"path": "/health", "interval_seconds": 5, "timeout_seconds": 2,
                                 "healthy_threshold": 2, "unhealthy_threshold": 2},
                "capacity": {"min": capacity[0], "max": capacity[1]},
                "deregistration_delay_seconds": 2,
                # An alarm fires on two bad 10 s datapoints out of three.
                "alarms": {"period_seconds": 10}},
        "account": {"id": "111111111111", "region": "eu-west-1",
                    "availability_zones": ["eu-west-1a", "eu-west-1b"]},
        "hosted_zone": {"name": "example.com", "id": "Z0123456789EXAMPLE"},
        "environments": {"staging": {"cidr": "10.0.0.0/16"}},
        # The instance's health timeout is this less the boot allowance for installing
        # Docker (120 s): 10 s for a version that never becomes healthy.
        "deploy": {"strategy": strategy, "signal_timeout_seconds": 130,
                   "rolling_bake_seconds": rolling_bake_seconds},
    }
    if registry:
        data["registry"] = {"url": f"{registry}/{app}"}
    if strategy == "blue-green":
        # Each step watched long enough to count its share over several whole seconds.
        # The judge compares a step's 10 s periods: a laptop's load fills them with a few
        # hundred requests each.
        data["deploy"].update({"dns_ttl_seconds": 1, "keep_releases": 1, "traffic": traffic,
                               "canary": {"steps": steps or [25, 100], "bake_seconds": bake_seconds,
                                          "judge": {"min_requests": 200}}})
    path = folder / "wimpy.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def set_version(folder: Path, version: str, *, healthy: bool = True, failing: bool = False,
                failing_percent: int = 0) -> None:
    """What the next build answers: its version on /, and /health only when healthy; a
    `failing` version answers 503 (with its version) on / and stays healthy; with
    `failing_percent`, that share of its answers on / are 503, at random."""
    index, script = folder / "www" / "index.html", folder / "www" / "cgi-bin" / "index.cgi"
    index.unlink(missing_ok=True)
    script.unlink(missing_ok=True)
    if failing_percent:
        script.parent.mkdir(exist_ok=True)
        # A byte from /dev/urandom below percent * 2.56: each CGI run is a new shell, and
        # $RANDOM seeded from the process id and time repeats itself between them.
        below = round(failing_percent * 2.56)
        status = (f"$([ $(busybox od -An -N1 -tu1 /dev/urandom) -lt {below} ] "
                  "&& echo '503 Service Unavailable' || echo '200 OK')")
        script.write_text(f'#!/bin/busybox sh\necho "Status: {status}"\n'
                          f"echo 'Content-Type: text/plain'\necho 'Content-Length: {len(version) + 1}'\n"
                          f"echo\necho {version}\n")
        script.chmod(0o755)
    elif failing:
        # busybox httpd runs /cgi-bin/index.cgi for / when there is no index.html.
        script.parent.mkdir(exist_ok=True)
        # With its length given, HAProxy keeps the client's connection open (without it the
        # answer ends by closing the connection, and wrk counts a read error too).
        script.write_text("#!/bin/busybox sh\necho 'Status: 503 Service Unavailable'\n"
                          f"echo 'Content-Type: text/plain'\necho 'Content-Length: {len(version) + 1}'\n"
                          f"echo\necho {version}\n")
        script.chmod(0o755)
    else:
        index.write_text(f"{version}\n")
    health = folder / "www" / "health"
    if healthy:
        health.write_text("ok\n")
    else:
        health.unlink(missing_ok=True)


@dataclass
class Load:
    """What wrk saw: responses per (status, body), socket errors, latency in µs, and the
    responses per (second, status, body) for shares over a window."""

    seen: dict[tuple[int, str], int]
    errors: dict[str, int]
    p50_us: int
    p99_us: int
    by_second: dict[tuple[int, int, str], int]

    def share_between(self, body: str, start: float, end: float) -> tuple[float, int]:
        """The share of responses with `body` in the whole seconds inside [start, end],
        and how many responses that is out of."""
        counts = {key: count for key, count in self.by_second.items()
                  if start <= key[0] and key[0] + 1 <= end}
        total = sum(counts.values())
        return sum(c for (_, _, b), c in counts.items() if b == body) / max(total, 1), total

    @property
    def requests(self) -> int:
        return sum(self.seen.values())

    @property
    def failed(self) -> int:
        bad = sum(count for (status, _), count in self.seen.items() if status >= 500 or status == 0)
        return bad + sum(self.errors.values())

    def share(self, body: str) -> float:
        return sum(c for (s, b), c in self.seen.items() if b == body) / max(self.requests, 1)


class LoadGenerator:
    """wrk against `url` until stop(): 2 keep-alive connections, as a browser would, each
    sending a request every `pace_ms` (4 ms: about 400 a second in all, for shares measured
    over a few seconds; 8 ms where only failures are counted, to leave the cores to the
    deploy)."""

    def __init__(self, url: str, script_folder: Path, *, connections: int = 2, pace_ms: int = 4) -> None:
        script = script_folder / "count.lua"
        script.write_text(COUNTING_SCRIPT.replace("PACE_MS", str(pace_ms)))
        self._process = subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", "-d3600s", "--timeout", "10s", "-s", str(script), url],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self) -> Load:
        self._process.send_signal(signal.SIGINT)
        output, _ = self._process.communicate(timeout=30)
        seen: dict[tuple[int, str], int] = {}
        by_second: dict[tuple[int, int, str], int] = {}
        errors, latency = {}, (0, 0)
        for line in output.splitlines():
            parts = line.split("\t")
            if parts[0] == "seen":
                second, status, body = (parts[1].split(" ", 2) + [""])[:3]
                key = (int(second), int(status), body)
                by_second[key] = by_second.get(key, 0) + int(parts[2])
                seen[key[1:]] = seen.get(key[1:], 0) + int(parts[2])
            elif parts[0] == "errors":
                errors = dict(zip(("connect", "read", "write", "timeout"), map(int, parts[1:])))
            elif parts[0] == "latency":
                latency = (int(parts[1]), int(parts[2]))
        if not errors:
            raise AssertionError(f"wrk printed no summary:\n{output}")
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        assert non2xx is None or int(non2xx.group(1)) == sum(
            c for (s, _), c in seen.items() if not 200 <= s < 400), output
        return Load(seen, errors, *latency, by_second)

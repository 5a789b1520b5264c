"""The metrics an Application Load Balancer sends to CloudWatch, made from what the local
data plane's HAProxy sees: each request it logs (which release's target group served it,
with what status, in how long) and each server's health-check state.

    AWS/ApplicationELB, dimensions LoadBalancer + TargetGroup:
        RequestCount, HTTPCode_Target_2XX/3XX/4XX/5XX_Count, TargetResponseTime (seconds),
        HealthyHostCount, UnHealthyHostCount
    AWS/ApplicationELB, dimension LoadBalancer:
        HTTPCode_ELB_5XX_Count (requests HAProxy answered itself: no release in service)

They are kept per second (the alarm evaluator in alarms.py reads them back over any
period) and sent to the emulator's CloudWatch as one datapoint per 10 seconds, the
shortest period an alarm (app.alarms.period_seconds) may have: a load balancer sends one
per minute, but a local canary step lasts tens of seconds, and the canary's judge reads
both releases' metrics through CloudWatch's API, as on AWS. HAProxy sends its request log to a
Unix datagram socket that this module reads, one line per request (the log format is
LOG_FORMAT in balancer.py).
"""

from __future__ import annotations

import datetime
import math
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

NAMESPACE = "AWS/ApplicationELB"
# How much history is kept: more than any alarm evaluates (3 periods of up to 10 minutes).
KEEP_SECONDS = 3 * 600 + 60
SEND_PERIOD_SECONDS = 10
Dimensions = tuple[tuple[str, str], ...]  # sorted (name, value) pairs


@dataclass(frozen=True)
class Request:
    second: int
    backend: str
    server: str       # "<NOSRV>" when HAProxy answered itself
    status: int
    response_ms: int  # the server's response time; -1 when no server answered


def parse_request(line: str) -> Request | None:
    """One line of HAProxy's log in LOG_FORMAT ("%Ts %b %s %ST %Tr"), or None."""
    parts = line.strip().split()
    if len(parts) != 5:
        return None
    try:
        return Request(int(parts[0]), parts[1], parts[2], int(parts[3]), int(parts[4]))
    except ValueError:
        return None


class RequestLog:
    """A Unix datagram socket HAProxy logs to, read in the background until close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.unlink(missing_ok=True)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(0.5)
        self._lock = threading.Lock()
        self._pending: list[Request] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"log-{path.parent.name}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._socket.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            request = parse_request(data.decode(errors="replace"))
            if request is not None:
                with self._lock:
                    self._pending.append(request)

    def take(self) -> list[Request]:
        """The requests logged since the last call."""
        with self._lock:
            taken, self._pending = self._pending, []
        return taken

    def close(self) -> None:
        self._closed.set()
        self._socket.close()
        self._thread.join(timeout=2)
        self.path.unlink(missing_ok=True)


def dimensions(**names: str) -> Dimensions:
    return tuple(sorted(names.items()))


class MetricStore:
    """Per metric, dimensions and second, the values CloudWatch would hold: one per request
    for TargetResponseTime, one count per second for the counts, one reading per loop for
    the host counts."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, Dimensions], dict[int, list[float]]] = defaultdict(dict)
        self._unsent: list[tuple[str, Dimensions, int]] = []

    def add(self, metric: str, dims: Dimensions, second: int, values: Iterable[float]) -> None:
        per_second = self._values[(metric, dims)]
        if second not in per_second:
            per_second[second] = []
            self._unsent.append((metric, dims, second))
        per_second[second].extend(values)

    def record_requests(self, requests: Iterable[Request],
                        backends: dict[str, tuple[Dimensions, Dimensions]]) -> None:
        """`backends`: each backend's (target group, load balancer) dimensions. A request
        HAProxy answered itself (no server in service) counts as the load balancer's 5xx;
        one no backend took (no release in service at all) is left out."""
        counts: dict[tuple[str, Dimensions, int], int] = defaultdict(int)
        times: dict[tuple[Dimensions, int], list[float]] = defaultdict(list)
        for request in requests:
            if request.backend not in backends:
                continue
            target_group, balancer = backends[request.backend]
            if request.response_ms < 0:
                if request.status >= 500:
                    counts[("HTTPCode_ELB_5XX_Count", balancer, request.second)] += 1
                continue
            counts[("RequestCount", target_group, request.second)] += 1
            counts[(f"HTTPCode_Target_{request.status // 100}XX_Count", target_group, request.second)] += 1
            times[(target_group, request.second)].append(request.response_ms / 1000)
        for (metric, dims, second), count in counts.items():
            self.add(metric, dims, second, [count])
        for (dims, second), values in times.items():
            self.add("TargetResponseTime", dims, second, values)

    def record_hosts(self, dims: Dimensions, second: int, healthy: int, unhealthy: int) -> None:
        self.add("HealthyHostCount", dims, second, [healthy])
        self.add("UnHealthyHostCount", dims, second, [unhealthy])

    def values(self, metric: str, dims: Dimensions, start: int, end: int) -> list[float]:
        """Every value of the seconds in [start, end)."""
        per_second = self._values.get((metric, dims), {})
        return [v for second in range(start, end) for v in per_second.get(second, ())]

    def forget_before(self, second: int) -> None:
        for per_second in self._values.values():
            for old in [s for s in per_second if s < second]:
                del per_second[old]

    def send(self, cloudwatch: Any, before: int) -> None:
        """Each whole period of SEND_PERIOD_SECONDS before `before` not yet sent, as one
        datapoint per metric to CloudWatch (the alarms read this store, per second, so the
        emulator need not keep ten times as many datapoints)."""
        period = SEND_PERIOD_SECONDS
        ready = {(metric, dims, second - second % period) for metric, dims, second in self._unsent
                 if second - second % period + period <= before}
        self._unsent = [key for key in self._unsent if key[2] - key[2] % period + period > before]
        data = []
        for metric, dims, minute in sorted(ready):
            values = self.values(metric, dims, minute, minute + period)
            if not values:
                continue
            data.append({
                "MetricName": metric, "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
                "Timestamp": datetime.datetime.fromtimestamp(minute, datetime.timezone.utc),
                "StatisticValues": {"SampleCount": len(values), "Sum": sum(values),
                                    "Minimum": min(values), "Maximum": max(values)},
                "Unit": "Seconds" if metric == "TargetResponseTime" else "Count"})
        for start in range(0, len(data), 1000):
            cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start:start + 1000])


def statistic(name: str, values: list[float]) -> float | None:
    """CloudWatch's statistic `name` (Sum, Average, Minimum, Maximum, SampleCount, pNN) of
    a period's values; None when the period has none (missing data)."""
    if not values:
        return None
    if name == "Sum":
        return sum(values)
    if name == "Average":
        return sum(values) / len(values)
    if name == "Minimum":
        return min(values)
    if name == "Maximum":
        return max(values)
    if name == "SampleCount":
        return float(len(values))
    if name.startswith("p"):
        ordered = sorted(values)
        rank = math.ceil(float(name[1:]) / 100 * len(ordered))
        return ordered[min(max(rank, 1), len(ordered)) - 1]
    raise ValueError(f"statistic {name} is not one the local data plane computes")


def now_second() -> int:
    return int(time.time())

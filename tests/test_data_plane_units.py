"""The local data plane's parts that decide without running anything: reading a boot script
back, a group's rolling replacement step by step, and the load balancer's configuration.
The same parts carry real containers and real traffic in test_local_data_plane.py."""

from __future__ import annotations

import subprocess

import pytest

from wimpy_cli.local.dataplane.balancer import Backend, HealthCheck, Server, render
from wimpy_cli.local.dataplane.groups import Group
from wimpy_cli.local.dataplane.instance import LaunchSpec, State
from wimpy_constructs.boot import (CONF_FILE, ENV_FILE, ContainerSettings, boot_script,
                                   read_boot_script)

SETTINGS = ContainerSettings(app="hello", image="registry.example/hello:v1", port=8080,
                             environment={"GREETING": "hi there"}, secrets={"TOKEN": "/hello/token"},
                             region="eu-west-1", registry_login="none", log_group="/wimpy/hello",
                             stop_timeout_seconds=20)


def test_a_boot_script_reads_back_as_the_files_and_health_check_it_was_written_with():
    text = boot_script(SETTINGS, stack_name="wimpy-staging-hello", signal_resource="Group",
                       health_path="/health", health_timeout_seconds=480, start_timeout_seconds=600)
    contents = read_boot_script(text)
    assert "IMAGE=registry.example/hello:v1" in contents.container_conf
    assert contents.files[CONF_FILE] == contents.container_conf
    assert contents.files[ENV_FILE] == "GREETING=hi there\n"
    assert contents.health_url == "http://127.0.0.1:8080/health"
    assert contents.health_timeout_seconds == 480
    spec = LaunchSpec.from_boot("3", contents)
    assert (spec.version, spec.port) == ("3", 8080)


def test_anything_else_is_not_read_as_a_boot_script():
    with pytest.raises(ValueError, match="not a Wimpy boot script"):
        read_boot_script("#!/bin/bash\nyum install -y nginx\n")


class FakeInstance:
    def __init__(self, spec, number):
        self.id, self.spec, self.version = f"i-{number}", spec, spec.version
        self.state, self.reason, self.drain_until, self.terminated = State.BOOTING, "", 0.0, False

    def drain(self, until):
        self.state, self.drain_until = State.DRAINING, until

    def terminate(self):
        self.terminated = True


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def spec(version):
    text = boot_script(SETTINGS, stack_name="s", signal_resource="G", health_path="/health",
                       health_timeout_seconds=60, start_timeout_seconds=180)
    return LaunchSpec.from_boot(version, read_boot_script(text))


@pytest.fixture
def group():
    launched: list[FakeInstance] = []

    def launch(launch_spec):
        instance = FakeInstance(launch_spec, len(launched) + 1)
        launched.append(instance)
        return instance

    made = Group("g", launch, clock=Clock())
    made.launched = launched
    return made


def serve(group):
    for instance in group.instances:
        if instance.state is State.BOOTING:
            instance.state = State.IN_SERVICE


def in_service(group, version):
    return sum(i.state is State.IN_SERVICE and i.version == version for i in group.instances)


def test_a_new_launch_template_is_rolled_out_one_batch_at_a_time_with_the_minimum_in_service(group):
    v1, v2 = spec("1"), spec("2")
    assert group.step(v1, desired=2, batch=1, drain_seconds=5).state == "in-progress"
    assert len(group.instances) == 2  # a new group starts all its instances at once
    serve(group)
    assert group.step(v1, desired=2, batch=1, drain_seconds=5).state == "complete"

    history = []
    for _ in range(20):
        status = group.step(v2, desired=2, batch=1, drain_seconds=5)
        serving = in_service(group, "1") + in_service(group, "2")
        history.append((in_service(group, "1"), in_service(group, "2")))
        assert serving >= 2, history  # never below the minimum
        assert sum(i.state is State.BOOTING for i in group.instances) <= 1  # one batch
        if status.state == "complete":
            break
        serve(group)
        group.left_balancers()  # the controller applies the balancers after each step
        group._clock.now += 10  # past the drain
    assert status.state == "complete" and in_service(group, "2") == 2 and in_service(group, "1") == 0
    # Old instances left the load balancer first (draining), then were stopped.
    assert all(i.terminated for i in group.launched if i.version == "1")


def test_a_surge_starts_the_whole_new_set_at_once_then_retires_the_old(group):
    """deploy.max_batch_size: all (MaxHealthyPercentage 200): one batch of both, the old
    two serving until the new two are in service, then both leave at once."""
    v1, v2 = spec("1"), spec("2")
    group.step(v1, desired=2, batch=2, drain_seconds=5)
    serve(group)
    assert group.step(v1, desired=2, batch=2, drain_seconds=5).state == "complete"
    group.step(v2, desired=2, batch=2, drain_seconds=5)
    booting = [i for i in group.instances if i.state is State.BOOTING]
    assert [i.version for i in booting] == ["2", "2"]  # the whole new set, at once
    assert in_service(group, "1") == 2  # the old set serves meanwhile
    serve(group)
    group.step(v2, desired=2, batch=2, drain_seconds=5)
    assert in_service(group, "2") == 2
    assert sorted(i.state.name for i in group.instances if i.version == "1") == ["DRAINING", "DRAINING"]
    group.left_balancers()
    group._clock.now += 10
    assert group.step(v2, desired=2, batch=2, drain_seconds=5).state == "complete"
    assert len(group.launched) == 4 and all(i.terminated for i in group.launched if i.version == "1")


def test_a_drained_instance_is_stopped_only_its_drain_time_after_the_balancer_dropped_it(group):
    v1, v2 = spec("1"), spec("2")
    group.step(v1, desired=1, batch=1, drain_seconds=5)
    serve(group)
    group.step(v2, desired=1, batch=1, drain_seconds=5)
    serve(group)
    group.step(v2, desired=1, batch=1, drain_seconds=5)  # the old one starts draining
    (old,) = [i for i in group.instances if i.version == "1"]
    assert old.state is State.DRAINING
    group._clock.now += 60  # the balancer has not been applied yet: it may still send requests
    group.step(v2, desired=1, batch=1, drain_seconds=5)
    assert not old.terminated
    group.left_balancers()
    group._clock.now += 4
    group.step(v2, desired=1, batch=1, drain_seconds=5)
    assert not old.terminated
    group._clock.now += 1
    group.step(v2, desired=1, batch=1, drain_seconds=5)
    assert old.terminated


def test_a_new_instance_that_fails_stops_the_update_and_the_old_ones_keep_serving(group):
    v1, v2 = spec("1"), spec("2")
    group.step(v1, desired=2, batch=1, drain_seconds=5)
    serve(group)
    group.step(v1, desired=2, batch=1, drain_seconds=5)
    group.step(v2, desired=2, batch=1, drain_seconds=5)
    (new,) = [i for i in group.instances if i.version == "2"]
    new.state, new.reason = State.FAILED, "did not answer on /health within 60s"
    for _ in range(3):
        status = group.step(v2, desired=2, batch=1, drain_seconds=5)
        assert status.state == "failed" and "did not answer" in status.reason
    assert in_service(group, "1") == 2 and not any(i.version == "2" for i in group.instances)
    assert len(group.launched) == 3  # no further batch was started
    # The stack rolled back to version 1: nothing to do.
    assert group.step(v1, desired=2, batch=1, drain_seconds=5).state == "complete"


def test_a_group_scaled_to_zero_drains_and_stops_every_instance(group):
    v1 = spec("1")
    group.step(v1, desired=2, batch=1, drain_seconds=5)
    serve(group)
    group.step(v1, desired=0, batch=1, drain_seconds=5)
    assert [i.state for i in group.instances] == [State.DRAINING] * 2
    group.left_balancers()
    group._clock.now += 5
    assert group.step(v1, desired=0, batch=1, drain_seconds=5).state == "complete"
    assert group.instances == []


HEALTH = HealthCheck(path="/health", interval_seconds=5, timeout_seconds=2, healthy_threshold=2,
                     unhealthy_threshold=3, matcher="200-299")


def test_releases_are_picked_by_their_weights_and_checked_as_their_target_group_says(tmp_path):
    config = render(8000, (Backend("blue", 90, HEALTH, (Server("i-1", 9001),)),
                           Backend("green", 10, HEALTH, (Server("i-2", 9002), Server("i-3", 9003)))),
                    tmp_path, tmp_path / "log.sock")
    assert "use_backend blue if { var(txn.pick) -m int lt 900000 }" in config
    assert "default_backend green" in config
    assert "option httpchk GET /health" in config
    assert "default-server check inter 5s rise 2 fall 3" in config
    assert "http-check expect rstatus ^(200|201" in config and "|299)$" in config
    assert "server i-3 127.0.0.1:9003" in config
    (tmp_path / "haproxy.cfg").write_text(config)
    check = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_release_at_weight_zero_or_without_instances_takes_no_request(tmp_path):
    config = render(8000, (Backend("old", 0, HEALTH, (Server("i-1", 9001),)),
                           Backend("empty", 50, HEALTH, ()),
                           Backend("live", 100, HEALTH, (Server("i-2", 9002),))), tmp_path,
                    tmp_path / "log.sock")
    assert "use_backend" not in config and "default_backend live" in config
    nothing = render(8000, (Backend("empty", 50, HEALTH, ()),), tmp_path, tmp_path / "log.sock")
    assert "return status 503" in nothing


# -- metrics and alarms ----------------------------------------------------------------------

TG = (("LoadBalancer", "app/web/1"), ("TargetGroup", "targetgroup/green/2"))
LB = (("LoadBalancer", "app/web/1"),)
# The errors alarm as ServiceAlarms declares it (10 s periods, two bad out of three).
ERRORS_ALARM = {
    "AlarmName": "wimpy-staging-web-v2-errors", "ComparisonOperator": "GreaterThanThreshold",
    "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 5.0, "TreatMissingData": "notBreaching",
    "Metrics": [
        {"Id": "expr_1", "Expression": "IF(requests > 0, 100 * errors / requests, 0)", "ReturnData": True},
        *({"Id": key, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name,
                       "Dimensions": [{"Name": n, "Value": v} for n, v in TG]},
            "Period": 10, "Stat": "Sum"}}
          for key, name in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")))]}


def requests_at(second, ok, failed, backend="green"):
    from wimpy_cli.local.dataplane.metrics import Request

    return ([Request(second, backend, "i-1", 200, 3)] * ok + [Request(second, backend, "i-1", 503, 40)] * failed)


def test_haproxy_log_lines_become_the_load_balancers_metrics():
    from wimpy_cli.local.dataplane.metrics import MetricStore, Request, parse_request, statistic

    assert parse_request("1764660000 green i-local0000000001 503 12\n") == \
        Request(1764660000, "green", "i-local0000000001", 503, 12)
    assert parse_request("garbage") is None
    store = MetricStore()
    store.record_requests(requests_at(100, 98, 2) + [Request(100, "green", "<NOSRV>", 503, -1),
                                                     Request(100, "web", "<NOSRV>", 503, -1)],
                          {"green": (TG, LB)})
    assert store.values("RequestCount", TG, 100, 101) == [100]
    assert store.values("HTTPCode_Target_5XX_Count", TG, 100, 101) == [2]
    assert store.values("HTTPCode_ELB_5XX_Count", LB, 100, 101) == [1]
    times = store.values("TargetResponseTime", TG, 100, 101)
    assert statistic("p50", times) == 0.003 and statistic("p99", times) == 0.04
    assert statistic("Sum", []) is None


def test_an_alarm_fires_on_two_bad_periods_out_of_three_as_cloudwatch_evaluates_it():
    from wimpy_cli.local.dataplane.alarms import evaluate
    from wimpy_cli.local.dataplane.metrics import MetricStore

    store = MetricStore()
    served = {TG}
    for second in range(1000, 1010):   # 1% errors: under the 5% threshold
        store.record_requests(requests_at(second, 99, 1), {"green": (TG, LB)})
    assert evaluate(ERRORS_ALARM, store, served, now=1031).state == "OK"
    for second in range(1010, 1020):   # 25% errors: one bad period is not enough
        store.record_requests(requests_at(second, 75, 25), {"green": (TG, LB)})
    assert evaluate(ERRORS_ALARM, store, served, now=1025).state == "OK"  # 1010-1019 still counts
    assert evaluate(ERRORS_ALARM, store, served, now=1020).state == "OK"
    for second in range(1020, 1030):
        store.record_requests(requests_at(second, 75, 25), {"green": (TG, LB)})
    assert evaluate(ERRORS_ALARM, store, served, now=1029).state == "OK"  # 1020-1029 in progress
    fired = evaluate(ERRORS_ALARM, store, served, now=1030)
    assert fired.state == "ALARM", fired
    assert "2 out of the last 3 datapoints [25" in fired.reason and "threshold (5)" in fired.reason
    # Quiet periods are missing data, treated as not breaching: back to OK.
    assert evaluate(ERRORS_ALARM, store, served, now=1060).state == "OK"
    # An alarm on a target group this data plane does not serve is left alone.
    assert evaluate(ERRORS_ALARM, store, set(), now=1030) is None


def test_a_single_metric_alarm_reads_its_statistic_and_missing_data_as_told():
    from wimpy_cli.local.dataplane.alarms import evaluate
    from wimpy_cli.local.dataplane.metrics import MetricStore

    latency = {"AlarmName": "p99", "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
               "Dimensions": [{"Name": n, "Value": v} for n, v in TG], "ExtendedStatistic": "p99",
               "Period": 10, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 0.03,
               "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "missing"}
    store = MetricStore()
    assert evaluate(latency, store, {TG}, now=1030).state == "INSUFFICIENT_DATA"
    for second in range(1000, 1030):
        store.record_requests(requests_at(second, 95, 5), {"green": (TG, LB)})  # p99 40 ms
    assert evaluate(latency, store, {TG}, now=1030).state == "ALARM"
    assert evaluate({**latency, "Namespace": "AWS/EC2"}, store, {TG}, now=1030) is None


# -- container logs ----------------------------------------------------------------------------

class FakeLogs:
    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self):
        self.streams, self.batches = [], []

    def create_log_stream(self, logGroupName, logStreamName):
        if (logGroupName, logStreamName) in self.streams:
            raise self.exceptions.ResourceAlreadyExistsException()
        self.streams.append((logGroupName, logStreamName))

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        assert (logGroupName, logStreamName) in self.streams
        self.batches.append(list(logEvents))


def test_a_containers_lines_reach_the_log_group_its_awslogs_options_name():
    from wimpy_cli.local.dataplane.logs import MAX_EVENT_BYTES, LogShipper, log_group_of

    assert log_group_of("--log-driver=awslogs --log-opt awslogs-region=eu-west-1 "
                        "--log-opt awslogs-group=/wimpy/staging/web") == "/wimpy/staging/web"
    assert log_group_of("--log-driver=json-file") is None
    logs = FakeLogs()
    shipper = LogShipper(logs, "/wimpy/staging/web", "i-local0000000001")
    shipper.line("listening on 8080\n")
    shipper.line("x" * (MAX_EVENT_BYTES + 10))
    shipper.close()
    assert logs.streams == [("/wimpy/staging/web", "i-local0000000001")]
    events = [event for batch in logs.batches for event in batch]
    assert [e["message"] for e in events][0] == "listening on 8080"
    assert len(events[1]["message"].encode()) == MAX_EVENT_BYTES  # cut, as the driver does
    # A second shipper for the same stream (the container restarted) writes on.
    again = LogShipper(logs, "/wimpy/staging/web", "i-local0000000001")
    again.line("listening on 8080")
    again.close()
    assert sum(len(batch) for batch in logs.batches) == 3 and again.last_error == ""


def test_what_a_killed_emulators_data_plane_left_is_swept_and_nothing_else(tmp_path):
    import os
    import subprocess
    import sys

    from wimpy_cli.local.dataplane.sweep import sweep

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: a killed emulator's
    dead = tmp_path / str(gone.pid)
    (dead / "registry").mkdir(parents=True)
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                             str(dead / "registry" / "config.yml")], start_new_session=True)
    bystander = subprocess.Popen(["sleep", "300"])  # its pid in a pid file, but not ours
    (dead / "registry" / "registry.pid").write_text(f"{left.pid}\n")
    (dead / "balancers" / "abc").mkdir(parents=True)
    (dead / "balancers" / "abc" / "haproxy.pid").write_text(f"{bystander.pid}\n")
    alive = tmp_path / str(os.getpid())
    alive.mkdir()
    try:
        removed = sweep(tmp_path, keep=-1)
        assert left.wait(timeout=10) == -9
        assert bystander.poll() is None
        assert not dead.exists() and alive.exists()
        assert f"process {left.pid} ({sys.executable})" in removed
    finally:
        bystander.kill()
        left.kill()


def test_metrics_reach_cloudwatch_one_datapoint_per_finished_ten_seconds():
    from wimpy_cli.local.dataplane.metrics import MetricStore

    class FakeCloudWatch:
        def __init__(self):
            self.data = []

        def put_metric_data(self, Namespace, MetricData):
            assert Namespace == "AWS/ApplicationELB"
            self.data += MetricData

    store, cloudwatch = MetricStore(), FakeCloudWatch()
    for second in range(600, 625):
        store.record_requests(requests_at(second, 9, 1), {"green": (TG, LB)})
    store.send(cloudwatch, before=609)
    assert cloudwatch.data == []  # the period 600-609 is not over
    store.send(cloudwatch, before=620)
    assert sorted({d["Timestamp"].timestamp() for d in cloudwatch.data}) == [600, 610]
    first = {d["MetricName"]: d for d in cloudwatch.data if d["Timestamp"].timestamp() == 600}
    assert first["RequestCount"]["StatisticValues"]["Sum"] == 100
    assert first["HTTPCode_Target_5XX_Count"]["StatisticValues"]["Sum"] == 10
    assert first["TargetResponseTime"]["StatisticValues"]["Maximum"] == 0.04
    store.send(cloudwatch, before=630)  # 620-629, then nothing twice
    store.send(cloudwatch, before=630)
    assert sorted({d["Timestamp"].timestamp() for d in cloudwatch.data}) == [600, 610, 620]
    assert sum(d["MetricName"] == "RequestCount" for d in cloudwatch.data) == 3

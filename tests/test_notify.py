"""Deploy notifications: a Slack-compatible webhook and a GitHub API stand-in served by the
test on 127.0.0.1 (recording every request), SNS through the embedded emulator (a queue
subscribed to the topic reads the messages back). Whatever the far end does (HTTP 500,
connection refused, no answer), the deploy goes on with one warning line, and neither the
webhook URL nor the token is ever printed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_domain.config import load_config
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.main import app
from wimpy_cli.notify import Notifier, deploy_reporting
from tests.conftest import EXAMPLE
from tests.docker_fixtures import free_port

runner = CliRunner()
TOKEN = "ghp_TestOnlyToken0123456789abcdefABCDEF"
SLACK_PATH = "/services/T0000/B0000/webhook-secret-part"
REPOSITORY = "acme/hello"


class FakeServices:
    """A Slack webhook at SLACK_PATH and GitHub's deployments API under /api/v3, on one
    local port. `slack` and `github` choose how each answers: ok, error (HTTP 500) or
    silent (never answers: the request is held until the services stop, so a client that
    gets no warning waited for it). `answered` lists the paths of the answers sent."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.slack = "ok"
        self.github = "ok"
        self.answered: list[str] = []
        self.release = threading.Event()  # set when the services stop
        self._next_id = 1000
        self._lock = threading.Lock()
        services = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with services._lock:
                    services.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "json": json.loads(body or b"null")})
                services.answer(self)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SLACK_PATH}"

    @property
    def github_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v3"

    def slack_texts(self) -> list[str]:
        return [r["json"]["text"] for r in self.requests if r["path"] == SLACK_PATH]

    def github_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith("/api/v3/")]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        is_slack = handler.path == SLACK_PATH
        mode = self.slack if is_slack else self.github
        if mode == "silent":
            self.release.wait(timeout=30)  # a test that waits this long has failed anyway
            return None  # and then no answer at all: the client is gone
        if mode == "redirect":
            handler.send_response(307)
            handler.send_header("Location", f"http://localhost:{self.port}/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        if mode == "error":
            return self._send(handler, 500, {"message": "Server Error"} if not is_slack else "oops")
        if is_slack:
            return self._send(handler, 200, "ok")
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(handler, 401, {"message": "Bad credentials"})
        prefix = f"/api/v3/repos/{REPOSITORY}/deployments"
        if handler.path == prefix:
            with self._lock:
                self._next_id += 1
                deployment = self._next_id
            return self._send(handler, 201, {"id": deployment, "url": "..."})
        if handler.path.startswith(prefix + "/") and handler.path.endswith("/statuses"):
            return self._send(handler, 201, {"id": 1, "state": "x"})
        return self._send(handler, 404, {"message": "Not Found"})

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body) -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        with self._lock:
            self.answered.append(handler.path)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> FakeServices:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def services():
    with FakeServices() as running:
        yield running


@pytest.fixture
def sent_timeouts(monkeypatch) -> list[float]:
    """The timeout each notification request is sent with (what bounds its wait)."""
    from wimpy_cli.notify import http

    sent: list[float] = []
    opener = http._opener

    def recording_opener():
        real = opener()

        class Recording:
            def open(self, request, *, timeout):
                sent.append(timeout)
                return real.open(request, timeout=timeout)
        return Recording()

    monkeypatch.setattr(http, "_opener", recording_opener)
    return sent


@pytest.fixture
def quick_timeout(monkeypatch, sent_timeouts) -> list[float]:
    """Channels wait 0.5 s for an answer; returns the timeouts requests were sent with."""
    from wimpy_cli.notify import http

    monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.5)
    return sent_timeouts


def write_project(folder: Path, notifications: dict | None = None, hooks: dict | None = None,
                  app: str | None = None) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    if app is not None:
        data["app"]["name"] = app
    if notifications is not None:
        data["notifications"] = notifications
    if hooks is not None:
        data["hooks"] = hooks
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wimpy.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def http_notifications(services: FakeServices) -> dict:
    return {"slack_webhook_url_env": "TEST_SLACK_WEBHOOK", "github_repository": REPOSITORY,
            "github_token_env": "TEST_GITHUB_TOKEN", "github_api_url": services.github_api}


def notifier(tmp_path, services, *, environ=None, warnings=None, **extra) -> Notifier:
    config = load_config(write_project(tmp_path, {**http_notifications(services), **extra}))
    environ = {"TEST_SLACK_WEBHOOK": services.slack_url, "TEST_GITHUB_TOKEN": TOKEN} \
        if environ is None else environ
    return Notifier.from_config(config, "staging", "v1.4.2", _no_aws, environ=environ,
                                warn=(warnings.append if warnings is not None else None))


def _no_aws(service: str):
    raise AssertionError(f"no AWS client expected, asked for {service}")


# --- Slack ------------------------------------------------------------------------------

def test_slack_hears_start_success_failure_and_rollback(tmp_path, services):
    notify = notifier(tmp_path, services)
    notify.started()
    notify.succeeded("https://hello.staging.example.com")
    notify.failed("cdk exited 1\nmore detail")
    notify.rolled_back("ServiceGroup: Received 0 SUCCESS signal(s)")
    texts = services.slack_texts()
    assert len(texts) == 4
    assert texts[0].startswith("Deploying hello v1.4.2 to staging")
    assert texts[1] == "Deployed hello v1.4.2 to staging: https://hello.staging.example.com"
    assert texts[2] == "Deploy of hello v1.4.2 to staging failed.\ncdk exited 1\nmore detail"
    assert texts[3] == ("Deploy of hello v1.4.2 to staging failed and was rolled back; the "
                        "previous version keeps serving.\nServiceGroup: Received 0 SUCCESS signal(s)")
    request = services.requests[0]
    assert request["headers"]["content-type"] == "application/json"
    assert set(request["json"]) == {"text"}


def test_a_missing_webhook_variable_turns_slack_off_with_a_warning(tmp_path, services):
    warnings: list[str] = []
    notify = notifier(tmp_path, services, environ={"TEST_GITHUB_TOKEN": TOKEN}, warnings=warnings)
    notify.started()
    assert services.slack_texts() == []
    assert warnings == ["warning: notifications.slack_webhook_url_env names TEST_SLACK_WEBHOOK, "
                        "which is not set: Slack will not hear of this deploy."]


def test_a_webhook_variable_that_holds_no_url_is_a_warning_without_its_value(tmp_path, services):
    warnings: list[str] = []
    notifier(tmp_path, services, environ={"TEST_SLACK_WEBHOOK": "xoxb-not-a-url"},
             warnings=warnings)
    assert any("TEST_SLACK_WEBHOOK: the webhook variable does not hold an http(s) URL" in w
               for w in warnings), warnings
    assert not any("xoxb-not-a-url" in w for w in warnings)


@pytest.mark.parametrize("mode, expected", [
    ("error", "the Slack webhook answered HTTP 500 (oops)"),
    ("refused", "could not reach the Slack webhook: Connection refused"),
    ("silent", "the Slack webhook did not answer within 0.5s"),
])
def test_slack_failures_are_one_warning_line_without_the_url(tmp_path, services, sent_timeouts,
                                                             monkeypatch, mode, expected):
    from wimpy_cli.notify import http

    warnings: list[str] = []
    environ = {"TEST_SLACK_WEBHOOK": services.slack_url, "TEST_GITHUB_TOKEN": TOKEN}
    if mode == "refused":
        environ["TEST_SLACK_WEBHOOK"] = f"http://127.0.0.1:{free_port()}{SLACK_PATH}"
    else:
        services.slack = mode
    if mode == "silent":
        monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.5)
    notify = notifier(tmp_path, services, environ=environ, warnings=warnings)
    notify.started()  # never raises
    assert len(warnings) == 1, warnings
    (warning,) = warnings
    assert warning.startswith("warning: could not notify Slack of the deploy's start (")
    assert expected in warning and warning.endswith("; the deploy goes on.")
    assert "\n" not in warning
    assert SLACK_PATH not in warning and "webhook-secret-part" not in warning
    if mode == "silent":
        # It went on without the answer, having waited at most its timeout for it.
        assert SLACK_PATH not in services.answered and sent_timeouts[0] == 0.5


# --- GitHub -------------------------------------------------------------------------------

def test_a_github_deployment_is_created_for_the_version_and_gets_its_statuses(tmp_path, services):
    notify = notifier(tmp_path, services)
    notify.started()
    notify.succeeded("https://hello.staging.example.com")
    create, in_progress, success = services.github_requests()
    assert create["path"] == f"/api/v3/repos/{REPOSITORY}/deployments"
    body = create["json"]
    assert (body["ref"], body["environment"], body["auto_merge"], body["required_contexts"]) == \
        ("v1.4.2", "staging", False, [])
    assert body["production_environment"] is False
    headers = create["headers"]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"]
    deployment = 1001
    assert in_progress["path"] == f"/api/v3/repos/{REPOSITORY}/deployments/{deployment}/statuses"
    assert in_progress["json"]["state"] == "in_progress"
    assert "environment_url" not in in_progress["json"]
    assert success["json"] == {"state": "success", "description": "Wimpy deployed v1.4.2",
                               "environment_url": "https://hello.staging.example.com"}


@pytest.mark.parametrize("end, reason, description", [
    ("failed", "cdk exited 1\nthe details", "Failed: cdk exited 1"),
    ("rolled_back", "rolled wimpy-staging-hello back", "Rolled back: rolled wimpy-staging-hello back"),
])
def test_a_failed_or_rolled_back_deploy_gets_a_failure_status(tmp_path, services, end, reason,
                                                              description):
    notify = notifier(tmp_path, services)
    notify.started()
    getattr(notify, end)(reason)
    *_, last = services.github_requests()
    assert last["json"] == {"state": "failure", "description": description}


def test_a_long_reason_is_cut_to_githubs_140_characters(tmp_path, services):
    notify = notifier(tmp_path, services)
    notify.started()
    notify.failed("x" * 500)
    *_, last = services.github_requests()
    assert len(last["json"]["description"]) == 140 and last["json"]["description"].endswith("...")


def test_a_bad_token_is_one_warning_and_never_printed(tmp_path, services):
    warnings: list[str] = []
    notify = notifier(tmp_path, services, warnings=warnings,
                      environ={"TEST_SLACK_WEBHOOK": services.slack_url,
                               "TEST_GITHUB_TOKEN": "ghp_wrong_secret_value"})
    notify.started()
    notify.succeeded("https://x")
    assert warnings == ["warning: could not notify GitHub of the deploy's start (the GitHub API "
                        "answered HTTP 401 (Bad credentials)); the deploy goes on."]
    assert len(services.github_requests()) == 1  # no statuses for a deployment that is not there
    assert len(services.slack_texts()) == 2  # the other channels go on


def test_a_missing_token_turns_github_off_with_a_warning(tmp_path, services):
    warnings: list[str] = []
    notify = notifier(tmp_path, services, environ={"TEST_SLACK_WEBHOOK": services.slack_url},
                      warnings=warnings)
    notify.started()
    assert services.github_requests() == []
    assert warnings == ["warning: notifications.github_repository is set but TEST_GITHUB_TOKEN "
                        "(notifications.github_token_env) is not: no GitHub deployment for this "
                        "deploy."]


@pytest.mark.parametrize("mode, expected", [
    ("error", "the GitHub API answered HTTP 500 (Server Error)"),
    ("silent", "the GitHub API did not answer within 0.5s"),
])
def test_github_failures_are_warnings(tmp_path, services, sent_timeouts, monkeypatch, mode,
                                      expected):
    from wimpy_cli.notify import http

    warnings: list[str] = []
    services.github = mode
    if mode == "silent":
        monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.5)
    notify = notifier(tmp_path, services, warnings=warnings)
    notify.started()
    notify.succeeded("https://x")
    assert len(warnings) == 1 and expected in warnings[0], warnings
    assert TOKEN not in warnings[0]
    if mode == "silent":  # Slack answered its two; GitHub's one request never was
        assert services.answered == [SLACK_PATH, SLACK_PATH]
        assert len(services.github_requests()) == 1 and sent_timeouts == [0.5, 0.5, 0.5]


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(tmp_path, services):
    warnings: list[str] = []
    services.github = "redirect"
    notifier(tmp_path, services, warnings=warnings).started()
    assert warnings == ["warning: could not notify GitHub of the deploy's start (the GitHub API "
                        "answered HTTP 307); the deploy goes on."]
    assert [r["path"] for r in services.github_requests()] == \
        [f"/api/v3/repos/{REPOSITORY}/deployments"]
    assert not any(r["path"] == "/elsewhere" for r in services.requests)


def test_a_token_echoed_in_an_error_is_scrubbed(tmp_path, services):
    from wimpy_cli.notify.dispatch import _Channel
    from wimpy_cli.notify.http import NotifyError

    class Echo(_Channel):
        name = "GitHub"

        def deliver(self, event):
            raise NotifyError(f"the server said: token {TOKEN} is revoked")

    warnings: list[str] = []
    Notifier([Echo()], app="hello", environment="staging", version="v1", secrets=[TOKEN],
             warn=warnings.append).started()
    assert warnings == ["warning: could not notify GitHub of the deploy's start (the server said: "
                        "token *** is revoked); the deploy goes on."]


def test_an_unexpected_error_in_a_channel_is_still_only_a_warning():
    from wimpy_cli.notify.dispatch import _Channel

    class Broken(_Channel):
        name = "Slack"

        def deliver(self, event):
            raise KeyError("surprise")

    warnings: list[str] = []
    Notifier([Broken()], app="hello", environment="staging", version="v1",
             warn=warnings.append).succeeded("https://x")
    assert warnings == ["warning: could not notify Slack of the deploy's success (KeyError: "
                        "'surprise'); the deploy goes on."]


# --- deploy_reporting: what each ending tells the channels ----------------------------------

def reporting(tmp_path, services, hooks=None):
    config = load_config(write_project(tmp_path, http_notifications(services), hooks=hooks))
    environ = {"TEST_SLACK_WEBHOOK": services.slack_url, "TEST_GITHUB_TOKEN": TOKEN}
    notify = Notifier.from_config(config, "staging", "v2", _no_aws, environ=environ)
    return deploy_reporting(config, environment="staging", version="v2", image="img:v2",
                            client_factory=_no_aws, notifier=notify)


def test_a_rollback_is_announced_as_one(tmp_path, services):
    with pytest.raises(WimpyError):
        with reporting(tmp_path, services):
            raise WimpyError("rolled wimpy-staging-hello back (UPDATE_ROLLBACK_COMPLETE)",
                             code=ExitCode.ROLLED_BACK)
    texts = services.slack_texts()
    assert texts[-1].startswith("Deploy of hello v2 to staging failed and was rolled back")
    assert "UPDATE_ROLLBACK_COMPLETE" in texts[-1]
    assert services.github_requests()[-1]["json"]["state"] == "failure"


def test_a_failing_before_hook_is_announced_as_a_failure(tmp_path, services):
    with pytest.raises(WimpyError, match="failed with exit code 2"):
        with reporting(tmp_path, services, hooks={"before_deploy": ["exit 2"]}):
            raise AssertionError("the deploy body must not run")
    texts = services.slack_texts()
    assert texts[0].startswith("Deploying hello v2")
    assert texts[1].startswith("Deploy of hello v2 to staging failed.\nhook `exit 2`")
    assert [r["json"].get("state") for r in services.github_requests()] == \
        [None, "in_progress", "failure"]


# --- SNS: errors, without the emulator ------------------------------------------------------

def test_an_sns_error_is_a_warning():
    import boto3
    from botocore.stub import Stubber

    from wimpy_cli.notify.dispatch import _Sns
    from wimpy_cli.notify.sns import SnsTopic

    sns = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stubber = Stubber(sns)
    stubber.add_client_error("publish", service_error_code="AuthorizationError",
                             service_message="not allowed to publish")
    warnings: list[str] = []
    arn = "arn:aws:sns:eu-west-1:111111111111:deploys"
    with stubber:
        Notifier([_Sns(SnsTopic(arn, lambda service: sns))], app="hello", environment="staging",
                 version="v1", warn=warnings.append).started()
    assert warnings == ["warning: could not notify SNS of the deploy's start (SNS refused the "
                        "message (AuthorizationError: not allowed to publish)); the deploy goes on."]


def test_a_fifo_topic_gets_a_group_and_a_deduplication_id():
    from wimpy_cli.notify.sns import SnsTopic

    calls: list[dict] = []

    class Client:
        def publish(self, **request):
            calls.append(request)

    SnsTopic("arn:aws:sns:eu-west-1:111111111111:d.fifo", lambda s: Client()).publish(
        subject="s\nwith a line break and ünïcode" + "x" * 200, message="m",
        attributes={"event": "started", "url": ""}, group="staging-hello")
    (request,) = calls
    assert request["MessageGroupId"] == "staging-hello" and len(request["MessageDeduplicationId"]) == 32
    assert len(request["Subject"]) == 100 and "\n" not in request["Subject"]
    assert request["Subject"].isascii()
    assert request["MessageAttributes"] == {"event": {"DataType": "String", "StringValue": "started"}}


# --- through wimpy deploy, against the emulator ----------------------------------------------



@pytest.fixture
def topic(emulator, request):
    """An SNS topic in the emulator with an SQS queue subscribed to it, both the test's
    own; returns (arn, read) where read() gives the SNS envelopes delivered so far."""
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    name = f"deploys-{abs(hash(request.node.nodeid)) % 10**8}"
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)

    def read() -> list[dict]:
        envelopes = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return envelopes
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    yield arn, read
    sns.delete_topic(TopicArn=arn)
    sqs.delete_queue(QueueUrl=queue)


def deploy(config: Path, version: str, monkeypatch, services: FakeServices, *,
           slack_url: str | None = None):
    monkeypatch.setenv("TEST_SLACK_WEBHOOK", slack_url or services.slack_url)
    monkeypatch.setenv("TEST_GITHUB_TOKEN", TOKEN)
    return runner.invoke(app, ["deploy", "-c", str(config), "--env", "staging", "--local",
                               "--json", "--version", version])


def assert_no_secret_in(text: str) -> None:
    assert TOKEN not in text
    assert "webhook-secret-part" not in text and SLACK_PATH not in text


# Each deploy below is of an application of its own, so none depends on what another left.

def test_a_deploy_tells_slack_github_and_sns(emulator, topic, services, tmp_path, monkeypatch):
    arn, read = topic
    config = write_project(tmp_path, {**http_notifications(services), "sns_topic_arn": arn},
                           app="hello")
    result = deploy(config, "v1.0.0", monkeypatch, services)
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout)["url"]
    assert url == "https://hello.staging.example.com"
    assert "warning" not in result.stderr
    assert_no_secret_in(result.output)

    texts = services.slack_texts()
    assert len(texts) == 2
    assert texts[0].startswith("Deploying hello v1.0.0 to staging")
    assert texts[1] == f"Deployed hello v1.0.0 to staging: {url}"

    github = services.github_requests()
    assert [r["json"].get("state") for r in github] == [None, "in_progress", "success"]
    assert github[0]["json"]["ref"] == "v1.0.0" and github[0]["json"]["environment"] == "staging"
    assert github[2]["json"]["environment_url"] == url

    envelopes = read()
    assert [e["Subject"] for e in envelopes] == [
        "[wimpy] hello v1.0.0 to staging: started", "[wimpy] hello v1.0.0 to staging: succeeded"]
    assert envelopes[1]["Message"] == texts[1]
    attributes = {k: v["Value"] for k, v in envelopes[1]["MessageAttributes"].items()}
    assert attributes == {"event": "succeeded", "app": "hello", "environment": "staging",
                          "version": "v1.0.0", "url": url}


def test_broken_channels_never_fail_a_deploy(emulator, topic, services, tmp_path, monkeypatch):
    """Slack answers 500, nothing listens where GitHub should be, the topic does not exist."""
    _, read = topic
    services.slack = "error"
    refused = f"http://127.0.0.1:{free_port()}/api/v3"
    config = write_project(tmp_path, {
        **http_notifications(services), "github_api_url": refused,
        "sns_topic_arn": "arn:aws:sns:eu-west-1:111111111111:no-such-topic"}, app="broken")
    result = deploy(config, "v1.1.0", monkeypatch, services)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "CREATE_COMPLETE"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    sns_refused = "SNS refused the message (NotFound: "  # moto words the rest its own way
    assert [w.split(" (", 1)[0] for w in warnings] == [
        "warning: could not notify Slack of the deploy's start",
        "warning: could not notify SNS of the deploy's start",
        "warning: could not notify GitHub of the deploy's start",
        "warning: could not notify Slack of the deploy's success",
        "warning: could not notify SNS of the deploy's success",
    ], warnings  # GitHub: one warning; no statuses for the deployment it could not create
    assert all(w.endswith("; the deploy goes on.") for w in warnings)
    assert "(the Slack webhook answered HTTP 500 (oops))" in warnings[0]
    assert sns_refused in warnings[1] and sns_refused in warnings[4]
    assert "(could not reach the GitHub API: Connection refused)" in warnings[2]
    assert_no_secret_in(result.output)
    assert read() == []


def test_a_webhook_that_never_answers_costs_only_its_timeout(emulator, services, tmp_path,
                                                             monkeypatch, quick_timeout):
    services.slack = "silent"
    config = write_project(tmp_path, {"slack_webhook_url_env": "TEST_SLACK_WEBHOOK"}, app="quiet")
    result = deploy(config, "v1.2.0", monkeypatch, services)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, warnings
    assert all("Slack" in w and "the Slack webhook did not answer within 0.5s" in w for w in warnings), warnings
    # The deploy finished with neither request answered: each cost at most the timeout it
    # was sent with, whatever this machine's speed.
    assert services.answered == [] and len(services.slack_texts()) == 2
    assert quick_timeout == [0.5, 0.5]
    assert_no_secret_in(result.output)

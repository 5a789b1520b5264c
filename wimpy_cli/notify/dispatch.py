"""One deploy's reporting: the notification channels wimpy.yml configures hear its start
and its end (success, failure or rollback), and its hooks run around it.

    with deploy_reporting(config, environment="staging", version="v1", image=ref,
                          client_factory=target.client, phases=phases) as report:
        ...                         # the deploy itself
        report.succeeded(result.url)

Before the body: the notifiers hear `started`, then the before-deploy hooks run (the first
to fail stops the deploy). After it: the notifiers hear the outcome, then the after-deploy
hooks run with WIMPY_OUTCOME. Notification failures are warnings, never errors; an
after-deploy hook's failure is a warning too, and a successful deploy stays successful."""

from __future__ import annotations

import getpass
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from wimpy_cli.errors import ExitCode, WimpyError

from .http import NotifyError

STARTED, SUCCEEDED, FAILED, ROLLED_BACK = "started", "succeeded", "failed", "rolled-back"
MAX_REASON = 1500  # characters of a failure's explanation sent to chat and SNS

_DOING = {STARTED: "start", SUCCEEDED: "success", FAILED: "failure", ROLLED_BACK: "rollback"}
_GITHUB_STATE = {STARTED: "in_progress", SUCCEEDED: "success", FAILED: "failure",
                 ROLLED_BACK: "failure"}


@dataclass(frozen=True)
class Event:
    kind: str  # started | succeeded | failed | rolled-back
    app: str
    environment: str
    version: str
    url: str = ""
    reason: str = ""
    actor: str = ""

    @property
    def text(self) -> str:
        what = f"{self.app} {self.version} to {self.environment}"
        if self.kind == STARTED:
            return f"Deploying {what}" + (f" (started by {self.actor})." if self.actor else ".")
        if self.kind == SUCCEEDED:
            return f"Deployed {what}" + (f": {self.url}" if self.url else ".")
        reason = _clip(self.reason)
        if self.kind == ROLLED_BACK:
            return (f"Deploy of {what} failed and was rolled back; the previous version keeps "
                    f"serving.\n{reason}").rstrip()
        return f"Deploy of {what} failed.\n{reason}".rstrip()

    @property
    def subject(self) -> str:
        return f"[wimpy] {self.app} {self.version} to {self.environment}: {self.kind}"

    @property
    def summary(self) -> str:
        """One line (GitHub descriptions are 140 characters)."""
        first = self.reason.strip().splitlines()[0] if self.reason.strip() else ""
        if self.kind == STARTED:
            return f"Wimpy is deploying {self.version}"
        if self.kind == SUCCEEDED:
            return f"Wimpy deployed {self.version}"
        if self.kind == ROLLED_BACK:
            return f"Rolled back: {first}" if first else "Failed and rolled back"
        return f"Failed: {first}" if first else "Failed"


class _Channel:
    """One destination; `deliver` raises NotifyError with a printable reason."""

    name = ""

    def deliver(self, event: Event) -> None:
        raise NotImplementedError


class _Slack(_Channel):
    name = "Slack"

    def __init__(self, webhook: Any):
        self._webhook = webhook

    def deliver(self, event: Event) -> None:
        self._webhook.send(event.text)


class _Sns(_Channel):
    name = "SNS"

    def __init__(self, topic: Any):
        self._topic = topic

    def deliver(self, event: Event) -> None:
        self._topic.publish(subject=event.subject, message=event.text,
                            group=f"{event.environment}-{event.app}", attributes={
                                "event": event.kind, "app": event.app,
                                "environment": event.environment, "version": event.version,
                                "url": event.url})


class _GitHub(_Channel):
    name = "GitHub"

    def __init__(self, deployments: Any, *, image: str = ""):
        self._deployments = deployments
        self._image = image
        self._id: int | None = None
        self._creation_failed = False

    def deliver(self, event: Event) -> None:
        if event.kind == STARTED:
            try:
                self._id = self._deployments.create(
                    ref=event.version, environment=event.environment,
                    description=f"Wimpy deploy of {event.app} {event.version}",
                    payload={"app": event.app, "image": self._image})
            except NotifyError:
                self._creation_failed = True
                raise
        if self._id is None:
            if self._creation_failed:
                return  # already warned when the deployment could not be created
            raise NotifyError("no GitHub deployment was created for this deploy")
        self._deployments.status(self._id, state=_GITHUB_STATE[event.kind],
                                 description=event.summary,
                                 environment_url=event.url if event.kind == SUCCEEDED else "")


class Notifier:
    """Sends each deploy event to every configured channel; never raises for them."""

    def __init__(self, channels: Sequence[_Channel], *, app: str, environment: str,
                 version: str, secrets: Sequence[str] = (),
                 warn: Callable[[str], None] | None = None):
        self.channels = tuple(channels)
        self.app, self.environment, self.version = app, environment, version
        self._secrets = tuple(s for s in secrets if s)
        self._warn = warn or _stderr
        self._actor = _actor()

    @classmethod
    def from_config(cls, config: Any, environment_name: str, version: str,
                    session_client_factory: Callable[[str], Any], *,
                    image: str = "", environ: Mapping[str, str] | None = None,
                    warn: Callable[[str], None] | None = None) -> Notifier:
        """The channels `config.notifications` configures. A variable it names that is not
        set turns that channel off with a warning (the deploy goes on)."""
        from .github import GitHubDeployments
        from .slack import SlackWebhook
        from .sns import SnsTopic

        settings = config.notifications
        environ = os.environ if environ is None else environ
        warn = warn or _stderr
        channels: list[_Channel] = []
        secrets: list[str] = []
        if settings.slack_webhook_url_env:
            url = environ.get(settings.slack_webhook_url_env, "")
            if not url:
                warn(f"warning: notifications.slack_webhook_url_env names "
                     f"{settings.slack_webhook_url_env}, which is not set: Slack will not hear "
                     "of this deploy.")
            else:
                secrets.append(url)
                try:
                    channels.append(_Slack(SlackWebhook(url)))
                except NotifyError as error:
                    warn(f"warning: not notifying Slack: {settings.slack_webhook_url_env}: {error}.")
        if settings.sns_topic_arn:
            channels.append(_Sns(SnsTopic(settings.sns_topic_arn, session_client_factory)))
        if settings.github_repository:
            token = environ.get(settings.github_token_env, "")
            if not token:
                warn(f"warning: notifications.github_repository is set but "
                     f"{settings.github_token_env} (notifications.github_token_env) is not: no "
                     "GitHub deployment for this deploy.")
            else:
                secrets.append(token)
                channels.append(_GitHub(GitHubDeployments(
                    api_url=settings.github_api_url, repository=settings.github_repository,
                    token=token), image=image))
        return cls(channels, app=config.app.name, environment=environment_name,
                   version=version, secrets=secrets, warn=warn)

    def started(self) -> None:
        self._send(Event(STARTED, self.app, self.environment, self.version, actor=self._actor))

    def succeeded(self, url: str) -> None:
        self._send(Event(SUCCEEDED, self.app, self.environment, self.version, url=url))

    def failed(self, reason: str) -> None:
        self._send(Event(FAILED, self.app, self.environment, self.version, reason=reason))

    def rolled_back(self, reason: str) -> None:
        self._send(Event(ROLLED_BACK, self.app, self.environment, self.version, reason=reason))

    def _send(self, event: Event) -> None:
        for channel in self.channels:
            try:
                channel.deliver(event)
            except NotifyError as error:
                self._warn(self._scrub(f"warning: could not notify {channel.name} of the "
                                       f"deploy's {_DOING[event.kind]} ({error}); the deploy "
                                       "goes on."))
            except Exception as error:  # a notifier must never break a deploy
                self._warn(self._scrub(f"warning: could not notify {channel.name} of the "
                                       f"deploy's {_DOING[event.kind]} "
                                       f"({type(error).__name__}: {error}); the deploy goes on."))

    def _scrub(self, message: str) -> str:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return " ".join(message.split())  # one line


class DeployReport:
    """What the deploy body tells the reporting: the URL once it succeeded."""

    def __init__(self) -> None:
        self.url = ""

    def succeeded(self, url: str) -> None:
        self.url = url


@contextmanager
def deploy_reporting(config: Any, *, environment: str, version: str, image: str,
                     client_factory: Callable[[str], Any], phases: Any = None,
                     notifier: Notifier | None = None) -> Iterator[DeployReport]:
    """Notify and run hooks around a deploy (see the module's docstring)."""
    from wimpy_cli.hooks import HookFailed, run_hooks

    notifier = notifier or Notifier.from_config(config, environment, version, client_factory,
                                                image=image)
    hooks = config.hooks
    hook_env = {"WIMPY_APP": config.app.name, "WIMPY_ENVIRONMENT": environment,
                "WIMPY_VERSION": version, "WIMPY_IMAGE": image}

    def run(commands: Sequence[str], phase: str, env: Mapping[str, str]) -> None:
        def go() -> None:
            run_hooks(commands, phase=phase, environment=env, cwd=config.project_dir,
                      timeout_seconds=hooks.timeout_seconds)
        if phases is None:
            go()
            return
        count = f"{len(commands)} command{'s' if len(commands) != 1 else ''}"
        # A line, not the live area: the hooks' own output streams below it.
        with phases.phase(f"{phase.replace('_', '-')} hooks", count, live=False):
            go()

    def after(outcome: str, url: str) -> None:
        if not hooks.after_deploy:
            return
        try:
            run(hooks.after_deploy, "after_deploy",
                {**hook_env, "WIMPY_URL": url, "WIMPY_OUTCOME": outcome})
        except HookFailed as error:
            consequence = {SUCCEEDED: "the deploy itself succeeded, so the exit code stays 0",
                           FAILED: "the deploy itself failed, as reported below",
                           ROLLED_BACK: "the deploy itself was rolled back, as reported below",
                           }[outcome]
            _stderr(" ".join(f"warning: after-deploy {error.summary} (its output is above); "
                             f"this is reported, not fatal: {consequence}.".split()))

    report = DeployReport()
    notifier.started()
    try:
        if hooks.before_deploy:
            try:
                run(hooks.before_deploy, "before_deploy", hook_env)
            except HookFailed as error:
                error.hint = ("Nothing was deployed: a before-deploy hook must succeed first. "
                              + (error.hint or "")).strip()
                raise
        yield report
    except GeneratorExit:
        raise
    except KeyboardInterrupt:
        notifier.failed("interrupted (Ctrl-C); after-deploy hooks were not run")
        raise
    except BaseException as error:
        rolled_back = isinstance(error, WimpyError) and error.code == ExitCode.ROLLED_BACK
        reason = str(error) or type(error).__name__
        if rolled_back:
            notifier.rolled_back(reason)
        else:
            notifier.failed(reason)
        after(ROLLED_BACK if rolled_back else FAILED, "")
        raise
    notifier.succeeded(report.url)
    after(SUCCEEDED, report.url)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def _actor() -> str:
    """Who deployed: CI's actor when there is one, else the local user."""
    for variable in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid (some containers)
        return ""


def _stderr(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()

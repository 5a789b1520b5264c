"""Telling people and systems about deploys: a Slack-compatible incoming webhook, an SNS
topic and GitHub deployment statuses (wimpy.yml's `notifications`), the way the original
wimpy.slack role and GitHub deployments did.

A failure to notify never fails a deploy: each is one warning line on stderr. Secrets (the
webhook URL, the GitHub token) come from environment variables named in wimpy.yml and never
appear in output or errors. HTTP goes through the standard library with short timeouts."""

from .dispatch import DeployReport, Event, Notifier, deploy_reporting
from .http import NotifyError

__all__ = ["DeployReport", "Event", "Notifier", "NotifyError", "deploy_reporting"]

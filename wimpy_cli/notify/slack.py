"""A Slack (or Slack-compatible: Mattermost, Rocket.Chat, ...) incoming webhook: POST
{"text": ...}. The URL is the secret, so it appears nowhere but in the request."""

from __future__ import annotations

from .http import NotifyError, post_json

MAX_TEXT = 3000


class SlackWebhook:
    name = "Slack"

    def __init__(self, url: str, *, timeout: float | None = None):
        if not url.startswith(("https://", "http://")):
            raise NotifyError("the webhook variable does not hold an http(s) URL")
        self._url = url
        self._timeout = timeout

    def send(self, text: str) -> None:
        post_json(self._url, {"text": text[:MAX_TEXT]}, what="the Slack webhook",
                  timeout=self._timeout)

    def __repr__(self) -> str:  # never the URL
        return "SlackWebhook(<url from environment>)"

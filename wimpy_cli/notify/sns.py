"""An SNS topic: one message per deploy event, with the event in message attributes so
subscriptions can filter (e.g. only failures to a pager)."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from .http import NotifyError

MAX_SUBJECT = 100  # SNS's limit (and ASCII only, no line breaks)


class SnsTopic:
    name = "SNS"

    def __init__(self, topic_arn: str, client_factory: Callable[[str], Any]):
        self.topic_arn = topic_arn
        self._client_factory = client_factory
        self._client: Any = None

    def publish(self, *, subject: str, message: str, attributes: dict[str, str],
                group: str) -> None:
        import botocore.exceptions

        request: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Subject": _subject(subject),
            "Message": message,
            "MessageAttributes": {key: {"DataType": "String", "StringValue": value}
                                  for key, value in attributes.items() if value},
        }
        if self.topic_arn.endswith(".fifo"):
            request["MessageGroupId"] = group
            request["MessageDeduplicationId"] = uuid.uuid4().hex
        try:
            if self._client is None:
                self._client = self._client_factory("sns")
            self._client.publish(**request)
        except botocore.exceptions.ClientError as error:
            details = error.response.get("Error", {})
            raise NotifyError(f"SNS refused the message ({details.get('Code', 'error')}: "
                              f"{details.get('Message', '')})") from None
        except botocore.exceptions.BotoCoreError as error:
            raise NotifyError(f"could not reach SNS: {error}") from None


def _subject(text: str) -> str:
    plain = "".join(c if 32 <= ord(c) < 127 else " " for c in text)
    plain = " ".join(plain.split())
    return plain if len(plain) <= MAX_SUBJECT else plain[:MAX_SUBJECT - 3] + "..."

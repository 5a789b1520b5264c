"""JSON over HTTP(S) with the standard library, for the notification channels: a short
timeout, and errors worded without the URL (a webhook URL is a secret)."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import urllib.error

TIMEOUT_SECONDS = 5.0
USER_AGENT = "wimpy-deploy"


class NotifyError(Exception):
    """A channel could not deliver; the message is safe to print (no secrets)."""


def post_json(url: str, payload: Any, *, what: str, headers: Mapping[str, str] | None = None,
              timeout: float | None = None) -> tuple[int, bytes]:
    """POST `payload` as JSON to `url`; (status, body) on a 2xx answer, NotifyError
    otherwise. `what` names the far end in errors ("the Slack webhook")."""
    import urllib.error
    import urllib.request  # here: `wimpy --help` need not load http.client and ssl

    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    try:
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT,
                     **(headers or {})})
    except ValueError:
        raise NotifyError(f"the URL of {what} is not a valid http(s) URL") from None
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        detail = _detail(error)
        raise NotifyError(f"{what} answered HTTP {error.code}{detail}") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, (TimeoutError, socket.timeout)):
            raise NotifyError(f"{what} did not answer within {timeout:g}s") from None
        raise NotifyError(f"could not reach {what}: {_reason(error.reason, timeout)}") from None
    except (TimeoutError, socket.timeout):
        raise NotifyError(f"{what} did not answer within {timeout:g}s") from None
    except (OSError, ValueError) as error:  # a dropped connection, a malformed answer
        raise NotifyError(f"could not talk to {what}: {_reason(error, timeout)}") from None


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g}s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, str):
        return reason
    return type(reason).__name__


def _detail(error: urllib.error.HTTPError) -> str:
    """GitHub's JSON `message`, or a short plain-text answer (Slack says e.g. no_service)."""
    try:
        body = error.read(2000).decode("utf-8", "replace").strip()
    except Exception:  # the body is a nicety; the status says enough
        return ""
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        message = body if len(body) <= 80 and "\n" not in body else ""
    return f" ({message[:200]})" if message else ""


def _opener():
    """urllib's opener (proxies from the environment included) that follows no redirect:
    following one would send the Authorization header to wherever it points."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
            return None  # urllib then raises HTTPError for the 3xx answer

    return urllib.request.build_opener(NoRedirects)

"""GitHub deployments: one per deploy, for the version (ref), with statuses in_progress,
then success (with the app's URL) or failure. Works with GitHub Enterprise Server through
the API root in wimpy.yml. The token is sent only in the Authorization header."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from .http import NotifyError, post_json

API_VERSION = "2022-11-28"
MAX_DESCRIPTION = 140  # GitHub's limit for deployment and status descriptions


class GitHubDeployments:
    name = "GitHub"

    def __init__(self, *, api_url: str, repository: str, token: str,
                 timeout: float | None = None):
        self._base = api_url.rstrip("/")
        self._repository = "/".join(urllib.parse.quote(part, safe="") for part in repository.split("/"))
        self._token = token
        self._timeout = timeout

    def create(self, *, ref: str, environment: str, description: str,
               payload: dict[str, Any] | None = None) -> int:
        """Create the deployment; returns its id."""
        _, body = self._post("deployments", {
            "ref": ref,
            "environment": environment,
            "auto_merge": False,
            "required_contexts": [],
            "description": _short(description),
            "production_environment": environment == "production",
            "payload": payload or {},
        })
        try:
            deployment_id = json.loads(body)["id"]
        except (ValueError, KeyError, TypeError):
            raise NotifyError("GitHub created no deployment (its answer had no id)") from None
        if not isinstance(deployment_id, int):
            raise NotifyError("GitHub created no deployment (its answer had no id)")
        return deployment_id

    def status(self, deployment_id: int, *, state: str, description: str,
               environment_url: str = "") -> None:
        payload: dict[str, Any] = {"state": state, "description": _short(description)}
        if environment_url:
            payload["environment_url"] = environment_url
        self._post(f"deployments/{deployment_id}/statuses", payload)

    def _post(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        return post_json(
            f"{self._base}/repos/{self._repository}/{path}", payload,
            what="the GitHub API", timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION})

    def __repr__(self) -> str:  # never the token
        return f"GitHubDeployments({self._base}, {self._repository})"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 3] + "..."

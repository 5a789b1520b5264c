"""The emulator's ECR repositories, backed by the local data plane's registry when one runs
(dataplane/registry.py): moto's ECR keeps image records but no layers, so nothing could be
pushed to it or pulled from it. With a registry published by the data plane:

- a repository's URI (repositoryUri) is the registry's `localhost:<port>/<name>`, and
  GetAuthorizationToken's proxyEndpoint is the registry, so `wimpy deploy --local` pushes
  with the same code that pushes to ECR on AWS (it reads both from ECR, as on AWS);
- ListImages, DescribeImages and BatchGetImage first take in the images pushed to the
  registry (tag, manifest and its digest), so the release record's "is the image still
  there" and the build's "is this version already pushed" read what the registry has;
- BatchDeleteImage removes the image from the registry too.

Without a data plane, ECR answers as moto does.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, Callable

from wimpy_cli.build.registries import MANIFEST_TYPES
from wimpy_cli.local.dataplane import publish

log = logging.getLogger(__name__)


def registry_host(account_id: str, region: str) -> str | None:
    found = publish.in_emulator(account_id, region, publish.REGISTRY)
    return json.loads(found)["host"] if found else None


def patches() -> list[tuple[Any, str, Any]]:
    from moto.ecr.models import ECRBackend, Repository
    from moto.ecr.responses import ECRResponse

    def get_uri(self: Any) -> str:
        host = registry_host(self.account_id, self.region_name)
        return f"{host}/{self.name}" if host else self.__dict__["_aws_uri"]

    def set_uri(self: Any, value: str) -> None:
        self.__dict__["_aws_uri"] = value

    original_token = ECRResponse.get_authorization_token

    def get_authorization_token(self: Any) -> Any:
        answer = original_token(self)
        host = registry_host(self.current_account, self.region)
        if host:
            for data in answer.result["authorizationData"]:
                data["proxyEndpoint"] = f"http://{host}"
        return answer

    def reading(name: str) -> Callable[..., Any]:
        original = getattr(ECRBackend, name)

        def read(self: Any, repository_name: str, *args: Any, **kwargs: Any) -> Any:
            host = registry_host(self.account_id, self.region_name)
            if host and repository_name in self.repositories:
                _take_in(self, host, repository_name)
            return original(self, repository_name, *args, **kwargs)
        return read

    original_delete = ECRBackend.batch_delete_image

    def batch_delete_image(self: Any, repository_name: str, registry_id: str | None = None,
                           image_ids: list[dict[str, str]] | None = None) -> Any:
        host = registry_host(self.account_id, self.region_name)
        if host and repository_name in self.repositories:
            _take_in(self, host, repository_name)
            for image_id in image_ids or []:
                digest = image_id.get("imageDigest") or _digest(host, repository_name, image_id.get("imageTag", ""))
                if digest:
                    _request(host, f"/v2/{repository_name}/manifests/{digest}", method="DELETE")
        return original_delete(self, repository_name, registry_id, image_ids)

    return [
        (Repository, "uri", property(get_uri, set_uri)),
        (ECRResponse, "get_authorization_token", get_authorization_token),
        *[(ECRBackend, name, reading(name)) for name in ("list_images", "describe_images", "batch_get_image")],
        (ECRBackend, "batch_delete_image", batch_delete_image),
    ]


def _take_in(backend: Any, host: str, repository_name: str) -> None:
    """Record in moto's repository every tag the registry has that moto does not."""
    from moto.ecr.exceptions import ImageAlreadyExistsException

    listed = _request(host, f"/v2/{repository_name}/tags/list")
    tags = (json.loads(listed[0]).get("tags") or []) if listed else []
    known = {tag for image in backend.repositories[repository_name].images for tag in image.image_tags}
    for tag in tags:
        if tag in known:
            continue
        found = _request(host, f"/v2/{repository_name}/manifests/{tag}")
        if found is None:
            continue
        manifest, digest = found
        # A tag on content already recorded (the same image pushed as another version) is
        # one more tag of that image, as in ECR. moto's put_image would first delete the
        # tag through batch_delete_image, which here deletes the registry's manifest too:
        # every tag of that content would go, and the next read fail.
        same = [image for image in backend.repositories[repository_name].images
                if digest and image.get_image_digest() == digest]
        if same:
            same[0].update_tag(tag)
            continue
        try:
            backend.put_image(repository_name, manifest, tag, digest=digest)
        except ImageAlreadyExistsException:
            pass


def _digest(host: str, repository_name: str, tag: str) -> str | None:
    found = _request(host, f"/v2/{repository_name}/manifests/{tag}", method="HEAD") if tag else None
    return found[1] if found else None


def _request(host: str, path: str, method: str = "GET") -> tuple[str, str] | None:
    """(body, Docker-Content-Digest) of a registry request; None when there is nothing."""
    request = urllib.request.Request(f"http://{host}{path}", method=method,
                                     headers={"Accept": ", ".join(MANIFEST_TYPES)})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.read().decode(), answer.headers.get("Docker-Content-Digest", "")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            log.warning("the local registry answered %s %s with %s", method, path, error.code)
        return None
    except (urllib.error.URLError, OSError) as error:
        log.warning("the local registry at %s did not answer %s %s: %s", host, method, path, error)
        return None

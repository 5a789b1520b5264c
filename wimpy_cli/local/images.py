"""On the local target without its data plane no image is built (no instance boots in
the emulator to pull it, and its ECR has no registry behind it), but the release record checks that a release's image is in its registry, as on AWS. So a
local deploy names the version's image in the emulator's ECR repository: a manifest with
no layers, under the version's tag. `--skip-build` of a version never deployed, or a
rollback to a version whose image was deleted, is then refused here as it is on AWS."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from wimpy_domain import naming
from wimpy_domain.config import WimpyConfig


def register_named_image(target: Any, config: WimpyConfig, version: str) -> None:
    if not config.registry.is_ecr:
        return
    ecr = target.client("ecr")
    config_blob = json.dumps({"wimpy": {"app": config.app.name, "version": version}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config_blob), "digest": "sha256:" + hashlib.sha256(config_blob).hexdigest()},
        "layers": []})
    try:
        ecr.put_image(repositoryName=naming.repository(config.app.name), imageManifest=manifest,
                      imageTag=version)
    except ecr.exceptions.ImageAlreadyExistsException:
        pass

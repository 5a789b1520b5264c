"""The emulator's ECR, backed by the data plane's registry (wimpy_cli/local/ecr_images.py), with
the registry faked. Its own file: moto's in-process mock_aws would reset the backends of
an emulator another module of this process keeps running."""

from __future__ import annotations

import json

REGION = "eu-west-1"


def test_the_same_image_pushed_as_another_version_is_one_image_with_two_tags(monkeypatch):
    """The local ECR reads its tags from the data plane's registry. Content pushed again
    under a new version (same digest) becomes one more tag of the image, as in ECR; it
    used to go through moto's put_image, whose tag clean-up deleted the registry's
    manifest, so every tag of that content went and the next DescribeImages failed (500)."""
    import boto3
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecr.models import ecr_backends

    from wimpy_cli.local import ecr_images, moto_fixes

    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + "c" * 64, "size": 1,
                                      "mediaType": "application/vnd.docker.container.image.v1+json"},
                           "layers": []})
    digest = "sha256:" + "d" * 64
    requests = []

    def registry(host, path, method="GET"):
        requests.append((method, path))
        if path.endswith("/tags/list"):
            return json.dumps({"tags": ["v1", "v2"]}), ""
        return manifest, digest

    monkeypatch.setattr(ecr_images, "_request", registry)
    monkeypatch.setattr(ecr_images, "registry_host", lambda account, region: "localhost:5000")
    undo = moto_fixes.apply()  # the emulator's ECR, backed by the (faked) registry
    try:
        with mock_aws():
            ecr = boto3.client("ecr", region_name=REGION)
            ecr.create_repository(repositoryName="wimpy/hello")
            backend = ecr_backends[DEFAULT_ACCOUNT_ID][REGION]
            backend.put_image("wimpy/hello", manifest, "v1", digest=digest)
            (image,) = ecr.describe_images(repositoryName="wimpy/hello")["imageDetails"]
            assert sorted(image["imageTags"]) == ["v1", "v2"]
    finally:
        undo()
    assert not [request for request in requests if request[0] == "DELETE"]

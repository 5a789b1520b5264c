"""wimpy-registry-<app>: the application's image repository, one per application and
shared by all its environments (an image is built once and deployed everywhere)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from aws_cdk import aws_kms as kms

from wimpy_domain import naming
from wimpy_constructs import ApplicationRegistry
from wimpy_constructs.defaults import KEEP_IMAGES

from . import wiring


class RegistryStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, app: str, keep_images: int = KEEP_IMAGES,
                 push_latest: bool = False, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        self.registry = ApplicationRegistry(
            self, "Registry",
            repository_name=naming.repository(app),
            keep_images=keep_images,
            # `latest` is meant to move (build.push_latest); version tags never do.
            mutable_tags=("latest",) if push_latest else (),
            # Images are encrypted with the account's master key, like every other store.
            encryption_key=kms.Key.from_key_arn(
                self, "MasterKey", wiring.read(self, naming.baseline_parameter("master-key-arn"))),
        )

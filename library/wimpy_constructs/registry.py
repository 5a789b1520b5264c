"""ApplicationRegistry: the ECR repository one application's images are pushed to.

Images are release artifacts, so the repository is retained when its stack is deleted,
its tags are immutable (a version always means the same image, which is what makes a
rollback safe), every image is scanned on push, and a lifecycle rule bounds its size.
"""

from __future__ import annotations

import re
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from constructs import Construct

from .defaults import KEEP_IMAGES
# ECR's limits: repository names (lowercase path components), exclusion filters per
# repository and the characters of a filter.
_REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", re.ASCII)
_MAX_MUTABLE_TAGS = 5
_TAG_FILTER = re.compile(r"[0-9A-Za-z._*-]{1,128}", re.ASCII)


class ApplicationRegistry(Construct):
    """An ECR repository with scan on push, immutable tags, a lifecycle rule keeping the
    newest ``keep_images`` images, encryption at rest, and retention on delete.
    ``repository`` is the ``ecr.Repository`` (use its ``grant_pull``/``grant_push``).

    :param repository_name: the repository's name, e.g. ``wimpy/web`` (lowercase path
        components of letters and digits separated by '.', '_' or '-'; 2-256 characters).
    :param keep_images: how many of the newest images the lifecycle rule keeps; older ones
        expire. @default 30
    :param encryption_key: a KMS key to encrypt images with. @default AES256 (ECR-managed key)
    :param mutable_tags: tags (or wildcard patterns) that may be moved to new content, such
        as ``latest``; every other tag is immutable. At most 5. @default none: all immutable
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        repository_name: str,
        keep_images: int = KEEP_IMAGES,
        encryption_key: kms.IKey | None = None,
        mutable_tags: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        _check_arguments(repository_name, keep_images, mutable_tags)
        exclusions = [ecr.ImageTagMutabilityExclusionFilter.wildcard(tag) for tag in mutable_tags]
        self.repository = ecr.Repository(
            self, "Repository",
            repository_name=repository_name,
            image_scan_on_push=True,
            image_tag_mutability=(ecr.TagMutability.IMMUTABLE_WITH_EXCLUSION if exclusions
                                  else ecr.TagMutability.IMMUTABLE),
            image_tag_mutability_exclusion_filters=exclusions or None,
            encryption=ecr.RepositoryEncryption.KMS if encryption_key else ecr.RepositoryEncryption.AES_256,
            encryption_key=encryption_key,
            # Images are data: deleting the stack must not delete what is deployed.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if encryption_key is None:
            # CDK leaves AES256 out of the template as ECR's default; say it, so that the
            # template shows a reviewer (and cfn-lint) the encryption it relies on.
            repository = self.repository.node.default_child
            assert isinstance(repository, ecr.CfnRepository)
            repository.add_property_override("EncryptionConfiguration", {"EncryptionType": "AES256"})
        self.repository.add_lifecycle_rule(
            description=f"Keep the newest {keep_images} images; older ones expire",
            max_image_count=keep_images,
            tag_status=ecr.TagStatus.ANY,
        )


def _check_arguments(repository_name: str, keep_images: int, mutable_tags: Sequence[str]) -> None:
    if not cdk.Token.is_unresolved(repository_name) and (
            not 2 <= len(repository_name) <= 256 or not _REPOSITORY_NAME.fullmatch(repository_name)):
        raise ValueError(f"repository_name must be 2-256 characters of lowercase path "
                         f"components like 'wimpy/web', got {repository_name!r}")
    if isinstance(keep_images, bool) or not isinstance(keep_images, int) or keep_images < 1:
        raise ValueError(f"keep_images must be a whole number of at least 1, got {keep_images!r}")
    if isinstance(mutable_tags, str):
        raise ValueError(f"mutable_tags must be a list of tags, got the string {mutable_tags!r}")
    if len(mutable_tags) > _MAX_MUTABLE_TAGS:
        raise ValueError(f"mutable_tags may list at most {_MAX_MUTABLE_TAGS} tags (ECR's "
                         f"limit), got {len(mutable_tags)}")
    for tag in mutable_tags:
        if not _TAG_FILTER.fullmatch(tag):
            raise ValueError(f"mutable_tags: {tag!r} is not a tag or wildcard pattern (1-128 "
                             "letters, digits, '.', '_', '-' and '*')")

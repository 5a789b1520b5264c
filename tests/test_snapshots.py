"""Every stack's whole template, snapshotted (syrupy): any change to what is deployed
shows up in review. Update on purpose with `pytest --snapshot-update`."""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

STACKS = ["wimpy-baseline", "wimpy-staging", "wimpy-production",
          "wimpy-staging-hello-resources", "wimpy-production-hello-resources",
          "wimpy-staging-hello-data", "wimpy-production-hello-data",
          "wimpy-staging-hello", "wimpy-production-hello", "wimpy-registry-hello"]
ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def scrub(value):
    """Asset hashes change with the CDK version, not with what Wimpy asks for."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return ASSET_HASH.sub("<asset-hash>", value)
    return value


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACKS)
def test_template_snapshot(templates, snapshot_json, stack):
    assert scrub(templates[stack]) == snapshot_json


def test_synthesis_is_deterministic(example_config, templates):
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    _, again = synthesize(example_config)
    assert {s.stack_name: Template.from_stack(s).to_json() for s in again.all()} == templates

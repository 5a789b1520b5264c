"""Blue/green: abort, rollback (to a kept release and to one that is gone, twice, with an
image gone), images checked before a deploy, and a second deploy at once (a deploy
interrupted and run again is tests/test_fault_injection.py's), against the AWS emulator over
HTTP, with traffic through the application's load balancer (deploy.traffic's default;
tests/test_blue_green.py runs through DNS). The shared fixtures are in
tests/blue_green_support.py."""

from __future__ import annotations

from wimpy_cli.errors import ExitCode
from tests.blue_green_support import *  # noqa: F401,F403 - the fixtures and helpers they use


def test_abort_puts_traffic_back_and_removes_the_release(site, paused_canary, no_real_waiting):
    v1, v4 = paused_canary
    result = site.wimpy("abort", "--json")
    assert result.exit_code == 0, result.output
    assert site.live() == {v1: site.full}
    assert site.release_stacks() == [v1]
    # In-flight requests drain first; no DNS cache to wait out behind one listener.
    assert sum(no_real_waiting) == 30
    again = site.wimpy("abort")
    assert again.exit_code == ExitCode.FAILED, again.output
    assert f"no canary or deploy of {site.app} is under way" in again.output


def test_rollback_to_the_kept_release_scales_it_up_and_moves_traffic(site, v2_promoted):
    v1, v2 = v2_promoted
    result = site.wimpy("rollback", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "v1.0.0"
    # v1 back at full capacity with all traffic; v2, rolled back from, removed.
    assert site.weights() == {v1: site.full}
    assert site.parameters(v1)["Capacity"] == "on"
    assert site.release_stacks() == [v1]
    record = site.record()
    assert (record.get("v1.0.0").state, record.get("v2.0.0").state) == ("live", "rolled-back")
    # Rolling back again never returns to the release rolled back from: there is none left.
    again = site.wimpy("rollback")
    assert again.exit_code == ExitCode.FAILED, again.output
    assert "no release of" in again.output and "Rolled back from already: v2.0.0" in again.output
    assert site.weights() == {v1: site.full}


def test_a_warm_kept_release_keeps_its_instances_and_a_rollback_skips_the_scale_up(site, v1_live):
    """deploy.kept_release_capacity: warm. The replaced release leaves the listener but
    keeps its capacity, so a rollback only attaches it and waits for its health checks."""
    import dataclasses

    site.config = dataclasses.replace(site.config, deploy=dataclasses.replace(
        site.config.deploy, kept_release_capacity="warm"))
    v2 = site.deploy("v2.0.0", cached=True)["stack"]
    assert site.weights() == {v2: site.full}
    assert site.parameters(v1_live)["Capacity"] == "on"
    assert site.record().get("v1.0.0").state == "kept"
    result = site.wimpy("rollback", "--json")
    assert result.exit_code == 0, result.output
    assert "scale up" not in result.stderr and "healthy instances" in result.stderr, result.stderr
    assert site.weights() == {v1_live: site.full}
    assert site.release_stacks() == [v1_live]


def test_rollback_when_the_previous_release_is_gone_redeploys_it(site, v2_promoted):
    from wimpy_cli.release.bluegreen import delete_release

    v1, v2 = v2_promoted
    delete_release(site.emulator.client("cloudformation"), site.emulator.client("elbv2"), v1)
    assert site.release_stacks() == [v2]
    result = site.wimpy("rollback", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == "v1.0.0" and document["stack"] == v1
    assert site.weights() == {v1: site.full}
    assert site.release_stacks() == [v1]


def test_a_second_deploy_at_once_is_refused(site):
    with site.releases("deploy v7.0.0"):
        refused = site.wimpy("rollback")
    assert refused.exit_code == ExitCode.LOCKED
    assert f"another command is changing {site.app} in staging (deploy v7.0.0 by " in refused.output


def test_an_image_the_registry_does_not_have_is_refused_before_anything_changes(site, v1_live):
    before = (site.release_stacks(), site.record().to_json())
    refused = site.wimpy("deploy", "--version", "v9.0.0", "--skip-build")
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert f"the image {site.image('v9.0.0')} is not in its registry" in refused.output
    assert "refused before anything changed" in refused.output
    assert (site.release_stacks(), site.record().to_json()) == before
    other = site.wimpy("deploy", "--version", "v9.0.0", "--image",
                       f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/{site.app}:never-pushed")
    assert other.exit_code == ExitCode.USAGE and "is not in its registry" in other.output


def test_rollback_skips_a_release_whose_image_is_gone_and_says_so(site, v2_promoted):
    from wimpy_domain import naming

    v1, v2 = v2_promoted
    site.emulator.client("ecr").batch_delete_image(
        repositoryName=naming.repository(site.app), imageIds=[{"imageTag": "v1.0.0"}])
    refused = site.wimpy("rollback")
    assert refused.exit_code == ExitCode.FAILED, refused.output
    assert "skipping v1.0.0: its image" in refused.output
    assert "no release of" in refused.output and "(v1.0.0: image gone)" in refused.output
    assert site.live() == {v2: site.full}  # nothing moved
    assert site.record().live().version == "v2.0.0"

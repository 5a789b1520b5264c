"""The blue/green strategy: each version in its own release stack, traffic moved to it in
canary steps by weights alone, every step watched, a bad release pulled back and removed,
a good one promoted and the old one retired (kept scaled to zero, or deleted)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cli import naming
from cli.config import WimpyConfig
from cli.deploy import machine_image, outcome, stacks
from cli.errors import ExitCode, WimpyError
from cli.hints import next_command
from cli.phases import Phases
from cli.targets import Target

from . import dns, inventory, state, traffic
from .canary import Canary, CanaryFailed, CanaryPlan, Clock, SystemClock
from .names import InvalidVersion, release_name
from .watch import ReleaseWatch
from .weights import MAX_WEIGHT, Split


@dataclass
class BlueGreen:
    """One application in one environment, on one target."""

    config: WimpyConfig
    config_path: Path
    env: str
    target: Target
    phases: Phases
    run: stacks.StackDeploy
    clock: Clock = SystemClock()

    @property
    def app(self) -> str:
        return self.config.app.name

    def client(self, service: str) -> Any:
        return self.target.client(service)

    # -- deploy ----------------------------------------------------------------------

    def deploy(self, *, version: str, image: str, manual: bool = False, keep_failed: bool = False,
               update_machine_image: bool = False, steps: tuple[float, ...] | None = None) -> dict[str, Any]:
        cloudformation, ssm = self.client("cloudformation"), self.client("ssm")
        self.refuse_if_paused()
        try:
            release = release_name(version)
        except InvalidVersion as invalid:
            raise WimpyError(str(invalid), code=ExitCode.USAGE) from None
        stack = naming.release_stack(self.env, self.app, release)
        current = inventory.live(inventory.releases(cloudformation, self.env, self.app))
        # Coming from the rolling strategy: its stack serves until the canary takes over,
        # then it is retired like any old release.
        old_stack = current.stack if current is not None else self._serving_rolling_stack()
        if current is not None and current.stack == stack and current.weight == MAX_WEIGHT:
            self.phases.note(f"{version} is already live in {stack}: nothing to do")
            return self._result(version, stack, status="already live")

        with self.phases.phase("machine image"):
            ami, why = machine_image.choose(
                ssm=ssm, ec2=self.client("ec2"), env=self.env, app=self.app,
                instance_type=self.config.app.instance_type, pinned=self.config.app.machine_image,
                update=update_machine_image)
            self.phases.note(f"{ami} ({why})")
        with self.phases.phase("release stack", f"{stack} (no traffic yet)"):
            stacks.deploy(self.run, [stack], exclusively=True, what=f"Deploying {stack}",
                          context={"version": version, "image": image, "machine_image": ami,
                                   "release": release})
            traffic.set_capacity(cloudformation, stack, on=True)  # a re-run of a kept release
        machine_image.record(ssm=ssm, env=self.env, app=self.app, ami=ami)

        if old_stack is None or old_stack == stack:
            with self.phases.phase("traffic", f"{stack} takes all traffic (no release to canary against)"):
                traffic.update_parameters(cloudformation, stack, {"TrafficWeight": str(MAX_WEIGHT)})
            state.record_version(ssm, self.env, self.app, version)
            return self._result(version, stack, status="live")

        plan = self.plan(steps)
        canary = self._canary(plan, new_stack=stack, old_stack=old_stack)
        stop_after = 1 if manual and len(plan.steps) > 1 else None
        self._run_canary(canary, version=version, new_stack=stack, old_stack=old_stack,
                         start_at=0, stop_after=stop_after, keep_failed=keep_failed)
        if stop_after is not None:
            state.PausedCanary(version=version, new_stack=stack, old_stack=old_stack,
                               next_step=stop_after).save(ssm, self.env, self.app)
            return self._result(version, stack, status="paused", share=canary.results[-1].split.share)
        state.record_version(ssm, self.env, self.app, version)
        self._retire(keep=stack)
        return self._result(version, stack, status="promoted")

    # -- paused canaries -------------------------------------------------------------------

    def refuse_if_paused(self) -> None:
        """A new deploy while a canary waits for promote/abort would strand it."""
        paused = state.paused_canary(self.client("ssm"), self.env, self.app)
        if paused is not None:
            raise WimpyError(
                f"a canary of {paused.version} is paused in {self.env}; nothing was changed.",
                code=ExitCode.LOCKED,
                hint=f"Finish it with `{next_command('promote', env=self.env)}` or undo it "
                     f"with `{next_command('abort', env=self.env)}`.")

    def promote(self, *, to_end: bool = False) -> dict[str, Any]:
        ssm = self.client("ssm")
        paused = self._paused()
        plan = self.plan(None)
        canary = self._canary(plan, new_stack=paused.new_stack, old_stack=paused.old_stack)
        stop_after = None if to_end else paused.next_step + 1
        if stop_after is not None and stop_after >= len(plan.steps):
            stop_after = None
        self._run_canary(canary, version=paused.version, new_stack=paused.new_stack,
                         old_stack=paused.old_stack, start_at=paused.next_step,
                         stop_after=stop_after, keep_failed=False)
        if stop_after is not None:
            state.PausedCanary(version=paused.version, new_stack=paused.new_stack,
                               old_stack=paused.old_stack, next_step=stop_after).save(ssm, self.env, self.app)
            return self._result(paused.version, paused.new_stack, status="paused",
                                share=canary.results[-1].split.share)
        state.clear_canary(ssm, self.env, self.app)
        state.record_version(ssm, self.env, self.app, paused.version)
        self._retire(keep=paused.new_stack)
        return self._result(paused.version, paused.new_stack, status="promoted")

    def abort(self, *, keep_failed: bool = False) -> dict[str, Any]:
        paused = self._paused()
        self._pull_back(new_stack=paused.new_stack, old_stack=paused.old_stack, keep_failed=keep_failed)
        state.clear_canary(self.client("ssm"), self.env, self.app)
        return self._result(paused.version, paused.old_stack, status="aborted")

    # -- rollback --------------------------------------------------------------------------

    def rollback(self, redeploy: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """Traffic back to the previous release in seconds when it is still there (scaled up
        first if it was kept at zero); otherwise `redeploy` the previous version."""
        cloudformation = self.client("cloudformation")
        found = [r for r in inventory.releases(cloudformation, self.env, self.app) if r.usable]
        current = inventory.live(found)
        if current is None:
            raise WimpyError(f"no release of {self.app} takes traffic in {self.env}; nothing to roll back.")
        previous = [r for r in found if r.stack != current.stack]
        if previous:
            target = previous[-1]
            if not target.capacity_on:
                with self.phases.phase("scale up", f"{target.stack} ({target.version}) back to capacity"):
                    traffic.set_capacity(cloudformation, target.stack, on=True)
            with self.phases.phase("traffic", f"all traffic back to {target.version}"):
                traffic.WeightedTraffic(cloudformation, new_stack=target.stack,
                                        old_stack=current.stack).set_split(Split(MAX_WEIGHT, 0))
            state.record_version(self.client("ssm"), self.env, self.app, target.version)
            return self._result(target.version, target.stack, status="rolled back")
        versions = [v for v in state.history(self.client("ssm"), self.env, self.app) if v != current.version]
        if not versions:
            raise WimpyError(f"{current.version} is the only version deployed to {self.env}; "
                             "there is nothing to roll back to.")
        self.phases.note(f"the previous release is gone: redeploying {versions[-1]}")
        return redeploy(versions[-1])

    # -- pieces ----------------------------------------------------------------------------

    def plan(self, steps: tuple[float, ...] | None) -> CanaryPlan:
        deploy = self.config.deploy
        return CanaryPlan(steps=steps or deploy.canary.steps, bake_seconds=deploy.canary.bake_seconds,
                          ttl_seconds=self._client_cache_seconds())

    def _canary(self, plan: CanaryPlan, *, new_stack: str, old_stack: str) -> Canary:
        described = self.client("cloudformation").describe_stacks(StackName=new_stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        watch = ReleaseWatch(cloudwatch=self.client("cloudwatch"), elbv2=self.client("elbv2"),
                             stack=new_stack, extra_alarms=self.config.deploy.canary.alarms,
                             target_group_arn=outputs.get("TargetGroupArn"))
        return Canary(plan, traffic.WeightedTraffic(self.client("cloudformation"), new_stack=new_stack,
                                                    old_stack=old_stack),
                      watch, self.clock, self.phases.note)

    def _run_canary(self, canary: Canary, *, version: str, new_stack: str, old_stack: str,
                    start_at: int, stop_after: int | None, keep_failed: bool) -> None:
        try:
            with self.phases.phase("canary", f"{version} against {old_stack}"):
                canary.run(start_at=start_at, stop_after=stop_after)
        except CanaryFailed as failure:
            self._pull_back(new_stack=new_stack, old_stack=old_stack, keep_failed=keep_failed)
            state.clear_canary(self.client("ssm"), self.env, self.app)
            kept = f" {new_stack} was kept for debugging (--keep-failed)." if keep_failed else ""
            raise WimpyError(
                f"{version} was rolled back {failure}. All traffic is on {old_stack} again.{kept}",
                code=ExitCode.ROLLED_BACK,
                hint="Look at the release's alarms and logs (`wimpy logs`) before trying again.") from None

    def _pull_back(self, *, new_stack: str, old_stack: str, keep_failed: bool) -> None:
        cloudformation = self.client("cloudformation")
        with self.phases.phase("roll back", f"all traffic to {old_stack}"):
            # The old release first, so there is never a moment with no weight anywhere.
            traffic.update_parameters(cloudformation, old_stack, {"TrafficWeight": str(MAX_WEIGHT)})
            traffic.update_parameters(cloudformation, new_stack, {"TrafficWeight": "0"})
        if not keep_failed:
            with self.phases.phase("remove failed release", new_stack):
                self._wait_out_clients()
                delete_release(cloudformation, self.client("elbv2"), new_stack)

    def _retire(self, *, keep: str) -> None:
        """After promotion: the newest `keep_releases` old releases stay at weight 0 and zero
        capacity, for rollback in seconds; older ones are deleted. Nothing is touched before
        clients can no longer be sent to them (two TTLs) and their requests have drained."""
        cloudformation = self.client("cloudformation")
        old = [r for r in inventory.releases(cloudformation, self.env, self.app) if r.stack != keep]
        rolling = self._rolling_stack()
        if not old and rolling is None:
            return
        with self.phases.phase("retire", ", ".join([r.stack for r in old] + ([rolling] if rolling else []))):
            self._wait_out_clients()
            if rolling is not None:
                # The rolling strategy's stack cannot be kept at zero capacity: the release
                # that replaced it is what rollback returns to.
                traffic.update_parameters(cloudformation, rolling, {"TrafficWeight": "0"})
                delete_release(cloudformation, self.client("elbv2"), rolling)
                self.phases.note(f"deleted {rolling} (the rolling strategy's stack)")
            keep_count = self.config.deploy.keep_releases
            kept = old[len(old) - keep_count:] if keep_count else []
            for release in old:
                if release in kept:
                    traffic.update_parameters(cloudformation, release.stack,
                                              {"TrafficWeight": "0", "Capacity": "off"})
                    self.phases.note(f"kept {release.stack} ({release.version}) at zero capacity for rollback")
                else:
                    delete_release(cloudformation, self.client("elbv2"), release.stack)
                    self.phases.note(f"deleted {release.stack} ({release.version})")

    def _wait_out_clients(self) -> None:
        seconds = dns.retire_wait_seconds(self.config.deploy.dns_ttl_seconds,
                                          self.config.app.deregistration_delay_seconds,
                                          local=self.target.is_local)
        if seconds:
            self.phases.note(f"waiting {seconds}s: two DNS TTLs and the drain time")
            self.clock.sleep(seconds)

    def _rolling(self) -> outcome.StackOutcome | None:
        """The rolling strategy's stack of this app in this environment, if it exists."""
        found = outcome.read(self.client("cloudformation"), naming.rolling_stack(self.env, self.app))
        return found if found is not None and found.status != "DELETE_COMPLETE" else None

    def _rolling_stack(self) -> str | None:
        found = self._rolling()
        return found.name if found is not None else None

    def _serving_rolling_stack(self) -> str | None:
        found = self._rolling()
        if found is not None and found.status not in inventory.ACTIVE:
            raise WimpyError(f"{found.name}, the rolling strategy's stack, is {found.status}; "
                             "nothing was changed.",
                             hint="Fix or delete it (wimpy destroy) before switching to blue-green.")
        return found.name if found is not None else None

    def _client_cache_seconds(self) -> int:
        return dns.client_cache_seconds(self.config.deploy.dns_ttl_seconds, local=self.target.is_local)

    def _paused(self) -> state.PausedCanary:
        paused = state.paused_canary(self.client("ssm"), self.env, self.app)
        if paused is None:
            raise WimpyError(f"no canary of {self.app} is paused in {self.env}.",
                             hint="`wimpy deploy --manual` pauses a canary after each step.")
        return paused

    def _result(self, version: str, stack: str, *, status: str, share: float | None = None) -> dict[str, Any]:
        described = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        return {"version": version, "stack": stack, "status": status, "url": outputs.get("Url", ""),
                **({"share": round(share, 1)} if share is not None else {})}


def delete_release(cloudformation: Any, elbv2: Any, stack: str) -> None:
    """Delete a release stack. Production load balancers refuse deletion (deletion
    protection), which is right for a person's mistake but not for a retired release."""
    resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    for resource in resources:
        if resource.get("ResourceType") == "AWS::ElasticLoadBalancingV2::LoadBalancer" and \
                resource.get("PhysicalResourceId"):
            elbv2.modify_load_balancer_attributes(
                LoadBalancerArn=resource["PhysicalResourceId"],
                Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 360})

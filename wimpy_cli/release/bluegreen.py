"""The blue/green strategy: each version in its own release stack, traffic moved to it in
canary steps by weights alone, every step watched, a bad release pulled back and removed,
a good one promoted and the old one retired (kept scaled to zero, or deleted).

Every move is driven by the release record (wimpy_cli/release/record.py): a transition is
written before the action it announces and confirmed after it, so whatever command comes
next, after a kill at any point, finds out from the record what was under way and
finishes, resumes or undoes it. Every traffic action is idempotent (it sets weights to
values, never adds to them), which is what makes doing it again safe."""

from __future__ import annotations

from typing import Any

from wimpy_cli import faults

from wimpy_domain import naming
from wimpy_cli.deploy import context, machine_image, outcome, stacks
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.hints import next_command

from . import dns, images, inventory, traffic
from .routing import Router
from .canary import Canary, CanaryFailed, CanaryPlan
from .judge import JudgeSettings
from .names import InvalidVersion, release_name
from .record import (DEPLOYING, KEPT, PAUSED, RESTORING, RETIRING, ROLLING_BACK, SHIFTING,
                     WATCHING, Release)
from .strategy import Strategy
from .watch import ReleaseWatch, metrics_lag_seconds


class BlueGreen(Strategy):
    """One application in one environment, on one target, under a release session."""

    # -- deploy ----------------------------------------------------------------------

    def deploy(self, *, version: str, image: str, manual: bool = False, keep_failed: bool = False,
               update_machine_image: bool = False) -> dict[str, Any]:
        try:
            release_name(version)
        except InvalidVersion as invalid:
            raise WimpyError(str(invalid), code=ExitCode.USAGE) from None
        self.finish_unfinished()
        candidate = self.record.candidate()
        if candidate is not None and candidate.version != version:
            raise WimpyError(f"{candidate.describe()}; nothing was changed.", code=ExitCode.LOCKED,
                             hint=self._resume_hint(candidate))
        if candidate is not None and candidate.state == PAUSED:
            raise WimpyError(f"{candidate.describe()}; nothing was changed.", code=ExitCode.LOCKED,
                             hint=self._resume_hint(candidate))
        if candidate is not None:
            self.phases.note(f"resuming: {candidate.describe()}")
        else:
            live = self.record.live()
            if live is not None and live.version == version:
                self.phases.note(f"{version} is already live in {live.stack}: nothing to do")
                return self._result(version, live.stack, status="already live")
            self._begin(version, image)
        release = self.record.get(version)
        if release.state == DEPLOYING and not release.stack_ready:
            self._make_stack(release, update_machine_image=update_machine_image, keep_failed=keep_failed)
        return self._advance(version, manual=manual, keep_failed=keep_failed)

    def _begin(self, version: str, image: str) -> None:
        images.refuse_missing(self.config, self.target, image, why=f"deploy {version}")
        live = self.record.live()
        self.router.refuse_unmovable(self.config.deploy.traffic, live.stack if live else None)
        stack = naming.release_stack(self.env, self.app, release_name(version))
        steps = list(self.config.deploy.canary.steps)
        self.session.apply("begin", lambda r: r.begin(
            version=version, image=image, stack=stack, strategy="blue-green", steps=steps,
            by=self.session.by, now=self.session.now()))

    def _make_stack(self, release: Release, *, update_machine_image: bool, keep_failed: bool) -> None:
        cloudformation, ssm = self.client("cloudformation"), self.client("ssm")
        with self.phases.phase("machine image"):
            ami, why = machine_image.choose_for(self.config, self.env, self.client,
                                                update=update_machine_image)
            self.phases.note(f"{ami} ({why})")
        stack = release.stack
        try:
            with self.phases.phase("release stack", f"{stack} (no traffic yet)"):
                existing = outcome.read(cloudformation, stack)
                if existing is not None and existing.status not in inventory.ACTIVE:
                    # Left half-made by a command that died: it has never had traffic.
                    self.phases.note(f"{stack} is {existing.status}: deleting it to start again")
                    self._remove(stack)
                stacks.deploy(self.run, [stack], exclusively=True, what=f"Deploying {stack}",
                              context=context.for_version(version=release.version, image=release.image,
                                                          machine_image=ami, release_stack=True))
                traffic.set_capacity(cloudformation, stack, on=True)  # a kept release deployed again
        except WimpyError as failed:
            why = str(failed).splitlines()[0]
            self.session.apply("fail", lambda r: r.fail(release.version, why=why,
                                                        by=self.session.by, now=self.session.now()))
            if not keep_failed and outcome.read(cloudformation, stack) is not None:
                self._remove(stack)
            raise
        machine_image.record(ssm=ssm, env=self.env, app=self.app, ami=ami)
        self.session.apply("stack-ready", lambda r: r.stack_ready(
            release.version, by=self.session.by, now=self.session.now()))

    def _advance(self, version: str, *, manual: bool, keep_failed: bool,
                 to_end: bool = True) -> dict[str, Any]:
        """Take `version` from where the record says it is to live (or to its next pause)."""
        release = self.record.get(version)
        live = self.record.live()
        if live is None:
            with self.phases.phase("traffic", f"{release.stack} takes all traffic (no release to canary against)"):
                self.router.all_to(release.stack, away_from=None)
                faults.checkpoint("weights set")
            self.session.apply("go-live", lambda r: r.go_live(version, by=self.session.by,
                                                              now=self.session.now()))
            return self._result(version, release.stack, status="live")

        first = self._next_step(release)
        last = len(release.steps) - 1
        stop_at = last if (to_end and not manual) else min(first, last)
        with self.phases.phase("canary", f"{version} against {live.version} ({live.stack})"):
            if first == 0:
                self._attach(version, live.stack, keep_failed=keep_failed)
            for step in range(first, stop_at + 1):
                self._run_step(version, step, old_stack=live.stack, keep_failed=keep_failed)
        release = self.record.get(version)
        if stop_at < last:
            self.session.apply("pause", lambda r: r.pause(version, by=self.session.by, now=self.session.now()))
            return self._result(version, release.stack, status="paused", share=release.steps[stop_at])
        self.session.apply("promote", lambda r: r.promote(version, by=self.session.by, now=self.session.now()))
        self.finish_unfinished()
        return self._result(version, release.stack, status="promoted")

    def _attach(self, version: str, live_stack: str, *, keep_failed: bool) -> None:
        """Behind the front, a release's targets are health checked only once the listener
        forwards to its target group: put it there at weight 0, and start the canary only
        once its minimum capacity is healthy (its stack is made when they answer locally)."""
        release = self.record.get(version)
        if not self.router.behind_front(release.stack):
            return
        self.router.attach(release.stack, beside=live_stack)
        count = self.settings.capacity.min
        with self.phases.phase("health", f"{release.stack}: {count} healthy targets behind the load balancer"):
            try:
                traffic.wait_until_healthy(self.client("elbv2"), self.router.target_group(release.stack),
                                           count=count, timeout_seconds=self.config.deploy.signal_timeout_seconds,
                                           clock=self.clock)
            except TimeoutError as error:
                self._pull_back(version, why=f"its targets did not pass the load balancer's health "
                                             f"check: {error}", keep_failed=keep_failed)
                raise WimpyError(f"{version} was rolled back before taking traffic: {error}. "
                                 f"All traffic is on {live_stack}.", code=ExitCode.ROLLED_BACK,
                                 hint="Look at the release's logs (`wimpy logs`) before trying again.") from None

    @staticmethod
    def _next_step(release: Release) -> int:
        """Where a canary goes on from: a step that was moving or being watched is done
        again from the start of its watch (never judged on the time nobody watched)."""
        if release.state == DEPLOYING:
            return 0
        if release.step_phase in (SHIFTING, WATCHING):
            return release.step
        return release.step + 1

    def _run_step(self, version: str, step: int, *, old_stack: str, keep_failed: bool) -> None:
        release = self.record.get(version)
        plan = self.plan(release.stack, old_stack)
        percent = release.steps[step]
        split = self.router.split_for(release.stack, old_stack, percent)
        canary = self._canary(plan, new_stack=release.stack, old_stack=old_stack)
        self.session.apply(f"shift-{step + 1}", lambda r: r.shift(version, step, by=self.session.by,
                                                                   now=self.session.now()))
        canary.move(split)
        faults.checkpoint(f"weights set {step + 1}")
        self.session.apply(f"watching-{step + 1}", lambda r: r.watching(version, step, by=self.session.by,
                                                                         now=self.session.now()))
        how = "listener weights" if self.router.same_listener(release.stack, old_stack) else "DNS weights"
        self.phases.note(f"step {step + 1}/{len(release.steps)}: {split.share:.1f}% of traffic "
                         f"({how} {split.new}/{split.old}), watching for {plan.wait_for(percent)}s")
        canary.on_wait = lambda left: self.phases.countdown(
            f"step {step + 1}/{len(release.steps)} at {split.share:.1f}% of traffic, watched", left)
        try:
            watched = canary.watch(percent, split)
        except CanaryFailed as failure:
            self._pull_back(version, why=f"at {split.share:.1f}% of traffic: {'; '.join(failure.problems)}",
                            keep_failed=keep_failed)
            kept = f" {release.stack} was kept for debugging (--keep-failed)." if keep_failed else ""
            raise WimpyError(
                f"{version} was rolled back {failure}. All traffic is on {old_stack} again.{kept}",
                code=ExitCode.ROLLED_BACK,
                hint="Look at the release's alarms and logs (`wimpy logs`) before trying again.") from None
        compared = canary.verdict.as_dict() if canary.verdict is not None else None
        if canary.verdict is not None:
            self.phases.note(f"step {step + 1} against {self.record.live().version}: "
                             f"{canary.verdict.outcome} ({canary.verdict.summary()})")
        self.session.apply(f"passed-{step + 1}", lambda r: r.step_passed(
            version, step, watched_seconds=watched, by=self.session.by, now=self.session.now(),
            comparison=compared))

    # -- what an earlier command left --------------------------------------------------------

    def finish_unfinished(self) -> None:
        """Finish what a command that stopped had decided and begun: retiring the release a
        promotion replaced, removing a release being rolled back, bringing a rollback's
        release back. A canary (or deploy) not yet promoted is left alone: resuming it or
        undoing it is the user's choice (`deploy` again, or `abort`). A rolling update left
        unfinished (the strategy changed since) is settled by what its stack says."""
        if any(r.state == DEPLOYING and r.strategy == "rolling" for r in self.record.releases):
            from wimpy_cli.deploy.rolling import Rolling

            self.as_(Rolling).finish_unfinished()
        for release in list(self.record.releases):
            current = self.record.get(release.version)
            if current.state == ROLLING_BACK and not current.rollback_to:
                self.phases.note(f"finishing what was left: {current.describe()}")
                self._pull_back(current.version, why=current.why, keep_failed=False)
            elif current.state == RESTORING:
                self.phases.note(f"finishing what was left: {current.describe()}")
                self._restore(current.version)
        if any(r.state == RETIRING for r in self.record.releases):
            self._retire()

    # -- paused and interrupted canaries -------------------------------------------------------

    def promote(self, *, to_end: bool = False) -> dict[str, Any]:
        self.finish_unfinished()
        candidate = self.record.candidate()
        if candidate is None or candidate.state == DEPLOYING:
            raise WimpyError(f"no canary of {self.app} is paused in {self.env}.",
                             hint="`wimpy deploy --manual` pauses a canary after each step.")
        return self._advance(candidate.version, manual=not to_end, keep_failed=False, to_end=to_end)

    def abort(self, *, keep_failed: bool = False, why: str | None = None) -> dict[str, Any]:
        """Undo the release not yet promoted (paused, interrupted mid-canary, or its stack
        half-made): all traffic on the live release, the new one removed."""
        self.finish_unfinished()
        candidate = self.record.candidate()
        if candidate is None:
            raise WimpyError(f"no canary or deploy of {self.app} is under way in {self.env}; "
                             "nothing to abort.",
                             hint=f"To go back to the previous release: {next_command('rollback', env=self.env)}")
        live = self.record.live()
        self._pull_back(candidate.version, why=why or f"aborted by {self.session.by}", keep_failed=keep_failed)
        if live is None:
            return self._result(candidate.version, candidate.stack, status="aborted", exists=False)
        return self._result(candidate.version, live.stack, status="aborted")

    def _pull_back(self, version: str, *, why: str, keep_failed: bool) -> None:
        """Record the rollback of a release not yet promoted, move all traffic to the live
        release (the old one first, so no moment has every weight at zero), remove it."""
        self.session.apply("roll-back", lambda r: r.roll_back(version, why=why, by=self.session.by,
                                                              now=self.session.now()))
        release = self.record.get(version)
        live = self.record.live()
        cloudformation = self.client("cloudformation")
        exists = outcome.read(cloudformation, release.stack) is not None
        with self.phases.phase("roll back", f"all traffic to {live.stack if live else 'no release'}"):
            if live is not None:
                self.router.all_to(live.stack, away_from=release.stack if exists else None)
            if exists:
                self.router.detach(release.stack)
            faults.checkpoint("weights set")
        if exists and not keep_failed:
            with self.phases.phase("remove failed release", release.stack):
                self._wait_out_clients(release.stack, live=live.stack if live else None)
                self._remove(release.stack)
        self.session.apply("rolled-back", lambda r: r.rolled_back(version, by=self.session.by,
                                                                  now=self.session.now()))

    # -- rollback --------------------------------------------------------------------------

    def rollback(self) -> dict[str, Any]:
        """All traffic back to the release that served before the live one (never one
        rolled back from, and only with its image still in the registry): in seconds when
        its stack was kept, else by deploying its stack again. A canary not yet promoted
        is aborted instead: the live release is already what it would roll back to."""
        self.finish_unfinished()
        candidate = self.record.candidate()
        if candidate is not None:
            self.phases.note(f"{candidate.describe()}: rolling back means aborting it")
            return {**self.abort(why=f"rolled back by {self.session.by}"), "status": "rolled back"}
        current = self.record.live()
        if current is None:
            raise WimpyError(f"no release of {self.app} takes traffic in {self.env}; nothing to roll back.",
                             hint=f"Deploy first: {next_command('deploy', env=self.env)}")
        target = images.rollback_target(self.record, self.config, self.target, self.phases)
        self.session.apply("start-rollback", lambda r: r.start_rollback(
            target.version, why=f"rolled back to {target.version} by {self.session.by}",
            by=self.session.by, now=self.session.now()))
        return self._restore(target.version)

    def _restore(self, version: str) -> dict[str, Any]:
        """Bring `version` (RESTORING) back to all traffic, then remove what it replaced."""
        release = self.record.get(version)
        rolled = next(r for r in self.record.releases if r.state == ROLLING_BACK and r.rollback_to == version)
        cloudformation = self.client("cloudformation")
        found = outcome.read(cloudformation, release.stack)
        if found is None or found.status not in inventory.ACTIVE:
            self.phases.note(f"{release.stack} is gone: deploying {version} again")
            try:
                self._deploy_stack_for_restore(release)
            except WimpyError as failed:
                why = str(failed).splitlines()[0]
                self.session.apply("restore-failed", lambda r: r.restore_failed(
                    version, why=why, by=self.session.by, now=self.session.now()))
                raise
        elif found.parameters.get("Capacity", "on") != "on":
            with self.phases.phase("scale up", f"{release.stack} ({version}) back to capacity"):
                traffic.set_capacity(cloudformation, release.stack, on=True)
        rolled_exists = outcome.read(cloudformation, rolled.stack) is not None and rolled.stack != release.stack
        away = rolled.stack if rolled_exists else None
        self.router.attach(release.stack, beside=away)
        self._wait_until_serving(release)
        with self.phases.phase("traffic", f"all traffic back to {version}"):
            self.router.all_to(release.stack, away_from=away)
            faults.checkpoint("weights set")
        self.session.apply("restored", lambda r: r.restored(version, by=self.session.by, now=self.session.now()))
        if rolled_exists:
            with self.phases.phase("remove", f"{rolled.stack} ({rolled.version}, rolled back from)"):
                self._wait_out_clients(rolled.stack, live=release.stack)
                self._remove(rolled.stack)
        return self._result(version, release.stack, status="rolled back")

    def _wait_until_serving(self, release: Release) -> None:
        """Traffic moves back only once the release has its minimum capacity healthy in its
        target group; if it never gets there, the traffic stays where it is."""
        cloudformation = self.client("cloudformation")
        outputs = _outputs(cloudformation, release.stack)
        if "TargetGroupArn" not in outputs:
            return
        count = self.settings.capacity.min
        timeout = self.config.deploy.signal_timeout_seconds
        with self.phases.phase("health", f"{release.stack} ({release.version}): {count} healthy instances"):
            try:
                traffic.wait_until_healthy(self.client("elbv2"), outputs["TargetGroupArn"], count=count,
                                           timeout_seconds=timeout, clock=self.clock)
            except TimeoutError as error:
                why = f"{release.stack} did not come back into service: {error}"
                traffic.set_capacity(cloudformation, release.stack, on=False)  # it costs, serving nobody
                self.session.apply("restore-failed", lambda r: r.restore_failed(
                    release.version, why=why, by=self.session.by, now=self.session.now()))
                raise WimpyError(f"{why}; the traffic stays where it was.", code=ExitCode.FAILED,
                                 hint=f"Look at its instances (`wimpy logs`), then try again: "
                                      f"{next_command('rollback', env=self.env)}") from None

    def _deploy_stack_for_restore(self, release: Release) -> None:
        ami, _ = machine_image.choose_for(self.config, self.env, self.client, update=False)
        with self.phases.phase("release stack", f"{release.stack} (no traffic yet)"):
            stacks.deploy(self.run, [release.stack], exclusively=True, what=f"Deploying {release.stack}",
                          context=context.for_version(version=release.version, image=release.image,
                                                      machine_image=ami, release_stack=True))

    # -- retiring --------------------------------------------------------------------------

    def _retire(self) -> None:
        """After a promotion: the releases it replaced leave. The newest `keep_releases`
        that served stay at weight 0 and zero capacity, for rollback in seconds; others are
        deleted. Nothing is touched before clients can no longer be sent to them (two
        TTLs) and their requests have drained."""
        cloudformation = self.client("cloudformation")
        retiring = [r for r in self.record.releases if r.state == RETIRING]
        kept_already = [r for r in self.record.releases if r.state == KEPT]
        keep_count = self.config.deploy.keep_releases
        by_recency = sorted(retiring + kept_already, key=lambda r: r.live_at or 0.0, reverse=True)
        keep = {r.version for r in by_recency[:keep_count] if r.strategy == "blue-green"}
        live = self.record.live()
        with self.phases.phase("retire", ", ".join(r.stack for r in retiring)):
            existing = [r for r in retiring if outcome.read(cloudformation, r.stack) is not None]
            if existing:
                self._wait_out_clients(*[r.stack for r in existing], live=live.stack if live else None)
            for release in retiring:
                exists = release in existing
                if release.version in keep and exists:
                    self.router.detach(release.stack)
                    if self.config.deploy.kept_release_capacity == "warm":
                        self.phases.note(f"kept {release.stack} ({release.version}) warm, at its "
                                         "capacity, for rollback in seconds")
                    else:
                        traffic.set_capacity(cloudformation, release.stack, on=False)
                        self.phases.note(f"kept {release.stack} ({release.version}) at zero "
                                         "capacity for rollback")
                elif exists:
                    self._remove(release.stack)
                    self.phases.note(f"deleted {release.stack} ({release.version})")
                self.session.apply("retired", lambda r, v=release.version, k=release.version in keep and exists:
                                   r.retired(v, kept=k, by=self.session.by, now=self.session.now()))
            for release in kept_already:
                if release.version not in keep:
                    if outcome.read(cloudformation, release.stack) is not None:
                        self._remove(release.stack)
                        self.phases.note(f"deleted {release.stack} ({release.version})")
                    self.session.apply("dropped", lambda r, v=release.version: r.drop_kept(
                        v, by=self.session.by, now=self.session.now()))

    # -- pieces ----------------------------------------------------------------------------

    @property
    def router(self) -> Router:
        return Router(self.client("cloudformation"), env=self.env, app=self.app,
                      has_zone=self.config.hosted_zone is not None)

    def plan(self, new_stack: str | None = None, old_stack: str | None = None) -> CanaryPlan:
        """Between two releases behind the same listener a step is in effect at once; through
        DNS it is not until every client's cache has expired."""
        deploy = self.config.deploy
        same_listener = new_stack is not None and self.router.same_listener(new_stack, old_stack)
        return CanaryPlan(steps=deploy.canary.steps, bake_seconds=deploy.canary.bake_seconds,
                          ttl_seconds=0 if same_listener else self._client_cache_seconds())

    def _canary(self, plan: CanaryPlan, *, new_stack: str, old_stack: str) -> Canary:
        outputs = _outputs(self.client("cloudformation"), new_stack)
        watch = ReleaseWatch(cloudwatch=self.client("cloudwatch"), elbv2=self.client("elbv2"),
                             stack=new_stack, extra_alarms=self.config.deploy.canary.alarms,
                             target_group_arn=outputs.get("TargetGroupArn"),
                             live_target_group_arn=_outputs(self.client("cloudformation"), old_stack).get(
                                 "TargetGroupArn"),
                             judge_settings=JudgeSettings.from_config(self.config.deploy.canary.judge),
                             period_seconds=self.config.app.alarms.period_seconds,
                             metrics_lag_seconds=metrics_lag_seconds(
                                 local=self.target.is_local,
                                 metrics=not self.target.is_local or self.target.rollout is not None))
        return Canary(plan, _RoutedTraffic(self.router, new_stack=new_stack, old_stack=old_stack),
                      watch, self.clock)

    def _wait_out_clients(self, *stacks: str, live: str | None = None) -> None:
        """Before a release that got weight 0 is touched: its requests drain, and when it
        was reached through another entry than `live`'s (DNS), every client's cache expires."""
        router = self.router
        dns_seconds = 2 * self._client_cache_seconds()
        clients = max((router.wait_seconds(stack, live, dns_seconds=dns_seconds) for stack in stacks), default=0)
        seconds = clients + self.config.app.deregistration_delay_seconds
        if seconds:
            what = "two DNS TTLs and the drain time" if clients else "the drain time"
            self.phases.note(f"waiting {seconds}s: {what}")
            self.clock.sleep(seconds)

    def _client_cache_seconds(self) -> int:
        return dns.client_cache_seconds(self.config.deploy.dns_ttl_seconds, local=self.target.is_local)

    def _remove(self, stack: str) -> None:
        self.router.detach(stack)
        delete_release(self.client("cloudformation"), self.client("elbv2"), stack)

    def _resume_hint(self, candidate: Release) -> str:
        if candidate.state == PAUSED:
            resume = next_command("promote", env=self.env)
        else:
            resume = f"{next_command('deploy', env=self.env)} --version {candidate.version}"
        return f"Resume it with `{resume}`, or undo it with `{next_command('abort', env=self.env)}`."

    def _result(self, version: str, stack: str, *, status: str, share: float | None = None,
                exists: bool = True) -> dict[str, Any]:
        url = self.target.url_for(self.router.url(stack)) if exists else ""
        live = self.record.live()
        real_share = (self.router.split_for(stack, live.stack if live else None, share).share
                      if share is not None else None)
        return {"version": version, "stack": stack, "status": status, "url": url,
                **({"share": round(real_share, 1)} if real_share is not None else {})}


def _outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


class _RoutedTraffic:
    """The canary's Traffic: the router's split between the new and the live release."""

    def __init__(self, router: Router, *, new_stack: str, old_stack: str | None):
        self.router, self.new_stack, self.old_stack = router, new_stack, old_stack

    def set_split(self, split) -> None:
        self.router.set_split(self.new_stack, self.old_stack, split)


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

"""The rolling strategy: one stack per application and environment, updated in place.
CloudFormation replaces instances batch by batch and rolls back by itself; Wimpy's part is
to deploy it with the image and the pinned machine image, keep the release record (which
version is live, which failed, which was rolled back from), take over from blue/green
releases when the strategy changed, and roll back by deploying the last good version."""

from __future__ import annotations

from dataclasses import dataclass

from wimpy_cli import faults

from wimpy_domain import naming
from wimpy_cli.deploy import context, machine_image, outcome, stacks
from wimpy_cli.errors import WimpyError
from wimpy_cli.hints import next_command
from wimpy_cli.release import dns, images, traffic
from wimpy_cli.release.record import DEPLOYING, LIVE, RESTORING, RETIRING
from wimpy_cli.release.strategy import Strategy


@dataclass(frozen=True)
class RollingResult:
    stack: str
    status: str
    url: str
    image: str
    machine_image: str


class Rolling(Strategy):
    @property
    def stack(self) -> str:
        return naming.rolling_stack(self.env, self.app)

    def deploy(self, *, version: str, image: str, update_machine_image: bool) -> RollingResult:
        self.finish_unfinished()
        live = self.record.live()
        if live is not None and live.version == version and live.stack == self.stack \
                and not update_machine_image:
            self.phases.note(f"{version} is already live in {self.stack}: nothing to do")
            return self._result(image, status="already live")
        images.refuse_missing(self.config, self.target, image, why=f"deploy {version}")
        self.session.apply("begin", lambda r: r.begin(
            version=version, image=image, stack=self.stack, strategy="rolling", steps=[],
            by=self.session.by, now=self.session.now()))
        try:
            ami = self._update(version, image, update_machine_image)
        except WimpyError as failed:
            why = str(failed).splitlines()[0]
            self.session.apply("fail", lambda r: r.fail(version, why=why,
                                                        by=self.session.by, now=self.session.now()))
            raise
        self._go_live(version)
        return self._result(image, status=outcome.read(self._cloudformation(), self.stack).status, ami=ami)

    def rollback(self) -> dict[str, str]:
        """Deploy again the last version that served all traffic and was not rolled back
        from (its image checked first), through the same rolling update."""
        self.finish_unfinished()
        current = self.record.live()
        if current is None:
            raise WimpyError(f"no release of {self.app} is live in {self.env}; nothing to roll back.",
                             hint=f"Deploy first: {next_command('deploy', env=self.env)}")
        target = images.rollback_target(self.record, self.config, self.target, self.phases)
        self.session.apply("start-rollback", lambda r: r.start_rollback(
            target.version, why=f"rolled back to {target.version} by {self.session.by}",
            by=self.session.by, now=self.session.now()))
        self._restore(target.version)
        return {"version": target.version, "stack": self.stack, "status": "rolled back",
                "url": self._result(target.image, status="").url}

    # -- what an earlier command left --------------------------------------------------------

    def finish_unfinished(self) -> None:
        """A rolling update has no traffic split: CloudFormation left the stack either on
        the new version or back on the old one, so an interrupted one is settled by what
        the stack says. A rollback being restored is finished; blue/green releases being
        retired are retired."""
        for release in list(self.record.releases):
            current = self.record.get(release.version)
            if current.state == DEPLOYING and current.strategy == "rolling":
                deployed = outcome.read(self._cloudformation(), self.stack)
                if deployed is not None and deployed.succeeded and \
                        deployed.outputs.get("Version") == current.version:
                    self.phases.note(f"{current.version}'s rolling update had finished: recording it live")
                    self.session.apply("stack-ready", lambda r, v=current.version: r.stack_ready(
                        v, by=self.session.by, now=self.session.now()))
                    self._go_live(current.version)
                else:
                    self.session.apply("fail", lambda r, v=current.version: r.fail(
                        v, why="its command stopped before the rolling update finished",
                        by=self.session.by, now=self.session.now()))
            elif current.state == RESTORING:
                self._restore(current.version)
        if any(r.state == RETIRING for r in self.record.releases):
            self._retire_releases()

    # -- pieces ----------------------------------------------------------------------------

    def _cloudformation(self):
        return self.target.client("cloudformation")

    def _blue_green_releases(self) -> list:
        """Blue/green release stacks still holding traffic or capacity (the strategy changed)."""
        from wimpy_cli.release import inventory

        return inventory.releases(self._cloudformation(), self.env, self.app)

    def _update(self, version: str, image: str, update_machine_image: bool) -> str:
        ssm = self.target.client("ssm")
        # Coming from blue/green: its releases serve until this stack is healthy, then hand
        # it all traffic at once and are retired. Until then this stack's record takes none.
        switching = bool(self._blue_green_releases()) and self.config.hosted_zone is not None
        if self._blue_green_releases() and self.config.hosted_zone is None and outcome.read(
                self._cloudformation(), self.stack) is None:
            # Their load balancer's address is the application's: this stack's would be another.
            self._router().refuse_unmovable("dns", self._blue_green_releases()[-1].stack)
        parameters = {self.stack: {"TrafficWeight": "0"}} if switching else {}
        with self.phases.phase("machine image"):
            ami, why = machine_image.choose_for(self.config, self.env, self.target.client,
                                                update=update_machine_image)
            self.phases.note(f"{ami} ({why})")
        with self.phases.phase("CloudFormation", f"{self.stack}: rolling update to {version}"):
            stacks.deploy(self.run, [self.stack], exclusively=True, what=f"Deploying {self.stack}",
                          context=context.for_version(version=version, image=image, machine_image=ami,
                                                     release_stack=False),
                          parameters=parameters)
        machine_image.record(ssm=ssm, env=self.env, app=self.app, ami=ami)
        faults.checkpoint("stack deployed")
        self.session.apply("stack-ready", lambda r: r.stack_ready(version, by=self.session.by,
                                                                  now=self.session.now()))
        return ami

    def _go_live(self, version: str) -> None:
        """All traffic on the rolling stack (it may have come up at weight 0 beside
        blue/green releases), then recorded live; what it replaced is retired."""
        found = self._blue_green_releases()
        if self.config.hosted_zone is not None and found:
            live = next((r for r in self.record.releases if r.state == LIVE and r.stack != self.stack), None)
            with self.phases.phase("traffic", f"all traffic to {self.stack} (from blue/green)"):
                self._router().all_to(self.stack, away_from=live.stack if live else found[-1].stack)
                faults.checkpoint("weights set")
        self.session.apply("go-live", lambda r: r.go_live(version, by=self.session.by, now=self.session.now()))
        self._retire_releases()

    def _retire_releases(self) -> None:
        """Blue/green releases (recorded as retiring, or found without a record) leave once
        clients can no longer be sent to them."""
        from wimpy_cli.release.bluegreen import delete_release

        found = self._blue_green_releases()
        retiring = [r for r in self.record.releases if r.state == RETIRING]
        if not found and not retiring:
            return
        cloudformation = self._cloudformation()
        router = self._router()
        front = outcome.read(cloudformation, router.front)
        with self.phases.phase("retire", ", ".join(r.stack for r in found) or "blue/green releases"):
            for release in found:
                if release.weight:
                    traffic.update_parameters(cloudformation, release.stack, {"TrafficWeight": "0"})
            if front is not None and "TrafficWeight" in front.parameters:
                traffic.update_parameters(cloudformation, router.front, {"TrafficWeight": "0"})
            if found:
                seconds = dns.retire_wait_seconds(self.config.deploy.dns_ttl_seconds,
                                                  self.config.app.deregistration_delay_seconds,
                                                  local=self.target.is_local)
                self.phases.note(f"waiting {seconds}s: two DNS TTLs and the drain time")
                self.clock.sleep(seconds)
            for release in found:
                router.detach(release.stack)
                delete_release(cloudformation, self.target.client("elbv2"), release.stack)
                self.phases.note(f"deleted {release.stack} ({release.version})")
            if front is not None:  # no release is behind it any more
                delete_release(cloudformation, self.target.client("elbv2"), router.front)
                self.phases.note(f"deleted {router.front} (the blue/green load balancer)")
            for release in retiring:
                self.session.apply("retired", lambda r, v=release.version: r.retired(
                    v, kept=False, by=self.session.by, now=self.session.now()))

    def _restore(self, version: str) -> None:
        release = self.record.get(version)
        self.phases.note(f"redeploying {version} (rolling strategy)")
        try:
            self._update_for_restore(release.version, release.image)
        except WimpyError as failed:
            why = str(failed).splitlines()[0]
            self.session.apply("restore-failed", lambda r: r.restore_failed(
                version, why=why, by=self.session.by, now=self.session.now()))
            raise
        self.session.apply("restored", lambda r: r.restored(version, by=self.session.by, now=self.session.now()))

    def _update_for_restore(self, version: str, image: str) -> None:
        ami, _ = machine_image.choose_for(self.config, self.env, self.target.client, update=False)
        with self.phases.phase("CloudFormation", f"{self.stack}: rolling update back to {version}"):
            stacks.deploy(self.run, [self.stack], exclusively=True, what=f"Deploying {self.stack}",
                          context=context.for_version(version=version, image=image, machine_image=ami,
                                                     release_stack=False))
        faults.checkpoint("stack deployed")

    def _router(self):
        from wimpy_cli.release.routing import Router

        return Router(self._cloudformation(), env=self.env, app=self.app,
                      has_zone=self.config.hosted_zone is not None)

    def _result(self, image: str, *, status: str, ami: str = "") -> RollingResult:
        found = outcome.read(self._cloudformation(), self.stack)
        url = self.target.url_for(found.outputs.get("Url", "") if found is not None else "")
        return RollingResult(stack=self.stack, status=status, url=url, image=image, machine_image=ami)


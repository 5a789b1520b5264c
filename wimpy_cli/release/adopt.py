"""Applications deployed before the release record existed: their record is written once,
from what CloudFormation shows (the release taking traffic is live, other usable release
stacks are kept for rollback), so every command can act from a record from then on."""

from __future__ import annotations

from typing import Any

from wimpy_domain import naming
from wimpy_cli.deploy import outcome

from . import inventory
from .record import KEPT, LIVE, Release
from .session import ReleaseSession


def adopt_existing(session: ReleaseSession, cloudformation: Any, *, image_of: Any) -> None:
    """`image_of(version)` is the image reference a version was deployed from."""
    if session.record.revision or session.record.releases:
        return
    env, app, now = session.env, session.app, session.now()
    found: list[Release] = []
    releases = inventory.releases(cloudformation, env, app)
    live = inventory.live(releases)
    for stack in releases:
        if not stack.usable or not stack.version:
            continue
        is_live = live is not None and stack.stack == live.stack
        found.append(Release(version=stack.version, image=image_of(stack.version), stack=stack.stack,
                             strategy="blue-green", state=LIVE if is_live else KEPT,
                             created=stack.created.timestamp(), by="(before the release record)",
                             stack_ready=True, ever_live=True,
                             live_at=stack.created.timestamp()))
    rolling = outcome.read(cloudformation, naming.rolling_stack(env, app))
    if rolling is not None and rolling.succeeded and rolling.outputs.get("Version") and live is None:
        version = rolling.outputs["Version"]
        found.append(Release(version=version, image=image_of(version), stack=rolling.name,
                             strategy="rolling", state=LIVE, created=now,
                             by="(before the release record)", stack_ready=True, ever_live=True,
                             live_at=now))
    if not found:
        return

    def adopt(record: Any) -> None:
        record.releases.extend(found)
    session.apply("adopt", adopt)

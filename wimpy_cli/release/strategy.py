"""What every deploy strategy (blue/green, rolling) works with: the application's config,
the target, the phases display, the CDK deploy, the release session it holds (the lock
and the record) and the clock its waits go by."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from wimpy_domain.config import AppConfig, WimpyConfig
from wimpy_cli.deploy import stacks
from wimpy_cli.phases import Phases
from wimpy_cli.targets import Target

from .canary import Clock, SystemClock
from .record import ReleaseRecord
from .session import ReleaseSession


@dataclass
class Strategy:
    config: WimpyConfig
    config_path: Path
    env: str
    target: Target
    phases: Phases
    run: stacks.StackDeploy
    session: ReleaseSession
    clock: Clock = SystemClock()

    @property
    def app(self) -> str:
        return self.config.app.name

    @property
    def settings(self) -> AppConfig:
        """The application's settings in this environment (its capacity, instance type,
        machine image, ...)."""
        return self.config.app_in(self.env)

    @property
    def record(self) -> ReleaseRecord:
        return self.session.record

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def as_(self, other: type) -> Any:
        """The same application, session and clock, driven by another strategy."""
        return other(**{f.name: getattr(self, f.name) for f in fields(Strategy)})

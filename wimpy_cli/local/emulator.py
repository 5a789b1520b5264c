"""An AWS emulator inside the wimpy process: moto's server on a local port, answering as
the account and region of a wimpy.yml, for the real CDK CLI and boto3 to talk to.

    with LocalAws("111111111111", "eu-west-1") as local:
        cdk.run([...], what="...", extra_env=local.overrides())
        local.client("ec2").describe_vpcs()

moto keeps its state in module-level backends shared by the whole process, so one
LocalAws may run at a time in a process; it starts from empty state and leaves none.
moto is imported only when an emulator starts: `wimpy --help` never pays for it.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

# The caller identity moto reports is the IAM user owning the access key of the request;
# this one is created in the emulated account when the emulator starts.
LOCAL_USER = "wimpy-local"

# Everything of the caller's own AWS setup that could send a child process elsewhere
# or change what it does: profiles, other credentials, per-service endpoints.
_AWS_PREFIXES = ("AWS_", "CDK_DEFAULT_")

_active = threading.Lock()
# Loggers whose chatter is the emulator's, not the user's: werkzeug logs every request at
# INFO; moto warns about every resource type its CloudFormation skips and every attribute
# it cannot compute (the stray `"Fn::GetAtt" : [ ..., "CanonicalHostedZoneID" ]` lines).
_QUIETENED = {"werkzeug": logging.WARNING, "moto": logging.ERROR}


class LocalAws:
    """moto's server, started on entry on a free port of 127.0.0.1 and stopped on exit.

    `endpoint` says `localhost`, not 127.0.0.1: the CDK CLI hands CloudFormation a
    TemplateURL on the endpoint's host, and moto reads a path-style S3 URL (bucket in the
    path) only when its host is localhost; with 127.0.0.1 it looks for a bucket named
    "127" and reports that the bucket does not exist.
    """

    def __init__(self, account_id: str, region: str) -> None:
        if not (len(account_id) == 12 and account_id.isascii() and account_id.isdigit()):
            raise ValueError(f"account_id must be 12 digits, not {account_id!r}")
        self.account_id = account_id
        self.region = region
        self.access_key_id = ""
        self.secret_access_key = ""
        self._server: ThreadedMotoServer | None = None
        self._port = 0
        self._undo: Callable[[], None] | None = None
        self._quieted: dict[str, int] | None = None  # logger levels before we quietened them

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        moto_account = os.environ.get("MOTO_ACCOUNT_ID")
        if moto_account and moto_account != self.account_id:
            # moto answers every request as MOTO_ACCOUNT_ID when it is set.
            raise RuntimeError(f"MOTO_ACCOUNT_ID={moto_account} is set in this process; the "
                               f"emulator cannot answer as account {self.account_id}")
        if not _active.acquire(blocking=False):
            raise RuntimeError("another LocalAws is running in this process; moto's state "
                               "is per process, so only one can run at a time")
        try:
            self._start()
        except BaseException:
            self._stop()
            _active.release()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._stop()
        finally:
            _active.release()

    def _start(self) -> None:
        from moto.server import ThreadedMotoServer

        from wimpy_cli.local import moto_fixes

        self._undo = moto_fixes.apply()
        self._quiet()
        _reset_moto()
        # Port 0: the operating system picks a free port when the server binds, so two
        # emulators (in two processes) never race for the same one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self._port = self._server.get_host_and_port()[1]
        self._create_credentials()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        _reset_moto()
        if self._undo is not None:
            self._undo()
            self._undo = None
        self._unquiet()

    def _quiet(self) -> None:
        """Keep the emulator's own noise from the user: moto's UserWarnings (resource
        types it accepts without effect) and its loggers below the levels above."""
        self._quieted = {}
        for name, level in _QUIETENED.items():
            logger = logging.getLogger(name)
            self._quieted[name] = logger.level
            logger.setLevel(max(logger.getEffectiveLevel(), level))
        # Narrow enough to leave installed: only moto's own modules warn this way.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"moto(\.|$)")

    def _unquiet(self) -> None:
        if self._quieted is not None:
            for name, level in self._quieted.items():
                logging.getLogger(name).setLevel(level)
            self._quieted = None

    def _create_credentials(self) -> None:
        """An IAM user with an access key in the emulated account. moto finds the account
        of a request from the access key's owner (unless MOTO_ACCOUNT_ID is set, which
        would apply to the whole process), so requests signed with this key run in
        `account_id`, and sts:GetCallerIdentity answers arn:aws:iam::<account_id>:user/..."""
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        iam = iam_backends[self.account_id][get_partition(self.region)]
        iam.create_user(self.region, LOCAL_USER)
        key = iam.create_access_key(LOCAL_USER)
        self.access_key_id = key.access_key_id
        self.secret_access_key = key.secret_access_key
        self._session = None  # a session made before has the old key

    # -- what callers use -------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running (use LocalAws as a context manager)")
        return f"http://localhost:{self._port}"

    def environment(self) -> dict[str, str]:
        """Variables that point an AWS SDK (boto3, the CDK CLI's JavaScript SDK) at the
        emulator as this account and region, with no shared config or credentials file
        read and no instance metadata lookup."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def overrides(self, base: Mapping[str, str] | None = None) -> dict[str, str | None]:
        """environment(), plus None (meaning: remove) for every other AWS_* or
        CDK_DEFAULT_* variable of `base` (default: this process's environment), such as
        AWS_PROFILE, AWS_SESSION_TOKEN or AWS_ENDPOINT_URL_S3, which would otherwise
        send a child process to a real account. For wimpy_cli.cdk.run(extra_env=...)."""
        ours = self.environment()
        base = os.environ if base is None else base
        removed: dict[str, str | None] = {
            name: None for name in base if name.startswith(_AWS_PREFIXES) and name not in ours}
        return {**removed, **ours}

    def session(self) -> Any:
        """A boto3 session with the emulator's credentials and region, whatever this
        process's AWS_PROFILE, credentials and config files say. One per emulator: a
        session caches the service models its clients load (each takes ~0.1 s)."""
        with _session_lock:
            if getattr(self, "_session", None) is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> Any:
        import boto3
        import botocore.session

        core = botocore.session.Session(session_vars={
            # (name in config file, environment variable, default, conversion)
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        })
        return boto3.Session(botocore_session=core, aws_access_key_id=self.access_key_id,
                             aws_secret_access_key=self.secret_access_key,
                             region_name=self.region)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for `service` on the emulator."""
        session = self.session()
        with _session_lock:  # a boto3 session is not thread-safe
            return session.client(service, endpoint_url=self.endpoint, **kwargs)


_session_lock = threading.RLock()


def _reset_moto() -> None:
    """Forget every emulated resource (moto's backends are module-level)."""
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data

    BackendDict.reset()
    reset_model_data()

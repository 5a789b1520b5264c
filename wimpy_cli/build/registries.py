"""Where the image goes and how to log in: the application's ECR repository (through
boto3 and the caller's AWS credentials), or any registry named by registry.url (with
credentials read from the environment variables wimpy.yml names).

Credentials stay in memory: they are handed to the Docker engine per request
(`auth_config=`), never written to a docker config file, and kept out of reprs, logs
and error messages.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlparse

from wimpy_domain import naming
from wimpy_domain.config import WimpyConfig
from wimpy_cli.errors import ExitCode, WimpyError

# Media types of a single-platform image manifest, the only kind `wimpy build` pushes.
MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.oci.image.manifest.v1+json")


@dataclass(frozen=True)
class Credentials:
    """A registry login, for the Docker engine only. `source` says where it came from (for
    error messages); the password is never part of the repr."""

    username: str
    password: str = field(repr=False)
    server: str
    source: str

    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "serveraddress": self.server}

    def scrub(self, text: str) -> str:
        """`text` with the password masked: engine and registry messages sometimes echo
        what they were sent, and they end up in error messages."""
        return text.replace(self.password, "***") if self.password else text


class Registry:
    """Where images of one application go. `repository` is the full name without a tag
    (host/path); `find` and `content_id` ask the registry, never the local engine."""

    repository: str
    credentials: Credentials | None = None

    @property
    def host(self) -> str:
        return self.repository.split("/", 1)[0]

    def describe(self) -> str:
        raise NotImplementedError

    def login(self) -> None:
        """Anything needed before the first registry call (an ECR token)."""

    def find(self, tag: str, docker: Callable[[], Any]) -> str | None:
        """The digest of `repository:tag` in the registry, or None if there is none."""
        raise NotImplementedError

    def content_id(self, tag: str, digest: str, docker: Callable[[], Any]) -> str | None:
        """The image id (config digest) of the image `digest` in the registry: equal to a
        local image's id exactly when they have the same content. None if unknowable."""
        raise NotImplementedError


class OtherRegistry(Registry):
    """registry.url: any registry the Docker engine can push to (ghcr.io/acme/web,
    localhost:5000/web). Lookups go through the engine, which speaks every registry's
    auth scheme and TLS setup the way `docker push` does."""

    def __init__(self, url: str, credentials: Credentials | None):
        self.repository = url
        self.credentials = credentials

    def describe(self) -> str:
        return f"registry {self.host}"

    def find(self, tag: str, docker: Callable[[], Any]) -> str | None:
        from wimpy_cli.build import images

        return images.registry_digest(docker(), f"{self.repository}:{tag}", self)

    def content_id(self, tag: str, digest: str, docker: Callable[[], Any]) -> str | None:
        from wimpy_cli.build import images

        return images.pulled_image_id(docker(), self, digest)


class EcrRegistry(Registry):
    """The application's ECR repository wimpy/<app>, in the config's account and region."""

    def __init__(self, *, app: str, account: str, region: str,
                 aws_client: Callable[[str], Any] | None = None):
        self.app = app
        self.account = account
        self.region = region
        self.name = naming.repository(app)
        # Until login() reads the repository's URI from ECR (the emulator's ECR answers
        # with the local registry that backs it).
        self.repository = f"{account}.dkr.ecr.{region}.amazonaws.com/{self.name}"
        self.credentials = None
        self._aws_client = aws_client
        self._ecr: Any = None

    def describe(self) -> str:
        return f"ECR repository {self.name} (account {self.account}, {self.region})"

    def _client(self) -> Any:
        if self._ecr is None:
            if self._aws_client is not None:  # the deploy's target (AWS or the emulator)
                self._ecr = self._aws_client("ecr")
            else:
                import boto3  # here, not at the top: importing boto3 slows every wimpy command

                # boto3 honours AWS_ENDPOINT_URL, so the same code runs against the emulator.
                self._ecr = boto3.session.Session(region_name=self.region).client("ecr")
        return self._ecr

    def login(self) -> None:
        described = self._call("DescribeRepositories", lambda ecr: ecr.describe_repositories(
            registryId=self.account, repositoryNames=[self.name]))
        self.repository = described["repositories"][0]["repositoryUri"]
        answer = self._call("GetAuthorizationToken", lambda ecr: ecr.get_authorization_token())
        data = answer["authorizationData"][0]
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        server = urlparse(data["proxyEndpoint"]).netloc or data["proxyEndpoint"]
        self.credentials = Credentials(username=username, password=password, server=server,
                                       source="the ECR token of your AWS credentials")

    def find(self, tag: str, docker: Callable[[], Any]) -> str | None:
        answer = self._call("DescribeImages", lambda ecr: ecr.describe_images(
            registryId=self.account, repositoryName=self.name, imageIds=[{"imageTag": tag}]),
            missing_ok=("ImageNotFoundException",))
        if answer is None:
            return None
        return answer["imageDetails"][0]["imageDigest"]

    def content_id(self, tag: str, digest: str, docker: Callable[[], Any]) -> str | None:
        answer = self._call("BatchGetImage", lambda ecr: ecr.batch_get_image(
            registryId=self.account, repositoryName=self.name,
            imageIds=[{"imageDigest": digest}], acceptedMediaTypes=list(MANIFEST_TYPES)))
        images = answer.get("images") or []
        if not images:
            return None  # a multi-platform index: not something Wimpy pushed, so not "the same"
        manifest = json.loads(images[0]["imageManifest"])
        return (manifest.get("config") or {}).get("digest")

    def _call(self, action: str, call: Callable[[Any], Any],
              missing_ok: tuple[str, ...] = ()) -> Any:
        """One ECR call, with every way it can fail turned into a sentence that says what
        to do: no credentials, no repository, no permission, no network."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return call(self._client())
        except NoCredentialsError:
            raise WimpyError(
                f"no AWS credentials were found to reach {self.describe()}.",
                hint="Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for "
                     f"account {self.account}, or set registry.url in wimpy.yml to use "
                     "another registry.") from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", str(error))
            if code in missing_ok:
                return None
            if code == "RepositoryNotFoundException":
                raise WimpyError(
                    f"the ECR repository {self.name} does not exist in account {self.account} "
                    f"({self.region}), so there is nowhere to push the image.",
                    hint=f"Deploy the registry stack {naming.registry_stack(self.app)} first (`wimpy "
                         "baseline` will deploy it), or set registry.url in wimpy.yml to use "
                         "another registry.") from None
            raise WimpyError(f"ECR {action} on {self.name} failed: {code}: {message}",
                             hint="Check that your AWS credentials are for account "
                                  f"{self.account} and allow ecr:{action}.") from None
        except BotoCoreError as error:
            raise WimpyError(f"ECR {action} on {self.name} failed: {error}",
                             hint="Check your network and AWS settings (region "
                                  f"{self.region}, AWS_ENDPOINT_URL if you use one).") from None


def resolve(config: WimpyConfig, aws_client: Callable[[str], Any] | None = None) -> Registry:
    """The registry wimpy.yml names, with credentials read from the environment; no
    network call yet (ECR's token comes with `login`). `aws_client(service)`: the AWS
    clients of the command's target (default: boto3's, from the environment)."""
    registry = config.registry
    if registry.is_ecr:
        return EcrRegistry(app=config.app.name, account=config.account.id,
                           region=config.account.region, aws_client=aws_client)
    credentials = None
    if registry.username_env:
        username = _variable("registry.username_env", registry.username_env)
        password = _variable("registry.password_env", registry.password_env)
        credentials = Credentials(
            username=username, password=password, server=registry.url.split("/", 1)[0],
            source=f"${registry.username_env} and ${registry.password_env} "
                   "(registry.username_env and registry.password_env)")
    return OtherRegistry(registry.url, credentials)


def _variable(key: str, name: str) -> str:
    value = os.environ.get(name)
    if not value:
        state = "is empty" if value == "" else "is not set"
        raise WimpyError(f"{key} names the environment variable {name}, which {state}; it "
                         "must hold the registry credential.",
                         code=ExitCode.FAILED,
                         hint=f"Export {name} before running wimpy (e.g. from your CI's secret "
                              "store); its value is passed to the Docker engine in memory only.")
    return value

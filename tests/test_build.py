"""wimpy build against real parts: the Docker engine builds a FROM-scratch busybox image,
a real registry (docker-registry, with and without htpasswd auth) receives it, the image
is pulled back by digest and answers /health; the ECR path runs against the moto server.
Nothing is skipped: without a Docker engine these tests fail saying what to start."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from wimpy_cli import reporting
from wimpy_cli.build import images, pipeline
from wimpy_cli.commands.build import build
from wimpy_cli.errors import ExitCode
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.docker_fixtures import (
    FAILING_DOCKERFILE,
    LocalRegistry,
    closed_docker_host,
    free_port,
    http_get,
    write_project,
)

runner = CliRunner()
USER_VAR, PASSWORD_VAR = "WIMPY_TEST_REGISTRY_USER", "WIMPY_TEST_REGISTRY_PASSWORD"


def _cli() -> typer.Typer:
    """The command as wimpy_cli/main.py registers commands: behind reports_errors, under a
    callback so that `build` is a subcommand, exit codes included."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="build")(reporting.reports_errors(build))

    @app.callback()
    def _root() -> None:
        pass

    return app


APP = _cli()


def wimpy_build(*args: str, env: dict | None = None):
    return runner.invoke(APP, ["build", *args], env=env)


def everything(result) -> str:
    return result.stdout + result.stderr + (repr(result.exception) if result.exception else "")


def error_paragraph(result) -> str:
    assert "Error: " in result.stderr, result.stderr
    return result.stderr[result.stderr.index("Error: "):]


@pytest.fixture
def builds(monkeypatch):
    """Counts real builds: wraps images.build, which the pipeline calls for every build."""
    calls: list[str] = []
    real = images.build

    def counting(*args, **kwargs):
        calls.append(str(kwargs.get("context")))
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "build", counting)
    return calls


@pytest.fixture
def app_name(request) -> str:
    """A repository name of this test alone (the session's registries are shared)."""
    import hashlib

    return "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]


def credentials_env(registry: LocalRegistry, password: str | None = None) -> dict[str, str]:
    ((user, real_password),) = registry.users.items()
    return {USER_VAR: user, PASSWORD_VAR: real_password if password is None else password}


def auth_project(tmp_path, registry: LocalRegistry, app: str, **kwargs):
    return write_project(tmp_path / "app", app=app, registry_url=f"{registry.host}/{app}",
                         username_env=USER_VAR, password_env=PASSWORD_VAR, **kwargs)


# -- the whole path, for real -------------------------------------------------------------

def test_build_push_pull_by_digest_and_run(tmp_path, auth_registry, docker_client, containers,
                                           app_name, builds):
    config = auth_project(tmp_path, auth_registry, app_name, health=f"healthy {app_name}\n")
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    env = {**credentials_env(auth_registry), "DOCKER_CONFIG": str(docker_config)}

    result = wimpy_build("-c", str(config), "--env", "staging", "--version", "1.0.0", "--json",
                         env=env)

    assert result.exit_code == 0, everything(result)
    document = json.loads(result.stdout)  # stdout is one JSON document and nothing else
    assert set(document) == {"image", "digest", "pushed", "skipped_reason"}
    repository = f"{auth_registry.host}/{app_name}"
    assert document["image"] == f"{repository}:1.0.0"
    assert document["pushed"] is True and document["skipped_reason"] is None
    assert document["digest"].startswith("sha256:")
    assert auth_registry.digest(app_name, "1.0.0") == document["digest"]  # asked over HTTP
    assert auth_registry.tags(app_name) == ["1.0.0"]  # no `latest` unless build.push_latest
    assert len(builds) == 1
    # Progress went to stderr: build steps and per-layer push states.
    assert "Step 1/5 : FROM scratch" in result.stderr
    assert ": Pushed" in result.stderr
    # The password went to the engine only: not in any output, no docker config written.
    assert env[PASSWORD_VAR] not in everything(result)
    assert list(docker_config.iterdir()) == []

    # Pull it back by digest with nothing of it left locally, run it, ask /health.
    docker_client.images.remove(f"{repository}:1.0.0", force=True)
    pulled = docker_client.images.pull(repository, tag=document["digest"],
                                       auth_config=auth_registry.auth_config)
    assert f"{repository}@{document['digest']}" in pulled.attrs["RepoDigests"]
    port = free_port()
    container = docker_client.containers.run(f"{repository}@{document['digest']}", detach=True,
                                             ports={"8080/tcp": ("127.0.0.1", port)})
    containers.append(container)
    status, body = http_get(f"http://127.0.0.1:{port}/health")
    assert (status, body) == (200, f"healthy {app_name}\n".encode())


def test_human_output_ends_with_the_reference_and_digest(tmp_path, registry, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}")
    result = wimpy_build("-c", str(config), "-e", "production", "--version", "v7")
    assert result.exit_code == 0, everything(result)
    digest = registry.digest(app_name, "v7")
    assert result.stdout == f"{registry.host}/{app_name}:v7@{digest}\n"
    assert f"Pushed {registry.host}/{app_name}:v7 ({digest})." in result.stderr


STAGED_DOCKERFILE = """\
FROM scratch AS app
ARG GREETING
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /www && echo \\"$GREETING\\" > /www/health"]

FROM app AS broken
RUN ["/bin/busybox", "false"]
"""


def test_build_target_and_args_are_used(tmp_path, registry, app_name, docker_client):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}",
                           dockerfile=STAGED_DOCKERFILE,
                           build_keys="  target: app\n  args:\n    GREETING: hello from args\n")
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1", "--json")
    assert result.exit_code == 0, everything(result)  # the broken stage after `app` never ran
    image = f"{registry.host}/{app_name}@{json.loads(result.stdout)['digest']}"
    output = docker_client.containers.run(image, entrypoint=["/bin/busybox", "cat", "/www/health"],
                                          remove=True)
    assert output == b"hello from args\n"


# -- idempotence and immutable tags -------------------------------------------------------

def test_rerun_is_skipped_without_building(tmp_path, registry, app_name, builds):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}")
    first = wimpy_build("-c", str(config), "-e", "staging", "--version", "2.0", "--json")
    assert first.exit_code == 0, everything(first)
    assert len(builds) == 1

    again = wimpy_build("-c", str(config), "-e", "staging", "--version", "2.0", "--json")

    assert again.exit_code == 0, everything(again)
    assert len(builds) == 1, "the re-run built the image again"
    assert "Step 1/" not in again.stderr
    assert json.loads(again.stdout) == {
        "image": f"{registry.host}/{app_name}:2.0", "digest": json.loads(first.stdout)["digest"],
        "pushed": False, "skipped_reason": pipeline.ALREADY_IN_REGISTRY}
    assert "already in the registry" in again.stderr and "--force" in again.stderr


@pytest.mark.parametrize("compared", ["by the engine's record", "by pulling from the registry"])
def test_force_with_the_same_content_re_pushes(tmp_path, registry, app_name, builds, monkeypatch,
                                                compared):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}")
    first = wimpy_build("-c", str(config), "-e", "staging", "--version", "3.0", "--json")
    assert first.exit_code == 0, everything(first)
    if compared == "by pulling from the registry":
        # Without the engine's record of earlier pushes the registry itself is asked.
        monkeypatch.setattr(images, "known_digests", lambda *args: set())

    forced = wimpy_build("-c", str(config), "-e", "staging", "--version", "3.0", "--force",
                         "--json")

    assert forced.exit_code == 0, everything(forced)
    assert len(builds) == 2
    document = json.loads(forced.stdout)
    assert document["pushed"] is True and document["skipped_reason"] is None
    assert document["digest"] == json.loads(first.stdout)["digest"] == registry.digest(app_name, "3.0")


def test_force_with_different_content_is_refused(tmp_path, registry, app_name, builds):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}",
                           health="first\n")
    first = wimpy_build("-c", str(config), "-e", "staging", "--version", "4.0", "--json")
    assert first.exit_code == 0, everything(first)
    (config.parent / "www" / "health").write_text("second\n")

    without_force = wimpy_build("-c", str(config), "-e", "staging", "--version", "4.0")
    assert without_force.exit_code == 0 and len(builds) == 1  # skipped: the tag is there
    forced = wimpy_build("-c", str(config), "-e", "staging", "--version", "4.0", "--force")

    assert forced.exit_code == ExitCode.FAILED, everything(forced)
    message = error_paragraph(forced)
    assert f"{registry.host}/{app_name}:4.0 already exists" in message
    assert "different content" in message and "immutable" in message
    assert "Nothing was pushed" in message and "new --version" in message
    assert registry.digest(app_name, "4.0") == json.loads(first.stdout)["digest"]
    assert forced.stdout == ""


def test_push_latest_also_pushes_latest(tmp_path, registry, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}",
                           push_latest=True)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "5.0", "--json")
    assert result.exit_code == 0, everything(result)
    assert registry.tags(app_name) == ["5.0", "latest"]
    assert registry.digest(app_name, "latest") == json.loads(result.stdout)["digest"]


# -- bad input and faults -----------------------------------------------------------------

@pytest.mark.parametrize("version, suggestion", [
    ("feature/x", "Try --version feature-x"),
    ("", "Leave --version out"),
    ("a" * 129, "Try --version " + "a" * 128),
    ("-x", "Try --version x"),
    (".hidden", "Try --version hidden"),
    ("v1 beta", "Try --version v1-beta"),
])
def test_invalid_versions_are_refused_before_anything_else(tmp_path, version, suggestion):
    # Neither the config file nor the Docker engine exists: the tag is checked first.
    env = {"DOCKER_HOST": closed_docker_host(tmp_path)}
    result = wimpy_build("-c", str(tmp_path / "absent.yml"), "-e", "staging",
                         f"--version={version}", env=env)
    assert result.exit_code == ExitCode.USAGE, everything(result)
    message = error_paragraph(result)
    assert message.startswith("Error: --version: ") and "is not a valid image tag" in message
    assert "1 to 128 letters, digits, '_', '.' and '-'" in message
    assert suggestion in message


def test_docker_engine_unreachable_says_how_to_start_one(tmp_path, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"localhost:{free_port()}/{app_name}")
    socket_url = closed_docker_host(tmp_path)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1",
                         env={"DOCKER_HOST": socket_url})
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"no Docker engine answered at {socket_url}" in message
    assert "sudo systemctl start docker" in message and "dockerd" in message


def test_an_unreachable_registry_is_a_clear_error(tmp_path, app_name, docker_client):
    config = write_project(tmp_path / "app", app=app_name,
                           registry_url=f"localhost:{free_port()}/{app_name}")
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert "could not be reached when looking up" in message and "connection refused" in message
    assert "Nothing was pushed" in message


def test_wrong_password_is_refused_and_never_shown(tmp_path, auth_registry, app_name):
    config = auth_project(tmp_path, auth_registry, app_name)
    wrong = "not-the-password-8f3a1c"
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1",
                         env=credentials_env(auth_registry, password=wrong))
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"registry {auth_registry.host} refused the credentials from ${USER_VAR} and ${PASSWORD_VAR}" in message
    assert wrong not in everything(result)
    assert credentials_env(auth_registry)[PASSWORD_VAR] not in everything(result)
    assert auth_registry.tags(app_name) == []


def test_no_credentials_for_a_registry_that_wants_them(tmp_path, auth_registry, app_name):
    config = write_project(tmp_path / "app", app=app_name,
                           registry_url=f"{auth_registry.host}/{app_name}")
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert "asks for credentials" in message and "none are configured" in message
    assert "registry.username_env and registry.password_env" in message


@pytest.mark.parametrize("unset, state", [(USER_VAR, "is not set"), (PASSWORD_VAR, "is not set"),
                                          (PASSWORD_VAR, "is empty")])
def test_missing_credential_variable_is_named(tmp_path, auth_registry, app_name, unset, state):
    config = auth_project(tmp_path, auth_registry, app_name)
    env = {**credentials_env(auth_registry), unset: "" if state == "is empty" else None,
           "DOCKER_HOST": closed_docker_host(tmp_path)}  # found before Docker is asked
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1", env=env)
    assert result.exit_code == ExitCode.FAILED, everything(result)
    key = "registry.username_env" if unset == USER_VAR else "registry.password_env"
    assert f"{key} names the environment variable {unset}, which {state}" in error_paragraph(result)


@pytest.mark.parametrize("build_keys, looked_at", [
    ("", "Dockerfile"),
    ("  context: service\n  dockerfile: docker/Dockerfile.prod\n", "service/docker/Dockerfile.prod"),
])
def test_no_dockerfile_names_the_path_looked_at(tmp_path, registry, app_name, build_keys, looked_at):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}",
                           dockerfile=None, build_keys=build_keys)
    (config.parent / "service").mkdir()
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"no Dockerfile at {config.parent / looked_at}" in message
    assert "build.dockerfile" in message
    assert registry.tags(app_name) == []


def test_a_failing_build_step_shows_its_last_lines_and_pushes_nothing(tmp_path, registry, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"{registry.host}/{app_name}",
                           dockerfile=FAILING_DOCKERFILE)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert "failed: The command '/bin/busybox sh -c" in message and "non-zero code: 3" in message
    assert "Its last 20 lines of output:" in message
    assert "output-line-30" in message and "output-line-11" in message
    assert "output-line-10\n" not in message  # the tail only, not the whole log
    assert "Removing intermediate container" not in message
    assert "nothing was pushed" in message
    assert registry.tags(app_name) == []


def test_an_interrupted_push_is_a_clear_error_and_a_rerun_completes_it(
        tmp_path, own_registry, app_name, monkeypatch, docker_client):
    config = write_project(tmp_path / "app", app=app_name,
                           registry_url=f"{own_registry.host}/{app_name}")
    real_push = images.push

    def registry_goes_down(*args, **kwargs):
        own_registry.stop()  # after the lookup and the build, as the upload starts
        return real_push(*args, **kwargs)

    monkeypatch.setattr(images, "push", registry_goes_down)
    interrupted = wimpy_build("-c", str(config), "-e", "staging", "--version", "6.0")
    assert interrupted.exit_code == ExitCode.FAILED, everything(interrupted)
    message = error_paragraph(interrupted)
    assert f"registry {own_registry.host} could not be reached when pushing" in message
    assert "the push was interrupted" in message and "re-run the same command" in message

    monkeypatch.setattr(images, "push", real_push)
    own_registry.start()
    assert own_registry.tags(app_name) == []  # nothing tagged half-way
    rerun = wimpy_build("-c", str(config), "-e", "staging", "--version", "6.0", "--json")
    assert rerun.exit_code == 0, everything(rerun)
    document = json.loads(rerun.stdout)
    assert document["pushed"] is True
    assert own_registry.digest(app_name, "6.0") == document["digest"]
    docker_client.images.remove(f"{own_registry.host}/{app_name}:6.0", force=True)
    assert docker_client.images.pull(f"{own_registry.host}/{app_name}", tag=document["digest"])


def committed_project(folder, registry, app_name):
    """A project committed to a new git repository: (its wimpy.yml, the git command line)."""
    config = write_project(folder, app=app_name, registry_url=f"{registry.host}/{app_name}")
    git = ["git", "-C", str(config.parent), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "app"], check=True)
    return config, git


def test_the_version_defaults_to_the_git_commit(tmp_path, registry, app_name):
    config, git = committed_project(tmp_path / "app", registry, app_name)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    result = wimpy_build("-c", str(config), "-e", "staging", "--json")
    assert result.exit_code == 0, everything(result)
    assert json.loads(result.stdout)["image"] == f"{registry.host}/{app_name}:{head}"
    assert registry.tags(app_name) == [head]
    assert "uncommitted" not in everything(result)  # built from exactly the commit


def test_a_build_from_uncommitted_changes_says_the_image_is_not_the_commit(tmp_path, registry, app_name):
    config, _ = committed_project(tmp_path / "app", registry, app_name)
    (config.parent / "www" / "health").write_text("changed, not committed\n")
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "v-dirty")
    assert result.exit_code == 0, everything(result)
    assert ("Warning: the build context has 1 uncommitted change(s) (www/health): "
            f"{registry.host}/{app_name}:v-dirty is built from the working tree, not from what is "
            "committed.") in everything(result)


def test_no_version_outside_a_git_repository_is_a_clear_error(tmp_path, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"localhost:1/{app_name}")
    result = wimpy_build("-c", str(config), "-e", "staging",
                         env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"--version was not given and {config.parent} is not a git repository" in message
    assert "Pass --version" in message


def test_unknown_environment_is_refused(tmp_path, app_name):
    config = write_project(tmp_path / "app", app=app_name, registry_url=f"localhost:1/{app_name}")
    result = wimpy_build("-c", str(config), "-e", "prod", "--version", "1")
    assert result.exit_code == ExitCode.USAGE  # a wrong --env is a bad flag
    assert "--env: 'prod' is not an environment" in result.stderr


def test_env_is_required(tmp_path):
    result = wimpy_build("-c", str(tmp_path / "wimpy.yml"), "--version", "1")
    assert result.exit_code == ExitCode.USAGE
    assert "--env" in result.stderr


# -- ECR, against the AWS emulator --------------------------------------------------------

ECR_ACCOUNT = "123456789012"  # moto's account
ECR_HOST = f"{ECR_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Fake credentials pointed at the emulator, and an ECR client to arrange state with."""
    import boto3

    for name, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                        "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return boto3.session.Session(region_name="eu-west-1").client("ecr")


def fake_manifest(config_digest: str) -> str:
    """A manifest moto accepts with put_image (it stores images without their layers)."""
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 700,
                   "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1000, "digest": "sha256:" + "b" * 64}]})


def test_ecr_login_gives_the_repository_uri_and_a_token(tmp_path, aws, app_name):
    from wimpy_cli.build import registries
    from wimpy_domain.config import load_config

    aws.create_repository(repositoryName=f"wimpy/{app_name}", imageTagMutability="IMMUTABLE")
    config = load_config(write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT))
    registry = registries.resolve(config)
    registry.login()

    assert registry.repository == f"{ECR_HOST}/wimpy/{app_name}"
    token = aws.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert registry.credentials.auth_config() == {"username": user, "password": password,
                                                  "serveraddress": ECR_HOST}
    assert user == "AWS" and password not in repr(registry.credentials)


def test_ecr_repository_missing_names_the_registry_stack(tmp_path, aws, app_name):
    config = write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1",
                         env={"DOCKER_HOST": closed_docker_host(tmp_path)})  # before Docker
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"the ECR repository wimpy/{app_name} does not exist in account {ECR_ACCOUNT}" in message
    assert f"wimpy-registry-{app_name}" in message and "wimpy baseline" in message


def test_ecr_without_aws_credentials_is_a_clear_error(tmp_path, aws, app_name, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    config = write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    assert "no AWS credentials were found" in error_paragraph(result)
    assert "AWS_PROFILE" in result.stderr


def test_ecr_existing_version_is_skipped_without_docker(tmp_path, aws, app_name):
    aws.create_repository(repositoryName=f"wimpy/{app_name}", imageTagMutability="IMMUTABLE")
    digest = aws.put_image(repositoryName=f"wimpy/{app_name}", imageTag="1.2.3",
                           imageManifest=fake_manifest("sha256:" + "a" * 64))["image"]["imageId"]["imageDigest"]
    config = write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "1.2.3", "--json",
                         env={"DOCKER_HOST": closed_docker_host(tmp_path)})
    assert result.exit_code == 0, everything(result)
    assert json.loads(result.stdout) == {"image": f"{ECR_HOST}/wimpy/{app_name}:1.2.3",
                                         "digest": digest, "pushed": False,
                                         "skipped_reason": pipeline.ALREADY_IN_REGISTRY}


def test_ecr_force_with_different_content_is_refused(tmp_path, aws, app_name, docker_client):
    aws.create_repository(repositoryName=f"wimpy/{app_name}", imageTagMutability="IMMUTABLE")
    digest = aws.put_image(repositoryName=f"wimpy/{app_name}", imageTag="2.0",
                           imageManifest=fake_manifest("sha256:" + "a" * 64))["image"]["imageId"]["imageDigest"]
    config = write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "2.0", "--force")
    assert result.exit_code == ExitCode.FAILED, everything(result)
    message = error_paragraph(result)
    assert f"{ECR_HOST}/wimpy/{app_name}:2.0 already exists in the ECR repository" in message
    assert "different content" in message and "Nothing was pushed" in message
    images_now = aws.describe_images(repositoryName=f"wimpy/{app_name}")["imageDetails"]
    assert [(i["imageDigest"], i["imageTags"]) for i in images_now] == [(digest, ["2.0"])]


def test_ecr_force_with_the_same_content_goes_on_to_push_with_the_ecr_token(
        tmp_path, aws, app_name, docker_client, monkeypatch):
    """moto cannot receive a docker push, so the push itself is recorded instead of sent;
    everything before it (lookup, build, manifest comparison) is real."""
    config = write_project(tmp_path / "app", app=app_name, account=ECR_ACCOUNT)
    image_id = docker_client.images.build(path=str(config.parent))[0].id  # the same build
    aws.create_repository(repositoryName=f"wimpy/{app_name}", imageTagMutability="IMMUTABLE")
    aws.put_image(repositoryName=f"wimpy/{app_name}", imageTag="3.0",
                  imageManifest=fake_manifest(image_id))
    pushed = []
    monkeypatch.setattr(images, "push", lambda client, registry, tag: pushed.append(
        (registry.repository, tag, registry.credentials.username,
         registry.credentials.server)) or "sha256:" + "c" * 64)
    result = wimpy_build("-c", str(config), "-e", "staging", "--version", "3.0", "--force",
                         "--json")
    assert result.exit_code == 0, everything(result)
    assert pushed == [(f"{ECR_HOST}/wimpy/{app_name}", "3.0", "AWS", ECR_HOST)]


# -- startup cost -------------------------------------------------------------------------

def test_importing_the_command_loads_no_sdk():
    probe = ("import json, sys, wimpy_cli.commands.build; print(json.dumps(sorted(m for m in sys.modules "
             "if m.split('.')[0] in {'docker', 'boto3', 'botocore', 'rich', 'aws_cdk', 'moto'})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# -- progress rendering and secrets, on recorded engine events ----------------------------

PUSH_EVENTS = [
    {"status": "The push refers to repository [localhost:5000/web]"},
    {"status": "Preparing", "progressDetail": {}, "id": "d7320be9c2b3"},
    {"status": "Preparing", "progressDetail": {}, "id": "0a5096670d1a"},
    {"status": "Pushing", "progressDetail": {"current": 33792, "total": 1982256}, "id": "0a5096670d1a"},
    {"status": "Pushing", "progressDetail": {"current": 512, "total": 3}, "id": "d7320be9c2b3"},
    {"status": "Pushed", "progressDetail": {}, "id": "d7320be9c2b3"},
    {"status": "Pushing", "progressDetail": {"current": 1984512, "total": 1982256}, "id": "0a5096670d1a"},
    {"status": "Pushed", "progressDetail": {}, "id": "0a5096670d1a"},
    {"status": "v1: digest: sha256:293b80402466 size: 735"},
    {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": "sha256:293b80402466", "Size": 735}},
]


class _Terminal:
    """A stderr that says it is a terminal, to exercise the progress bars."""

    def __init__(self):
        import io

        self.buffer = io.StringIO()

    def write(self, text):
        return self.buffer.write(text)

    def flush(self):
        pass

    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_push_progress_records_the_digest_and_shows_each_layer(terminal):
    import io

    from wimpy_cli.build.progress import PushProgress

    out = _Terminal() if terminal else io.StringIO()
    with PushProgress("localhost:5000/web:v1", out=out) as progress:
        for event in PUSH_EVENTS:
            progress.feed(event)
    text = out.buffer.getvalue() if terminal else out.getvalue()
    assert progress.digest == "sha256:293b80402466" and progress.error is None
    assert "d7320be9c2b3" in text and "0a5096670d1a" in text
    assert "The push refers to repository [localhost:5000/web]" in text
    if terminal:
        assert "━" in text and "2.0/2.0 MB" in text  # bars with sizes
    else:  # a log gets one line per layer state, not one per progress tick
        assert text.count("0a5096670d1a: Pushing") == 1
        assert text.count("0a5096670d1a: Pushed") == 1


def test_push_progress_records_an_error():
    import io

    from wimpy_cli.build.progress import PushProgress

    with PushProgress("r:v1", out=io.StringIO()) as progress:
        progress.feed({"errorDetail": {"message": "unauthorized: authentication required"},
                       "error": "unauthorized: authentication required"})
    assert progress.error == "unauthorized: authentication required" and progress.digest is None


def test_credentials_stay_out_of_reprs_and_error_messages():
    from wimpy_cli.build import registries

    credentials = registries.Credentials(username="ci", password="hunter2-secret",
                                         server="ghcr.io", source="$U and $P")
    registry = registries.OtherRegistry("ghcr.io/acme/web", credentials)
    assert "hunter2-secret" not in repr(credentials)
    error = images.registry_error("pushing ghcr.io/acme/web:1",
                                  "denied: token hunter2-secret is not valid", registry)
    assert "hunter2-secret" not in str(error) + (error.hint or "")
    assert "refused the credentials from $U and $P" in str(error)


def test_without_a_docker_engine_the_tests_say_what_to_start(tmp_path, monkeypatch):
    from tests.docker_fixtures import missing_requirements

    monkeypatch.setenv("DOCKER_HOST", closed_docker_host(tmp_path))
    problems = missing_requirements()
    assert len(problems) == 1, problems
    assert "no Docker engine answers" in problems[0]
    assert "apt-get install -y docker.io" in problems[0] and "dockerd" in problems[0]

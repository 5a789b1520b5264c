"""Names that tie stacks together without CloudFormation exports.

Stacks outlive each other (an environment outlives every release deployed into it), so
they find each other by convention: fixed bucket names derived from the account and
region, and SSM parameters written by one stack and read by another at deploy time. None
of this imports the CDK, so the CLI can use it to find what it deployed.
"""

from __future__ import annotations

PARAMETER_ROOT = "/wimpy"


def baseline_stack() -> str:
    return "wimpy-baseline"


def environment_stack(env: str) -> str:
    return f"wimpy-{env}"


def application_resources_stack(env: str, app: str) -> str:
    return f"wimpy-{env}-{app}-resources"


def application_data_stack(env: str, app: str) -> str:
    """What the application keeps in the environment whatever happens to its other stacks
    (its log group): `wimpy destroy` never deletes it, so a later deploy finds it again."""
    return f"wimpy-{env}-{app}-data"


def front_stack(env: str, app: str) -> str:
    """The application's long-lived load balancer when traffic moves through it
    (`deploy.traffic: load-balancer`): its listener splits traffic between releases."""
    return f"wimpy-{env}-{app}-front"


def edge_stack(env: str) -> str:
    """The environment's shared load balancer (`environments.<name>.load_balancer: shared`),
    which every application there reaches by a host-name rule. `--` as in release stacks:
    no application's stack can take the name, since application names are never empty."""
    return f"{environment_stack(env)}--load-balancer"


def edge_parameter(env: str, name: str) -> str:
    """What the environment's shared load balancer tells the applications behind it."""
    return environment_parameter(env, f"shared-load-balancer/{name}")


def listener_rule_priority(app: str) -> int:
    """The application's rule on a shared load balancer's listener: rules need distinct
    priorities (1-50000), and applications that never see each other's wimpy.yml must not
    pick the same, so it comes from the name. Two names meet with odds of about 1 in
    50,000; CloudFormation then refuses the second application's stack, which changes
    nothing of the first's."""
    import hashlib

    return 1 + int(hashlib.sha256(app.encode()).hexdigest()[:8], 16) % 50000


def master_key_alias() -> str:
    return "alias/wimpy/master"


def storage_bucket(account: str, region: str) -> str:
    return f"wimpy-storage-{account}-{region}"


def log_bucket(account: str, region: str) -> str:
    return f"wimpy-logs-{account}-{region}"


def storage_prefix(env: str, app: str) -> str:
    """The application's S3 prefix, without slashes at either end."""
    return f"{env}/{app}"


def application_log_group(env: str, app: str) -> str:
    return f"/wimpy/{env}/{app}"


def repository(app: str) -> str:
    return f"wimpy/{app}"


def baseline_parameter(name: str) -> str:
    return f"{PARAMETER_ROOT}/baseline/{name}"


def environment_parameter(env: str, name: str) -> str:
    return f"{PARAMETER_ROOT}/{env}/network/{name}"


def application_parameter(env: str, app: str, name: str) -> str:
    return f"{PARAMETER_ROOT}/{env}/{app}/{name}"


def registry_stack(app: str) -> str:
    """The stack that owns the application's ECR repository (shared by its environments)."""
    return f"wimpy-registry-{app}"


def release_stack(env: str, app: str, release: str) -> str:
    """`--` before the release: application names never hold two hyphens in a row, so no
    release of one application can take the name of another's stacks (app `web`'s release
    `api` against app `web-api`), nor of its own (a version called `resources`)."""
    return f"wimpy-{env}-{app}--{release}"


def releases_prefix(env: str, app: str) -> str:
    """Every blue/green release stack of the application in the environment starts so
    (releases made before the `--` separator too; the inventory tells them by their outputs)."""
    return f"wimpy-{env}-{app}-"


def release_record_table() -> str:
    """The DynamoDB table (made by the baseline stack) holding every application's release
    record and deploy lock."""
    return "wimpy-releases"


def rolling_stack(env: str, app: str) -> str:
    return f"wimpy-{env}-{app}"


def ecr_repository_uri(account: str, region: str, app: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository(app)}"


def image_reference(*, registry_url: str, account: str, region: str, app: str, version: str) -> str:
    """Where the image of `version` lives: the app's ECR repository unless another
    registry is configured."""
    repository_uri = registry_url or ecr_repository_uri(account, region, app)
    return f"{repository_uri}:{version}"


def machine_image_parameter(env: str, app: str) -> str:
    """Where the AMI chosen for an application's instances is recorded between deploys."""
    return application_parameter(env, app, "machine-image")


# The alarms every application stack has (wimpy_constructs.ServiceAlarms names them
# "<stack>-<suffix>"; tests/test_release_watch.py checks the two lists agree).
ALARM_SUFFIXES = ("errors", "unhealthy-hosts", "p99-latency")


def stack_alarms(stack: str) -> list[str]:
    return [f"{stack}-{suffix}" for suffix in ALARM_SUFFIXES]

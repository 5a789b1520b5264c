"""Every stack a wimpy.yml describes, built into one CDK app. app.py and the tests both
build through here, so what is tested is what is deployed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import aws_cdk as cdk
from wimpy_domain.config import WimpyConfig

from wimpy_domain import naming
from .application_data import ApplicationDataStack
from .application_resources import ApplicationResourcesStack
from .baseline import BaselineStack
from .edge import EdgeStack
from .environment import EnvironmentStack
from .front import FrontStack
from .registry import RegistryStack
from .service import ServiceStack
from .wiring import retention


@dataclass(frozen=True)
class Release:
    """The version being deployed: its image and the machine image it runs on."""

    version: str
    image: str
    # The machine image chosen for this deploy; an environment that pins its own
    # (environments.<name>.app.machine_image, or app.machine_image) runs that one.
    machine_image_id: str
    name: str | None = None  # blue/green release name; None for the rolling stack


@dataclass
class WimpyStacks:
    baseline: BaselineStack
    environments: dict[str, EnvironmentStack] = field(default_factory=dict)
    application_resources: dict[str, ApplicationResourcesStack] = field(default_factory=dict)
    application_data: dict[str, ApplicationDataStack] = field(default_factory=dict)
    services: dict[str, ServiceStack] = field(default_factory=dict)
    edges: dict[str, EdgeStack] = field(default_factory=dict)
    fronts: dict[str, FrontStack] = field(default_factory=dict)
    registry: RegistryStack | None = None

    def all(self) -> list[cdk.Stack]:
        return [self.baseline, *([self.registry] if self.registry else []),
                *self.environments.values(), *self.edges.values(), *self.application_data.values(),
                *self.application_resources.values(), *self.fronts.values(),
                *self.services.values()]


def build_stacks(app: cdk.App, config: WimpyConfig, *,
                 environments: Iterable[str] | None = None,
                 release: Release | None = None) -> WimpyStacks:
    """Add the baseline, and for each selected environment (default: all) its network and
    the application's resources, to `app`; with a release, also the application's service
    stack in each of those environments."""
    selected = [config.environment(name) for name in environments] if environments else list(
        config.environments)
    account = config.account
    env = cdk.Environment(account=account.id, region=account.region)
    log_retention = retention(account.log_retention_days)
    app_config = config.app

    stacks = WimpyStacks(baseline=BaselineStack(
        app, naming.baseline_stack(), env=env, log_retention=log_retention,
        flow_log_retention_days=account.log_retention_days,
        settings=config.baseline_settings(),
        description="Wimpy account baseline: CloudTrail, master key, log and storage buckets",
    ))
    cdk.Tags.of(stacks.baseline).add("wimpy:type", "baseline")
    if config.registry.is_ecr:
        stacks.registry = RegistryStack(
            app, naming.registry_stack(app_config.name), env=env, app=app_config.name,
            keep_images=config.registry.keep_images, push_latest=config.build.push_latest,
            description=f"Wimpy {app_config.name}: image repository")
        stacks.registry.add_stack_dependency(stacks.baseline, "reads the master key's ARN from SSM")
        cdk.Tags.of(stacks.registry).add("wimpy:type", "registry")
        cdk.Tags.of(stacks.registry).add("wimpy:application", app_config.name)
    listener_ports = (80, 443) if config.hosted_zone else (80,)

    for environment in selected:
        app_here = config.app_in(environment.name)  # the application as it runs here
        network = EnvironmentStack(
            app, naming.environment_stack(environment.name), env=env,
            environment=environment.name,
            cidr=str(environment.cidr),
            availability_zones=account.availability_zones,
            nat_gateways=environment.nat_gateways,
            nat=environment.nat,
            settings=config.environment_settings(environment.name),
            description=f"Wimpy environment {environment.name}: VPC, subnets, NAT {environment.nat}s, "
                        "flow logs",
        )
        network.add_stack_dependency(stacks.baseline, "delivers flow logs to its log bucket")
        shared = config.shares_a_load_balancer(environment.name)
        if shared:
            edge = EdgeStack(
                app, naming.edge_stack(environment.name), env=env, environment=environment.name,
                hosted_zone=config.hosted_zone, availability_zones=account.availability_zones,
                settings=config.edge_settings(environment.name),
                description=f"Wimpy environment {environment.name}: the load balancer its "
                            "applications share, each through a rule for its host name")
            edge.add_stack_dependency(network, "reads the VPC and public subnets from SSM")
            cdk.Tags.of(edge).add("wimpy:type", "edge")
            cdk.Tags.of(edge).add("wimpy:environment", environment.name)
            stacks.edges[environment.name] = edge
        data = ApplicationDataStack(
            app, naming.application_data_stack(environment.name, app_config.name), env=env,
            environment=environment.name, app=app_config.name, log_retention=log_retention,
            description=f"Wimpy {app_config.name} in {environment.name}: data kept across "
                        "destroys (the log group)",
        )
        data.add_stack_dependency(stacks.baseline, "reads the master key's ARN from SSM")
        resources = ApplicationResourcesStack(
            app, naming.application_resources_stack(environment.name, app_config.name), env=env,
            environment=environment.name,
            app=app_config.name,
            app_port=app_config.port,
            availability_zones=account.availability_zones,
            listener_ports=listener_ports,
            database_ports=app_config.database_ports,
            secret_parameter_names=sorted(set(app_here.secrets.values())),
            registry_credentials=config.registry.credentials,
            registry_port=config.registry.port,
            shared_load_balancer=shared,
            description=f"Wimpy {app_config.name} in {environment.name}: security groups, "
                        "instance role, log group",
        )
        resources.add_stack_dependency(network, "reads the VPC id from SSM")
        resources.add_stack_dependency(data, "writes to the log group the data stack keeps")
        if shared:
            resources.add_stack_dependency(edge, "lets the shared load balancer reach its port")
        for stack, kind in ((network, "environment"), (resources, "application"), (data, "data")):
            cdk.Tags.of(stack).add("wimpy:type", kind)
            cdk.Tags.of(stack).add("wimpy:environment", environment.name)
        cdk.Tags.of(resources).add("wimpy:application", app_config.name)
        cdk.Tags.of(data).add("wimpy:application", app_config.name)
        stacks.environments[environment.name] = network
        stacks.application_resources[environment.name] = resources
        stacks.application_data[environment.name] = data
        through_front = config.deploy.through_front
        if through_front:
            front = FrontStack(
                app, naming.front_stack(environment.name, app_config.name), env=env,
                app=app_here, environment=environment, hosted_zone=config.hosted_zone,
                availability_zones=account.availability_zones,
                description=f"Wimpy {app_config.name} in {environment.name}: the load balancer "
                            "whose listener weights move traffic between releases")
            front.add_stack_dependency(resources, "reads the load balancer's security group from SSM")
            for key, value in (("wimpy:type", "front"), ("wimpy:environment", environment.name),
                               ("wimpy:application", app_config.name)):
                cdk.Tags.of(front).add(key, value)
            stacks.fronts[environment.name] = front
        if release is not None:
            blue_green = release.name is not None
            stack_name = (naming.release_stack(environment.name, app_config.name, release.name)
                          if blue_green else naming.rolling_stack(environment.name, app_config.name))
            service = ServiceStack(
                app, stack_name, env=env, scalable_to_zero=blue_green,
                app=app_here, environment=environment, deploy=config.deploy,
                hosted_zone=config.hosted_zone, availability_zones=account.availability_zones,
                image=release.image, registry_login=(
                    "ecr" if config.registry.is_ecr else
                    "credentials" if config.registry.credentials else "none"),
                registry_credentials=config.registry.credentials,
                machine_image_id=app_here.machine_image or release.machine_image_id,
                version=release.version,
                # A new release takes no traffic until the canary gives it some.
                initial_weight=0 if blue_green else 100,
                behind_front=blue_green and through_front,
                extra_alarm_topic_arns=tuple(filter(None, [config.notifications.sns_topic_arn])),
                description=f"Wimpy {app_config.name} in {environment.name}: load balancer, "
                            f"instances, scaling, alarms, DNS",
            )
            service.add_stack_dependency(resources, "reads security groups and role from SSM")
            if blue_green and through_front:
                service.add_stack_dependency(stacks.fronts[environment.name],
                                             "reads the load balancer's name from SSM")
            cdk.Tags.of(service).add("wimpy:type", "release" if blue_green else "service")
            if blue_green:
                cdk.Tags.of(service).add("wimpy:release", release.name)
            cdk.Tags.of(service).add("wimpy:environment", environment.name)
            cdk.Tags.of(service).add("wimpy:application", app_config.name)
            stacks.services[environment.name] = service

    cdk.Tags.of(app).add("wimpy:managed", "true")
    return stacks

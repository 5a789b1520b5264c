"""ApplicationAccess: who may talk to whom, and what the application's instances may do.

Network paths are exactly internet -> load balancer (listener ports) -> application (its
port) -> databases (database ports). There is no SSH: Session Manager replaces it. The
instance role reaches only this application's own S3 prefix, log group and registry.
"""

from __future__ import annotations

from typing import Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import defaults
from .compliance import acknowledge, acknowledge_wildcard


@jsii.implements(ec2.IConnectable)
class ApplicationAccess(Construct):
    """Security groups, the instance role and the log group of one application in one
    environment. ``connections`` is the application instances' security group.

    :param vpc: the environment's VPC.
    :param storage_bucket: the shared storage bucket; the role gets only ``storage_prefix``.
    :param storage_prefix: the application's prefix, e.g. ``production/web`` (no slashes at
        either end; a trailing ``/`` is added so ``web`` never matches ``web-other``).
    :param master_key: the master key (SSE-KMS of the bucket, log group, app secrets).
    :param app_port: the port the container listens on.
    :param log_group_name: the name of the log group made here. @default ``/wimpy/<storage_prefix>``
    :param log_group: an existing log group to write to instead (one kept in a stack that
        outlives this one, say). @default a new one, encrypted with ``master_key``, retained
    :param repository: the application's ECR repository. @default none (another registry)
    :param secret_parameter_names: SSM parameters the instances may read at start.
    :param registry_credentials_secret_arn: a Secrets Manager secret (its full ARN) holding
        another registry's credentials, which the instances may read. @default none
    :param egress_ports: ports the instances may reach outside the VPC (through NAT): the
        AWS APIs, package mirrors and the image registry. @default 443
    :param listener_ports: load balancer ports open to the internet. @default 80 and 443
    :param load_balancer_security_group: the group of a load balancer shared with other
        applications (it opens its own listener ports): only its way to this application's
        port is added. @default a group of the application's own, made here
    :param database_ports: ports the application may reach in the database group.
    :param log_retention: retention of the application's log group. @default one year
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        storage_bucket: s3.IBucket,
        storage_prefix: str,
        master_key: kms.IKey,
        app_port: int,
        log_group_name: str | None = None,
        log_group: logs.ILogGroup | None = None,
        repository: ecr.IRepository | None = None,
        secret_parameter_names: Sequence[str] = (),
        registry_credentials_secret_arn: str | None = None,
        egress_ports: Sequence[int] = defaults.INSTANCE_EGRESS_PORTS,
        listener_ports: Sequence[int] = defaults.LISTENER_PORTS,
        database_ports: Sequence[int] = defaults.DATABASE_PORTS,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        load_balancer_security_group: ec2.ISecurityGroup | None = None,
    ) -> None:
        super().__init__(scope, id_)
        _check_prefix(storage_prefix)
        for name, ports in (("app_port", [app_port]), ("listener_ports", listener_ports),
                            ("database_ports", database_ports), ("egress_ports", egress_ports)):
            for port in ports:
                if not 1 <= port <= 65535:
                    raise ValueError(f"{name} must be ports from 1 to 65535, got {port}")
        self.storage_prefix = storage_prefix
        self._storage_bucket = storage_bucket
        self._master_key = master_key

        self.load_balancer_security_group = load_balancer_security_group or ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{storage_prefix} load balancer: listener ports from the internet",
        )
        self.instance_security_group = ec2.SecurityGroup(
            self, "InstanceSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{storage_prefix} instances: the app port from its load balancer only",
        )
        self.database_security_group = ec2.SecurityGroup(
            self, "DatabaseSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{storage_prefix} databases: database ports from the app instances only",
        )
        if load_balancer_security_group is None:
            open_listener_ports(self.load_balancer_security_group, listener_ports)
        self.load_balancer_security_group.connections.allow_to(
            self.instance_security_group, ec2.Port.tcp(app_port), "Load balancer to the app port")
        for port in database_ports:
            self.instance_security_group.connections.allow_to(
                self.database_security_group, ec2.Port.tcp(port), f"App to databases on {port}")
        for port in sorted(set(egress_ports)):
            self.instance_security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(port),
                "HTTPS out through NAT: registry, SSM, CloudWatch, CloudFormation, packages"
                if port == 443 else f"Out through NAT to the image registry on {port}")
        self.connections = self.instance_security_group.connections

        if log_group is not None and log_group_name is not None:
            raise ValueError("give log_group (an existing one) or log_group_name (for a new "
                             "one), not both")
        self.log_group: logs.ILogGroup = log_group or logs.LogGroup(
            self, "LogGroup",
            log_group_name=log_group_name or f"/wimpy/{storage_prefix}",
            retention=log_retention,
            encryption_key=master_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.instance_role = iam.Role(
            self, "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"Instances of {storage_prefix}: own S3 prefix, log group, registry "
                        "and secrets only",
        )
        self._grant_session_manager()
        self.grant_storage_read_write(self.instance_role)
        self.log_group.grant_write(self.instance_role)
        if log_group is not None:
            # A group passed in by name is granted as `<arn>:*` (its streams).
            acknowledge_wildcard(
                self.instance_role.node.find_child("DefaultPolicy").node.default_child,
                log_group.log_group_arn,
                "The log streams of this application's own log group (one per container) are "
                "named by Docker at run time; no other group is reachable")
        if repository is not None:
            self._grant_pull(repository)
        if secret_parameter_names:
            self.grant_read_secrets(self.instance_role, secret_parameter_names)
        if registry_credentials_secret_arn is not None:
            self.grant_read_secret_value(self.instance_role, registry_credentials_secret_arn)
        self._acknowledge_prefix_wildcard()

    def grant_storage_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read, write and delete objects under ``<storage_prefix>/`` and list only that
        prefix. Written by hand because ``IBucket.grant_read_write`` also grants
        ``s3:List*`` on the whole bucket, which would reveal other applications' keys."""
        prefix = self.storage_prefix + "/"
        object_arns = [self._storage_bucket.arn_for_objects(prefix + "*")]
        objects = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                     "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            resource_arns=object_arns,
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[self._storage_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [prefix, prefix + "*"]}},
        )
        # SSE-KMS: S3 asks the key on the caller's behalf, and only for objects the caller
        # may already read or write. The key is usable only that way (kms:ViaService) and
        # only for this bucket (the context is the bucket with S3 Bucket Keys, the object
        # without them).
        stack = cdk.Stack.of(self)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resource_arns=[self._master_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                    self._storage_bucket.bucket_arn, *object_arns]},
            },
        )
        return objects

    def grant_read_secrets(self, grantee: iam.IGrantable, parameter_names: Sequence[str]) -> iam.Grant:
        """Read these SSM parameters (SecureStrings under the master key included) and
        nothing else: no other parameter, nothing by path, never the key directly. SSM
        decrypts with the parameter's ARN as encryption context, so the key grant names
        exactly these parameters."""
        if isinstance(parameter_names, str) or not parameter_names:
            raise ValueError(f"parameter_names must be a non-empty list of SSM parameter names, "
                             f"got {parameter_names!r}")
        stack = cdk.Stack.of(self)
        arns = [stack.format_arn(service="ssm", resource="parameter",
                                 resource_name=name.lstrip("/")) for name in parameter_names]
        parameters = iam.Grant.add_to_principal(
            grantee=grantee, actions=["ssm:GetParameter", "ssm:GetParameters"], resource_arns=arns)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[self._master_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"ssm.{stack.region}.{stack.url_suffix}",
                                 "kms:EncryptionContext:PARAMETER_ARN": arns},
            },
        )
        return parameters

    def grant_read_secret_value(self, grantee: iam.IGrantable, secret_arn: str) -> iam.Grant:
        """Read this one Secrets Manager secret's value (a registry's credentials), named by
        its full ARN, random suffix included, so no other secret's name can match. A secret
        under the account's aws/secretsmanager key needs no key grant; one under a key of
        your own needs that key to allow this role through Secrets Manager."""
        if not isinstance(secret_arn, str) or ":secretsmanager:" not in secret_arn:
            raise ValueError(f"secret_arn must be a Secrets Manager secret's ARN, got {secret_arn!r}")
        return iam.Grant.add_to_principal(grantee=grantee, actions=["secretsmanager:GetSecretValue"],
                                          resource_arns=[secret_arn])

    def _grant_session_manager(self) -> None:
        """What Session Manager needs on an instance, and no more. AWS's
        AmazonSSMManagedInstanceCore would also let every instance read every SSM parameter
        in the account (ssm:GetParameter* on *): other applications' secrets."""
        stack = cdk.Stack.of(self)
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        policy = iam.Policy(self, "SessionManagerPolicy", roles=[self.instance_role], statements=[
            iam.PolicyStatement(actions=["ssm:UpdateInstanceInformation"], resources=[instances]),
            iam.PolicyStatement(
                actions=["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                         "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                resources=["*"]),
        ])
        acknowledge(policy, "IAM5[Resource::*]",
                    "Session Manager's channel actions (ssmmessages) support no resource-level "
                    "permission; they open the shell channel and read no data")
        acknowledge_wildcard(policy.node.default_child, instances,
                             "An instance registers itself with Systems Manager; its own id is "
                             "not known when the role is made, and the action reads no data")

    def _grant_pull(self, repository: ecr.IRepository) -> None:
        repository.grant(self.instance_role, "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                         "ecr:BatchCheckLayerAvailability")
        # ECR's login token is account-wide by design: the action takes no resource. It
        # gets a policy of its own so the acknowledgement below covers nothing else.
        login = iam.Policy(self, "RegistryLoginPolicy", roles=[self.instance_role], statements=[
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])])
        acknowledge(login, "IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken supports no resource-level permission; the "
                    "images themselves are readable from this application's repository only")

    def _acknowledge_prefix_wildcard(self) -> None:
        """The object wildcard under the application's prefix is the point of the prefix."""
        policy = self.instance_role.node.find_child("DefaultPolicy").node.default_child
        acknowledge_wildcard(policy, self._storage_bucket.arn_for_objects(self.storage_prefix + "/*"),
                             "Object keys under this application's own prefix are not known in "
                             "advance; the trailing slash keeps look-alike prefixes (app-other/) out")


def open_listener_ports(security_group: ec2.SecurityGroup, ports: Sequence[int]) -> None:
    """An internet-facing load balancer's group: its listener ports from anywhere, nothing
    else (what it may reach is added per application)."""
    for port in ports:
        security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"Internet to the load balancer on {port}")
    acknowledge(security_group, "EC23",
                "An internet-facing load balancer must accept its listener ports from any "
                "address; only those ports are open and nothing else is reachable")


def _check_prefix(prefix: str) -> None:
    if cdk.Token.is_unresolved(prefix):
        raise ValueError("storage_prefix must be a literal: IAM wildcards are built from it")
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or any(c in prefix for c in "*?"):
        raise ValueError(f"storage_prefix must look like 'production/web' (no leading or "
                         f"trailing '/', no wildcards), got {prefix!r}")

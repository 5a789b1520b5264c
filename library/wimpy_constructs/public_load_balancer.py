"""PublicLoadBalancer: an internet-facing ALB in front of one application.

With a domain: HTTPS with a DNS-validated ACM certificate and HTTP redirected to HTTPS.
Without: plain HTTP. Access logs go to the log bucket; invalid headers are dropped.
With ``app_port``, it has its own target group (a release behind its own load balancer);
without, its listener answers 503 until a TrafficSplit forwards it to releases' groups.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import defaults
from .arguments import check_text
from .target_group import health_checked_target_group

NO_RELEASE_MESSAGE = "no release is in service"


class PublicLoadBalancer(Construct):
    """The load balancer, its listeners and (with ``app_port``) the target group instances join.

    :param vpc: the environment's VPC; the load balancer goes in its public subnets.
    :param security_group: the load balancer's group (from ApplicationAccess). It is used
        as is: the listeners never open it further.
    :param app_port: the port instances serve on. @default none: no target group; the
        serving listener (``serving_listener``) answers 503 until something forwards it
    :param health_check_path: e.g. ``/health``; answers 200-399 count as healthy (with
        ``app_port``).
    :param access_log_bucket: SSE-S3 bucket for access logs (ELB cannot use a KMS key).
    :param access_log_prefix: e.g. ``alb/production/web``.
    :param domain_name: serve HTTPS for this name. @default none: plain HTTP
    :param hosted_zone: the zone that validates the certificate (with ``domain_name``).
    :param deletion_protection: refuse deletion (production). @default False
    :param unrouted_status / unrouted_message: what the serving listener answers when
        nothing forwards a request (without ``app_port``). @default 503, "no release is in
        service"
    :param health_check_interval / health_check_timeout / healthy_threshold /
        unhealthy_threshold / deregistration_delay: @default 10 s, 5 s, 2, 2, 30 s
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        access_log_bucket: s3.IBucket,
        access_log_prefix: str,
        app_port: int | None = None,
        health_check_path: str = "/",
        domain_name: str | None = None,
        hosted_zone: route53.IHostedZone | None = None,
        deletion_protection: bool = False,
        health_check_interval: cdk.Duration = defaults.HEALTH_CHECK_INTERVAL,
        health_check_timeout: cdk.Duration = defaults.HEALTH_CHECK_TIMEOUT,
        healthy_threshold: int = defaults.HEALTHY_THRESHOLD,
        unhealthy_threshold: int = defaults.UNHEALTHY_THRESHOLD,
        deregistration_delay: cdk.Duration = defaults.DEREGISTRATION_DELAY,
        unrouted_status: int = 503,
        unrouted_message: str = NO_RELEASE_MESSAGE,
    ) -> None:
        super().__init__(scope, id_)
        # What ELB accepts as an access log prefix: no leading or trailing slash, no AWSLogs.
        check_text("access_log_prefix", access_log_prefix,
                   pattern=r"(?!.*AWSLogs)[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*",
                   accepted="a folder path like 'alb/web' (no slash at either end, no 'AWSLogs')")
        if bool(domain_name) != bool(hosted_zone):
            raise ValueError("domain_name and hosted_zone go together: give both for HTTPS, "
                             "or neither for plain HTTP")

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            security_group=security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
        )
        self.load_balancer.log_access_logs(access_log_bucket, access_log_prefix)

        self.target_group = health_checked_target_group(
            self, "Targets", vpc=vpc, app_port=app_port, health_check_path=health_check_path,
            health_check_interval=health_check_interval, health_check_timeout=health_check_timeout,
            healthy_threshold=healthy_threshold, unhealthy_threshold=unhealthy_threshold,
            deregistration_delay=deregistration_delay) if app_port is not None else None
        serve = (elbv2.ListenerAction.forward([self.target_group]) if self.target_group is not None
                 else elbv2.ListenerAction.fixed_response(unrouted_status, content_type="text/plain",
                                                          message_body=unrouted_message))

        if domain_name and hosted_zone:
            self.certificate = acm.Certificate(
                self, "Certificate", domain_name=domain_name,
                validation=acm.CertificateValidation.from_dns(hosted_zone))
            self.serving_listener = self.load_balancer.add_listener(
                "Https", port=443, protocol=elbv2.ApplicationProtocol.HTTPS, open=False,
                certificates=[self.certificate], ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_action=serve)
            self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False,
                default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443",
                                                             permanent=True))
            self.url = f"https://{domain_name}"
        else:
            self.certificate = None
            self.serving_listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False,
                default_action=serve)
            self.url = f"http://{self.load_balancer.load_balancer_dns_name}"

"""Defaults of the construct library, in one place (cf. aws-solutions-constructs'
`*-defaults.ts`): a construct argument left out takes its value from here."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
# Old versions of log objects are kept this long, then expire (current versions never do).
NONCURRENT_VERSION_DAYS = 90
STORAGE_ACCESS_LOG_PREFIX = "s3-access/storage/"

# Load balancer listeners open to the internet: HTTP (redirected to HTTPS when a domain
# is configured) and HTTPS.
LISTENER_PORTS = (80, 443)
DATABASE_PORTS = (5432,)
# What instances may reach on the internet (through NAT): HTTPS only, for ECR, SSM,
# CloudWatch, CloudFormation and package repositories.
INSTANCE_EGRESS_PORTS = (443,)
# NAT instances (EnvironmentNetwork's nat="instance"): the smallest Graviton, up to 5 Gbps
# in bursts; enough for pulling images and an application's outbound calls.
NAT_INSTANCE_TYPE = "t4g.nano"
# Amazon Linux 2023's snapshot size, which a NAT instance needs no more than.
NAT_INSTANCE_ROOT_GIB = 8

# Load balancer access logs go to the log bucket under this prefix (then <env>/<app>/...).
LOAD_BALANCER_LOG_PREFIX = "alb"
# VPC flow logs go to the log bucket under this prefix (then <env>/AWSLogs/...): vended
# logs delivered to S3 cost half of CloudWatch Logs' ingestion, and are stored gzipped.
FLOW_LOG_PREFIX = "vpc-flow-logs"
FLOW_LOG_RETENTION_DAYS = 365

# Instance refreshes: one instance at a time beside the old ones, each given ten minutes to
# start Docker, pull the image and answer its health check; once it joined the load
# balancer, the refresh waits the health check's healthy threshold (2 x 10 s) for the next.
MAX_BATCH_SIZE = 1
INSTANCE_WARMUP = cdk.Duration.seconds(20)
SIGNAL_TIMEOUT = cdk.Duration.minutes(10)
HEALTH_CHECK_GRACE = cdk.Duration.minutes(10)
# The ECS-optimized Amazon Linux 2023 image's snapshot is 30 GiB: EC2 refuses a smaller root.
ROOT_VOLUME_GIB = 30

# Target group health checks: healthy after 2 x 10 s, unhealthy after 2 x 10 s, and a
# leaving instance drains for 30 s (AWS defaults: 5 x 30 s and 300 s).
HEALTH_CHECK_INTERVAL = cdk.Duration.seconds(10)
HEALTH_CHECK_TIMEOUT = cdk.Duration.seconds(5)
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 2
DEREGISTRATION_DELAY = cdk.Duration.seconds(30)
HEALTHY_HTTP_CODES = "200-399"

# Alarm thresholds and the TTL of weighted records (low, so traffic moves quickly).
ERROR_RATE_PERCENT = 5
P99_LATENCY = cdk.Duration.seconds(2)
DNS_TTL = cdk.Duration.seconds(60)

# Images an application's ECR lifecycle rule keeps: enough to roll back weeks of releases,
# few enough that storage stays cheap.
KEEP_IMAGES = 30

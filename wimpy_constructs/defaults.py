"""Defaults of the construct library, in one place (cf. aws-solutions-constructs'
`*-defaults.ts`): a construct argument left out takes its value from here."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
MASTER_KEY_ALIAS = "alias/wimpy/master"
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

"""The commented wimpy.yml that `wimpy init` writes."""

from __future__ import annotations

STARTER = """\
{modeline}
# wimpy.yml: how Wimpy deploys this application. Every key, with its default, is in
# Wimpy's README ("wimpy.yml reference"). Check this file with `wimpy validate`.

app:
  name: {name}                # lowercase letters, digits, hyphens; names stacks and DNS records
  port: 8080                  # the port your container listens on
  health_check:
    path: /health             # must answer 200-399 once the app can serve traffic
    interval_seconds: 10
    timeout_seconds: 5
    healthy_threshold: 2
    unhealthy_threshold: 2
  instance_type: t3.small
  capacity:
    min: 2                    # kept in service during deploys; 2 survives losing a zone
    max: 4
  environment: {{}}             # plain variables, e.g. LOG_LEVEL: info (never secrets)
  secrets: {{}}                 # VARIABLE: /ssm/parameter/name, read when the container starts
  database_ports: [5432]      # what the app may reach in the database security group
  deregistration_delay_seconds: 30   # in-flight requests finish before an instance leaves
  machine_image: ""           # "" = ECS-optimized Amazon Linux 2023 (Docker on it), kept until you update it
  scaling:
    cpu_target_percent: 60
    requests_per_target: 1000 # per instance per minute
  alarms:                     # every release is watched with these; canaries are judged by them
    error_rate_percent: 5
    p99_latency_ms: 2000
    period_seconds: 60        # each datapoint; 2 bad out of 3 fire (under 60: local target only)

build:
  context: .                  # relative to this file
  dockerfile: Dockerfile
  target: ""                  # a multi-stage build's stage, if any
  args: {{}}                    # build arguments (never secrets)
  push_latest: false

registry:
  url: ""                     # "" = ECR repository wimpy/<app>; or e.g. ghcr.io/acme/web
  username_env: ""            # for registry.url: the variables holding its credentials
  password_env: ""
  keep_images: 30
  credentials: ""             # for registry.url: the SSM parameter or Secrets Manager ARN
                              # holding {{"username", "password"}}, read by the instances

deploy:
  strategy: rolling           # or blue-green
  traffic: load-balancer      # blue-green: listener weights on one load balancer, or dns
  max_batch_size: all         # rolling: all = a whole new set at once where capacity.max
                              # allows (max >= 2 x min); or a number of instances per batch
  signal_timeout_seconds: 600
  rolling_bake_seconds: 300   # rolling: alarms watched this long after the last instance
  keep_releases: 1            # blue-green: previous releases kept for rollback
  kept_release_capacity: zero # blue-green: kept releases at zero instances, or warm
  dns_ttl_seconds: 60
  canary:                     # blue-green only
    steps: [10, 50, 100]      # percent of traffic, each watched for bake_seconds
    bake_seconds: 300
    alarms: []                # more alarm names that stop the canary
    judge:                    # each step against the live release, over the same window
      confidence_percent: 99
      max_error_increase_points: 0.5  # more 5xx than live (percentage points) that fails
      max_latency_increase_percent: 20
      min_requests: 500       # on each release; fewer: inconclusive, the alarms decide

hooks:                        # run from this folder through /bin/sh -c, with WIMPY_APP,
                              # WIMPY_ENVIRONMENT, WIMPY_VERSION, WIMPY_IMAGE (and after a
                              # deploy WIMPY_URL, WIMPY_OUTCOME) in their environment
  before_deploy: []           # e.g. [./scripts/check.sh]; the first failure stops the deploy
  after_deploy: []            # e.g. ['curl -fsS "$WIMPY_URL/health"']; failures are reported
  timeout_seconds: 600        # for each command

notifications:                # failing to notify never fails a deploy
  slack_webhook_url_env: ""   # the variable holding a Slack incoming webhook URL
  sns_topic_arn: ""           # e.g. arn:aws:sns:{region}:{account_id}:deploys
  github_repository: ""       # owner/repo: a GitHub deployment per deploy, with its statuses
  github_token_env: GITHUB_TOKEN
  github_api_url: https://api.github.com

account:
  id: "{account_id}"          # quoted: the 12-digit AWS account id
  region: {region}
  availability_zones: [{region}a, {region}b]
  log_retention_days: 365

# Uncomment to serve HTTPS at <app>.<zone> with a DNS-validated certificate:
# hosted_zone:
#   name: example.com
#   id: Z0123456789ABCDEFGHIJ

# profile: lean               # cost before redundancy: one NAT and, with a hosted zone, one
#                             # load balancer per environment, shared by its applications

environments:
  staging:
    cidr: 10.0.0.0/16
    nat: instance             # egress through a NAT instance (~$8/month); or gateway (~$39)
    nat_gateways: 1
    # domain: {name}.staging.example.com   # the default, with a hosted zone
    # load_balancer: shared   # with a hosted zone: one for the environment's applications
    app:                      # this environment's own settings; the rest are app's
      instance_type: t3.micro
      capacity:
        min: 1
        max: 2
      environment: {{}}         # added to app.environment (same name: replaced)
      secrets: {{}}             # added to app.secrets, e.g. API_TOKEN: /{name}/staging/token
      # scaling, machine_image: as under app
  production:
    cidr: 10.1.0.0/16         # must not overlap another environment
    nat: instance
    nat_gateways: 2           # one per zone, so losing a zone keeps egress
"""


def render(*, name: str, account_id: str, region: str) -> str:
    from wimpy_domain.config.schema import MODELINE

    return STARTER.format(name=name, account_id=account_id, region=region, modeline=MODELINE)

#!/bin/bash
# Wimpy instance boot (user data). The machine image already has Docker and the AWS CLI
# (Amazon ECS-optimized Amazon Linux 2023, whose ECS agent is turned off here), so nothing
# is installed on a normal boot; an image without them (pinned in wimpy.yml) gets them
# from dnf. Writes the application's unit and its helper scripts, starts the unit, and once
# the container answers on its health path locally lets the instance join the load
# balancer (the group's launch lifecycle hook) and signals CloudFormation success (failure
# otherwise), so a bad version never takes traffic and the deploy rolls back.
set -euo pipefail
exec > >(tee -a /var/log/wimpy-boot.log) 2>&1

stack=@STACK@
resource=@RESOURCE@
region=@REGION@
health_url=@HEALTH_URL@
health_timeout=@HEALTH_TIMEOUT@

# The instance metadata (IMDSv2) at `path`, or nothing.
metadata() {
  local token
  token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
    http://169.254.169.254/latest/api/token) || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# Tell CloudFormation this instance is ready (SUCCESS) or not (FAILURE): what cfn-signal
# does, through the AWS CLI, so the helper scripts need not be installed. A new group's
# creation waits for these; an instance refresh ignores them.
signal() {
  local id
  id=$(metadata instance-id) || return 0
  aws cloudformation signal-resource --region "$region" --stack-name "$stack" \
    --logical-resource-id "$resource" --unique-id "$id" --status "$1" || true
}
trap 'signal FAILURE' ERR

# Complete the launch hook: the group puts the instance in service (and in the load
# balancer) only then. Best effort: without it, the hook's timeout lets it in.
join() {
  local id group
  id=$(metadata instance-id) || return 0
  group=$(metadata tags/instance/aws:autoscaling:groupName) || return 0
  aws autoscaling complete-lifecycle-action --region "$region" --auto-scaling-group-name "$group" \
    --lifecycle-hook-name @READY_HOOK@ --instance-id "$id" --lifecycle-action-result CONTINUE || true
}

# The ECS-optimized image starts its ECS agent after user data; Wimpy runs the container
# under systemd, and the agent, with no cluster and no ECS permission, would only retry.
systemctl disable --now --no-block ecs.service amazon-ecs-volume-plugin.service \
  amazon-ecs-volume-plugin.socket 2>/dev/null || true
missing=()
command -v docker >/dev/null || missing+=(docker)
command -v aws >/dev/null || missing+=(awscli-2)
if ((${#missing[@]})); then
  dnf install -y "${missing[@]}"
fi
systemctl enable --now docker

install -d -m 0755 /usr/local/lib/wimpy
install -d -m 0700 /etc/wimpy
@WRITE_FILES@
chmod 0755 /usr/local/lib/wimpy/wimpy-container /usr/local/lib/wimpy/wimpy-health-wait
chmod 0600 /etc/wimpy/container.conf /etc/wimpy/app.env

systemctl daemon-reload
systemctl enable --now --no-block @APP@.service

trap - ERR
if /usr/local/lib/wimpy/wimpy-health-wait "$health_url" "$health_timeout"; then
  join
  signal SUCCESS
else
  systemctl status --no-pager @APP@.service || true
  # Joining anyway lets the load balancer find it unhealthy, so the unhealthy-hosts alarm
  # fails an instance refresh within minutes instead of the group relaunching it.
  join
  signal FAILURE
fi

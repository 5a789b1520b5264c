#!/bin/bash
# Wimpy instance boot (user data). Installs Docker and the CloudFormation helper scripts,
# writes the application's unit and its helper scripts, starts the unit, and once the
# container answers on its health path locally lets the instance join the load balancer
# (the group's launch lifecycle hook) and signals CloudFormation success (failure otherwise),
# so a bad version never takes traffic and the deploy rolls back.
set -euo pipefail
exec > >(tee -a /var/log/wimpy-boot.log) 2>&1

stack=@STACK@
resource=@RESOURCE@
region=@REGION@
health_url=@HEALTH_URL@
health_timeout=@HEALTH_TIMEOUT@

signal() {
  /opt/aws/bin/cfn-signal --exit-code "$1" --stack "$stack" --resource "$resource" \
    --region "$region" || true
}
trap 'signal 1' ERR

# Complete the launch hook: the group puts the instance in service (and in the load
# balancer) only then. Best effort: without it, the hook's timeout lets it in.
join() {
  local token id group
  token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
    http://169.254.169.254/latest/api/token) || return 0
  id=$(curl -sf -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/instance-id) || return 0
  group=$(curl -sf -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/tags/instance/aws:autoscaling:groupName) || return 0
  aws autoscaling complete-lifecycle-action --region "$region" --auto-scaling-group-name "$group" \
    --lifecycle-hook-name @READY_HOOK@ --instance-id "$id" --lifecycle-action-result CONTINUE || true
}

dnf install -y docker aws-cfn-bootstrap
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
  signal 0
else
  systemctl status --no-pager @APP@.service || true
  # Joining anyway lets the load balancer find it unhealthy, so the unhealthy-hosts alarm
  # fails an instance refresh within minutes instead of the group relaunching it.
  join
  signal 1
fi

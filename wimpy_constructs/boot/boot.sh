#!/bin/bash
# Wimpy instance boot (user data). Installs Docker and the CloudFormation helper scripts,
# writes the application's unit and its helper scripts, starts the unit, and signals
# CloudFormation success only once the container answers on its health path locally
# (failure otherwise), so a bad version never takes traffic and the deploy rolls back.
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
  signal 0
else
  systemctl status --no-pager @APP@.service || true
  signal 1
fi

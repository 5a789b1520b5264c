"""The local target: Wimpy's stacks deployed, with the real CDK CLI, to an AWS emulator
that runs inside the wimpy process, with no AWS account.

    with LocalAws(account_id, region) as local:        # emulator.py: moto's server
        bootstrap(local)                                 # bootstrap.py: cdk bootstrap
        deploy(local, config_path, stacks, context)      # deployer.py: cdk deploy
        local.client("ec2").describe_vpcs()              # boto3 on the emulator

The emulator is moto 5.2.5 in server mode, on a free port of 127.0.0.1, answering as the
wimpy.yml's account and region. moto_fixes.py corrects, while an emulator runs, the moto
behaviours that stopped the CDK CLI from updating a stack (each one documented there).

What the emulator does NOT do (so what a local deploy does not prove):

- It emulates AWS's control plane only. No instance boots, no container runs, no user
  data or boot script executes, no traffic flows; target health is always healthy, and
  no alarm is evaluated. (Beside it, under `wimpy local start`, the data plane in
  dataplane/ runs the Auto Scaling groups' instances as containers behind HAProxy, makes
  the load balancer's metrics, evaluates the alarms on them, and answers target health
  (target_health.py): see its module.)
- Some resource types are accepted without effect: the stack completes, the resource
  exists in no service and has no physical id. In Wimpy's stacks: AWS::CloudTrail::Trail,
  AWS::AutoScaling::ScalingPolicy, AWS::AutoScaling::LifecycleHook, AWS::S3::BucketPolicy,
  AWS::EC2::SecurityGroupEgress (so a security group's egress
  is not what the template says), AWS::CDK::Metadata. moto logs "No Moto CloudFormation
  support for <type>" for each.
- AWS::CertificateManager::Certificate has no CloudFormation support in moto; Wimpy adds
  it (certificates.py): the certificate is issued at once, DNS validation is not acted out.
  So does AWS::CloudWatch::Alarm (alarms.py): the alarm exists, in state OK until
  something evaluates it.
- Some properties are accepted and ignored: S3 buckets get their encryption and tags, not
  their versioning, lifecycle rules, public access block, ownership or access logging.
- UpdatePolicy, CreationPolicy, lifecycle hooks and cfn-signal are not acted out: an
  instance refresh of an Auto Scaling group is not rolled, no deploy waits for an
  instance's signal, and nothing is ever rolled back (under `wimpy local start`, the data
  plane and wimpy_cli/local/rollout.py act them out). A resource type moto cannot update in
  place is kept as it was (logged by wimpy_cli.local.moto_fixes); a failed change set leaves the stack in
  ROLLBACK_FAILED (create) or UPDATE_FAILED (update), with the error as its reason.
- Stack events are the stack's own (IN_PROGRESS, COMPLETE), not one per resource.
- IAM policies, key policies, bucket policies and security groups are stored, not
  enforced: any request with the emulator's credentials is allowed.
- CloudFormation Rules (such as the CDK's bootstrap version check) are not evaluated;
  SSM-typed parameters are resolved from the emulator's SSM at each deploy.
- State lives in this process only: it is gone when the emulator stops, and one emulator
  runs at a time per process (moto's backends are global to the process).
"""

from wimpy_cli.local.bootstrap import bootstrap
from wimpy_cli.local.deployer import deploy
from wimpy_cli.local.emulator import LocalAws

__all__ = ["LocalAws", "bootstrap", "deploy"]

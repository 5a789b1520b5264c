"""Corrections to moto 5.2.5 that the CDK CLI's create-and-update flow of Wimpy's stacks
needs, applied to moto's classes while a LocalAws runs (apply() returns the function that
takes them back, so code using moto's `mock_aws` while no emulator runs sees moto as is).

Each fix makes moto answer as AWS does, for a behaviour the CDK CLI or Wimpy's stacks rely
on; none of them adds a feature AWS lacks. They are checked end to end by
tests/test_emulator.py (bootstrap, deploy, update, no-op deploy of Wimpy's stacks):
when a moto upgrade fixes one upstream, drop it here and the tests still pass.

Change sets (`cdk deploy` creates, describes, executes and cleans up one per stack, always
named cdk-deploy-change-set):
  1. DeleteChangeSet of a change set that does not exist succeeds, as in AWS; moto failed
     with an UnboundLocalError (HTTP 500), so every update of an existing stack failed at
     the CLI's first step, "remove any leftover change set".
  2. DescribeChangeSet / ExecuteChangeSet of a missing change set answer the
     `ChangeSetNotFound` error (HTTP 404) the CLI waits for; moto said ValidationError
     "Stack with id ... does not exist".
  3. Change sets are found by name *within the stack* the request names (StackName);
     moto ignored StackName and matched the name across all stacks, so with several
     stacks it described, executed or deleted another stack's cdk-deploy-change-set.
  4. Executing a change set brings the stack up to date as AWS does: its template,
     description, input parameters and outputs (moto kept the outputs of the empty
     REVIEW_IN_PROGRESS stack, so e.g. CDKToolkit had none) and exports; the stack's
     change sets are then removed. A failure while applying it is reported as a failed
     stack (ROLLBACK_FAILED on create, so the next deploy replaces it; UPDATE_FAILED on
     update: moto does not roll back) with the error as the event's reason, instead of an
     HTTP 500 the CLI can only print as "XML parse error".
  5. CreateChangeSet of an update with nothing changed creates a FAILED change set ("The
     submitted information didn't contain changes"), which the CLI reports as "no
     changes"; moto refused the request with ValidationError "No updates are to be
     performed" (that answer belongs to UpdateStack), and the deploy failed.
 18. CreateChangeSet of type CREATE for a stack that a killed deploy left in
     REVIEW_IN_PROGRESS (a change set created, never executed) takes that empty stack's
     place, as AWS reuses it; moto created a second stack of the same name, and every
     later command saw two (the emulator was wedged until restarted). For a stack in any
     other state it fails with AlreadyExistsException, as on AWS.

Parameters:
  6. `UsePreviousValue` in CreateChangeSet reuses the parameter's previous *input* value,
     as AWS does. moto used the *resolved* value, so for a parameter of type
     `AWS::SSM::Parameter::Value<...>` (every `value_for_string_parameter`, and CDK's
     BootstrapVersion) it looked the resolved value (a VPC id, "30") up as an SSM parameter
     name and crashed, failing every update. When the previous deploy took the template's
     Default (the CDK never passes these parameters explicitly), the parameter is left out,
     so the Default (the SSM parameter's name) is resolved again, as AWS re-resolves SSM
     parameters on every update. (A Default that changed between the two templates is
     then taken from the new template, where AWS would keep the old one; the CDK derives
     the parameter's logical id from the SSM name, so its Default never changes.)

Resources:
  7. Properties given in CloudFormation's shape reach the service in its own. Every Wimpy
     resource is tagged: AWS::KMS::Key's [{Key, Value}] tags become KMS's
     [{TagKey, TagValue}] (moto: KeyError 'TagKey', the baseline failed), and
     AWS::SSM::Parameter's Tags, a map in CloudFormation, a [{Key, Value}] list (moto:
     TypeError "string indices must be integers"). AWS::KMS::Key's KeyPolicy, a JSON
     object in a template, is stored as the JSON text KMS keeps (moto stored the object,
     and every later kms:DescribeKey, Encrypt... failed on json.loads(dict)).
  8. A modified resource whose type moto cannot update (KMS key, VPC, subnet, route,
     NAT gateway, flow log...) is kept as it was, with a warning; moto put None in its
     place, so every later Ref or GetAtt to it (the master key's ARN...) failed.
  9. AWS::Logs::LogGroup is updated in place (its retention), as AWS does; moto could
     not update one at all, so changing account.log_retention_days changed nothing.
 10. AWS::EC2::SecurityGroupIngress is revoked when the resource is removed or replaced;
     moto left the rule in place, so changing app.port left the old port open.
 11. A terminated instance's primary network interface goes with it, as AWS deletes an
     interface it made at launch; moto kept it, so the VPC of an application destroyed
     with `wimpy destroy` could never be deleted (DependencyViolation).
 12. Deleting a stack that holds a VPC deletes the VPC's route tables, NAT gateways (with
     their interfaces) and internet gateways of that stack first, as CloudFormation does
     by its dependency order; moto's stack deletion left route tables and gateways it has
     no deletion for, and then failed on the VPC (`wimpy destroy --network`).

 14. AWS::AutoScaling::AutoScalingGroup is updated in place, as AWS does: moto deleted the
     group and created it again under the same name, which failed, so fix 8 kept the old
     group and a deploy never changed its launch template version, size or target groups
     (the local data plane would never have rolled a new version out). A new size
     launches or terminates instances, registered with the target groups, as on AWS.

 15. A resource that reads an attribute (Fn::GetAtt) of a resource an update modifies is
     updated too, as CloudFormation evaluates the attribute again: moto updated only
     resources whose own template text changed, so the group's launch template version
     (GetAtt LaunchTemplate.LatestVersionNumber) stayed at 1 while the template gained
     versions.

 16. AWS::ElasticLoadBalancingV2::TargetGroup answers Fn::GetAtt TargetGroupFullName (and
     TargetGroupName, LoadBalancerArns), which every alarm on a target group's metrics
     has as its TargetGroup dimension; moto had no attribute at all, so the dimension was
     left empty.
 17. AWS::ElasticLoadBalancingV2::TargetGroup's TargetGroupAttributes are set: moto left
     every attribute at its default, so app.deregistration_delay_seconds was 300 s
     whatever wimpy.yml said (the local data plane drained every instance for 5 minutes).

 19. AWS::ElasticLoadBalancingV2::Listener's forward action with a ForwardConfig (weighted
     target groups) can be created and updated from a template: moto read only
     TargetGroupArn and failed with a KeyError (HTTP 500). And a listener modified to
     forward elsewhere updates the target groups' LoadBalancerArns, as AWS does: moto set
     them only when a listener was created, so a target group put behind a load balancer
     by an update had none (and no LoadBalancer dimension for its metrics). A listener
     rule's weighted forward (an application's on a shared load balancer) loses the
     entries AWS::NoValue removed alike: moto kept None and failed on it (HTTP 500).
 20. AWS::ElasticLoadBalancingV2::LoadBalancer answers Fn::GetAtt LoadBalancerFullName
     (app/<name>/<id>, the LoadBalancer dimension of its metrics): moto left it out (None,
     with a warning), so an alarm or an SSM parameter made from it named no load balancer.
 21. AWS::EC2::SecurityGroup's inline ingress rule for every protocol (IpProtocol -1, no
     ports, as CDK writes the NAT instances' rule) is created: moto read FromPort and
     ToPort of every rule, failed with a KeyError, and the whole environment stack failed
     ("Fn::GetAtt references undefined resource").
 22. A flow log delivered to S3 under a key prefix (LogDestination
     arn:aws:s3:::<bucket>/<prefix>/, as Wimpy's networks write into the log bucket) is
     created: moto looked up "<bucket>/<prefix>/" as a bucket's name, reported it missing,
     and the environment stack failed (IndexError). The bucket must still exist.
 23. AWS::S3::Bucket's LifecycleConfiguration is applied when the bucket is created or
     updated (and removed with the property): moto ignored it, so the log bucket expired
     nothing and account.log_retention_days never reached the flow logs it keeps.
 24. A load balancer's or target group's generated name never holds two hyphens in a row,
     which AWS refuses in both: moto cut the stack name and logical id to 32 characters
     as they were, so a release stack of a short application name (wimpy-staging-bg--v1)
     made target group "wimpy-staging-bg--v-..." that every later call refused.
 25. AWS::ElasticLoadBalancingV2::ListenerCertificate adds its certificates to the
     listener (and removes them with the resource): moto has the API but not the
     resource, which it skipped with a warning, so an application's certificate on a
     shared load balancer never reached the listener.
 26. AWS::ElasticLoadBalancingV2::ListenerRule is deleted with its stack (or when a template
     drops it): moto left the rule on the listener, so a destroyed application's host
     name still forwarded to its deleted target group.

Concurrency:
 13. DynamoDB's conditional writes are atomic, as in AWS: each write (PutItem, UpdateItem,
     DeleteItem, TransactWriteItems) checks its condition and writes under one lock. moto's
     threaded server checked and wrote in separate steps with no lock, so two requests
     arriving together could both pass `attribute_not_exists` (two deploys both took the
     release lock).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_applied: list[tuple[Any, str, Any]] = []  # (class or module, attribute, original)
_ABSENT = object()
_users = 0


def apply() -> Callable[[], None]:
    """Patch moto's classes (once, however many callers) and return the undo."""
    global _users
    with _lock:
        if _users == 0:
            for owner, name, replacement in _patches():
                _applied.append((owner, name, vars(owner).get(name, _ABSENT)))
                setattr(owner, name, replacement)
        _users += 1
    done = False

    def undo() -> None:
        global _users
        nonlocal done
        with _lock:
            if done:
                return
            done = True
            _users -= 1
            if _users == 0:
                while _applied:
                    owner, name, original = _applied.pop()
                    if original is _ABSENT:
                        delattr(owner, name)
                    else:
                        setattr(owner, name, original)

    return undo


def _patches() -> list[tuple[Any, str, Any]]:
    from wimpy_cli.local.alarms import alarm_model
    from wimpy_cli.local.certificates import certificate_model, listener_certificate_model
    from wimpy_cli.local import ecr_images
    from wimpy_cli.local.target_health import describe_target_health
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError, ValidationError
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.autoscaling.models import FakeAutoScalingGroup
    from moto.dynamodb.models import DynamoDBBackend
    from moto.elbv2.models import ELBv2Backend, FakeListenerRule, FakeLoadBalancer, FakeTargetGroup
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.responses import ActionResult, EmptyResult
    from moto.ec2.exceptions import (FlowLogAlreadyExists, InvalidPermissionNotFoundError,
                                     InvalidSecurityGroupNotFoundError)
    from moto.ec2.models.flow_logs import FlowLogsBackend
    from moto.s3.models import FakeBucket
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.instances import Instance
    from moto.ec2.models.vpcs import VPC
    from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupIngress
    from moto.kms.models import Key
    from moto.logs.models import LogGroup
    from moto.ssm.models import Parameter

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"  # the query-protocol code of ChangeSetNotFoundException

        def __init__(self, name: str) -> None:
            super().__init__(f"ChangeSet [{name}] does not exist")

    class InvalidChangeSetStatus(CloudFormationError):
        code = "InvalidChangeSetStatus"

    def find(backend: CloudFormationBackend, name_or_arn: str,
             stack_name_or_id: str | None) -> ChangeSet | None:
        if name_or_arn in backend.change_sets:  # an ARN names one change set
            return backend.change_sets[name_or_arn]
        # A name, within a stack: the newest of a stack that exists (moto keeps the change
        # sets of deleted stacks).
        for change_set in reversed(backend.change_sets.values()):
            if (change_set.change_set_name == name_or_arn
                    and change_set.stack_id in backend.stacks
                    and (stack_name_or_id is None
                         or stack_name_or_id in (change_set.stack_name, change_set.stack_id))):
                return change_set
        return None

    # -- backend (fixes 1-4) ---------------------------------------------------------

    def delete_change_set(self: CloudFormationBackend, change_set_name: str,
                          stack_name: str | None = None) -> None:
        change_set = find(self, change_set_name, stack_name)
        if change_set is not None:
            del self.change_sets[change_set.change_set_id]

    def describe_change_set(self: CloudFormationBackend, change_set_name: str,
                            stack_name: str | None = None) -> ChangeSet:
        change_set = find(self, change_set_name, stack_name)
        if change_set is None:
            raise ChangeSetNotFound(change_set_name)
        return change_set

    def execute_change_set(self: CloudFormationBackend, change_set_name: str,
                           stack_name: str | None = None) -> None:
        change_set = find(self, change_set_name, stack_name)
        if change_set is None:
            raise ChangeSetNotFound(change_set_name)
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"status of [{change_set.status}]")
        stack: Stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type  # CREATE or UPDATE
        stack.status = f"{kind}_IN_PROGRESS"
        stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
        try:
            change_set.apply()
        except Exception as error:  # moto raised while creating/updating a resource
            logger.warning("emulated CloudFormation failed to %s stack %s",
                           kind.lower(), stack.name, exc_info=True)
            change_set.execution_status = "EXECUTE_FAILED"
            stack.status = "ROLLBACK_FAILED" if kind == "CREATE" else "UPDATE_FAILED"
            stack._add_stack_event(stack.status, resource_status_reason=(
                f"the emulator failed to apply the change set: {type(error).__name__}: {error}"))
            return
        stack.template = change_set.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = dict(change_set.parameters)
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            self.exports[export.name] = export
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.status = f"{kind}_COMPLETE"
        stack._add_stack_event(stack.status)
        # "After you execute a change set, CloudFormation removes all change sets that are
        # associated with the stack."
        for change_set_id in [i for i, c in self.change_sets.items()
                              if c.stack_id == stack.stack_id]:
            del self.change_sets[change_set_id]

    # -- responses (fixes 3, 5, 6; moto's ExecuteChangeSet already passes StackName) --

    def response_delete_change_set(self: CloudFormationResponse) -> EmptyResult:
        self.cloudformation_backend.delete_change_set(
            change_set_name=self._get_param("ChangeSetName"),
            stack_name=self._get_param("StackName"))
        return EmptyResult()

    def response_describe_change_set(self: CloudFormationResponse) -> ActionResult:
        return ActionResult(self.cloudformation_backend.describe_change_set(
            change_set_name=self._get_param("ChangeSetName"),
            stack_name=self._get_param("StackName")))

    def response_create_change_set(self: CloudFormationResponse) -> ActionResult:
        """moto's create_change_set, with fixes 5 and 6 (the rest is unchanged)."""
        stack_name = self._get_param("StackName")
        change_set_name = self._get_param("ChangeSetName")
        stack_body = self._get_param("TemplateBody")
        template_url = self._get_param("TemplateURL")
        update_or_create = self._get_param("ChangeSetType", "CREATE")
        stack: Stack | None = None
        if update_or_create == "UPDATE":
            stack = self.cloudformation_backend.get_stack(stack_name)
            self.validate_template_and_stack_body()
            if self._get_bool_param("UsePreviousTemplate", False):
                stack_body = stack.template
        parameters: dict[str, Any] = {}
        for parameter in self._get_param("Parameters", []):
            key = parameter["ParameterKey"]
            if str(parameter.get("UsePreviousValue", False)).lower() == "true":
                if stack is None:
                    raise ValidationError(message=(
                        f"Invalid input for parameter key {key}. Cannot specify "
                        "usePreviousValue as true for a new stack"))
                if key in stack.parameters:
                    parameters[key] = stack.parameters[key]
                # else: the stack took the template's Default, and takes it again
            else:
                parameters[key] = parameter["ParameterValue"]
        if template_url:
            stack_body = self._get_stack_from_s3_url(template_url)
        if update_or_create == "CREATE":
            backend = self.cloudformation_backend
            for stack_id, existing in list(backend.stacks.items()):
                if existing.name != stack_name or existing.status == "DELETE_COMPLETE":
                    continue
                if existing.status != "REVIEW_IN_PROGRESS":
                    raise AlreadyExistsException(f"Stack [{stack_name}] already exists and cannot be "
                                                 f"created again with the changeSet [{change_set_name}].")
                # Fix 18: a stack a killed deploy left in review holds nothing; the new
                # change set takes its place, as AWS reuses it, instead of a second stack.
                backend.stacks.pop(stack_id)
        change_set_id, stack_id = self.cloudformation_backend.create_change_set(
            stack_name=stack_name,
            change_set_name=change_set_name,
            template=stack_body,
            parameters=parameters,
            description=self._get_param("Description"),
            notification_arns=self._get_param("NotificationARNs", []),
            tags={item["Key"]: item["Value"] for item in self._get_param("Tags", [])},
            role_arn=self._get_param("RoleARN"),
            change_set_type=update_or_create,
        )
        return ActionResult({"Id": change_set_id, "StackId": stack_id})

    # -- updates of resources (fixes 8-10) ----------------------------------------------

    original_update_resource = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any],
                                  resources_map: Any, account_id: str,
                                  region_name: str) -> Any:
        updated = original_update_resource(logical_id, resource_json, resources_map,
                                           account_id, region_name)
        if updated is None and logical_id in resources_map._parsed_resources:
            kept = resources_map._parsed_resources[logical_id]
            if kept is not None:
                logger.warning("the emulator cannot update %s (%s) in place; it keeps the "
                               "resource as it was", logical_id, resource_json.get("Type"))
                return kept
        return updated

    def log_group_update(cls: type, original_resource: Any, new_resource_name: str,
                         cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        properties = cloudformation_json.get("Properties", {})
        # Without LogGroupName, moto made a name up, and makes up another one for the update.
        name = properties.get("LogGroupName") or original_resource.name
        if name != original_resource.name:  # a new name replaces the group, as in AWS
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(name, cloudformation_json,
                                                       account_id, region_name)
        original_resource.set_retention_policy(properties.get("RetentionInDays"))
        return original_resource

    def ingress_arguments(properties: dict[str, Any]) -> dict[str, Any]:
        """The rule of an AWS::EC2::SecurityGroupIngress, as moto's create authorizes it."""
        source_group = {key: properties[prop] for key, prop in (
            ("GroupId", "SourceSecurityGroupId"), ("GroupName", "SourceSecurityGroupName"))
            if properties.get(prop)}
        cidr = properties.get("CidrIp")
        return {
            "ip_protocol": properties.get("IpProtocol"),
            "from_port": properties.get("FromPort"),
            "to_port": properties.get("ToPort"),
            "ip_ranges": [{"CidrIp": cidr, "Description": properties.get("Description")}]
            if cidr else [],
            "source_groups": [source_group] if source_group else [],
        }

    def ingress_delete(self: Any, account_id: str, region_name: str) -> None:
        try:
            ec2_backends[account_id][region_name].revoke_security_group_ingress(
                group_name_or_id=self.security_group.id, **ingress_arguments(self.properties))
        except (InvalidPermissionNotFoundError, InvalidSecurityGroupNotFoundError):
            # Already gone: moto deletes a stack's groups before their separate ingress
            # rules (AWS orders deletes by dependency), and a rule dies with its group.
            pass

    def ingress_update(cls: type, original_resource: Any, new_resource_name: str,
                       cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    # -- properties in CloudFormation's shape (fix 7) ---------------------------------

    def converting(model: type, convert: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
        """`model`'s create_from_cloudformation_json, with its properties converted first
        (moto's SSM parameter update calls it too)."""
        original = vars(model)["create_from_cloudformation_json"].__func__

        def create_from_cloudformation_json(cls: type, resource_name: str,
                                            cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            properties = cloudformation_json.get("Properties", {})
            cloudformation_json = {**cloudformation_json, "Properties": convert(properties)}
            return original(cls, resource_name, cloudformation_json, account_id,
                            region_name, **kwargs)

        return classmethod(create_from_cloudformation_json)

    def kms_key(properties: dict[str, Any]) -> dict[str, Any]:
        converted = dict(properties)
        if properties.get("Tags"):
            converted["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]}
                                 for tag in properties["Tags"]]
        if isinstance(properties.get("KeyPolicy"), dict):
            converted["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return converted

    def security_group(properties: dict[str, Any]) -> dict[str, Any]:
        """A rule for every protocol (-1) has no ports in CloudFormation; moto reads
        FromPort and ToPort of every inline ingress rule (the NAT instances' group)."""
        rules = [{"FromPort": -1, "ToPort": -1, **rule} if str(rule.get("IpProtocol")) == "-1"
                 else rule for rule in properties.get("SecurityGroupIngress", [])]
        return {**properties, "SecurityGroupIngress": rules} if rules else properties

    def ssm_parameter(properties: dict[str, Any]) -> dict[str, Any]:
        if isinstance(properties.get("Tags"), dict):
            return {**properties, "Tags": [{"Key": key, "Value": value}
                                           for key, value in properties["Tags"].items()]}
        return properties

    original_model_map = parsing.get_model_map
    added_models = [certificate_model(), alarm_model(), listener_certificate_model()]

    def model_map() -> dict[str, Any]:
        # ACM certificates, CloudWatch alarms and listener certificates exist in moto, their
        # CloudFormation resources do not (see certificates.py, alarms.py; fix 25).
        return {**original_model_map(), **{model.cloudformation_type(): model for model in added_models}}

    original_target_group_create = FakeTargetGroup.create_from_cloudformation_json.__func__

    def target_group_create(cls: type, resource_name: str, cloudformation_json: Any, account_id: str,
                            region_name: str, **kwargs: Any) -> Any:
        """Fix 17: TargetGroupAttributes are the target group's attributes."""
        group = original_target_group_create(cls, resource_name, cloudformation_json, account_id,
                                             region_name, **kwargs)
        attributes = {a["Key"]: str(a["Value"]) for a in
                      cloudformation_json.get("Properties", {}).get("TargetGroupAttributes") or []}
        if attributes:
            from moto.elbv2.models import elbv2_backends

            elbv2_backends[account_id][region_name].modify_target_group_attributes(group.arn, attributes)
        return group

    def target_group_attribute(self: Any, attribute_name: str) -> Any:
        """Fix 16: a target group's attributes, which alarms' dimensions read."""
        full_name = self.arn.split(":", 5)[-1]  # targetgroup/<name>/<id>
        attributes = {"TargetGroupFullName": full_name, "TargetGroupName": self.name,
                      "TargetGroupArn": self.arn, "LoadBalancerArns": list(self.load_balancer_arns)}
        if attribute_name not in attributes:
            raise UnformattedGetAttTemplateException()
        return attributes[attribute_name]

    def resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict[str, Any]]) -> dict[str, str]:
        # UpdateStack with UsePreviousValue for a parameter that took its Default last time:
        # AWS keeps using the default; moto looked the key up among the input values only
        # (KeyError, HTTP 500). Keep the input value when there was one, else let the
        # default apply (an SSM-typed default is then resolved again, as AWS does).
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params
                      if "ParameterValue" in p}
        for parameter in incoming_params:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue", False) and key in instance.parameters:
                parameters[key] = instance.parameters[key]
        return parameters

    # Weighted records share a name and type and differ by SetIdentifier; moto's
    # CloudFormation update and delete of a record removed every record of that name, so
    # updating one release's weight deleted the other release's record.
    from moto.route53.models import RecordSet, route53_backends
    from moto.utilities.utils import get_partition

    def record_zone(properties: dict[str, Any], account_id: str, region_name: str) -> Any:
        backend = route53_backends[account_id][get_partition(region_name)]
        zone = backend.get_hosted_zone_by_name(properties["HostedZoneName"]) \
            if properties.get("HostedZoneName") else None
        return zone or backend.get_hosted_zone(properties["HostedZoneId"])

    def remove_record(zone: Any, name: str, type_: str | None, set_identifier: str | None) -> None:
        zone.rrsets = [r for r in zone.rrsets if not (
            r.name.rstrip(".") == name.rstrip(".") and (type_ is None or r.type == type_)
            and r.set_identifier == set_identifier)]

    def record_update(cls: Any, original_resource: Any, new_resource_name: str,
                      cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        zone = record_zone(cloudformation_json["Properties"], account_id, region_name)
        remove_record(zone, original_resource.name, original_resource.type,
                      original_resource.set_identifier)
        return zone.add_rrset(cloudformation_json["Properties"])

    def record_delete_from_template(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                                    account_id: str, region_name: str) -> None:
        properties = cloudformation_json["Properties"]
        remove_record(record_zone(properties, account_id, region_name),
                      properties.get("Name", resource_name), properties.get("Type"),
                      properties.get("SetIdentifier"))

    def record_delete(self: Any, account_id: str, region: str) -> None:
        properties = {"HostedZoneName": self.hosted_zone_name, "HostedZoneId": self.hosted_zone_id}
        remove_record(record_zone(properties, account_id, region), self.name, self.type,
                      self.set_identifier)

    original_terminate = Instance.terminate

    def terminate(self: Any) -> Any:
        primary = self.nics.get(0)
        state = original_terminate(self)
        if primary is not None and primary.id in self.ec2_backend.enis:
            self.ec2_backend.enis.pop(primary.id, None)
        return state

    original_delete_vpc = VPC.delete_from_cloudformation_json.__func__

    def delete_vpc(cls: type, resource_name: str, cloudformation_json: dict[str, Any],
                   account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        for nat in list(backend.nat_gateways.values()):
            if nat.vpc_id == resource_name and nat.state != "deleted":
                backend.delete_nat_gateway(nat.id)
                backend.enis.pop(nat._eni.id, None)
        for table in list(backend.route_tables.values()):
            if table.vpc_id == resource_name and not table.main_association_id:
                for association in list(table._associations):
                    backend.disassociate_route_table(association)
                backend.delete_route_table(table.id)
        for gateway in list(backend.internet_gateways.values()):
            if gateway.vpc is not None and gateway.vpc.id == resource_name:
                backend.detach_internet_gateway(gateway.id, resource_name)
                backend.delete_internet_gateway(gateway.id)
        original_delete_vpc(cls, resource_name, cloudformation_json, account_id, region_name)

    def group_update(cls: type, original_resource: Any, new_resource_name: str,
                     cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        """Fix 14: the group keeps its name and instances; its size, launch template
        (version) and target groups change, as an update does on AWS."""
        properties = cloudformation_json.get("Properties", {})
        group = original_resource
        group.min_size = int(properties.get("MinSize", group.min_size))
        group.max_size = int(properties.get("MaxSize", group.max_size))
        desired = properties.get("DesiredCapacity")
        if properties.get("LaunchTemplate"):
            group._set_launch_configuration(None, properties["LaunchTemplate"], None)
        group.target_group_arns = list(properties.get("TargetGroupARNs", group.target_group_arns))
        # Launches or terminates (moto's) instances to the new size and registers them with
        # the target groups, as a group scaled by an update does.
        group.set_desired_capacity(int(desired) if desired is not None
                                   else min(max(group.desired_capacity, group.min_size), group.max_size))
        return group

    original_diff = parsing.ResourceMap.build_resource_diff

    def build_resource_diff(self: Any, other_template: dict[str, Any],
                            parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fix 15: a resource that reads an attribute of a modified resource is modified
        too, after it, as CloudFormation re-evaluates Fn::GetAtt on update."""
        actions = original_diff(self, other_template, parameters)
        resources = other_template["Resources"]
        modified = actions["Modify"]
        for name in modified:  # grows while iterating: dependents of dependents
            for other, body in resources.items():
                if other not in modified and other in self._resource_json_map \
                        and name in _attributes_read(body):
                    modified.append(other)
        return actions

    dynamodb_writes = threading.RLock()  # put_item reads through get_item

    def atomic(name: str) -> Any:
        original = getattr(DynamoDBBackend, name)

        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with dynamodb_writes:
                return original(self, *args, **kwargs)
        return write

    def convert_listener_actions(self: Any, properties: dict[str, Any]) -> list[dict[str, Any]]:
        """Fix 19: a forward action keeps its ForwardConfig (and loses the entries
        AWS::NoValue removed)."""
        actions = []
        for index, action in enumerate(properties["DefaultActions"]):
            if action["Type"] == "forward" and "ForwardConfig" in action and "TargetGroupArn" not in action:
                # An entry left out by Fn::If's AWS::NoValue is gone in AWS; moto leaves None.
                groups = [g for g in action["ForwardConfig"].get("TargetGroups", []) if g is not None]
                actions.append({"Type": "forward", "ForwardConfig": {**action["ForwardConfig"],
                                                                     "TargetGroups": groups}})
            else:
                actions.extend(original_convert(self, {"DefaultActions": [action]}))
        return actions

    original_rule_actions = ELBv2Backend.convert_and_validate_action_properties

    def convert_rule_actions(self: Any, properties: dict[str, Any]) -> list[dict[str, Any]]:
        """Fix 19, for a rule's actions: no entry AWS::NoValue removed."""
        actions = original_rule_actions(self, properties)
        return [{**action, "ForwardConfig": {**action["ForwardConfig"], "TargetGroups": [
                    g for g in action["ForwardConfig"].get("TargetGroups", []) if g is not None]}}
                if isinstance(action.get("ForwardConfig"), dict) else action for action in actions]

    def rule_delete(self: Any, account_id: str, region_name: str) -> None:
        """Fix 26: a rule goes with its stack."""
        from moto.elbv2.models import elbv2_backends

        elbv2_backends[account_id][region_name].delete_rule(self.arn)

    def rule_delete_from_template(cls: Any, resource_name: str, cloudformation_json: Any,
                                  account_id: str, region_name: str) -> None:
        """Fix 26: and when the template no longer has it (its physical id is its ARN)."""
        from moto.elbv2.models import elbv2_backends

        elbv2_backends[account_id][region_name].delete_rule(resource_name)

    original_balancer_attribute = FakeLoadBalancer.get_cfn_attribute

    def balancer_attribute(self: Any, attribute_name: str) -> Any:
        """Fix 20: LoadBalancerFullName is the ARN's part after loadbalancer/."""
        if attribute_name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        return original_balancer_attribute(self, attribute_name)

    original_convert = ELBv2Backend.convert_and_validate_properties
    original_modify_listener = ELBv2Backend.modify_listener

    def link_target_groups(backend: Any, balancer_arn: str) -> None:
        """Fix 19: the target groups the load balancer's listeners and their rules forward
        to know it; those none of them forwards to any more forget it."""
        balancer = backend.load_balancers.get(balancer_arn)
        if balancer is None:
            return
        actions = [action for listener in balancer.listeners.values()
                   for rule in listener.rules.values() for action in rule.actions]
        forwarded = {group for action in actions + [a for listener in balancer.listeners.values()
                                                    for a in listener.default_actions]
                     if action.type == "forward"
                     for group in backend._get_target_group_arns_from(action_data=action.data)}
        for group_arn, group in backend.target_groups.items():
            linked = balancer_arn in group.load_balancer_arns
            if group_arn in forwarded and not linked:
                group.load_balancer_arns.append(balancer_arn)
            elif group_arn not in forwarded and linked:
                group.load_balancer_arns.remove(balancer_arn)

    def modify_listener(self: Any, arn: str, *args: Any, **kwargs: Any) -> Any:
        listener = original_modify_listener(self, arn, *args, **kwargs)
        link_target_groups(self, listener.load_balancer_arn)
        return listener

    def balancer_of_rule(backend: Any, rule_arn: str) -> str | None:
        listener_arn = rule_arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
        return next((b.arn for b in backend.load_balancers.values() if listener_arn in b.listeners), None)

    original_create_rule = ELBv2Backend.create_rule
    original_modify_rule = ELBv2Backend.modify_rule
    original_delete_rule = ELBv2Backend.delete_rule

    def create_rule(self: Any, listener_arn: str, *args: Any, **kwargs: Any) -> Any:
        rule = original_create_rule(self, listener_arn, *args, **kwargs)
        link_target_groups(self, balancer_of_rule(self, rule.arn))
        return rule

    def modify_rule(self: Any, rule_arn: str, *args: Any, **kwargs: Any) -> Any:
        rule = original_modify_rule(self, rule_arn, *args, **kwargs)
        link_target_groups(self, balancer_of_rule(self, rule_arn))
        return rule

    def delete_rule(self: Any, arn: str) -> None:
        balancer = balancer_of_rule(self, arn)
        original_delete_rule(self, arn)
        link_target_groups(self, balancer)

    original_create_flow_logs = FlowLogsBackend.create_flow_logs

    def create_flow_logs(self: Any, resource_type: str, resource_ids: list[str], traffic_type: str,
                         deliver_logs_permission_arn: str, log_destination_type: str,
                         log_destination: str, *rest: Any) -> Any:
        """Fix 22: the bucket of an S3 destination is checked by its name alone; the flow
        log keeps the whole destination, prefix included."""
        bucket_arn, slash, _ = (log_destination or "").partition("/")
        if log_destination_type != "s3" or not slash:
            return original_create_flow_logs(self, resource_type, resource_ids, traffic_type,
                                             deliver_logs_permission_arn, log_destination_type,
                                             log_destination, *rest)
        if any(flow_log.resource_id in resource_ids and flow_log.log_destination == log_destination
               for flow_log in self.describe_flow_logs()):
            raise FlowLogAlreadyExists()
        made, unsuccessful = original_create_flow_logs(
            self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn,
            log_destination_type, bucket_arn, *rest)
        for flow_log in made:
            flow_log.log_destination = log_destination
        return made, unsuccessful

    def lifecycle_rules(properties: dict) -> list[dict] | None:
        """Fix 23: CloudFormation's lifecycle rules in the shape PutBucketLifecycleConfiguration
        parses (the rule kinds Wimpy's buckets use)."""
        configuration = properties.get("LifecycleConfiguration")
        if not configuration:
            return None
        rules = []
        for rule in configuration.get("Rules", []):
            converted = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled"),
                         "Filter": {"Prefix": rule.get("Prefix", "")}}
            if "ExpirationInDays" in rule:
                converted["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
            if "NoncurrentVersionExpiration" in rule:
                converted["NoncurrentVersionExpiration"] = {
                    "NoncurrentDays": str(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
            rules.append(converted)
        return rules

    def apply_lifecycle(bucket: Any, properties: dict) -> None:
        rules = lifecycle_rules(properties)
        if rules:
            bucket.set_lifecycle(rules)
        else:
            bucket.delete_lifecycle()

    original_bucket_create = FakeBucket.create_from_cloudformation_json.__func__
    original_bucket_update = FakeBucket.update_from_cloudformation_json.__func__

    def bucket_create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                      region_name: str, **kwargs: Any) -> Any:
        bucket = original_bucket_create(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs)
        apply_lifecycle(bucket, cloudformation_json.get("Properties", {}))
        return bucket

    def bucket_update(cls: Any, original_resource: Any, new_resource_name: str,
                      cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        bucket = original_bucket_update(cls, original_resource, new_resource_name,
                                        cloudformation_json, account_id, region_name)
        apply_lifecycle(bucket, cloudformation_json.get("Properties", {}))
        return bucket

    original_generated_name = parsing.generate_resource_name

    def generated_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        """Fix 24: no two hyphens in a row in a load balancer's or target group's name."""
        name = original_generated_name(resource_type, stack_name, logical_id)
        if resource_type.startswith("AWS::ElasticLoadBalancingV2::"):
            while "--" in name:
                name = name.replace("--", "-")
        return name

    return [
        (parsing, "generate_resource_name", generated_name),
        (FlowLogsBackend, "create_flow_logs", create_flow_logs),
        (FakeBucket, "create_from_cloudformation_json", classmethod(bucket_create)),
        (FakeBucket, "update_from_cloudformation_json", classmethod(bucket_update)),
        (ELBv2Backend, "convert_and_validate_properties", convert_listener_actions),
        (ELBv2Backend, "convert_and_validate_action_properties", convert_rule_actions),
        (FakeLoadBalancer, "get_cfn_attribute", balancer_attribute),
        (ELBv2Backend, "modify_listener", modify_listener),
        (ELBv2Backend, "create_rule", create_rule),
        (ELBv2Backend, "modify_rule", modify_rule),
        (ELBv2Backend, "delete_rule", delete_rule),
        (FakeListenerRule, "delete", rule_delete),
        (FakeListenerRule, "delete_from_cloudformation_json", classmethod(rule_delete_from_template)),
        *[(DynamoDBBackend, name, atomic(name))
          for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item")],
        (VPC, "delete_from_cloudformation_json", classmethod(delete_vpc)),
        (Instance, "terminate", terminate),
        (RecordSet, "update_from_cloudformation_json", classmethod(record_update)),
        (RecordSet, "delete_from_cloudformation_json", classmethod(record_delete_from_template)),
        (RecordSet, "delete", record_delete),
        (parsing, "get_model_map", model_map),
        (CloudFormationBackend, "_resolve_update_parameters", resolve_update_parameters),
        (CloudFormationBackend, "delete_change_set", delete_change_set),
        (CloudFormationBackend, "describe_change_set", describe_change_set),
        (CloudFormationBackend, "execute_change_set", execute_change_set),
        (CloudFormationResponse, "delete_change_set", response_delete_change_set),
        (CloudFormationResponse, "describe_change_set", response_describe_change_set),
        (CloudFormationResponse, "create_change_set", response_create_change_set),
        (Key, "create_from_cloudformation_json", converting(Key, kms_key)),
        (SecurityGroup, "create_from_cloudformation_json", converting(SecurityGroup, security_group)),
        (Parameter, "create_from_cloudformation_json", converting(Parameter, ssm_parameter)),
        (parsing, "parse_and_update_resource", parse_and_update_resource),
        (LogGroup, "update_from_cloudformation_json", classmethod(log_group_update)),
        (SecurityGroupIngress, "delete", ingress_delete),
        (SecurityGroupIngress, "update_from_cloudformation_json", classmethod(ingress_update)),
        (FakeAutoScalingGroup, "update_from_cloudformation_json", classmethod(group_update)),
        (parsing.ResourceMap, "build_resource_diff", build_resource_diff),
        (FakeTargetGroup, "get_cfn_attribute", target_group_attribute),
        (FakeTargetGroup, "create_from_cloudformation_json", classmethod(target_group_create)),
        *ecr_images.patches(),
        (ELBv2Backend, "describe_target_health", describe_target_health(ELBv2Backend.describe_target_health)),
    ]


def _attributes_read(value: Any) -> set[str]:
    """The logical ids whose attributes (Fn::GetAtt) a piece of template reads."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, inner in value.items():
            if key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            else:
                found |= _attributes_read(inner)
        return found
    if isinstance(value, list):
        return set().union(*map(_attributes_read, value)) if value else set()
    return set()

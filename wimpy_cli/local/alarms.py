"""AWS::CloudWatch::Alarm for the emulator, which has CloudWatch alarms but no CloudFormation
support for them: the alarm a template declares is created in moto's CloudWatch under its
AlarmName (its physical id, as on AWS), with its metric or metric-math queries, so that
`describe_alarms` finds it and the local data plane can evaluate it (dataplane/alarms.py).
An update puts the alarm again (its state starts over, as a changed alarm's does on AWS
once evaluated); a delete removes it.
"""

from __future__ import annotations

from typing import Any


def alarm_model() -> type:
    from moto.cloudwatch.models import (Dimension, Metric, MetricDataQuery, MetricStat,
                                        cloudwatch_backends)
    from moto.core.common_models import CloudFormationModel

    def queries(properties: dict[str, Any]) -> list[MetricDataQuery]:
        found = []
        for query in properties.get("Metrics") or []:
            stat = query.get("MetricStat")
            metric_stat = None
            if stat:
                metric = stat["Metric"]
                metric_stat = MetricStat(
                    Metric(metric["MetricName"], metric["Namespace"],
                           [Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]),
                    str(stat["Period"]), stat["Stat"], stat.get("Unit"))
            found.append(MetricDataQuery(query["Id"], query.get("Label", ""), query.get("Period"),
                                         query.get("ReturnData", True) not in (False, "false"),
                                         expression=query.get("Expression"), metric_stat=metric_stat))
        return found

    class LocalAlarm(CloudFormationModel):
        def __init__(self, name: str, arn: str):
            self.name = name
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            properties = cloudformation_json["Properties"]
            name = properties.get("AlarmName") or resource_name
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=name, namespace=properties.get("Namespace"),
                metric_name=properties.get("MetricName"),
                comparison_operator=properties["ComparisonOperator"],
                evaluation_periods=int(properties["EvaluationPeriods"]),
                period=int(properties["Period"]) if "Period" in properties else None,
                threshold=float(properties["Threshold"]) if "Threshold" in properties else None,
                statistic=properties.get("Statistic"), description=properties.get("AlarmDescription", ""),
                dimensions=properties.get("Dimensions") or [],
                alarm_actions=properties.get("AlarmActions") or [],
                metric_data_queries=queries(properties),
                datapoints_to_alarm=(int(properties["DatapointsToAlarm"])
                                     if "DatapointsToAlarm" in properties else None),
                extended_statistic=properties.get("ExtendedStatistic"),
                ok_actions=properties.get("OKActions") or [],
                insufficient_data_actions=properties.get("InsufficientDataActions") or [],
                unit=properties.get("Unit"), actions_enabled=properties.get("ActionsEnabled", True),
                treat_missing_data=properties.get("TreatMissingData"),
                evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
                threshold_metric_id=properties.get("ThresholdMetricId"), rule=None,
                tags=properties.get("Tags") or [])
            return cls(alarm.name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            backend = cloudwatch_backends[account_id][region_name]
            name = cloudformation_json["Properties"].get("AlarmName") or new_resource_name
            if original_resource.name != name:
                backend.delete_alarms([original_resource.name])
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                       account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            name = cloudformation_json.get("Properties", {}).get("AlarmName") or resource_name
            cloudwatch_backends[account_id][region_name].delete_alarms([name])

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

        def is_created(self) -> bool:
            return True

    return LocalAlarm

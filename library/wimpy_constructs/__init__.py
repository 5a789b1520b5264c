"""Wimpy's construct library: usable from any CDK app, with no knowledge of the wimpy
command, wimpy.yml, boto3 or Docker."""

from .account_baseline import AccountBaseline
from .alarm_topic import AlarmTopic
from .application_access import ApplicationAccess
from .container_service import ContainerService
from .environment_network import EnvironmentNetwork
from .host_rule import HostRule
from .public_load_balancer import PublicLoadBalancer
from .registry import ApplicationRegistry
from .release_record_table import ReleaseRecordTable
from .service_alarms import ServiceAlarms
from .target_group import health_checked_target_group
from .boot import ContainerSettings
from .traffic_split import TrafficSlot, TrafficSplit
from .weighted_record import WeightedAliasRecord

__all__ = ["AccountBaseline", "AlarmTopic", "ApplicationAccess", "ApplicationRegistry", "ContainerService", "ContainerSettings", "EnvironmentNetwork",
           "HostRule", "PublicLoadBalancer", "ReleaseRecordTable", "ServiceAlarms", "TrafficSlot", "TrafficSplit",
           "WeightedAliasRecord", "health_checked_target_group"]

"""Wimpy's construct library: usable from any CDK app, with no knowledge of the wimpy
command, wimpy.yml, boto3 or Docker."""

from .account_baseline import AccountBaseline
from .application_access import ApplicationAccess
from .environment_network import EnvironmentNetwork

__all__ = ["AccountBaseline", "ApplicationAccess", "EnvironmentNetwork"]

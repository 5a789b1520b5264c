"""wimpy.yml: parsing, validation and the frozen config objects the stacks are built from."""

from .loader import ConfigError, Problem, load_config
from .model import AppConfig, UnknownEnvironment, WimpyConfig

__all__ = ["AppConfig", "ConfigError", "Problem", "UnknownEnvironment", "WimpyConfig", "load_config"]

"""wimpy.yml: parsing, validation and the frozen config objects the stacks are built from."""

from .loader import ConfigError, Problem, load_config
from .model import UnknownEnvironment, WimpyConfig

__all__ = ["ConfigError", "Problem", "UnknownEnvironment", "WimpyConfig", "load_config"]

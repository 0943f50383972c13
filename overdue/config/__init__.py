"""Behaviour as data: YAML under configs/, validated by pydantic at load."""

from overdue.config.loader import ConfigError, Configuration, load_configuration

__all__ = ["ConfigError", "Configuration", "load_configuration"]

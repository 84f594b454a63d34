"""Typed configuration: checkpoints, triggers and table locations per target."""

from checkpoints_config.model import (
    ConfigError,
    Maintenance,
    PipelineConfig,
    StreamConfig,
    TableNames,
    TableRef,
    Trigger,
)
from checkpoints_config.targets import load_target, local, resolve_root

__all__ = [
    "ConfigError",
    "Maintenance",
    "PipelineConfig",
    "StreamConfig",
    "TableNames",
    "TableRef",
    "Trigger",
    "load_target",
    "local",
    "resolve_root",
]

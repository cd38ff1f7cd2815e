"""Named errors for everything a user, a checkpoint or the environment can get wrong."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: callers (CLI, backends) catch this to print a one-line error."""


class ConfigError(EngineError):
    """A checkpoint's config.json is missing, unreadable, or has a missing or invalid field (named in the message)."""


class CheckpointError(EngineError):
    """A weight file is missing, truncated, or has a missing, unexpected or mis-shaped tensor (named in the message)."""

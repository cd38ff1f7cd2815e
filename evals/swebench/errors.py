"""Named errors of the SWE-bench harness; each message names the file, instance or key at fault."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: an error the user, the data or the machine can cause."""


class DatasetError(HarnessError):
    """An instance file (or dataset name) cannot be read or an instance misses a field."""


class PredictionsError(HarnessError):
    """A predictions file cannot be read or does not match the dataset."""


class SpecError(HarnessError):
    """An environment spec is missing, malformed, or names something that does not exist."""


class EnvironmentBuildError(HarnessError):
    """Building an instance's environment failed: an infrastructure failure, not the model's."""


class BackendUnavailableError(HarnessError):
    """The requested backend cannot run here (e.g. no Docker engine answers)."""


class WorkspaceError(HarnessError):
    """The agent's working copy of an instance could not be made from its prepared environment."""

"""Pieces shared by the sub-command modules."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing error: `main` prints it as one line naming the command and exits with code 2."""

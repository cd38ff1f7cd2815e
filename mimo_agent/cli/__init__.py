"""Command-line entry points. Each module here that defines `register(subparsers)` adds one sub-command."""

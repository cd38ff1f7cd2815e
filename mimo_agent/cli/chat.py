"""`mimo-agent chat`: the interactive terminal UI in a repository (Textual)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mimo_agent.agent.sessions import SessionError, latest_session_id, load_session, sessions_dir
from mimo_agent.cli._common import CliError
from mimo_agent.cli.fix_issue import add_backend_options, backend_flags
from mimo_agent.settings import SettingsError, load_settings
from mimo_agent.tools.git import GitRepo


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="the interactive coding agent in your terminal",
        description=(
            "Chat with the agent in a git repository: it reads, edits and runs commands there, asking before "
            "anything the permission mode does not allow. Enter sends, ctrl+j adds a line, @path attaches a "
            "file, esc interrupts, ? lists keys and /commands. Sessions are saved as they go under "
            "$XDG_STATE_HOME/mimo-agent/sessions."
        ),
    )
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="git repository to work in (default: here)"
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="ID",
        help="reopen a saved session (default: this repository's latest)",
    )
    parser.add_argument(
        "--theme", choices=["dark", "light"], default="dark", help="colour theme (ctrl+t switches)"
    )
    add_backend_options(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from mimo_agent.tui.app import ChatApp  # Textual loads only for this command
    from mimo_agent.tui.chat_session import ChatOptions

    workspace = args.repo.resolve()
    repo = GitRepo.find(workspace)
    if repo is None or repo.head() is None:
        raise CliError(
            f"{workspace}: not a git repository with at least one commit (run git init and commit)"
        )
    flags = backend_flags(args)
    try:
        load_settings(workspace, flags=flags)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    if args.resume is not None:
        session_id = args.resume or latest_session_id(workspace=workspace)
        if session_id is None:
            raise CliError(f"no saved sessions of {workspace} in {sessions_dir()} to resume")
        try:
            load_session(session_id)
        except SessionError as exc:
            raise CliError(str(exc)) from exc
        args.resume = session_id
    ChatApp(ChatOptions(workspace=workspace, flags=flags, resume=args.resume, theme=args.theme)).run()
    return 0

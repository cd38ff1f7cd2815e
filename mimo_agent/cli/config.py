"""`mimo-agent config show`: the merged settings and where each value came from."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mimo_agent.cli._common import CliError
from mimo_agent.settings import PROJECT_FILE, SettingsError, load_settings, user_config_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the merged configuration",
        description=(
            f"Settings come from the project's {PROJECT_FILE}, then the user's config "
            f"({user_config_path()}), then MIMO_AGENT_<SECTION>__<KEY> environment variables, then "
            "command-line flags; later ones win."
        ),
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print every setting with its source")
    show.add_argument("--repo", type=Path, default=Path.cwd(), help="workspace whose project file is read")
    show.add_argument("--json", action="store_true", help="print one JSON object instead of TOML")
    show.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    try:
        loaded = load_settings(args.repo)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    data = loaded.settings.model_dump(mode="json")
    if args.json:
        print(json.dumps({"settings": data, "sources": loaded.sources}, indent=2))
        return 0
    for section, values in data.items():
        print(f"[{section}]")
        for key, value in values.items():
            source = loaded.sources.get(f"{section}.{key}", "default")
            print(f"{key} = {json.dumps(value)}  # {source}")
        print()
    return 0

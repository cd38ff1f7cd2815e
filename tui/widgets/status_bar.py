"""The bottom line: model and backend, speed, context use as a bar, MTP acceptance, steps, tokens, mode."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BAR_CELLS = 8


@dataclass(frozen=True)
class StatusInfo:
    backend: str = ""
    model: str = ""
    mode: str = ""
    tokens_per_second: float | None = None
    context_used: int = 0
    context_limit: int = 0
    mtp_accepted: float | None = None
    steps: int = 0
    session_tokens: int = 0
    state: str = "loading"  # loading | ready | working | error

    def but(self, **changes: object) -> StatusInfo:
        return replace(self, **changes)


def short_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 100_000:
        return f"{n // 1000}K"
    return f"{n / 1000:.1f}K" if n >= 1000 else str(n)


EIGHTHS = " ▏▎▍▌▋▊▉"


def context_bar(used: int, limit: int, cells: int = BAR_CELLS) -> tuple[str, float]:
    """A bar in eighths of a cell, so a few percent of a 256K window still shows."""
    share = min(1.0, used / limit) if limit else 0.0
    full, eighths = divmod(round(share * cells * 8), 8)
    partial = EIGHTHS[eighths] if eighths else ""
    return ("█" * full + partial).ljust(cells, "░") if full < cells else "█" * cells, share


def status_text(i: StatusInfo) -> Text:
    bar, share = context_bar(i.context_used, i.context_limit)
    bar_style = "red" if share > 0.8 else "yellow" if share > 0.5 else "green"
    speed = f"{i.tokens_per_second:.1f} tok/s" if i.tokens_per_second is not None else "– tok/s"
    parts: list[tuple[str, str]] = [
        (f" {i.backend}", "bold"),
        (f" {i.model}" if i.model else "", ""),
        (" │ ", "dim"),
        (speed, ""),
        (" │ ctx ", "dim"),
        (bar, bar_style),
        (f" {short_count(i.context_used)}/{short_count(i.context_limit)}", ""),
    ]
    if i.mtp_accepted is not None:
        parts += [(" │ mtp ", "dim"), (f"{i.mtp_accepted:.2f}", "")]
    parts += [
        (" │ ", "dim"),
        (f"step {i.steps}", ""),
        (" │ ", "dim"),
        (f"{short_count(i.session_tokens)} tok", ""),
        (" │ ", "dim"),
        (i.mode, "italic"),
    ]
    if i.state != "ready":
        parts += [(" │ ", "dim"), (i.state, "bold reverse" if i.state == "working" else "bold")]
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


class StatusBar(Widget):
    info: reactive[StatusInfo] = reactive(StatusInfo, layout=False)

    def render(self) -> Text:
        return status_text(self.info)

"""`apply_patch(patch)`: a unified diff over one or more files (edits, creations, deletions, renames), atomic.

Every file's new content is computed before anything is written; if any hunk fails, no file changes. Should
a write itself fail half-way, the files already written are put back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.patch import FilePatch, PatchError, apply_hunks, parse_patch
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import TextFile, read_text
from mimo_agent.tools.writes import WriteReport, unified_diff, write_checked

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class ApplyPatchArgs(BaseModel):
    patch: str = Field(
        description="A unified diff ('--- a/path', '+++ b/path', '@@ -l,n +l,n @@' hunks; '/dev/null' to "
        "create or delete a file). Several files may be changed in one patch. Paths are relative to the "
        "workspace root."
    )


@dataclass
class _Planned:
    patch: FilePatch
    source: Path | None  # existing file read (None when created)
    target: Path | None  # file written (None when deleted)
    before: TextFile | None
    after: str | None  # None when deleted


def _plan(context: ToolContext, patch: FilePatch) -> tuple[_Planned, list[str]]:
    ws = context.workspace
    source = ws.resolve(patch.old_path, for_write=True) if patch.old_path else None
    target = ws.resolve(patch.new_path, for_write=True) if patch.new_path else None
    before = None
    if source is not None:
        if not source.is_file():
            raise PatchError(f"{patch.old_path}: the patch changes this file but it does not exist")
        before = read_text(source, patch.old_path or "")
    elif target is not None and target.exists():
        raise PatchError(f"{patch.new_path}: the patch creates this file but it already exists")
    if target is not None and source is not None and target != source and target.exists():
        raise PatchError(f"{patch.new_path}: the patch renames onto a file that already exists")
    text = None if before is None else before.text
    after, remarks = apply_hunks(text, patch) if patch.hunks else (text or "", [])
    if target is None:
        if after.strip():
            raise PatchError(f"{patch.old_path}: the patch deletes this file but leaves content in it")
        return _Planned(patch, source, None, before, None), remarks
    return _Planned(patch, source, target, before, after), remarks


def run_apply_patch(args: ApplyPatchArgs, context: ToolContext) -> ToolResult:
    try:
        patches = parse_patch(args.patch)
        planned, remarks = [], []
        for patch in patches:
            plan, notes = _plan(context, patch)
            planned.append(plan)
            remarks += notes
        targets = [p.target for p in planned if p.target is not None]
        if len(set(targets)) != len(targets):
            raise PatchError("the patch changes the same file in two sections; merge them into one")
    except PatchError as exc:
        return ToolResult.error(f"Patch not applied (no file was changed): {exc}")
    backups = {p: p.read_bytes() for plan in planned for p in (plan.source, plan.target) if p and p.exists()}
    reports: list[tuple[str, WriteReport | None, str]] = []
    try:
        for plan in planned:
            reports.append(_execute(context, plan))
    except BaseException:  # an OS error, or Ctrl-C between files: all or nothing still holds
        _restore(backups, planned)
        raise
    lines = ["Patch applied:"]
    diffs = []
    for verb, report, diff in reports:
        if report is None:
            lines.append(f"  {verb}")
        else:
            lines.append("  " + report.summary(verb).replace("\n", "\n  "))
        diffs.append(diff)
    lines += [f"Note: {remark}" for remark in remarks]
    paths = [p.patch.path for p in planned]
    return ToolResult(output="\n".join(lines), metadata={"paths": paths, "diff": "".join(diffs)})


def _execute(context: ToolContext, plan: _Planned) -> tuple[str, WriteReport | None, str]:
    ws = context.workspace
    if plan.target is None:
        assert plan.source is not None and plan.before is not None
        plan.source.unlink()
        rel = ws.relative(plan.source)
        context.changed_paths.add(rel)
        return f"Deleted {rel}", None, unified_diff(rel, plan.before.text, None)
    assert plan.after is not None
    report = write_checked(context, plan.target, plan.after, plan.before)
    if plan.source is not None and plan.source != plan.target:
        plan.source.unlink()
        context.changed_paths.add(ws.relative(plan.source))
        return f"Renamed {ws.relative(plan.source)} to", report, report.diff
    return ("Created" if plan.before is None else "Edited"), report, report.diff


def _restore(backups: dict[Path, bytes], planned: list[_Planned]) -> None:
    for plan in planned:
        if plan.target is not None and plan.target not in backups:
            plan.target.unlink(missing_ok=True)
    for path, data in backups.items():
        path.write_bytes(data)


APPLY_PATCH = define_tool(
    "apply_patch",
    "Apply a unified diff to one or more files (edit, create, delete). All or nothing: if a hunk does not "
    "apply, no file is changed and the failing hunk is reported.",
    ApplyPatchArgs,
    run_apply_patch,
)

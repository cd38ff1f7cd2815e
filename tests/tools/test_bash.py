from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from mimo_agent.tools.context import ToolConfig, ToolContext
from mimo_agent.tools.output import head_tail
from tests.processes import alive
from tests.tools.conftest import call, git


def test_exit_code_and_merged_streams(ctx: ToolContext) -> None:
    result = call(ctx, "bash", command="echo out; echo err >&2; exit 3")
    assert result.output == "out\nerr\n[exit code 3]"
    assert result.is_error
    assert result.metadata["exit_code"] == 3 and result.metadata["timed_out"] is False
    ok = call(ctx, "bash", command="true")
    assert ok.output == "(no output)\n[exit code 0]" and not ok.is_error


def test_cwd_and_exported_env_persist(ctx: ToolContext) -> None:
    call(ctx, "bash", command="mkdir -p sub/dir && cd sub/dir && export GREETING=hello && LOCAL_ONLY=1")
    result = call(ctx, "bash", command='pwd; echo "$GREETING-${LOCAL_ONLY:-unset}"')
    assert result.output.splitlines()[:2] == [str(ctx.root / "sub" / "dir"), "hello-unset"]
    call(ctx, "bash", command="unset GREETING; cd ..")
    result = call(ctx, "bash", command='pwd; echo "${GREETING:-gone}"')
    assert result.output.splitlines()[:2] == [str(ctx.root / "sub"), "gone"]


def test_state_is_saved_even_when_the_command_exits_early(ctx: ToolContext) -> None:
    call(ctx, "bash", command="cd src && export X=1 && exit 4")
    assert call(ctx, "bash", command="echo $X; basename $PWD").output.startswith("1\nsrc\n")


def test_non_interactive_environment(ctx: ToolContext) -> None:
    result = call(
        ctx, "bash", command='echo "$PAGER|$GIT_PAGER|$TERM|$CI|$TQDM_DISABLE"; read -r line; echo "rc=$?"'
    )
    assert result.output.splitlines()[:2] == ["cat|cat|dumb|1|1", "rc=1"]


def test_git_log_does_not_page(ctx: ToolContext) -> None:
    result = call(ctx, "bash", command="git log --oneline", timeout=20)
    assert "initial" in result.output and result.metadata["exit_code"] == 0


def test_timeout_kills_the_whole_process_tree(ctx: ToolContext, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = (
        f"(sleep 300 & echo $! >> {pids}; wait) & echo $! >> {pids}; "
        f"bash -c 'sleep 300 & echo $! >> {pids}; wait' & "
        f"sleep 300 & echo $! >> {pids}; wait"
    )
    start = time.monotonic()
    result = call(ctx, "bash", command=command, timeout=1.5)
    assert time.monotonic() - start < 10
    assert result.is_error and result.metadata["timed_out"] is True
    assert "[timed out after 1.5s; the command and its child processes were killed]" in result.output
    recorded = [int(p) for p in pids.read_text().split()]
    assert len(recorded) >= 3
    time.sleep(0.2)
    assert [pid for pid in recorded if alive(pid)] == []


def test_background_jobs_do_not_outlive_the_command(ctx: ToolContext, tmp_path: Path) -> None:
    pid_file = tmp_path / "bg"
    call(ctx, "bash", command=f"sleep 300 & echo $! > {pid_file}")
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_ctrl_c_kills_the_command_group_and_propagates(ctx: ToolContext, tmp_path: Path) -> None:
    """Regression: the command runs in its own session, so a terminal's Ctrl-C never reached it and an
    interrupted agent left it running."""
    pid_file = tmp_path / "pid"
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        call(ctx, "bash", command=f"sleep 300 & echo $! > {pid_file}; wait", timeout=60)
    timer.join()
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_ten_megabytes_of_output_are_capped_with_head_and_tail(ctx: ToolContext) -> None:
    command = "python3 -c \"import sys; sys.stdout.write('START\\n' + 'x' * 10_000_000 + '\\nEND\\n')\""
    start = time.monotonic()
    result = call(ctx, "bash", command=command)
    assert time.monotonic() - start < 20
    assert result.output.startswith("START\n")
    assert result.output.endswith("END\n[exit code 0]")
    marker = re.search(
        r"\[\.\.\. 9,9\d\d,\d{3} bytes \(0 lines\) cut; the full output is in (\S+): read it with read_file \.\.\.\]",
        result.output,
    )
    assert marker, result.output[:300]
    assert len(result.output) < ctx.config.max_output_chars + 300
    # Regression: the cut middle was deleted; the whole output is kept where the marker says, out of git.
    saved = ctx.root / marker.group(1)
    assert marker.group(1).startswith(".mimo-agent/bash/") and result.metadata["full_output"] == marker.group(
        1
    )
    assert saved.stat().st_size == len("START\n" + "x" * 10_000_000 + "\nEND\n")
    assert ".mimo-agent" not in git(ctx.root, "status", "--porcelain")
    small = call(ctx, "bash", command="echo short")
    assert "full_output" not in small.metadata and len(list(saved.parent.iterdir())) == 1


def test_cancel_stops_a_running_command_and_its_children(ctx: ToolContext, tmp_path: Path) -> None:
    """The agent's interrupt (Esc) reaches bash: the command group is killed within a fraction of a second."""
    pid_file = tmp_path / "pid"
    threading.Timer(0.5, ctx.cancel.set).start()
    start = time.monotonic()
    result = call(ctx, "bash", command=f"sleep 300 & echo $! > {pid_file}; echo started; wait", timeout=60)
    assert time.monotonic() - start < 3
    assert result.is_error and result.metadata["interrupted"] and result.metadata["exit_code"] is None
    assert result.output.startswith("started\n") and "interrupted by the user" in result.output
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_timeout_is_clamped_to_the_maximum(repo: Path) -> None:
    context = ToolContext.create(repo, ToolConfig(bash_max_timeout=1.0))
    try:
        result = call(context, "bash", command="sleep 5", timeout=100)
        assert "[timed out after 1s" in result.output
    finally:
        context.close()


def test_leaving_the_workspace_is_noted(ctx: ToolContext) -> None:
    result = call(ctx, "bash", command="cd /")
    assert "[working directory is now /, outside the workspace]" in result.output


def test_deleted_working_directory_falls_back_to_the_root(ctx: ToolContext) -> None:
    call(ctx, "bash", command="mkdir gone && cd gone")
    (ctx.root / "gone").rmdir()
    assert call(ctx, "bash", command="pwd").output.startswith(str(ctx.root) + "\n")


def test_ansi_colour_is_stripped(ctx: ToolContext) -> None:
    assert call(ctx, "bash", command=r"printf '\033[31mred\033[0m\n'").output.startswith("red\n")


def test_progress_bar_redraws_keep_only_the_final_state(ctx: ToolContext) -> None:
    result = call(ctx, "bash", command=r"printf '10%%\r50%%\r100%%\nnext\r\n'")
    assert result.output.startswith("100%\nnext\n")


def test_syntax_errors_read_like_bash(ctx: ToolContext) -> None:
    result = call(ctx, "bash", command="if then fi")
    assert result.output.startswith("bash: line 1: syntax error near unexpected token `then'")
    assert "mimo-bash-" not in result.output
    assert result.metadata["exit_code"] == 2


def test_empty_command_is_invalid(ctx: ToolContext) -> None:
    assert call(ctx, "bash", command="").is_error


@pytest.mark.parametrize(("size", "cut"), [(10, False), (1000, True)])
def test_head_tail(size: int, cut: bool) -> None:
    text = "a" * size
    out = head_tail(text, 100)
    assert ("characters" in out) is cut
    if cut:
        assert out.startswith("a" * 50) and out.endswith("a" * 50) and "900 characters" in out


def test_multibyte_output_under_the_cap_is_whole_and_not_saved(ctx: ToolContext) -> None:
    """Regression: the cap (characters) was compared with the output's size in bytes, so text that fit
    was moved to a "full output" file with no cut marker."""
    chars = ctx.config.max_output_chars - 100  # fits in characters, twice the cap in bytes ("é" is 2)
    result = call(ctx, "bash", command=f"python3 -c \"print('é' * {chars}, end='')\"")
    assert result.output == "é" * chars + "\n[exit code 0]"
    assert "full_output" not in result.metadata
    assert not (ctx.root / ".mimo-agent" / "bash").exists()

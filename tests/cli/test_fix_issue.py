"""`mimo-agent fix-issue` as a user runs it: a real subprocess, a real repository, exit codes and outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent.replay_repo import FIXING_OUTPUTS, call, make_buggy_repo, write_replay
from tests.processes import alive

FIX_ISSUE = [sys.executable, "-m", "mimo_agent.cli.main", "fix-issue"]


def replayed(repo: Path, replay: Path, *extra: str) -> list[str]:
    """fix-issue arguments for a replayed run in yolo mode."""
    return ["--repo", str(repo), "--issue", "x", "--backend", "replay", "--replay", str(replay),
            "--permission-mode", "yolo", *extra]  # fmt: skip


def fix_issue(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **variables}
    return subprocess.run([*FIX_ISSUE, *args], capture_output=True, text=True, timeout=120, env=env)


def test_patch_trajectory_and_json_events(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "r.jsonl", FIXING_OUTPUTS)
    proc = fix_issue(
        tmp_path,
        *replayed(repo, replay, "--output", str(tmp_path / "fix.patch")),
        *("--trajectory", str(tmp_path / "traj.json"), "--json"),
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all({"type", "time", "payload"} <= set(line) for line in lines)
    assert lines[0]["type"] == "run_started" and lines[-1]["type"] == "result"
    assert lines[-1]["payload"]["outcome"]["kind"] == "finished"
    patch = (tmp_path / "fix.patch").read_text()
    assert "+    return a + b" in patch
    check = subprocess.run(["git", "apply", "--check", "-R", str(tmp_path / "fix.patch")], cwd=repo)
    assert check.returncode == 0  # the patch is exactly what changed in the working copy
    assert json.loads((tmp_path / "traj.json").read_text())["outcome"]["kind"] == "finished"


def test_no_change_exits_1_and_prints_progress(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    (tmp_path / "issue.md").write_text("add is broken")
    replay = write_replay(
        tmp_path / "r.jsonl", [call("read_file", path="calc.py"), call("finish", summary="no idea")]
    )
    proc = fix_issue(
        tmp_path,
        "--repo",
        str(repo),
        "--issue-file",
        str(tmp_path / "issue.md"),
        "--backend",
        "replay",
        "--replay",
        str(replay),
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "→ read_file" in proc.stderr and "finished" in proc.stderr


def test_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    missing = fix_issue(
        tmp_path,
        "--repo",
        str(repo),
        "--issue",
        "x",
        "--backend",
        "replay",
        "--replay",
        str(tmp_path / "missing.jsonl"),
    )
    assert missing.returncode == 2 and "cannot read replay file" in missing.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = fix_issue(
        tmp_path, "--repo", str(plain), "--issue", "x", "--backend", "replay", "--replay", "r"
    )
    assert not_git.returncode == 2 and "not a git repository" in not_git.stderr
    no_file = fix_issue(tmp_path, "--repo", str(repo), "--issue-file", str(tmp_path / "nope.md"))
    assert no_file.returncode == 2 and "cannot read the issue file" in no_file.stderr


def test_ctrl_c_saves_trajectory_and_patch_and_kills_the_command(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    pid_file = tmp_path / "pid"
    outputs = [
        FIXING_OUTPUTS[1],
        call("bash", command=f"sleep 300 & echo $! > {pid_file}; wait"),
        FIXING_OUTPUTS[-1],
    ]
    replay = write_replay(tmp_path / "r.jsonl", outputs)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [
            *FIX_ISSUE,
            *replayed(
                repo, replay, "--trajectory", str(tmp_path / "t.json"), "--output", str(tmp_path / "p.diff")
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err  # the edit before the interrupt is a patch
    assert json.loads((tmp_path / "t.json").read_text())["outcome"]["kind"] == "interrupted"
    assert "+    return a + b" in (tmp_path / "p.diff").read_text()
    assert subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True
    ).stdout == (" M calc.py\n")
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text())), "the interrupted command is still running"


def test_a_trajectory_is_written_by_default_outside_the_patch(tmp_path: Path) -> None:
    """Regression: without --trajectory no record of the run was kept."""
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "r.jsonl", FIXING_OUTPUTS)
    proc = fix_issue(tmp_path, *replayed(repo, replay))
    assert proc.returncode == 0, proc.stderr
    [saved] = (repo / ".mimo-agent" / "trajectories").glob("*.json")
    assert f"trajectory: {saved}" in proc.stderr
    assert json.loads(saved.read_text())["outcome"]["kind"] == "finished"
    assert ".mimo-agent" not in proc.stdout  # the patch on stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert status == " M calc.py\n"


def test_printed_events_are_redacted(tmp_path: Path) -> None:
    """Regression: --json stdout and the stderr progress lines printed secrets the trajectory redacted."""
    repo = make_buggy_repo(tmp_path / "repo")
    token, key = "tok-9f8e7d6c5b4a39281706", "sk-proj-" + "a1b2c3d4" * 4
    outputs = [call("bash", command=f"echo $MY_API_TOKEN {key}"), call("finish", summary=f"found {key}")]
    replay = write_replay(tmp_path / "r.jsonl", outputs)
    for extra in ([], ["--json"]):
        proc = fix_issue(tmp_path, *replayed(repo, replay, *extra), MY_API_TOKEN=token)
        assert proc.returncode == 1, proc.stderr
        assert "[REDACTED] [REDACTED]" in proc.stdout + proc.stderr
        assert token not in proc.stdout + proc.stderr and key not in proc.stdout + proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["type"] == "result"


def test_an_unexpected_failure_is_exit_2_with_a_result_and_an_error_trajectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: an exception inside the run escaped: exit 1 ("no change"), no result event, outcome null."""
    from mimo_agent.cli.main import main

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("mimo_agent.agent.loop.shape_observation", broken)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "r.jsonl", FIXING_OUTPUTS)
    code = main(["fix-issue", *replayed(repo, replay, "--trajectory", str(tmp_path / "t.json"), "--json")])
    out, err = capsys.readouterr()
    assert code == 2
    result = json.loads(out.splitlines()[-1])
    assert result["type"] == "result" and result["payload"]["outcome"]["kind"] == "error"
    assert "RuntimeError: boom" in err
    assert json.loads((tmp_path / "t.json").read_text())["outcome"]["kind"] == "error"

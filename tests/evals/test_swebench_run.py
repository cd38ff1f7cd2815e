"""`mimo-agent eval swe-bench run`: the agent (replay backend) on synthetic instances, then `grade`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mimo_agent.backends.base import Completion, complete, context_limit, text_counter
from mimo_agent.backends.replay import ReplayBackend
from mimo_agent.cli import eval as eval_cli
from mimo_agent.cli._common import CliError
from mimo_agent.evals.swebench.environment import Environment
from mimo_agent.evals.swebench.inference import SerializedBackend, default_model_name, shared_backend
from mimo_agent.evals.swebench.synthetic import make_instance, write_suite
from mimo_agent.evals.swebench.workspace import import_paths
from mimo_agent.settings import ModelSettings
from tests.agent.replay_repo import call, write_replay

IDS = ("demo__calc-1", "demo__calc-2")
FIXING = [
    "The bug is probably in calc/ops.py.\n" + call("read_file", path="calc/ops.py"),
    call("edit", path="calc/ops.py", old_string="return a - b", new_string="return a + b"),
    call("bash", command="python -m pytest -q -p no:cacheprovider tests/test_ops.py"),
    call("finish", summary="add() subtracted; it now adds."),
]
MODEL = "mimo-agent/replay"


def cli(*argv: str) -> int:
    """The command as `mimo-agent` dispatches it (only this module's parser)."""
    parser = argparse.ArgumentParser(prog="mimo-agent")
    eval_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "swe-bench", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("suite")
    rows, specs = [], {}
    for instance_id in IDS:
        row, spec = make_instance(root, instance_id)
        rows.append(row)
        specs[instance_id] = spec
    dataset, specs_file = write_suite(root, rows, specs)
    return {"root": root, "rows": rows, "dataset": dataset, "specs": specs_file, "cache": root / "envs"}


def replays(folder: Path, outputs: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for instance_id, lines in outputs.items():
        write_replay(folder / f"{instance_id}.jsonl", lines)
    return folder


def run_args(suite: dict, output: Path, replay: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--dataset",
        str(suite["dataset"]),
        "--specs",
        str(suite["specs"]),
        "--output",
        str(output),
        "--cache-dir",
        str(suite["cache"]),
        "--backend",
        "replay",
        "--replay",
        str(replay),
        *extra,
    ]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def started_run(argv: list[str], started: Path, timeout: float, **popen: Any) -> subprocess.Popen:
    """`mimo-agent eval swe-bench ARGV` as a child process, returned once its agent touched `started`
    (or it exited, or `timeout` seconds passed)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mimo_agent.cli.main", "eval", "swe-bench", *argv],
        cwd=Path(__file__).parents[2],
        **popen,
    )
    deadline = time.monotonic() + timeout
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return proc


def test_replayed_fix_is_predicted_then_graded_resolved(
    suite: dict, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the harness must not rely on it
    replay = replays(tmp_path / "replays", dict.fromkeys(IDS, FIXING))
    assert cli(*run_args(suite, tmp_path / "out", replay, "--workers", "2", "--run-id", "r1")) == 0
    run_dir = tmp_path / "out" / "r1"
    predictions = lines(run_dir / "predictions.jsonl")
    assert sorted(p["instance_id"] for p in predictions) == list(IDS)
    for prediction in predictions:
        assert set(prediction) == {"instance_id", "model_name_or_path", "model_patch"}
        assert prediction["model_name_or_path"] == MODEL
        assert "-    return a - b\n+    return a + b" in prediction["model_patch"]
        assert prediction["model_patch"].count("diff --git") == 1  # no bytecode from the test run
        assert (run_dir / "patches" / f"{prediction['instance_id']}.diff").read_text() == prediction[
            "model_patch"
        ]
    trajectory = json.loads((run_dir / "trajectories" / "demo__calc-1.json").read_text())
    assert trajectory["outcome"]["kind"] == "finished"
    tests_run = [
        e for e in trajectory["events"] if e["type"] == "tool_result" and e["payload"]["name"] == "bash"
    ]
    # the tests ran (yolo by default), and test_patch's new test was not there
    assert "1 passed" in tests_run[0]["payload"]["output"]
    assert not (run_dir / "workspaces" / "demo__calc-1").exists()
    assert not (run_dir / "errors.jsonl").exists()
    err = capsys.readouterr().err
    assert "[2/2] patches 2, resolved n/a (no --grade), errors 0" in err and "eta" in err

    assert (
        cli(
            "grade",
            "--dataset",
            str(suite["dataset"]),
            "--specs",
            str(suite["specs"]),
            "--output",
            str(tmp_path / "out"),
            "--cache-dir",
            str(suite["cache"]),
            "--predictions",
            str(run_dir / "predictions.jsonl"),
        )
        == 0
    )
    summary = json.loads((tmp_path / "out" / "mimo-agent__replay.predictions.json").read_text())
    assert summary["resolved_ids"] == list(IDS)
    # the agent worked on a copy: the cached repository is untouched
    cached = next((suite["cache"] / "demo__calc-1").iterdir()) / "repo"
    assert "a - b" in (cached / "calc" / "ops.py").read_text()


def test_working_copy_is_the_base_without_history_or_new_tests(suite: dict, tmp_path: Path) -> None:
    probe = 'cd /tmp && python -c "import sys, calc; print(sys.prefix); print(calc.__file__)"'
    replay = write_replay(
        tmp_path / "one.jsonl", [call("bash", command=probe), call("finish", summary="done")]
    )
    argv = run_args(suite, tmp_path / "out", replay, "--instances", "demo__calc-1", "--keep-workspaces")
    assert cli(*argv) == 0
    run_dir = tmp_path / "out" / "mimo-agent__replay"  # the default run id
    trajectory = json.loads((run_dir / "trajectories" / "demo__calc-1.json").read_text())
    (probed,) = [
        e["payload"]["output"]
        for e in trajectory["events"]
        if e["payload"].get("name") == "bash" and e["type"] == "tool_result"
    ]
    prefix, module = probed.strip().splitlines()[:2]
    # the instance's venv runs the commands, and the copy's code (not the cache's) is what imports
    assert Path(prefix).resolve().is_relative_to(suite["cache"].resolve() / "demo__calc-1")
    assert (
        Path(module).resolve()
        == (run_dir / "workspaces" / "demo__calc-1" / "repo" / "calc" / "__init__.py").resolve()
    )
    assert lines(run_dir / "predictions.jsonl") == [
        {"instance_id": "demo__calc-1", "model_name_or_path": MODEL, "model_patch": ""}
    ]
    repo = run_dir / "workspaces" / "demo__calc-1" / "repo"
    assert "test_add" not in (repo / "tests" / "test_ops.py").read_text()
    assert "a - b" in (repo / "calc" / "ops.py").read_text()
    log = (repo / ".git" / "logs" / "HEAD").read_text().splitlines()
    assert len(log) == 1 and log[0].endswith("commit (initial): base")


def test_second_run_skips_predicted_and_retries_failed(
    suite: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    replay = replays(tmp_path / "replays", {"demo__calc-1": FIXING})
    (replay / "demo__calc-2.jsonl").write_text('{"broken\n')  # not JSON Lines: the backend cannot start
    argv = run_args(suite, tmp_path / "out", replay, "--workers", "2")
    assert cli(*argv) == 1  # one instance failed
    run_dir = tmp_path / "out" / "mimo-agent__replay"
    assert [p["instance_id"] for p in lines(run_dir / "predictions.jsonl")] == ["demo__calc-1"]
    (error,) = lines(run_dir / "errors.jsonl")
    assert error["instance_id"] == "demo__calc-2" and error["kind"] == "agent_error"
    assert "demo__calc-2.jsonl" in error["message"]
    assert "[2/2] patches 1, resolved n/a (no --grade), errors 1" in capsys.readouterr().err
    trajectory = run_dir / "trajectories" / "demo__calc-1.json"
    first = trajectory.stat().st_mtime_ns

    (replay / "demo__calc-1.jsonl").write_text('{"broken\n')  # would fail if it were run again
    write_replay(replay / "demo__calc-2.jsonl", FIXING)
    assert cli(*argv, "--grade") == 0
    assert trajectory.stat().st_mtime_ns == first
    assert [p["instance_id"] for p in lines(run_dir / "predictions.jsonl")] == [
        "demo__calc-1",
        "demo__calc-2",
    ]
    captured = capsys.readouterr()
    assert "demo__calc-1: already predicted; graded resolved" in captured.err  # the earlier prediction too
    assert "[2/2] patches 2, resolved 2, errors 0" in captured.err
    assert "| resolved | 2 |" in captured.out  # --grade graded both, under the same run id
    summary = json.loads((tmp_path / "out" / "mimo-agent__replay.mimo-agent__replay.json").read_text())
    assert summary["resolved_ids"] == list(IDS)


def test_grade_as_it_goes_counts_resolved_in_progress(
    suite: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    first_report = (
        out / "logs" / "run_evaluation" / "g" / "mimo-agent__replay" / "demo__calc-1" / "report.json"
    )
    probe = f"test -f {first_report} && echo GRADED-BEFORE"  # the second agent looks for the first's grade
    replay = replays(
        tmp_path / "replays",
        {"demo__calc-1": FIXING, "demo__calc-2": [call("bash", command=probe), call("finish", summary="no")]},
    )
    assert cli(*run_args(suite, out, replay, "--run-id", "g", "--grade")) == 0
    err = capsys.readouterr().err.splitlines()
    assert "[1/2] patches 1, resolved 1, errors 0" in err[0] and err[0].endswith("graded resolved")
    assert "[2/2] patches 1, resolved 1, errors 0" in err[1] and err[1].endswith("graded empty_patch")
    trajectory = json.loads((out / "g" / "trajectories" / "demo__calc-2.json").read_text())
    assert any("GRADED-BEFORE" in json.dumps(e) for e in trajectory["events"] if e["type"] == "tool_result")
    report = json.loads((out / "mimo-agent__replay.g.json").read_text())
    assert report["resolved_ids"] == ["demo__calc-1"] and report["empty_patch_ids"] == ["demo__calc-2"]


@pytest.mark.slow
def test_sigkilled_run_resumes_without_redoing_finished_instances(
    suite: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    started, pid_file = tmp_path / "started", tmp_path / "agent-command.pid"
    waiting = call("bash", command=f"echo $$ > {pid_file}; touch {started}; exec sleep 120")
    replay = replays(
        tmp_path / "replays", {"demo__calc-1": FIXING, "demo__calc-2": [waiting, call("finish", summary="x")]}
    )
    argv = run_args(suite, tmp_path / "out", replay, "--workers", "1")
    proc = started_run(argv, started, 120, stderr=subprocess.DEVNULL, start_new_session=True)
    assert started.exists(), "the second instance's agent never started"
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up: as a crash or an OOM kill
    proc.wait()
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the agent's command, if in another group
    run_dir = tmp_path / "out" / "mimo-agent__replay"
    assert [p["instance_id"] for p in lines(run_dir / "predictions.jsonl")] == ["demo__calc-1"]
    trajectory = run_dir / "trajectories" / "demo__calc-1.json"
    first = trajectory.stat().st_mtime_ns

    (replay / "demo__calc-1.jsonl").write_text('{"broken\n')  # would fail if it were run again
    write_replay(replay / "demo__calc-2.jsonl", FIXING)
    assert cli(*argv, "--grade") == 0
    assert trajectory.stat().st_mtime_ns == first
    assert [p["instance_id"] for p in lines(run_dir / "predictions.jsonl")] == list(IDS)
    assert "demo__calc-1: already predicted; graded resolved" in capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "mimo-agent__replay.mimo-agent__replay.json").read_text())
    assert summary["resolved_ids"] == list(IDS)


def test_torn_last_line_of_a_killed_run_is_dropped_and_redone(suite: dict, tmp_path: Path) -> None:
    replay = replays(tmp_path / "replays", dict.fromkeys(IDS, FIXING))
    run_dir = tmp_path / "out" / "mimo-agent__replay"
    run_dir.mkdir(parents=True)
    done = {"instance_id": "demo__calc-1", "model_name_or_path": MODEL, "model_patch": "kept"}
    (run_dir / "predictions.jsonl").write_text(json.dumps(done) + '\n{"instance_id": "demo__calc-2", "mod')
    assert cli(*run_args(suite, tmp_path / "out", replay)) == 0
    predictions = lines(run_dir / "predictions.jsonl")
    assert predictions[0] == done
    assert predictions[1]["instance_id"] == "demo__calc-2" and "a + b" in predictions[1]["model_patch"]


def test_environment_failure_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    rows, specs = [], {}
    for instance_id in ("demo__calc-ok", "demo__calc-nopy"):
        row, spec = make_instance(tmp_path, instance_id)
        rows.append(row)
        specs[instance_id] = spec
    specs["demo__calc-nopy"]["python"] = "3.99"
    dataset, specs_file = write_suite(tmp_path, rows, specs)
    replay = write_replay(tmp_path / "all.jsonl", FIXING)
    suite = {"dataset": dataset, "specs": specs_file, "cache": tmp_path / "envs"}
    assert (
        cli(*run_args(suite, tmp_path / "out", replay, "--model-name-or-path", "me/model", "--run-id", "x"))
        == 1
    )
    run_dir = tmp_path / "out" / "x"
    (prediction,) = lines(run_dir / "predictions.jsonl")
    assert prediction["instance_id"] == "demo__calc-ok" and prediction["model_name_or_path"] == "me/model"
    (error,) = lines(run_dir / "errors.jsonl")
    assert error["kind"] == "env_build_failed" and "Python 3.99" in error["message"]


def test_help_describes_formats_and_replay_folders(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli("run", "--help")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for expected in (
        "predictions.jsonl",
        "errors.jsonl",
        "DIR/ID.jsonl",
        "--permission-mode",
        "--workers",
        "--grade",
        "yolo",
        "trajectories/ID.json",
    ):
        assert expected in text


def test_bad_arguments_are_one_line_errors(suite: dict, tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "r.jsonl", FIXING)
    base = run_args(suite, tmp_path / "out", replay)
    with pytest.raises(CliError, match="--workers must be at least 1"):
        cli(*base, "--workers", "0")
    no_specs = [arg for arg in base if arg not in ("--specs", str(suite["specs"]))]
    with pytest.raises(CliError, match="needs --specs"):
        cli(*no_specs)
    no_replay = base[: base.index("--replay")]
    with pytest.raises(CliError, match="replay backend needs --replay"):
        cli(*no_replay)
    with pytest.raises(CliError, match="not in the dataset: nope"):
        cli(*base, "--instances", "nope")
    with pytest.raises(CliError, match="max_steps"):
        cli(*base, "--max-steps", "0")
    empty_specs = tmp_path / "specs.json"
    empty_specs.write_text("{}")
    with pytest.raises(CliError, match="no spec for instance 'demo__calc-1'"):
        cli(*[str(empty_specs) if arg == str(suite["specs"]) else arg for arg in base])
    assert not (tmp_path / "out").exists()  # nothing started


def test_resuming_with_another_model_name_is_refused(suite: dict, tmp_path: Path) -> None:
    run_dir = tmp_path / "out" / "r"
    run_dir.mkdir(parents=True)
    other = {"instance_id": "demo__calc-1", "model_name_or_path": "other/model", "model_patch": ""}
    (run_dir / "predictions.jsonl").write_text(json.dumps(other) + "\n")
    replay = write_replay(tmp_path / "r.jsonl", FIXING)
    with pytest.raises(CliError, match="holds predictions of other/model, not mimo-agent/replay"):
        cli(*run_args(suite, tmp_path / "out", replay, "--run-id", "r"))


def test_import_paths_put_the_copy_before_an_editable_install(tmp_path: Path) -> None:
    cached = tmp_path / "cache" / "repo"
    site = tmp_path / "cache" / "venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "__editable__.demo-1.0.pth").write_text(f"{cached / 'src'}\n")
    (site / "startup.pth").write_text("import sys\n")
    (site / "other.pth").write_text("/usr/lib/elsewhere\n")
    env = Environment(tmp_path / "cache", site.parents[2], cached, "abc", tmp_path / "pip", False)
    copy = tmp_path / "work" / "repo"
    assert import_paths(env, copy) == [str(copy), str(copy / "src")]


@pytest.mark.slow
def test_interrupt_stops_the_agent_and_records_nothing(suite: dict, tmp_path: Path) -> None:
    started = tmp_path / "started"
    outputs = [call("bash", command=f"touch {started} && sleep 3"), call("bash", command="echo next")]
    replay = write_replay(tmp_path / "r.jsonl", [*outputs, call("finish", summary="done")])
    argv = run_args(suite, tmp_path / "out", replay, "--instances", "demo__calc-1")
    proc = started_run(argv, started, 60, stderr=subprocess.PIPE, text=True)
    assert started.exists()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    run_dir = tmp_path / "out" / "mimo-agent__replay"
    assert not (run_dir / "predictions.jsonl").exists() and not (run_dir / "errors.jsonl").exists()
    trajectory = json.loads((run_dir / "trajectories" / "demo__calc-1.json").read_text())
    assert trajectory["outcome"]["kind"] == "interrupted"
    assert not any("next" in json.dumps(e) for e in trajectory["events"] if e["type"] == "tool_result")


class _SlowEcho:
    """A backend that notes how many calls run at once."""

    name = "slow-echo"

    def __init__(self) -> None:
        self.active = 0
        self.most = 0

    def complete(self, messages, tools, *, on_delta=None) -> Completion:
        self.active += 1
        self.most = max(self.most, self.active)
        time.sleep(0.05)
        self.active -= 1
        return Completion(text=str(len(messages)))

    def count_tokens(self, messages, tools) -> int:
        return len(messages)


def test_shared_backend_serialises_model_calls_across_workers() -> None:
    inner = _SlowEcho()
    shared = SerializedBackend(inner)
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda n: shared.complete([{}] * n, []).text, range(1, 9)))
    assert texts == [str(n) for n in range(1, 9)] and inner.most == 1
    assert shared.name == "slow-echo" and shared.count_tokens([{}, {}], []) == 2
    assert shared_backend(ModelSettings(backend="replay", replay="x.jsonl")) is None  # per instance instead


class _Tokenized(_SlowEcho):
    """A backend that knows its context size and counts text (by words)."""

    context_limit = 4096

    def count_text(self, text: str) -> int:
        return len(text.split())


def test_shared_backend_passes_cancel_context_limit_and_text_counts_through() -> None:
    cancel = threading.Event()
    cancel.set()
    replay = SerializedBackend(ReplayBackend(["a long answer"], chunk_chars=2))
    assert complete(replay, [], [], cancel=cancel).finish_reason == "interrupted"
    assert context_limit(replay) is None and text_counter(replay) is None  # replay has neither
    tokenized = SerializedBackend(_Tokenized())
    counter = text_counter(tokenized)
    assert context_limit(tokenized) == 4096 and counter is not None and counter("three short words") == 3


def test_default_model_names() -> None:
    assert default_model_name(ModelSettings(backend="embedded", path="/models/MiMo-V2-Flash/")) == (
        "mimo-agent/MiMo-V2-Flash"
    )
    assert default_model_name(ModelSettings(backend="openai", model_name="mimo")) == "mimo-agent/mimo"
    assert default_model_name(ModelSettings(backend="embedded")) == "mimo-agent/embedded"

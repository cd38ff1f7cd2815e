"""`mimo-agent eval swe-bench grade` on synthetic instances (gold, empty, broken patch, hang, resume) and the
SWE-bench rules on hand-written logs (XFAIL, skips, partial fixes)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT, TEST_EXIT_CODE

from mimo_agent.cli import eval as eval_cli
from mimo_agent.cli._common import CliError
from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.evaluate import report_from_log
from mimo_agent.evals.swebench.predictions import Prediction
from mimo_agent.evals.swebench.synthetic import BAD_PATCH, make_instance, write_predictions, write_suite

RUN = Path("logs") / "run_evaluation"


def grade(*argv: str) -> int:
    """The command as `mimo-agent` dispatches it (only this module's parser, so others' state cannot interfere)."""
    parser = argparse.ArgumentParser(prog="mimo-agent")
    eval_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "swe-bench", "grade", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("suite")
    rows, specs = [], {}
    for instance_id in ("demo__calc-1", "demo__calc-2"):
        row, spec = make_instance(root, instance_id)
        rows.append(row)
        specs[instance_id] = spec
    dataset, specs_file = write_suite(root, rows, specs)
    return {"root": root, "rows": rows, "dataset": dataset, "specs": specs_file, "cache": root / "envs"}


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def start_grading(argv: list[str]) -> subprocess.Popen:
    """The command in a child process (its own session) so the test can interrupt or kill it."""
    code = "import sys; from tests.evals.test_swebench_grade import grade; sys.exit(grade(*sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv], cwd=Path(__file__).parents[2], start_new_session=True
    )


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert path.exists(), f"{path} did not appear"


def summary(output: Path, model: str, run_id: str) -> dict:
    return json.loads((output / f"{model}.{run_id}.json").read_text())


def test_gold_resolves_and_empty_does_not(suite: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    common = ["--dataset", str(suite["dataset"]), "--specs", str(suite["specs"]), "--output", str(tmp_path)]
    common += ["--cache-dir", str(suite["cache"]), "--workers", "2"]
    assert grade(*common, "--predictions", "gold") == 0
    gold = summary(tmp_path, "gold", "gold")
    assert gold["resolved_ids"] == ["demo__calc-1", "demo__calc-2"]
    assert gold["completed_instances"] == 2 and gold["error_ids"] == [] and gold["schema_version"] == 2
    report = json.loads((tmp_path / RUN / "gold" / "gold" / "demo__calc-1" / "report.json").read_text())
    entry = report["demo__calc-1"]
    assert entry["resolution"] == "RESOLVED_FULL" and entry["patch_successfully_applied"]
    assert entry["tests_status"]["FAIL_TO_PASS"]["success"] == ["tests/test_ops.py::test_add"]
    out = capsys.readouterr()
    assert "| resolved | 2 |" in out.out
    assert "[2/2] resolved 2" in out.err and "eta" in out.err

    assert grade(*common, "--predictions", "empty") == 0
    empty = summary(tmp_path, "empty", "empty")
    assert empty["resolved_ids"] == [] and empty["unresolved_ids"] == ["demo__calc-1", "demo__calc-2"]
    report = json.loads((tmp_path / RUN / "empty" / "empty" / "demo__calc-2" / "report.json").read_text())
    status = report["demo__calc-2"]["tests_status"]
    assert status["FAIL_TO_PASS"]["failure"] == ["tests/test_ops.py::test_add"]
    assert status["PASS_TO_PASS"]["success"] == ["tests/test_ops.py::test_mul"]
    test_output = (tmp_path / RUN / "empty" / "empty" / "demo__calc-2" / "test_output.txt").read_text()
    assert ">>>>> Start Test Output" in test_output and ">>>>> Test Exit Code: 1" in test_output
    # the cached repository is back at its prepared state: no test patch, no model patch left behind
    repo = next((suite["cache"] / "demo__calc-1").iterdir()) / "repo"
    assert "a - b" in (repo / "calc" / "ops.py").read_text()
    assert "test_add" not in (repo / "tests" / "test_ops.py").read_text()


def test_predictions_file_broken_patch_is_a_model_error(
    suite: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gold = suite["rows"][0]["patch"]
    write_predictions(tmp_path, {"demo__calc-1": gold, "demo__calc-2": BAD_PATCH})
    monkeypatch.chdir(tmp_path)  # relative paths, as typed by a user
    argv = ["--dataset", str(suite["dataset"]), "--specs", str(suite["specs"]), "--output", "out"]
    assert grade(*argv, "--cache-dir", "envs", "--predictions", "preds.jsonl") == 0
    report = summary(tmp_path / "out", "demo__model", "preds")
    assert report["resolved_ids"] == ["demo__calc-1"]
    assert report["error_ids"] == ["demo__calc-2"]
    assert report["failure_reasons"] == {"demo__calc-2": "patch_apply_failed"}
    assert report["infra_failure_ids"] == []  # the model's fault, not the environment's
    error = json.loads(
        (tmp_path / "out" / RUN / "preds" / "demo__model" / "demo__calc-2" / "error.json").read_text()
    )
    assert error["kind"] == "patch_apply_failed" and error["infra"] is False


def test_empty_model_patch_in_a_file_is_not_run(suite: dict, tmp_path: Path) -> None:
    preds = write_predictions(tmp_path, {"demo__calc-1": ""})
    argv = ["--dataset", str(suite["dataset"]), "--specs", str(suite["specs"]), "--output", str(tmp_path)]
    assert grade(*argv, "--cache-dir", str(suite["cache"]), "--predictions", str(preds)) == 0
    report = summary(tmp_path, "demo__model", "preds")
    assert report["empty_patch_ids"] == ["demo__calc-1"] and report["completed_ids"] == []
    assert report["incomplete_ids"] == ["demo__calc-2"]


def test_hanging_tests_are_a_timeout_infra_error(tmp_path: Path) -> None:
    row, spec = make_instance(tmp_path, "demo__calc-hang", hang_seconds=600)
    dataset, specs = write_suite(tmp_path, [row], {"demo__calc-hang": spec})
    started = time.monotonic()
    assert (
        grade(
            "--dataset",
            str(dataset),
            "--specs",
            str(specs),
            "--output",
            str(tmp_path),
            "--predictions",
            "gold",
            "--timeout",
            "3",
        )
        == 0
    )
    assert time.monotonic() - started < 60
    report = summary(tmp_path, "gold", "gold")
    assert report["error_ids"] == ["demo__calc-hang"] and report["infra_failure_ids"] == ["demo__calc-hang"]
    assert report["failure_reasons"] == {"demo__calc-hang": "tests_timed_out"}
    log_dir = tmp_path / RUN / "gold" / "gold" / "demo__calc-hang"
    assert "Timeout error: 3 seconds exceeded." in (log_dir / "test_output.txt").read_text()
    assert not (log_dir / "report.json").exists()
    assert not alive(int((log_dir / "hang.pid").read_text()))  # the whole process group was killed


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_instances(tmp_path: Path) -> None:
    rows, specs = [], {}
    for instance_id, hang in (("demo__calc-a", 0), ("demo__calc-b", 15)):
        row, spec = make_instance(tmp_path, instance_id, hang_seconds=hang)
        rows.append(row)
        specs[instance_id] = spec
    dataset, specs_file = write_suite(tmp_path, rows, specs)
    argv = [
        "--dataset",
        str(dataset),
        "--specs",
        str(specs_file),
        "--output",
        str(tmp_path / "out"),
        "--predictions",
        "gold",
    ]
    proc = start_grading(argv)
    finished = tmp_path / "out" / RUN / "gold" / "gold" / "demo__calc-a" / "report.json"
    wait_for(finished, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    orphan = finished.parent.parent / "demo__calc-b" / "hang.pid"  # its test may have started: end it here
    time.sleep(1)
    if orphan.exists() and alive(int(orphan.read_text())):
        os.kill(int(orphan.read_text()), signal.SIGKILL)
    first = finished.stat().st_mtime_ns
    assert grade(*argv, "--timeout", "2") == 0
    assert finished.stat().st_mtime_ns == first  # not graded again
    report = summary(tmp_path / "out", "gold", "gold")
    assert report["resolved_ids"] == ["demo__calc-a"]
    assert report["failure_reasons"] == {"demo__calc-b": "tests_timed_out"}


@pytest.mark.slow
def test_interrupt_kills_the_tests_and_records_no_result(tmp_path: Path) -> None:
    row, spec = make_instance(tmp_path, "demo__calc-int", hang_seconds=600)
    dataset, specs = write_suite(tmp_path, [row], {"demo__calc-int": spec})
    proc = start_grading(
        ["--dataset", str(dataset), "--specs", str(specs), "--output", str(tmp_path), "--predictions", "gold"]
    )
    log_dir = tmp_path / RUN / "gold" / "gold" / "demo__calc-int"
    wait_for(log_dir / "hang.pid", proc)
    os.kill(proc.pid, signal.SIGINT)  # Ctrl-C reaches the harness only: the tests run in their own session
    assert proc.wait(timeout=30) != 0
    deadline = time.monotonic() + 5
    while alive(int((log_dir / "hang.pid").read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(int((log_dir / "hang.pid").read_text()))
    assert not (log_dir / "report.json").exists()
    assert json.loads((log_dir / "error.json").read_text())["kind"] == "harness_error"


def test_spec_for_another_python_is_an_infra_error(tmp_path: Path) -> None:
    row, spec = make_instance(tmp_path, "demo__calc-py")
    dataset, specs = write_suite(tmp_path, [row], {"demo__calc-py": {**spec, "python": "2.6"}})
    assert (
        grade(
            "--dataset",
            str(dataset),
            "--specs",
            str(specs),
            "--output",
            str(tmp_path),
            "--predictions",
            "gold",
        )
        == 0
    )
    report = summary(tmp_path, "gold", "gold")
    assert report["failure_reasons"] == {"demo__calc-py": "env_build_failed"}
    error = json.loads((tmp_path / RUN / "gold" / "gold" / "demo__calc-py" / "error.json").read_text())
    assert "Python 2.6" in error["message"] and error["infra"] is True


def test_user_errors_are_one_line_cli_errors(
    suite: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["--dataset", str(suite["dataset"]), "--output", str(tmp_path), "--predictions", "gold"]
    with pytest.raises(CliError, match="needs --specs"):
        grade(*base)
    with pytest.raises(CliError, match="not in the dataset: nope"):
        grade(*base, "--specs", str(suite["specs"]), "--instances", "nope")
    only_one = tmp_path / "one.json"
    only_one.write_text(json.dumps({"demo__calc-1": json.loads(suite["specs"].read_text())["demo__calc-1"]}))
    with pytest.raises(CliError, match="no spec for instance 'demo__calc-2'"):
        grade(*base, "--specs", str(only_one))
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker command at all
    with pytest.raises(CliError, match="none is available: the docker command is not installed"):
        grade(*base, "--backend", "docker")
    assert not (tmp_path / "logs").exists()  # nothing ran


def test_nothing_is_written_outside_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row, spec = make_instance(tmp_path, "demo__calc-home")
    dataset, specs = write_suite(tmp_path, [row], {"demo__calc-home": spec})
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    out = tmp_path / "out"
    assert (
        grade("--dataset", str(dataset), "--specs", str(specs), "--output", str(out), "--predictions", "gold")
        == 0
    )
    assert summary(out, "gold", "gold")["resolved_ids"] == ["demo__calc-home"]
    assert list(home.iterdir()) == [] and list(tmp.iterdir()) == []


LOG_LINES = {  # pytest -rA summary lines, as the parser reads them
    "ok": "PASSED tests/t.py::test_ok",
    "fixed": "PASSED tests/t.py::test_fixed",
    "broken": "FAILED tests/t.py::test_broken - assert 0",
    "known": "XFAIL tests/t.py::test_known - known bug",
    "skipped": "SKIPPED tests/t.py::test_skipped",
    "unnamed_skip": "SKIPPED [1] tests/t.py:9: needs network",  # pytest's own form: no test id
}


@pytest.mark.parametrize(
    ("f2p", "p2p", "shown", "resolution"),
    [
        (["fixed", "known"], ["ok", "skipped"], ["fixed", "known", "ok", "skipped"], "RESOLVED_FULL"),
        (["fixed", "broken"], ["ok", "skipped"], ["fixed", "broken", "ok", "skipped"], "RESOLVED_PARTIAL"),
        (["fixed"], ["ok", "broken"], ["fixed", "ok", "broken"], "RESOLVED_NO"),  # a regression
        (["skipped"], ["ok"], ["skipped", "ok"], "RESOLVED_NO"),  # a skipped F2P resolves nothing
        (["fixed"], ["ok", "skipped"], ["fixed", "ok", "unnamed_skip"], "RESOLVED_NO"),  # not in the log
    ],
)
def test_swebench_rules_for_xfail_skips_and_partial_fixes(
    tmp_path: Path, f2p: list[str], p2p: list[str], shown: list[str], resolution: str
) -> None:
    def test_id(name: str) -> str:
        return f"tests/t.py::test_{name}"

    instance = Instance("a__b-1", "a/b", "c0ffee", "", "", tuple(map(test_id, f2p)), tuple(map(test_id, p2p)))
    exit_code = 1 if "broken" in shown else 0
    log = tmp_path / "test_output.txt"
    lines = [START_TEST_OUTPUT, *(LOG_LINES[name] for name in shown), END_TEST_OUTPUT]
    log.write_text("\n".join([*lines, f"{TEST_EXIT_CODE}: {exit_code}", ""]))
    report = report_from_log(instance, "parse_log_pytest", Prediction("a__b-1", "m", "diff"), log)
    entry = report["a__b-1"]
    assert entry["resolution"] == resolution
    assert entry["resolved"] is (resolution == "RESOLVED_FULL")  # PARTIAL is not resolved
    status = entry["tests_status"]
    if "known" in f2p:
        assert test_id("known") in status["FAIL_TO_PASS"]["success"]  # XFAIL passes
    if "skipped" in p2p:
        kept = "skipped" in shown
        assert (test_id("skipped") in status["PASS_TO_PASS"]["success"]) is kept
        assert (test_id("skipped") in status["PASS_TO_PASS"]["failure"]) is not kept

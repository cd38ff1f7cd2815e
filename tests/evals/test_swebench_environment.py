"""The environment cache: built once per spec digest, rebuilt when the spec changes, resumed when incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.environment import EnvironmentCache
from mimo_agent.evals.swebench.errors import EnvironmentBuildError
from mimo_agent.evals.swebench.git import git_output
from mimo_agent.evals.swebench.specs import parse_spec
from mimo_agent.evals.swebench.synthetic import make_instance


def test_cached_per_spec_and_rebuilt_when_it_changes(tmp_path: Path) -> None:
    row, raw = make_instance(tmp_path, "demo__calc-env")
    instance = Instance.from_row(row, "row")
    cache = EnvironmentCache(tmp_path / "envs")
    spec = parse_spec(raw, "spec", tmp_path)
    with cache.locked(instance):
        first = cache.get(instance, spec)
        again = cache.get(instance, spec)
    assert first.built_now and not again.built_now and again.root == first.root
    assert (first.repo / "calc" / "ops.py").read_text() == (
        tmp_path / "sources" / "demo__calc-env" / "calc" / "ops.py"
    ).read_text()
    assert git_output(first.repo, ["rev-parse", "HEAD"]) == first.prepared_commit
    site = next((first.venv / "lib").glob("python*/site-packages"))
    assert (site / "mimo_agent_startup.pth").read_text().startswith("import sys")

    changed = parse_spec({**raw, "test_cmd": raw["test_cmd"] + " -q"}, "spec", tmp_path)
    with cache.locked(instance):
        rebuilt = cache.get(instance, changed)
    assert rebuilt.built_now and rebuilt.root != first.root
    assert not first.root.exists()  # the stale environment of that instance is gone


def test_an_interrupted_build_is_redone(tmp_path: Path) -> None:
    row, raw = make_instance(tmp_path, "demo__calc-half")
    instance = Instance.from_row(row, "row")
    spec = parse_spec(raw, "spec", tmp_path)
    cache = EnvironmentCache(tmp_path / "envs")
    half = tmp_path / "envs" / "demo__calc-half" / spec.digest(instance)
    (half / "repo").mkdir(parents=True)  # a build that died before writing ready.json
    with cache.locked(instance):
        env = cache.get(instance, spec)
    assert env.built_now and (env.repo / "calc" / "ops.py").exists()


def test_a_failing_build_step_names_the_step_and_log(tmp_path: Path) -> None:
    row, raw = make_instance(tmp_path, "demo__calc-bad")
    instance = Instance.from_row(row, "row")
    spec = parse_spec({**raw, "source": {"type": "git", "url": str(tmp_path / "no-repo")}}, "spec", tmp_path)
    cache = EnvironmentCache(tmp_path / "envs", build_timeout=60)
    with (
        cache.locked(instance),
        pytest.raises(
            EnvironmentBuildError, match=r"clone the repository \(exit code 128\); see .*build.log"
        ),
    ):
        cache.get(instance, spec)


def test_git_sources_are_cloned_at_base_commit(tmp_path: Path) -> None:
    row, raw = make_instance(tmp_path, "demo__calc-git")
    origin = tmp_path / "sources" / "demo__calc-git"
    (origin / "calc" / "ops.py").write_text("later = True\n")  # history moves on after the base commit
    git_output(origin, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "later"])
    instance = Instance.from_row(row, "row")
    spec = parse_spec({**raw, "source": {"type": "git", "url": str(origin)}}, "spec", tmp_path)
    cache = EnvironmentCache(tmp_path / "envs")
    with cache.locked(instance):
        env = cache.get(instance, spec)
    assert "def add" in (env.repo / "calc" / "ops.py").read_text()
    assert git_output(env.repo, ["rev-parse", "HEAD~1"]) == row["base_commit"]


def test_editing_a_path_source_rebuilds_with_the_edit(tmp_path: Path) -> None:
    row, raw = make_instance(tmp_path, "demo__calc-edit")
    instance = Instance.from_row(row, "row")
    cache = EnvironmentCache(tmp_path / "envs")
    with cache.locked(instance):
        first = cache.get(instance, parse_spec(raw, "spec", tmp_path))
    (tmp_path / "sources" / "demo__calc-edit" / "calc" / "extra.py").write_text("EDITED = True\n")
    with cache.locked(instance):
        again = cache.get(instance, parse_spec(raw, "spec", tmp_path))  # the same spec text
    assert again.built_now and again.root != first.root
    assert (again.repo / "calc" / "extra.py").read_text() == "EDITED = True\n"

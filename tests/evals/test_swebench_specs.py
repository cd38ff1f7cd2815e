"""`--specs` files: the shared real specs load, and every malformed spec names instance and key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mimo_agent.evals.swebench.dataset import Instance, load_instances
from mimo_agent.evals.swebench.errors import SpecError
from mimo_agent.evals.swebench.specs import load_specs

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "swebench"
GOOD = {
    "source": {"type": "sdist", "requirement": "marshmallow==3.0.0"},
    "python": "3.11",
    "pip_install": ["pytest==8.3.5"],
    "install": "python -m pip install --no-deps -e .",
    "test_cmd": "python -m pytest -rA tests/test_fields.py",
    "log_parser": "parse_log_pytest",
}


def write(tmp_path: Path, specs: dict) -> Path:
    path = tmp_path / "specs.json"
    path.write_text(json.dumps(specs))
    return path


def test_the_shared_specs_load_and_cover_the_shared_instances() -> None:
    book = load_specs(SHARED / "offline_specs.json")
    for instance in load_instances(SHARED / "offline_instances.jsonl"):
        spec = book.for_instance(instance)
        assert spec.source.type == "sdist" and spec.python == "3.11"
    marshmallow = book.specs["marshmallow-code__marshmallow-1343"]
    assert marshmallow.python_startup.startswith("import collections")
    assert marshmallow.pip_install[0] == "pytest==8.3.5"


def test_digest_changes_with_the_spec_and_the_instance(tmp_path: Path) -> None:
    instance = Instance("a__b-1", "a/b", "c0ffee", "", "", (), (), version="1.0")
    one = load_specs(write(tmp_path, {"x": GOOD})).specs["x"]
    two = load_specs(write(tmp_path, {"x": {**GOOD, "pip_install": ["pytest==8.3.4"]}})).specs["x"]
    assert one.digest(instance) == load_specs(write(tmp_path, {"x": GOOD})).specs["x"].digest(instance)
    assert one.digest(instance) != two.digest(instance)
    other = Instance("a__b-2", "a/b", "c0ffee", "", "", (), (), version="1.0")
    assert one.digest(instance) != one.digest(other)


def test_repo_at_version_keys_cover_every_instance_of_a_release(tmp_path: Path) -> None:
    book = load_specs(write(tmp_path, {"a/b@1.0": GOOD}))
    instance = Instance("a__b-7", "a/b", "c0ffee", "", "", (), (), version="1.0")
    assert book.for_instance(instance).source.requirement == "marshmallow==3.0.0"
    with pytest.raises(SpecError, match="no spec for instance 'a__b-8'"):
        book.for_instance(Instance("a__b-8", "a/b", "c0ffee", "", "", (), (), version="2.0"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pip_instal": []}, "inst: unknown key\\(s\\) pip_instal"),
        ({"test_cmd": "  "}, "inst: key 'test_cmd' must be a non-empty string"),
        ({"python": "3"}, "inst: key 'python' must be MAJOR.MINOR"),
        ({"pip_install": "pytest"}, "inst: key 'pip_install' must be a list"),
        (
            {"log_parser": "parse_log_nope"},
            "inst: key 'log_parser' names no swebench log parser: 'parse_log_nope'",
        ),
        (
            {"python_startup": "collections.Mapping = 1"},
            "inst: key 'python_startup' must be one line starting with 'import'",
        ),
        (
            {"source": {"type": "svn", "url": "x"}},
            "inst: key 'source': expected an object with 'type' one of",
        ),
        (
            {"source": {"type": "sdist", "requirement": "marshmallow"}},
            "must pin one release as NAME==VERSION",
        ),
        ({"source": {"type": "git"}}, "type 'git' needs a non-empty string 'url'"),
        ({"source": {"type": "git", "url": "u", "ref": "main"}}, "unknown key\\(s\\) ref for type 'git'"),
        ({"source": {"type": "path", "path": "nowhere"}}, "'path' 'nowhere' is not a folder"),
    ],
)
def test_malformed_specs_name_the_instance_and_key(tmp_path: Path, change: dict, message: str) -> None:
    spec = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    with pytest.raises(SpecError, match=message):
        load_specs(write(tmp_path, {"inst": spec}))


def test_missing_keys_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="inst: missing key 'log_parser'"):
        load_specs(write(tmp_path, {"inst": {k: v for k, v in GOOD.items() if k != "log_parser"}}))
    with pytest.raises(SpecError, match="expected a JSON object"):
        load_specs(write(tmp_path, [GOOD]))
    with pytest.raises(SpecError, match="no such specs file"):
        load_specs(tmp_path / "missing.json")


def test_path_sources_resolve_next_to_the_specs_file(tmp_path: Path) -> None:
    (tmp_path / "src" / "repo").mkdir(parents=True)
    book = load_specs(write(tmp_path, {"inst": {**GOOD, "source": {"type": "path", "path": "src/repo"}}}))
    assert book.specs["inst"].source.path == str(tmp_path / "src" / "repo")


def test_path_source_digest_follows_the_folder_contents(tmp_path: Path) -> None:
    folder = tmp_path / "src" / "repo"
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "mod.py").write_text("x = 1\n")
    (folder / ".git").mkdir()
    instance = Instance("a__b-1", "a/b", "c0ffee", "", "", (), (), version="1.0")

    def digest() -> str:
        raw = {**GOOD, "source": {"type": "path", "path": "src/repo"}}
        return load_specs(write(tmp_path, {"inst": raw})).specs["inst"].digest(instance)

    first = digest()
    assert digest() == first  # stable while nothing changes
    (folder / ".git" / "index").write_text("git's own files are not copied into the build")
    assert digest() == first
    (folder / "pkg" / "mod.py").write_text("x = 22\n")  # an edit (new size)
    edited = digest()
    assert edited != first
    os.utime(folder / "pkg" / "mod.py", ns=(1, 1))  # same size, other mtime
    touched = digest()
    assert touched != edited
    (folder / "pkg" / "new.py").write_text("")  # a new file
    assert digest() != touched

"""Environment specs (`--specs FILE`): how to build and test one instance without Docker.

The file maps an instance id (or `REPO@VERSION`, for every instance of that release) to a spec; see
`shared/swebench/README.md` for the format. Validation is strict (unknown keys are errors) so a typo
cannot silently change an environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.errors import SpecError

SPEC_KEYS = {"source", "python", "pip_install", "install", "python_startup", "test_cmd", "log_parser"}
SOURCE_KEYS = {"sdist": {"requirement"}, "git": {"url"}, "path": {"path"}}


@dataclass(frozen=True)
class Source:
    """Where the repository comes from: a PyPI sdist, a git url (checked out at `base_commit`) or a folder."""

    type: Literal["sdist", "git", "path"]
    requirement: str = ""
    url: str = ""
    path: str = ""


@dataclass(frozen=True)
class Spec:
    source: Source
    python: str
    test_cmd: str
    log_parser: str
    pip_install: tuple[str, ...] = field(default_factory=tuple)
    install: str = ""
    python_startup: str = ""

    def digest(self, instance: Instance) -> str:
        """Content hash of everything the built environment depends on: a change forces a rebuild.

        A `path` source's folder is part of it (file names, sizes and mtimes), so editing the folder
        rebuilds too; the other sources are pinned by the spec (sdist version) or by `base_commit`.
        """
        payload = {
            "spec": asdict(self),
            "instance_id": instance.instance_id,
            "base_commit": instance.base_commit,
            "folder": folder_fingerprint(Path(self.source.path)) if self.source.type == "path" else "",
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def folder_fingerprint(folder: Path) -> str:
    """Hash of the relative path, size and mtime of every file and link under `folder`.

    `.git` is left out, as the build's copy leaves it out. Stat data rather than contents keeps this
    cheap on a large tree: a touched but unchanged file costs a needless rebuild, while an edit that
    keeps both size and mtime (`cp -p` of a same-size file) goes unnoticed.
    """
    digest = hashlib.sha256()
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if name != ".git")
        for name in sorted([*files, *(d for d in dirs if os.path.islink(os.path.join(current, d)))]):
            if name == ".git":  # a worktree's or submodule's .git file
                continue
            path = os.path.join(current, name)
            stat = os.lstat(path)
            digest.update(f"{os.path.relpath(path, folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class SpecBook:
    """All specs of one file, looked up by instance id first and then by `REPO@VERSION`."""

    def __init__(self, specs: dict[str, Spec], path: Path) -> None:
        self.specs = specs
        self.path = path

    def for_instance(self, instance: Instance) -> Spec:
        spec = self.specs.get(instance.instance_id) or self.specs.get(f"{instance.repo}@{instance.version}")
        if spec is None:
            raise SpecError(
                f"{self.path}: no spec for instance {instance.instance_id!r} "
                f"(keys tried: {instance.instance_id!r}, {instance.repo + '@' + instance.version!r})"
            )
        return spec


def load_specs(path: str | Path) -> SpecBook:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: no such specs file") from exc
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a JSON object mapping instance ids to specs")
    return SpecBook(
        {key: parse_spec(value, f"{path}: {key}", path.parent) for key, value in data.items()}, path
    )


def parse_spec(raw: Any, where: str, base_dir: Path) -> Spec:
    """Validate one spec; `where` names file and key in errors, relative `path` sources resolve in `base_dir`."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected an object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - SPEC_KEYS)
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(SPEC_KEYS))})"
        )
    for key in ("source", "python", "test_cmd", "log_parser"):
        if key not in raw:
            raise SpecError(f"{where}: missing key {key!r}")
    python = _string(raw, "python", where)
    if not re.fullmatch(r"\d+\.\d+", python):
        raise SpecError(f"{where}: key 'python' must be MAJOR.MINOR such as '3.11', got {python!r}")
    pip_install = raw.get("pip_install", [])
    if not isinstance(pip_install, list) or not all(isinstance(p, str) and p.strip() for p in pip_install):
        raise SpecError(f"{where}: key 'pip_install' must be a list of requirement strings")
    startup = _string(raw, "python_startup", where, required=False)
    if startup and ("\n" in startup or not startup.startswith(("import ", "import\t"))):
        raise SpecError(
            f"{where}: key 'python_startup' must be one line starting with 'import' "
            "(site.py only executes .pth lines that do)"
        )
    return Spec(
        source=_source(raw["source"], f"{where}: key 'source'", base_dir),
        python=python,
        test_cmd=_string(raw, "test_cmd", where),
        log_parser=_log_parser(_string(raw, "log_parser", where), where),
        pip_install=tuple(pip_install),
        install=_string(raw, "install", where, required=False),
        python_startup=startup,
    )


def _string(raw: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise SpecError(f"{where}: key {key!r} must be a {'non-empty ' if required else ''}string")
    return value


def _source(raw: Any, where: str, base_dir: Path) -> Source:
    if not isinstance(raw, dict) or raw.get("type") not in SOURCE_KEYS:
        raise SpecError(f"{where}: expected an object with 'type' one of {', '.join(SOURCE_KEYS)}")
    kind = raw["type"]
    expected = SOURCE_KEYS[kind]
    unknown = sorted(set(raw) - expected - {"type"})
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) {', '.join(unknown)} for type {kind!r} (expected {', '.join(expected)})"
        )
    (key,) = expected
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: type {kind!r} needs a non-empty string {key!r}")
    if kind == "sdist" and not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+", value):
        raise SpecError(f"{where}: 'requirement' must pin one release as NAME==VERSION, got {value!r}")
    if kind == "path":
        folder = (base_dir / value).resolve()
        if not folder.is_dir():
            raise SpecError(f"{where}: 'path' {value!r} is not a folder (resolved to {folder})")
        value = str(folder)
    return Source(type=kind, **{key: value})


def _log_parser(name: str, where: str) -> str:
    from swebench.harness.log_parsers import PARSER_REGISTRY

    if name not in PARSER_REGISTRY:
        close = [known for known in PARSER_REGISTRY if name.split("_")[-1] in known][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise SpecError(f"{where}: key 'log_parser' names no swebench log parser: {name!r}{hint}")
    return name

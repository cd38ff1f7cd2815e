"""Per-instance environments (a venv plus the prepared repository), built from a spec and cached.

Layout: `CACHE/INSTANCE_ID/DIGEST/{venv,repo,build.log,ready.json}`. DIGEST hashes the spec, the
instance and, for a `path` source, the folder's file list, so a changed spec or folder builds a new
environment (older ones of that instance are deleted). The repository is committed after installation;
graders reset it to that commit before and after use, under a per-instance file lock. The repository
is reused in place rather than copied because an editable install binds the venv to the repository's
absolute path: a copy elsewhere would not be what the tests import.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.errors import EnvironmentBuildError
from mimo_agent.evals.swebench.git import commit_all, git
from mimo_agent.evals.swebench.process import run_logged
from mimo_agent.evals.swebench.specs import Spec

READY = "ready.json"


@dataclass(frozen=True)
class Environment:
    root: Path
    venv: Path
    repo: Path
    prepared_commit: str
    pip_cache: Path
    built_now: bool

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def variables(self, tmp: Path) -> dict[str, str]:
        """Process environment with only the instance's venv on PATH and caches and temp files kept inside."""
        return instance_variables(self.venv, self.pip_cache, tmp)


def instance_variables(venv: Path, pip_cache: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    foreign = {str(Path(p) / "bin") for p in (os.environ.get("VIRTUAL_ENV"), sys.prefix) if p}
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and entry not in foreign]
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "PATH": os.pathsep.join([str(venv / "bin"), *path]),
            "VIRTUAL_ENV": str(venv),
            "PYTHONNOUSERSITE": "1",
            "PIP_CACHE_DIR": str(pip_cache),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
            "TMPDIR": str(tmp),
        }
    )
    return env


def find_python(version: str) -> str:
    """The interpreter for a spec's MAJOR.MINOR: this one when it matches, else `pythonX.Y` on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidate = shutil.which(f"python{version}")
    if candidate:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise EnvironmentBuildError(
        f"spec asks for Python {version}; the harness runs {sys.version_info.major}.{sys.version_info.minor} "
        f"and no python{version} is on PATH"
    )


class EnvironmentCache:
    def __init__(self, root: Path, build_timeout: float = 1800) -> None:
        self.root = root.resolve()  # commands run in other folders
        self.build_timeout = build_timeout
        self.pip_cache = self.root / "pip-cache"

    @contextmanager
    def locked(self, instance: Instance) -> Iterator[None]:
        """Exclusive use of one instance's environments, across threads and processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{instance.instance_id}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, instance: Instance, spec: Spec) -> Environment:
        """The cached environment, built first if absent or incomplete. Call while holding `locked`."""
        home = self.root / instance.instance_id
        root = home / spec.digest(instance)
        ready = root / READY
        if ready.is_file():
            info = json.loads(ready.read_text())
            return self._environment(root, info, built_now=False)
        if home.is_dir():
            for stale in home.iterdir():
                shutil.rmtree(stale)
        started = time.monotonic()
        info = _Builder(instance, spec, root, self.pip_cache, self.build_timeout).build()
        info["build_seconds"] = round(time.monotonic() - started, 2)
        ready.write_text(json.dumps(info, indent=2))
        return self._environment(root, info, built_now=True)

    def _environment(self, root: Path, info: dict, built_now: bool) -> Environment:
        return Environment(
            root=root,
            venv=root / "venv",
            repo=root / "repo",
            prepared_commit=info["prepared_commit"],
            pip_cache=self.pip_cache,
            built_now=built_now,
        )


class _Builder:
    """The build steps for one environment; every command's output goes to `build.log`."""

    def __init__(self, instance: Instance, spec: Spec, root: Path, pip_cache: Path, timeout: float) -> None:
        self.instance = instance
        self.spec = spec
        self.root = root
        self.venv = root / "venv"
        self.repo = root / "repo"
        self.log = root / "build.log"
        self.timeout = timeout
        self.env = instance_variables(self.venv, pip_cache, root / "tmp")

    def build(self) -> dict:
        self.root.mkdir(parents=True, exist_ok=True)
        python = find_python(self.spec.python)
        # pip is only seeded when the spec installs something: venv creation drops from ~4 s to ~0.1 s.
        needs_pip = bool(self.spec.pip_install or self.spec.install)
        self._step(
            "create the venv",
            [python, "-m", "venv", *([] if needs_pip else ["--without-pip"]), str(self.venv)],
        )
        if self.spec.python_startup:
            self._write_startup()
        if self.spec.pip_install:
            self._step(
                "install pinned packages",
                [str(self.venv / "bin/python"), "-m", "pip", "install", *self.spec.pip_install],
            )
        self._fetch_source()
        if self.spec.install:
            self._step("install the repository", ["bash", "-c", self.spec.install], cwd=self.repo)
        prepared = commit_all(self.repo, "prepared environment", self.log)
        if prepared is None:
            self._fail("commit the prepared repository")
        shutil.rmtree(self.root / "tmp", ignore_errors=True)
        return {
            "instance_id": self.instance.instance_id,
            "digest": self.root.name,
            "prepared_commit": prepared,
            "python": self.spec.python,
        }

    def _step(self, what: str, command: list[str], cwd: Path | None = None, env: dict | None = None) -> None:
        result = run_logged(
            command, cwd=cwd or self.root, log=self.log, timeout=self.timeout, env=env or self.env
        )
        if result.timed_out:
            self._fail(f"{what} (timed out after {self.timeout:.0f} s)")
        if result.returncode != 0:
            self._fail(f"{what} (exit code {result.returncode})")

    def _fail(self, what: str) -> None:
        raise EnvironmentBuildError(
            f"{self.instance.instance_id}: environment build failed: {what}; see {self.log}"
        )

    def _write_startup(self) -> None:
        site = subprocess.run(
            [str(self.venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        Path(site, "mimo_agent_startup.pth").write_text(self.spec.python_startup + "\n")

    def _fetch_source(self) -> None:
        source = self.spec.source
        if source.type == "git":
            self._step("clone the repository", ["git", "clone", "-q", source.url, str(self.repo)])
            self._git("check out base_commit", ["checkout", "-q", "--detach", self.instance.base_commit])
            return
        if source.type == "sdist":
            self._unpack(self._download_sdist(source.requirement))
        else:
            shutil.copytree(source.path, self.repo, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        self._git("initialise the repository", ["init", "-q"])
        if commit_all(self.repo, "base", self.log) is None:
            self._fail("commit the base repository")

    def _download_sdist(self, requirement: str) -> Path:
        """`pip download` of the sdist; without build isolation first, which skips ~20 s of setup per sdist."""
        target = self.root / "download"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "-d",
            str(target),
        ]
        env = {**self.env, "PATH": os.environ.get("PATH", "")}  # the harness's pip, not the instance's
        first = run_logged(
            [*command, "--no-build-isolation", requirement], self.root, self.log, self.timeout, env
        )
        if first.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            self._step(f"download {requirement}", [*command, requirement], env=env)
        archives = sorted(target.iterdir())
        if len(archives) != 1:
            self._fail(f"download {requirement} (expected one archive, found {len(archives)})")
        return archives[0]

    def _unpack(self, archive: Path) -> None:
        unpacked = self.root / "unpacked"
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(unpacked)
        else:
            with tarfile.open(archive) as tarred:
                tarred.extractall(unpacked, filter="data")
        entries = list(unpacked.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        top.rename(self.repo)
        shutil.rmtree(unpacked, ignore_errors=True)
        archive.unlink()

    def _git(self, what: str, args: list[str]) -> None:
        if git(self.repo, args, self.log).returncode != 0:
            self._fail(what)

"""The agent's working copy of one instance: the prepared repository's files in a fresh one-commit git repo.

A copy rather than a worktree or clone: the agent never writes into the environment cache, and it cannot
read the upstream history, whose later commits hold the fix. The copy's single commit has exactly the
prepared commit's tree, so the agent's diff applies where the grader applies it; ignored files (built
extensions, egg-info) are copied too, so the code still imports.

The instance venv is reused, not copied (venvs do not move). An editable install binds it to the cached
repository, so the agent's shell gets PYTHONPATH entries that put the copy's code first on `sys.path`:
the copy's root and the copy's counterparts of every cached-repository folder a `.pth` file adds.
The `test_patch` is never applied here: as in SWE-bench, the agent does not see the new tests.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.environment import Environment, EnvironmentCache
from mimo_agent.evals.swebench.errors import WorkspaceError
from mimo_agent.evals.swebench.git import commit_all, git, git_output, reset_clean
from mimo_agent.evals.swebench.specs import Spec


@dataclass(frozen=True)
class AgentWorkspace:
    repo: Path
    base_commit: str
    # for the agent's shell: the instance venv first on PATH, the copy first on sys.path
    environ: dict[str, str]


def prepare_workspace(
    cache: EnvironmentCache, instance: Instance, spec: Spec, root: Path, log: Path
) -> AgentWorkspace:
    """Build (or reuse) the instance's environment and copy its repository to `root/repo`.

    Raises EnvironmentBuildError when the environment cannot be built, WorkspaceError when git fails.
    """
    root = root.resolve()
    if root.exists():
        shutil.rmtree(root)
    repo = root / "repo"
    log.parent.mkdir(parents=True, exist_ok=True)
    with cache.locked(instance):  # a grader may be using the cached repository: copy it pristine
        env = cache.get(instance, spec)
        if not reset_clean(env.repo, env.prepared_commit, log):
            raise WorkspaceError(f"{instance.instance_id}: cannot reset {env.repo}; see {log}")
        shutil.copytree(env.repo, repo, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        tracked = git_output(env.repo, ["ls-tree", "-r", "-z", "--name-only", env.prepared_commit])
    listing = root / "tracked-files"
    listing.write_text(tracked)
    # tracked files that match .gitignore are added by force, so the base tree equals the prepared tree
    add = ["--literal-pathspecs", "add", "-f", f"--pathspec-from-file={listing}", "--pathspec-file-nul"]
    if git(repo, ["init", "-q"], log).returncode != 0 or (tracked and git(repo, add, log).returncode != 0):
        raise WorkspaceError(f"{instance.instance_id}: cannot make a git repository in {repo}; see {log}")
    base = commit_all(repo, "base", log)
    if base is None:
        raise WorkspaceError(f"{instance.instance_id}: cannot commit the working copy {repo}; see {log}")
    listing.unlink()
    environ = env.variables(root / "tmp")
    environ["PYTHONPATH"] = os.pathsep.join(import_paths(env, repo))
    environ["PYTHONDONTWRITEBYTECODE"] = "1"  # else the agent's test runs put .pyc files into its patch
    return AgentWorkspace(repo, base, environ)


def import_paths(env: Environment, repo: Path) -> list[str]:
    """The copy's root, then the copy's counterparts of cached-repository folders named in the venv's .pth files."""
    paths = [str(repo)]
    for pth in sorted(env.venv.glob("lib/python*/site-packages/*.pth")):
        for line in pth.read_text(encoding="utf-8", errors="replace").splitlines():
            entry = Path(line.strip())
            if entry.is_absolute() and entry.is_relative_to(env.repo):
                paths.append(str(repo / entry.relative_to(env.repo)))
    return list(dict.fromkeys(paths))

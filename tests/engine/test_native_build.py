"""Building and loading the native kernels: a cache others can write to is refused, not loaded."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mimo_agent.engine import native


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler here")
    folder = tmp_path / "native"
    monkeypatch.setenv("MIMO_AGENT_NATIVE_DIR", str(folder))
    native.library.cache_clear()
    yield folder
    native.library.cache_clear()


def test_builds_into_a_private_folder(fresh: Path) -> None:
    assert native.library() is not None
    assert fresh.stat().st_mode & 0o777 == 0o700 and len(list(fresh.glob("kernels-*.so"))) == 1


def test_a_library_others_can_replace_is_not_loaded(fresh: Path) -> None:
    assert native.library() is not None
    fresh.chmod(0o777)  # as if the cache sat in a shared, world-writable folder
    native.library.cache_clear()
    assert native.library() is None


def test_switched_off(monkeypatch: pytest.MonkeyPatch, fresh: Path) -> None:
    monkeypatch.setenv("MIMO_AGENT_NATIVE", "0")
    assert native.library() is None and not fresh.exists()

"""`ServerProcess`: a server that cannot start is an error quoting its output, and leaves no log behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.server.launch import ServerProcess


def test_a_server_that_exits_is_an_error_quoting_its_log_and_the_log_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "tmp"
    logs.mkdir()
    monkeypatch.setenv("TMPDIR", str(logs))
    with pytest.raises(RuntimeError, match="server exited with 2: .*not a checkpoint directory"):
        ServerProcess(tmp_path / "missing")
    assert list(logs.iterdir()) == []

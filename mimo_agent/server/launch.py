"""`mimo-agent serve` as a child process on a free loopback port, for benchmarks and end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Starts the server, waits until /health answers, and kills its whole process group on exit.

    The server's output goes to a log in $TMPDIR (read by `log()` while it runs), removed with the server."""

    def __init__(
        self, model: Path, *extra_args: str, name: str = "tiny", ready_timeout: float = 120.0
    ) -> None:
        self.name = name
        for attempt in range(3):  # another process may take the free port before the server binds it
            self._start(model, extra_args)
            try:
                self._wait_ready(ready_timeout)
                return
            except RuntimeError as exc:  # its message quotes the log's tail
                self.log_path.unlink(missing_ok=True)
                if attempt == 2 or "address already in use" not in str(exc):
                    raise

    def _start(self, model: Path, extra_args: tuple[str, ...]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mimo-serve-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "mimo_agent.cli.main",
            "serve",
            "--model",
            str(model),
            "--port",
            str(self.port),
            "--served-model-name",
            self.name,
            *extra_args,
        ]
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        said = self.log()
        self.kill()
        raise RuntimeError(f"server not ready after {timeout:.0f}s: {said}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()

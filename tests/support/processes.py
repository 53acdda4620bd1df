"""Syncline as real processes (`serve`, `api`, `worker`) for end-to-end tests and benchmarks.

`SynclineProcess` starts `python -m syncline <command>` with an environment of its own (the
caller's `SYNCLINE_*` variables are dropped), appends its output to a log file, and can wait for
readiness, stop it in order (SIGTERM) or kill it (SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["SynclineProcess", "clean_env", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its `SYNCLINE_*` variables, plus `settings`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLINE_")}
    return {**inherited, **settings}


class SynclineProcess:
    """One `python -m syncline <command>` process; `start` may be called again after it ended."""

    def __init__(self, command: str, env: Mapping[str, str], log: Path) -> None:
        self.command = command
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        """The HTTP base URL (`serve` and `api`)."""
        return f"http://127.0.0.1:{self.env['SYNCLINE_PORT']}"

    def start(self) -> None:
        assert not self.alive, f"{self.command} is already running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "syncline", self.command],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        """Until `/readyz` answers 200 (`serve` and `api`).

        Raises:
            AssertionError: the process exited, or was not ready in time; shows its log.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.alive, f"syncline {self.command} exited:\n{self.log_text()}"
            time.sleep(0.1)
        raise AssertionError(f"syncline {self.command} did not become ready:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: no chance to release leases or finish a page."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, and its exit status; killed if it takes longer than `timeout`."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

"""An S3-compatible server for tests and the demo: moto's server mode, run as a subprocess on
127.0.0.1 (moto is a development dependency, `pip install -e '.[dev]'`).

with MotoServer() as server:
    env = s3_env(server.url)   # SYNCLINE_AMAZONS3_API_URL points Syncline at it

moto keeps its state in that process: buckets and objects are made through its S3 API (any
client that signs requests), and `reset()` empties it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, Self

import httpx

__all__ = ["MotoServer", "MotoUnavailable", "s3_env"]

HOST = "127.0.0.1"


class MotoUnavailable(RuntimeError):
    """moto's server mode is not installed: `pip install -e '.[dev]'` (or `'moto[server]'`)."""


def s3_env(url: str) -> dict[str, str]:
    """`SYNCLINE_AMAZONS3_*` for an S3-compatible server at `url`: the API origin, which S3's
    paths (path-style, `{url}/{bucket}/{key}`) are appended to, in place of
    `https://s3.{region}.amazonaws.com`, and STS's (`GetCallerIdentity`, which checks keys
    on import), in place of `https://sts.{region}.amazonaws.com`; moto serves both."""
    origin = url.rstrip("/")
    return {"SYNCLINE_AMAZONS3_API_URL": origin, "SYNCLINE_AMAZONS3_STS_URL": origin}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """`python -m moto.server` on a free port of 127.0.0.1, in a subprocess of its own.

    Use as a context manager, or `start()` and `stop()`; `url` is valid once started.

    Raises:
        MotoUnavailable: on start, when moto's server mode is not installed.
    """

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, without a trailing slash."""
        if self._process is None:
            raise RuntimeError("the moto server is not running")
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        """Start moto and return once it answers HTTP.

        Raises:
            MotoUnavailable: moto (or flask, its server's framework) is not installed.
            RuntimeError: moto exited or did not answer within the start-up timeout.
        """
        if self._process is not None:
            return self
        for module in ("moto", "flask"):
            if importlib.util.find_spec(module) is None:
                raise MotoUnavailable(
                    f"The S3 sandbox needs moto's server mode, and {module!r} is not installed:"
                    " run `pip install -e '.[dev]'` (or `pip install 'moto[server]'`)."
                )
        self.port = _free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process' life
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self._timeout
        while True:
            if self._process.poll() is not None:
                output = self._output()
                self._process = None
                raise RuntimeError(f"moto server exited at start-up:\n{output}")
            try:
                httpx.get(f"{self.url}/moto-api/data.json", timeout=1.0)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not answer in time") from None
                time.sleep(0.05)
            else:
                return self

    def reset(self) -> None:
        """Forget every bucket, object, user and key, and turn request authentication off."""
        httpx.post(f"{self.url}/moto-api/reset-auth", content=b"inf", timeout=10.0)
        httpx.post(f"{self.url}/moto-api/reset", timeout=10.0).raise_for_status()

    def require_signatures(self) -> None:
        """From now on, check every request's signature and permissions against moto's IAM
        users (and STS sessions), as S3 does; until `reset`."""
        httpx.post(f"{self.url}/moto-api/reset-auth", content=b"0", timeout=10.0)

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        """Stop moto and wait for it to exit."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""The S3 sandbox: moto's server mode as a subprocess on 127.0.0.1, started, waited for and
stopped; and a clear error where moto (a development dependency) is not installed."""

from __future__ import annotations

import importlib.util
import socket

import httpx
import pytest

from syncline.sandbox.s3 import MotoServer, MotoUnavailable, s3_env


def test_moto_serves_on_loopback_until_stopped():
    """The server answers on 127.0.0.1 at the port it reports, and once stopped its process
    is gone and the port refuses connections."""
    server = MotoServer().start()
    try:
        url, port = server.url, server.port
        answer = httpx.get(f"{url}/moto-api/data.json")
        process = server._process
    finally:
        server.stop()

    assert f"http://127.0.0.1:{port}" == url
    assert 200 == answer.status_code
    assert process is not None
    assert process.poll() is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_s3_env_points_the_connector_and_sts_at_the_server():
    """`s3_env(url)` sets the S3 API origin and the STS origin (which moto also serves)."""
    assert {
        "SYNCLINE_AMAZONS3_API_URL": "http://127.0.0.1:9",
        "SYNCLINE_AMAZONS3_STS_URL": "http://127.0.0.1:9",
    } == s3_env("http://127.0.0.1:9/")


def test_without_moto_starting_fails_with_how_to_install_it(monkeypatch):
    """Where moto is not installed, start() raises MotoUnavailable saying how to install it,
    and runs nothing."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a)
    )
    server = MotoServer()

    with pytest.raises(MotoUnavailable, match=r"pip install"):
        server.start()
    assert server._process is None

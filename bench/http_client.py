"""The client-side CPU of one small HTTP request, as an idle sync run makes it: httpx's client
with its one connection pool against Syncline's shared client, which spreads requests over
several (`connectors/transport.py`).

    python -m bench.http_client [--concurrency 32] [--seconds 4] [--rounds 3]

A server in its own process answers every GET with a Drive-like empty change page. `--concurrency`
tasks share one client (as the runs of a worker share one) and each sends requests one after
another for `--seconds`; rounds alternate the two clients so both see the same machine. Prints
requests/s and the event loop thread's CPU per request (the server's CPU is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

import httpx

from bench.common import table
from syncline.connectors.transport import SHARDS, shared_client

BODY = b'{"kind":"drive#changeList","newStartPageToken":"1234","changes":[]}'


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    await send(  # type: ignore[operator]
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})  # type: ignore[operator]


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(_app, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def _round(
    client: httpx.AsyncClient, url: str, concurrency: int, seconds: float
) -> tuple[int, float]:
    done = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop:
            response = await client.get(url)
            assert response.status_code == 200
            done += 1

    cpu = time.thread_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.thread_time() - cpu


async def measure(url: str, concurrency: int, seconds: float, rounds: int) -> list[list[str]]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    timeout = httpx.Timeout(60.0, connect=10.0)
    clients = {
        "one pool (httpx)": httpx.AsyncClient(timeout=timeout, limits=limits),
        f"{SHARDS} pools (Syncline)": shared_client(timeout=timeout, limits=limits),
    }
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    for client in clients.values():  # warm: open the connections
        await _round(client, url, concurrency, 0.5)
    for _ in range(rounds):
        for name, client in clients.items():
            done, cpu = await _round(client, url, concurrency, seconds)
            figures[name].append((done / seconds, cpu / done * 1e6))
    for client in clients.values():
        await client.aclose()
    base = statistics.median(us for _, us in next(iter(figures.values())))
    rows = []
    for name, runs in figures.items():
        us = statistics.median(u for _, u in runs)
        rate = statistics.median(r for r, _ in runs)
        rows.append([name, f"{rate:,.0f}", f"{us:.0f}", f"{base / us:.2f}x"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "bench.http_client", "--serve", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/drive/v3/changes"
        for _ in range(100):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rows = asyncio.run(measure(url, args.concurrency, args.seconds, args.rounds))
    finally:
        server.terminate()
        server.wait()
    print(
        f"{args.concurrency} concurrent GETs on one client, {args.rounds} alternating rounds of "
        f"{args.seconds:g} s each (medians; the server's CPU not counted)\n"
    )
    print(table([["client", "requests/s", "loop CPU µs/request", "vs one pool"], *rows]))


if __name__ == "__main__":
    main()

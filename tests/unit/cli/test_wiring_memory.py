"""`wiring.limit_malloc_arenas`: the glibc arena cap `serve`, `api` and `worker` set first."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from syncline.wiring import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_arena_cap_is_accepted_by_glibc():
    """On glibc, `mallopt(M_ARENA_MAX, 2)` is accepted (returns True), and a process that set
    it before starting threads still runs them and allocates normally."""
    script = (
        "import threading; from syncline.wiring import limit_malloc_arenas;"
        "assert limit_malloc_arenas();"
        "out = [];"
        "ts = [threading.Thread(target=lambda: out.append(bytes(10**6))) for _ in range(8)];"
        "[t.start() for t in ts]; [t.join() for t in ts]; print(len(out))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "8" == done.stdout.strip()
    assert limit_malloc_arenas() is True

"""What a fake upstream saw: every request, the peak number in flight, and each sync run's span.

Syncline names its run in the User-Agent (`syncline/<version> (run <id>)`). Given who called
(the user behind the bearer token), `Traffic` keeps, per caller and run id, the span from the
first request's arrival to the last one's answer, so a test can tell whether two runs of one
sync ever talked to the upstream at the same time (`overlapping_runs`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

__all__ = ["RunSpan", "Traffic", "run_id_of"]

_RUN_ID = re.compile(r"\(run ([^)\s]+)\)")


def run_id_of(user_agent: str | None) -> str | None:
    """The run id a `syncline/<version> (run <id>)` User-Agent carries, else None."""
    match = _RUN_ID.search(user_agent or "")
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class RunSpan:
    """From the first request of one run of `caller` to the end of its last (monotonic s)."""

    caller: str
    run_id: str
    start: float
    end: float
    requests: int

    def overlaps(self, other: RunSpan) -> bool:
        return self.start < other.end and other.start < self.end


class Traffic:
    """Thread-safe: the server thread records while the test thread reads."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        """(method, path, query parameters) in arrival order."""
        self.max_concurrent = 0
        """Peak number of requests in flight at the same time."""
        self._in_flight = 0
        self._lock = threading.Lock()
        self._open: dict[int, tuple[str, str]] = {}  # request number -> (caller, run id)
        self._open_count: dict[tuple[str, str], int] = {}
        self._spans: dict[tuple[str, str], list[float]] = {}  # -> [start, end, requests]
        self._number = 0

    def begin(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        caller: str | None = None,
        user_agent: str | None = None,
    ) -> int:
        """A request arrived; returns its number, for `end`.

        `caller` names whose data it reads (for a sync: its user); with a run id in
        `user_agent`, the request counts towards that run's span.
        """
        now = time.monotonic()
        run_id = run_id_of(user_agent)
        with self._lock:
            self.requests.append((method, path, query))
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)
            self._number += 1
            if caller is not None and run_id is not None:
                key = (caller, run_id)
                self._open[self._number] = key
                self._open_count[key] = self._open_count.get(key, 0) + 1
                span = self._spans.setdefault(key, [now, now, 0])
                span[2] += 1
            return self._number

    def end(self, number: int | None = None) -> None:
        """A request finished (answered, failed or abandoned)."""
        now = time.monotonic()
        with self._lock:
            self._in_flight -= 1
            key = self._open.pop(number, None) if number is not None else None
            if key is not None:
                self._open_count[key] -= 1
                span = self._spans[key]
                span[1] = max(span[1], now)

    def run_spans(self) -> list[RunSpan]:
        """Every run seen so far; a run with a request still in flight extends to now."""
        now = time.monotonic()
        with self._lock:
            return [
                RunSpan(
                    caller,
                    run_id,
                    span[0],
                    now if self._open_count.get((caller, run_id)) else span[1],
                    int(span[2]),
                )
                for (caller, run_id), span in self._spans.items()
            ]

    def overlapping_runs(self) -> list[tuple[RunSpan, RunSpan]]:
        """Pairs of different runs of one caller whose spans overlap: doubled runs."""
        by_caller: dict[str, list[RunSpan]] = {}
        for span in self.run_spans():
            by_caller.setdefault(span.caller, []).append(span)
        pairs = []
        for spans in by_caller.values():
            spans.sort(key=lambda s: s.start)
            for i, first in enumerate(spans):
                for later in spans[i + 1 :]:
                    if later.start >= first.end:
                        break
                    pairs.append((first, later))
        return pairs

    def count(self, path_prefix: str = "") -> int:
        """How many requests had a path starting with `path_prefix`."""
        with self._lock:
            return sum(1 for _, path, _ in self.requests if path.startswith(path_prefix))

    def reset(self) -> None:
        """Forget history (the in-flight count stays true)."""
        with self._lock:
            self.requests.clear()
            self.max_concurrent = self._in_flight
            self._spans = {k: v for k, v in self._spans.items() if self._open_count.get(k)}

"""What a fake upstream saw: every request, and the peak number in flight at once."""

from __future__ import annotations

import threading

__all__ = ["Traffic"]


class Traffic:
    """Thread-safe: the server thread records while the test thread reads."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        """(method, path, query parameters) in arrival order."""
        self.max_concurrent = 0
        """Peak number of requests in flight at the same time."""
        self._in_flight = 0
        self._lock = threading.Lock()

    def begin(self, method: str, path: str, query: dict[str, str]) -> None:
        """A request arrived."""
        with self._lock:
            self.requests.append((method, path, query))
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)

    def end(self) -> None:
        """A request finished (answered, failed or abandoned)."""
        with self._lock:
            self._in_flight -= 1

    def count(self, path_prefix: str = "") -> int:
        """How many requests had a path starting with `path_prefix`."""
        with self._lock:
            return sum(1 for _, path, _ in self.requests if path.startswith(path_prefix))

    def reset(self) -> None:
        """Forget history (the in-flight count stays true)."""
        with self._lock:
            self.requests.clear()
            self.max_concurrent = self._in_flight

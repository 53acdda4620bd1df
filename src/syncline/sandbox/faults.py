"""Scripted failures for fake upstreams: "the next N requests under this path fail like so"."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

__all__ = ["Fault", "FaultQueue"]


@dataclass(slots=True)
class Fault:
    """One armed failure; `remaining` counts the requests it still applies to."""

    kind: str
    remaining: int
    path: str | None
    retry_after: float | None


class FaultQueue:
    """Faults in arming order; the oldest one matching a request's path fires first.

    Args:
        kinds: the fault names this upstream understands.
        default_scope: which paths a fault armed without `path` applies to (fakes keep
            their token endpoints out of it, so a test can fail data calls only).
    """

    def __init__(self, kinds: Collection[str], default_scope: Callable[[str], bool]) -> None:
        self._kinds = frozenset(kinds)
        self._default_scope = default_scope
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Arm `kind` for the next `times` requests whose path starts with `path`.

        Raises:
            ValueError: unknown fault name or a non-positive count.
        """
        if kind not in self._kinds:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(self._kinds)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, times, path, retry_after))

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first fault that applies to `path`."""
        with self._lock:
            for fault in self._faults:
                applies = (
                    self._default_scope(path) if fault.path is None else path.startswith(fault.path)
                )
                if applies:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

"""Failures for fake upstreams: scripted ("the next N requests under this path fail like so")
and steady ("a seeded random share of requests fail, of these kinds").

Some kinds only make sense for some requests (a stale page token needs a request that carries
one); each kind may name a predicate on (path, query) saying where it can fire. A scripted
fault waits for the first request it can apply to; a steady fault draws among the kinds that
apply to the request at hand.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Applies", "Chaos", "Fault", "FaultQueue"]

Applies = Callable[[str, Mapping[str, str]], bool]
"""Whether a fault kind can fire on a request, given its path and query parameters."""


@dataclass(slots=True)
class Fault:
    """One armed failure; `remaining` counts the requests it still applies to."""

    kind: str
    remaining: int
    path: str | None
    retry_after: float | None


@dataclass(frozen=True, slots=True)
class Chaos:
    """Steady faults: each request in scope fails with probability `rate`, as one of `kinds`.

    Attributes:
        rate: the share of requests that fail, in [0, 1].
        kinds: the fault kinds drawn from (uniformly, among those that apply to the request).
        retry_after: for rate-limit kinds, the `Retry-After` values drawn from (None: no
            header).
        seed: the random generator's seed; with one request at a time the same seed fails the
            same requests (concurrent clients make arrival order, hence draws, vary).
    """

    rate: float
    kinds: tuple[str, ...]
    retry_after: tuple[float | None, ...]
    seed: int | None


class FaultQueue:
    """Faults in arming order (the oldest one matching a request fires first), then chaos.

    Args:
        kinds: the fault names this upstream understands.
        default_scope: which paths a fault armed without `path`, and chaos, apply to (fakes
            keep their token endpoints out of it, so a test can fail data calls only).
        applies: for kinds that fit only some requests, where they can fire.
        rate_limited: kinds that may carry a `Retry-After` (chaos draws one for them).
    """

    def __init__(
        self,
        kinds: Collection[str],
        default_scope: Callable[[str], bool],
        *,
        applies: Mapping[str, Applies] | None = None,
        rate_limited: Collection[str] = (),
    ) -> None:
        self._kinds = frozenset(kinds)
        self._default_scope = default_scope
        self._applies = dict(applies or {})
        self._rate_limited = frozenset(rate_limited)
        self._faults: list[Fault] = []
        self._chaos: Chaos | None = None
        self._rng = random.Random()
        self._fired: Counter[str] = Counter()
        self._lock = threading.Lock()

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Arm `kind` for the next `times` requests whose path starts with `path` (and that
        the kind can apply to).

        Raises:
            ValueError: unknown fault name or a non-positive count.
        """
        self._check(kind)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, times, path, retry_after))

    def chaos(
        self,
        rate: float,
        *,
        kinds: Sequence[str],
        seed: int | None = None,
        retry_after: Sequence[float | None] = (None,),
    ) -> Chaos:
        """Fail a `rate` share of the requests in the default scope from now on.

        Raises:
            ValueError: a rate outside [0, 1], no kinds, an unknown kind, or no retry_after.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not kinds:
            raise ValueError("chaos needs at least one fault kind")
        for kind in kinds:
            self._check(kind)
        if not retry_after:
            raise ValueError("retry_after needs at least one value (None for no header)")
        settings = Chaos(rate, tuple(kinds), tuple(retry_after), seed)
        with self._lock:
            self._chaos = settings
            self._rng = random.Random(seed)
        return settings

    def calm(self) -> None:
        """Stop steady faults (armed ones stay armed)."""
        with self._lock:
            self._chaos = None

    def take(self, path: str, query: Mapping[str, str] | None = None) -> Fault | None:
        """The fault this request meets, if any: one use of the first armed fault that applies,
        else a chaos draw."""
        query = {} if query is None else query
        with self._lock:
            fault = self._take_armed(path, query) or self._draw(path, query)
            if fault is not None:
                self._fired[fault.kind] += 1
            return fault

    @property
    def fired(self) -> dict[str, int]:
        """How many times each kind fired so far (scripted and steady), by kind."""
        with self._lock:
            return dict(self._fired)

    def clear(self) -> None:
        """Disarm everything and stop steady faults."""
        with self._lock:
            self._faults.clear()
            self._chaos = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def _check(self, kind: str) -> None:
        if kind not in self._kinds:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(self._kinds)}")

    def _fits(self, kind: str, path: str, query: Mapping[str, str]) -> bool:
        fits = self._applies.get(kind)
        return fits is None or fits(path, query)

    def _take_armed(self, path: str, query: Mapping[str, str]) -> Fault | None:
        for fault in self._faults:
            if fault.path is None:
                applies = self._default_scope(path)
            else:
                applies = path.startswith(fault.path)
            if applies and self._fits(fault.kind, path, query):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _draw(self, path: str, query: Mapping[str, str]) -> Fault | None:
        chaos = self._chaos
        if chaos is None or not self._default_scope(path):
            return None
        if self._rng.random() >= chaos.rate:
            return None
        candidates = [kind for kind in chaos.kinds if self._fits(kind, path, query)]
        if not candidates:
            return None
        kind = self._rng.choice(candidates)
        retry_after = None
        if kind in self._rate_limited:
            retry_after = self._rng.choice(chaos.retry_after)
        return Fault(kind, 1, None, retry_after)

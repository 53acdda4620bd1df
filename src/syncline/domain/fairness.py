"""How many due runs each project may start now: caps first, then one at a time in turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunCaps:
    """Limits on runs in progress across every worker; 0 means no cap."""

    per_project: int = 0
    total: int = 0


NO_CAPS = RunCaps()


def allocate(
    slots: int, due: Mapping[str, int], running: Mapping[str, int], caps: RunCaps
) -> dict[str, int]:
    """Share `slots` among projects with due runs.

    Args:
        slots: runs this worker can start now.
        due: due runs per project, ordered by each project's longest-waiting run.
        running: runs in progress per project, on every worker.
        caps: the cluster-wide limits.

    Projects take turns, one run each per round, so a project with thousands of due syncs cannot
    starve one with a single sync; within a round the longest-waiting project goes first.
    """
    if caps.total:
        slots = min(slots, max(0, caps.total - sum(running.values())))
    room = {
        project: min(count, max(0, caps.per_project - running.get(project, 0)))
        if caps.per_project
        else count
        for project, count in due.items()
    }
    taken = dict.fromkeys(room, 0)
    while slots > 0:
        progressed = False
        for project, limit in room.items():
            if slots > 0 and taken[project] < limit:
                taken[project] += 1
                slots -= 1
                progressed = True
        if not progressed:
            break
    return {project: n for project, n in taken.items() if n}

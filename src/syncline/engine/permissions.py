"""The permission part of a run: who is in the shared drives and groups its items point to.

Item grants travel with the items (the store writes them with each page). What a page cannot
carry is membership: the members of a shared drive, and of groups, nested ones included. A run
notes the drives and groups its items mention; at its end this reads the ones that are new,
changed (the change feed reports drive membership changes), or older than `refresh_after`, and
all of them on an initial or full run. A group the credential cannot expand (no directory
scope) is kept as an opaque principal and reported as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from syncline.connectors.base import PermissionsReader
from syncline.domain.permissions import Relation
from syncline.domain.records import Upsert
from syncline.errors import UpstreamNotFound
from syncline.store.permissions import PermissionStore
from syncline.types import JSONObject

__all__ = ["MAX_GROUPS", "MembershipScan"]

MAX_GROUPS = 10_000
"""Groups expanded per run at most: a guard against a runaway directory, not a real limit."""

_OPAQUE_NAMED = 20


@dataclass(slots=True)
class MembershipScan:
    """What one run has seen of drives and groups, and then the reading of their members."""

    store: PermissionStore
    clock: Callable[[], datetime]
    refresh_after: timedelta
    containers: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)

    def observe(self, items: Iterable[Upsert]) -> None:
        for item in items:
            access = item.access
            if access is None:
                continue
            if access.container is not None:
                self.containers.add(access.container)
            for grant in access.grants:
                if grant.subject.startswith("group:"):
                    self.groups.add(grant.subject[6:])

    def containers_changed(self, ids: Iterable[str]) -> None:
        self.changed.update(ids)

    async def read(
        self, sync_id: str, reader: PermissionsReader, *, everything: bool
    ) -> JSONObject | None:
        """Read the memberships due; a summary for the event log (always after a listing, and
        after an incremental only when it read something)."""
        now = self.clock()
        stale = now - self.refresh_after
        if not everything and not (self.containers or self.changed or self.groups):
            # The routine idle check: one indexed read decides that nothing is due.
            oldest = await self.store.oldest_source(sync_id)
            if oldest is None or oldest >= stale:
                return None
        known_drives = await self.store.sources(sync_id, "drive")
        known_groups = await self.store.sources(sync_id, "group")

        def due(key: str, known: dict[str, datetime]) -> bool:
            return everything or key not in known or known[key] < stale

        drive_times = {k: v.fetched_at for k, v in known_drives.items()}
        group_times = {k: v.fetched_at for k, v in known_groups.items()}
        drives = {d for d in self.containers | set(drive_times) if due(d, drive_times)}
        drives |= self.changed
        groups = {g for g in self.groups | set(group_times) if due(g, group_times)}
        if not drives and not groups and not everything:
            return None

        gone = 0
        for drive in sorted(drives):
            try:
                grants = await reader.container_grants(drive)
            except UpstreamNotFound:
                gone += 1
                await self.store.replace_source(
                    sync_id, "drive", drive, tuples=[], status="gone", now=now
                )
                continue
            rows = [(str(g.relation), g.subject) for g in grants]
            groups.update(g.subject[6:] for g in grants if g.subject.startswith("group:"))
            await self.store.replace_source(
                sync_id, "drive", drive, tuples=rows, status="ok", now=now
            )

        opaque: list[str] = []
        expanded = 0
        pending, visited = sorted(groups), set(groups)
        while pending and expanded < MAX_GROUPS:
            group = pending.pop()
            expanded += 1
            members = await reader.group_members(group)
            if members is None:
                opaque.append(group)
                await self.store.replace_source(
                    sync_id, "group", group, tuples=[], status="opaque", now=now
                )
                continue
            await self.store.replace_source(
                sync_id,
                "group",
                group,
                tuples=[(Relation.MEMBER.value, m) for m in members],
                status="ok",
                now=now,
            )
            for member in members:
                nested = member[6:] if member.startswith("group:") else None
                if nested and nested not in visited and due(nested, group_times):
                    visited.add(nested)
                    pending.append(nested)

        summary: JSONObject = {
            "drives": len(drives),
            "drivesGone": gone,
            "groups": expanded,
            "opaqueGroups": len(opaque),
        }
        if opaque:
            named = sorted(opaque)[:_OPAQUE_NAMED]
            summary["message"] = (
                "These groups could not be expanded: the credential cannot read the directory "
                "(for Google, the admin.directory.group.readonly scope of a Workspace admin). "
                "Nobody gets access through them until it can: " + ", ".join(named)
            )
        return summary

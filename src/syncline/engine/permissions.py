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
from datetime import UTC, datetime, timedelta

from syncline.connectors.base import MembershipFeed, PermissionsReader
from syncline.domain.permissions import Relation
from syncline.domain.records import Upsert
from syncline.errors import UpstreamAuthError, UpstreamError, UpstreamNotFound
from syncline.store.permissions import PermissionStore, SourceState
from syncline.store.prepared import PreparedPage
from syncline.types import JSONObject

__all__ = ["MAX_GROUPS", "MembershipScan"]

MAX_GROUPS = 10_000
"""Groups expanded per run at most: a guard against a runaway directory, not a real limit."""

_OPAQUE_NAMED = 20

GROUPS_FEED = "groups"
"""The name under which a sync's position in the membership feed is kept."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    def observe_prepared(self, page: PreparedPage) -> None:
        """`observe`, for a page the workers prepared (which noted its drives and groups)."""
        self.containers.update(page.containers)
        self.groups.update(page.groups)

    def containers_changed(self, ids: Iterable[str]) -> None:
        self.changed.update(ids)

    async def read(
        self, sync_id: str, reader: PermissionsReader, *, everything: bool
    ) -> JSONObject | None:
        """Read the memberships due; a summary for the event log (always after a listing, and
        after an incremental only when it read something)."""
        now = self.clock()
        stale = now - self.refresh_after
        # One read tells where the membership feed stands and whether anything is due by age.
        feed, oldest = await self.store.glance(sync_id, GROUPS_FEED)
        reported = await self._reported(sync_id, reader, feed, everything=everything)
        seen = self.containers or self.changed or self.groups or reported
        if not everything and not seen and (oldest is None or oldest >= stale):
            return None  # the routine idle check: nothing seen, reported, or too old
        known_drives = await self.store.sources(sync_id, "drive")
        known_groups = await self.store.sources(sync_id, "group")

        def due(key: str, known: dict[str, datetime]) -> bool:
            return everything or key not in known or known[key] < stale

        drive_times = {k: v.fetched_at for k, v in known_drives.items()}
        group_times = {k: v.fetched_at for k, v in known_groups.items()}
        drives = {d for d in self.containers | set(drive_times) if due(d, drive_times)}
        drives |= self.changed
        groups = {g for g in self.groups | set(group_times) if due(g, group_times)}
        groups |= reported & (self.groups | set(group_times))
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
        if reported:
            summary["groupsReportedChanged"] = len(reported)
        if opaque:
            named = sorted(opaque)[:_OPAQUE_NAMED]
            summary["message"] = (
                "These groups could not be expanded: the provider does not list their members "
                "to this credential (the connector's docs name the scope it needs, where one "
                "exists). Nobody gets access through them until it does, save whom the provider "
                "itself names as a member (the connector's docs say where): " + ", ".join(named)
            )
        return summary

    async def _reported(
        self,
        sync_id: str,
        reader: PermissionsReader,
        state: SourceState | None,
        *,
        everything: bool,
    ) -> set[str]:
        """Groups the provider's membership feed reports changed since this sync last read it.

        A listing re-reads every group anyway: it only notes where the feed stands. A failing
        feed is skipped this time (the age bound still holds); one the credential may not read
        is asked again only by the next listing.
        """
        if not isinstance(reader, MembershipFeed):
            return set()
        if not everything and (state is None or state.status != "ok"):
            return set()
        try:
            changes = await reader.membership_changes(
                None if everything or state is None else state.fetched_at
            )
        except UpstreamAuthError:
            raise
        except UpstreamError:
            return set()
        if changes is None:
            await self.store.save_feed(sync_id, GROUPS_FEED, status="denied", at=self.clock())
            return set()
        position = changes.newest or (state.fetched_at if state and not everything else _EPOCH)
        await self.store.save_feed(sync_id, GROUPS_FEED, status="ok", at=position)
        return set() if everything else set(changes.groups)

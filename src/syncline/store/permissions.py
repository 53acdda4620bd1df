"""Permission tuples: written with the records they describe, read by the evaluator.

Every statement here is keyed by `sync_id` first, so one sync's answers never see another's
tuples, and every read is an index range: the primary key `(sync_id, object_id, relation,
subject)` for an object's tuples, `(sync_id, subject, relation)` for the reverse walks.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.ids import record_id
from syncline.domain.permissions import Relation
from syncline.domain.records import Upsert
from syncline.store.database import Database, atomic
from syncline.store.tables import permission_sources, permission_tuples

__all__ = [
    "PermissionStore",
    "Row",
    "SourceState",
    "Tuple",
    "access_digest",
    "drop_access",
    "forget_sync",
    "item_tuples",
    "write_access",
]

Tuple = tuple[str, str, str]
"""(object_id, relation, subject)."""

_INSERT_TUPLES = (
    "INSERT INTO permission_tuples (sync_id, object_id, relation, subject, object_type)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (sync_id, object_id, relation, subject) DO NOTHING"
)
_CHUNK = 900  # bound values per IN list, under SQLite's limit with room for the others


def _parent_subject(sync_id: str, parent: str, container: str | None) -> str:
    if parent == container:
        return f"drive:{parent}"
    return f"folder:{record_id(sync_id, parent)}"


def item_tuples(sync_id: str, rid: str, item: Upsert) -> list[tuple[str, str, str, str, str]]:
    """The rows `_INSERT_TUPLES` takes for one item: its grants, its parents, its drive."""
    access = item.access
    if access is None:
        return []
    kind = "folder" if item.is_folder else "file"
    rows = [(sync_id, rid, str(g.relation), g.subject, kind) for g in access.grants]
    parents = {_parent_subject(sync_id, p, access.container) for p in item.parent_ids}
    if access.container is not None:
        # Members of the drive reach the item even when the folders between are not synced.
        parents.add(f"drive:{access.container}")
    rows.extend((sync_id, rid, Relation.PARENT.value, p, kind) for p in sorted(parents))
    return rows


def access_digest(item: Upsert) -> str | None:
    """A digest of what `item_tuples` would write; None when the item carries no access."""
    access = item.access
    if access is None:
        return None
    parts = [access.container or "", *item.parent_ids, "|", str(item.is_folder)]
    parts.extend(f"{g.relation}={g.subject}" for g in sorted(set(access.grants)))
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


async def write_access(
    conn: AsyncConnection,
    db: Database,
    sync_id: str,
    items: Sequence[tuple[str, Upsert]],
    *,
    replace: bool,
) -> None:
    """Write the tuples of these (record id, item) pairs, inside the caller's transaction.

    `replace` first drops what the items had (a changed item); a first listing skips that.
    """
    rows = [row for rid, item in items for row in item_tuples(sync_id, rid, item)]
    if replace:
        await drop_access(conn, db, sync_id, [rid for rid, item in items if item.access])
    if rows:
        await conn.exec_driver_sql(db.native(_INSERT_TUPLES), rows)


async def drop_access(
    conn: AsyncConnection, db: Database, sync_id: str, rids: Sequence[str]
) -> None:
    """Remove every tuple of these objects (deleted records, or about to be rewritten)."""
    for start in range(0, len(rids), _CHUNK):
        await conn.execute(
            delete(permission_tuples).where(
                permission_tuples.c.sync_id == sync_id,
                db.one_of(permission_tuples.c.object_id, list(rids[start : start + _CHUNK])),
            )
        )


async def forget_sync(conn: AsyncConnection, sync_id: str) -> None:
    """Drop every tuple and source of a sync (inside the caller's delete transaction)."""
    await conn.execute(delete(permission_tuples).where(permission_tuples.c.sync_id == sync_id))
    await conn.execute(delete(permission_sources).where(permission_sources.c.sync_id == sync_id))


FEED = "feed"
"""The `permission_sources` kind of a membership activity feed's position (not a source of
members: never counted as one that is stale)."""


@dataclass(frozen=True, slots=True)
class SourceState:
    """A shared drive or group whose members a sync has read: `ok`, `opaque` or `gone`."""

    status: str
    fetched_at: datetime


# Completed with a `Database.native_one_of` condition (placeholders only).
_OBJECT_TUPLES = (
    "SELECT object_id, object_type, relation, subject FROM permission_tuples WHERE sync_id = ? AND "
)
_MEMBER_EDGES = (
    "SELECT subject, object_id FROM permission_tuples"
    " WHERE sync_id = ? AND relation = 'member' AND "
)


def _above(row: Any) -> str | None:  # Any: an untyped driver row of either query above
    """What a row points up to: a `parent` tuple's target id, or a member edge's group."""
    if len(row) == 2:
        return f"group:{row[1]}"
    if row[2] == Relation.PARENT.value:
        return str(row[3]).partition(":")[2]
    return None


Row = tuple[str, str, str, str]
"""(object_id, object_type, relation, subject)."""


def _in_list(prefix: str, values: Sequence[str], params: dict[str, object]) -> str:
    """Named placeholders for an IN list, their values added to `params`."""
    keys = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(keys, values, strict=True))
    return ", ".join(f":{key}" for key in keys)


# Objects a set of subjects reaches: direct grants, then everything below them through
# `parent` tuples. UNION (not UNION ALL) drops repeats, which also ends any cycle.
_REACHABLE = """
WITH RECURSIVE reached(object_id, object_type) AS (
    SELECT object_id, object_type FROM permission_tuples
    WHERE sync_id = :sync_id AND subject IN ({subjects}) AND relation IN ({relations})
    UNION
    SELECT t.object_id, t.object_type FROM permission_tuples t
    JOIN reached r ON t.subject = r.object_type || ':' || r.object_id
    WHERE t.sync_id = :sync_id AND t.relation = 'parent' AND :recursive
)
SELECT DISTINCT object_id FROM reached
WHERE object_type IN ({types}) AND object_id > :after
ORDER BY object_id
"""


class PermissionStore:
    """Reads for the evaluator, and the writes of drive and group memberships."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def closure(
        self, sync_id: str, object_ids: Iterable[str], max_depth: int = 128
    ) -> list[Row]:
        """Every tuple of these objects and of their ancestors: one indexed query per level of
        parents, for all the objects at once (a recursive CTE plans worse on both databases)."""
        rows = await self._climb(sync_id, _OBJECT_TUPLES, "object_id", object_ids, max_depth)
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def memberships(
        self, sync_id: str, subjects: Iterable[str], max_depth: int = 128
    ) -> list[tuple[str, str]]:
        """(member subject, group) edges from these subjects up through nested groups, one
        indexed query per level of nesting."""
        rows = await self._climb(sync_id, _MEMBER_EDGES, "subject", subjects, max_depth)
        return [(r[0], r[1]) for r in rows]

    async def _climb(
        self, sync_id: str, sql: str, column: str, start: Iterable[str], max_depth: int
    ) -> list[Any]:  # Any: untyped driver rows
        """Rows of `sql` for the keys `start`, then for the keys their rows point up to (a
        parent's id, a group's subject), level by level, each key once."""
        out: list[Any] = []
        frontier, seen = set(start), set(start)
        async with self.db.read() as conn:
            for _ in range(max_depth):
                if not frontier:
                    break
                level = sorted(frontier)
                frontier = set()
                for first in range(0, len(level), _CHUNK):
                    condition, params = self.db.native_one_of(column, level[first : first + _CHUNK])
                    found = await conn.exec_driver_sql(
                        self.db.native(sql + condition), (sync_id, *params)
                    )
                    for row in found.all():
                        out.append(row)
                        above = _above(row)
                        if above is not None and above not in seen:
                            seen.add(above)
                            frontier.add(above)
        return out

    async def tuples(
        self, sync_id: str, object_ids: Iterable[str], relations: Iterable[str]
    ) -> list[Tuple]:
        """The tuples on these objects with these relations."""
        wanted = list(dict.fromkeys(object_ids))
        rels = sorted(set(relations))
        if not wanted or not rels:
            return []
        t = permission_tuples.c
        out: list[Tuple] = []
        async with self.db.read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                query = select(t.object_id, t.relation, t.subject).where(
                    t.sync_id == sync_id,
                    self.db.one_of(t.object_id, wanted[start : start + _CHUNK]),
                    t.relation.in_(rels),
                )
                out.extend((r[0], r[1], r[2]) for r in await conn.execute(query))
        return out

    async def reachable(
        self,
        sync_id: str,
        subjects: Iterable[str],
        relations: Iterable[str],
        *,
        inherited: bool,
        object_types: Iterable[str],
        after: str = "",
        limit: int | None = None,
        batch: int = 2000,
    ) -> AsyncIterator[str]:
        """Object ids (of `object_types`, greater than `after`, in order) that `subjects` hold
        one of `relations` on, directly or (when `inherited`) through any chain of parents.

        Streams from one query: memory stays flat however many objects match.
        """
        subs, rels, types = sorted(set(subjects)), sorted(set(relations)), sorted(set(object_types))
        if not subs or not rels or not types:
            return
        params: dict[str, object] = {"sync_id": sync_id, "recursive": inherited, "after": after}
        sql = _REACHABLE.format(
            subjects=_in_list("s", subs, params),
            relations=_in_list("r", rels, params),
            types=_in_list("t", types, params),
        )
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        async with self.db.read() as conn:
            result = await conn.stream(text(sql), params)
            async for rows in result.partitions(batch):
                for row in rows:
                    yield row[0]

    async def oldest_source(self, sync_id: str) -> datetime | None:
        """When the least recently read drive or group of the sync was read (None: none)."""
        s = permission_sources.c
        async with self.db.read() as conn:
            query = select(func.min(s.fetched_at)).where(s.sync_id == sync_id, s.kind != FEED)
            found: datetime | None = (await conn.execute(query)).scalar_one()
            return found

    async def sources(self, sync_id: str, kind: str) -> dict[str, SourceState]:
        """The drives (`kind="drive"`) or groups (`"group"`) this sync has read members of."""
        s = permission_sources.c
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(s.key, s.status, s.fetched_at).where(s.sync_id == sync_id, s.kind == kind)
            )
            return {r[0]: SourceState(r[1], r[2]) for r in rows}

    async def feed(self, sync_id: str, name: str) -> SourceState | None:
        """Where the sync stands in a provider's membership activity feed: `fetched_at` is the
        time of the newest activity acted on; None before the feed was first read."""
        return (await self.sources(sync_id, FEED)).get(name)

    @atomic
    async def save_feed(self, sync_id: str, name: str, *, status: str, at: datetime) -> None:
        """Record a read of the feed `name`: `ok` up to the activity time `at`, or `denied`
        (the credential may not read it)."""
        stmt = self.db.upsert(permission_sources).values(
            sync_id=sync_id, kind=FEED, key=name, status=status, fetched_at=at
        )
        async with self.db.write() as conn:
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["sync_id", "kind", "key"],
                    set_={"status": status, "fetched_at": at},
                )
            )

    @atomic
    async def replace_source(
        self,
        sync_id: str,
        kind: str,
        key: str,
        *,
        tuples: Sequence[tuple[str, str]],
        status: str,
        now: datetime,
    ) -> None:
        """Replace the members of one drive or group: `tuples` are (relation, subject)."""
        async with self.db.write() as conn:
            await conn.execute(
                delete(permission_tuples).where(
                    permission_tuples.c.sync_id == sync_id, permission_tuples.c.object_id == key
                )
            )
            if tuples:
                await conn.exec_driver_sql(
                    self.db.native(_INSERT_TUPLES),
                    [(sync_id, key, rel, subject, kind) for rel, subject in tuples],
                )
            stmt = self.db.upsert(permission_sources).values(
                sync_id=sync_id, kind=kind, key=key, status=status, fetched_at=now
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["sync_id", "kind", "key"],
                    set_={"status": status, "fetched_at": now},
                )
            )

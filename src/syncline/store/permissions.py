"""Permission tuples: written with the records they describe, read by the evaluator.

A tuple is `object#relation@subject` (OpenFGA's shape). Both ends are typed keys, `(type,
name)`: a file or folder by record id, a shared drive by drive id, a group by email, and as
subjects `user:<email>`, `user:*`, `domain:<domain>`, `group:<email>`, `folder:<record id>` or
`drive:<drive id>`. Each key is stored once per sync in `permission_keys` and the tuples hold
its integer id: a tuple row is three integers, and a listing that numbers its new keys in order
appends to the tuple B-trees instead of writing all over them (the SQLite write-ahead log of a
100,000-file listing shrank threefold). A subject key and the object key it points to are the
same key (`folder:<id>` is the folder's own key), so a walk follows ids without parsing.

Keys are kept until their sync is deleted: an id never changes meaning, and a deleted folder's
key may still be named by the parent tuples of children that have not been listed again.
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
from syncline.store.tables import permission_keys, permission_sources, permission_tuples

__all__ = [
    "RELATION_CODES",
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

Key = tuple[str, str]
"""(type, name): `("folder", rid)`, `("user", "ann@example.com")`, `("user", "*")`."""

RELATION_CODES: dict[str, int] = {
    Relation.OWNER.value: 1,
    Relation.EDITOR.value: 2,
    Relation.VIEWER.value: 3,
    Relation.PARENT.value: 4,
    Relation.MEMBER.value: 5,
}
"""A relation as stored; fixed for good (migration 0009 wrote the same codes)."""
_RELATIONS = {code: name for name, code in RELATION_CODES.items()}
_PARENT = RELATION_CODES[Relation.PARENT.value]
_MEMBER = RELATION_CODES[Relation.MEMBER.value]

_TUPLE_COLUMNS = ("object", "relation", "subject")
_INSERT_KEYS = "INSERT INTO permission_keys (id, sync_id, type, name) VALUES (?, ?, ?, ?)"
_INSERT_KEYS_PG = (
    "INSERT INTO permission_keys (sync_id, type, name)"
    " SELECT %s, k.type, k.name FROM unnest(%s::text[], %s::text[]) AS k(type, name)"
    " ON CONFLICT (sync_id, name, type) DO NOTHING RETURNING type, name, id"
)
_KEYS_NAMED = "SELECT type, name, id FROM permission_keys WHERE sync_id = ? AND "
_KEYS_JOINED_PG = (
    "SELECT k.type, k.name, k.id FROM unnest(%s::text[], %s::text[]) AS w(type, name)"
    " JOIN permission_keys k ON k.sync_id = %s AND k.name = w.name AND k.type = w.type"
)
_CHUNK = 900  # bound values per IN list, under SQLite's limit with room for the others


def subject_key(subject: str) -> Key:
    """`user:ann@example.com` as `("user", "ann@example.com")`."""
    kind, _, name = subject.partition(":")
    return (kind, name)


def _subject(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def _parent_key(sync_id: str, parent: str, container: str | None) -> Key:
    if parent == container:
        return ("drive", parent)
    return ("folder", record_id(sync_id, parent))


def item_tuples(sync_id: str, rid: str, item: Upsert) -> list[tuple[Key, int, Key]]:
    """The tuples of one item, keys not yet numbered: its grants, its parents, its drive."""
    access = item.access
    if access is None:
        return []
    obj: Key = ("folder" if item.is_folder else "file", rid)
    rows = [(obj, RELATION_CODES[g.relation], subject_key(g.subject)) for g in access.grants]
    parents = {_parent_key(sync_id, p, access.container) for p in item.parent_ids}
    if access.container is not None:
        # Members of the drive reach the item even when the folders between are not synced.
        parents.add(("drive", access.container))
    rows.extend((obj, _PARENT, p) for p in sorted(parents))
    return rows


def access_digest(item: Upsert) -> str | None:
    """A digest of what `item_tuples` would write; None when the item carries no access."""
    access = item.access
    if access is None:
        return None
    parts = [access.container or "", *item.parent_ids, "|", str(item.is_folder)]
    parts.extend(f"{g.relation}={g.subject}" for g in sorted(set(access.grants)))
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


async def _fetch(conn: AsyncConnection, sql: str, params: Sequence[object]) -> list[Any]:
    """The rows of one raw statement (Any: the driver's rows are untyped)."""
    return list(await conn.exec_driver_sql(sql, tuple(params)))


async def _key_ids(
    conn: AsyncConnection, db: Database, sync_id: str, keys: Iterable[Key]
) -> dict[Key, int]:
    """The ids these keys already have (keys never stored are left out)."""
    wanted = set(keys)
    found: dict[Key, int] = {}
    if db.is_postgres:
        # Joined to the whole key, not `name = ANY(...)`: a table growing by a listing has no
        # statistics yet, and the planner then scanned the sync's keys for every page.
        pairs = sorted(wanted)
        rows = await _fetch(
            conn, _KEYS_JOINED_PG, ([k for k, _ in pairs], [n for _, n in pairs], sync_id)
        )
        return {(kind, name): int(key_id) for kind, name, key_id in rows}
    names = sorted({name for _kind, name in wanted})
    for start in range(0, len(names), _CHUNK):
        condition, params = db.native_one_of("name", names[start : start + _CHUNK])
        rows = await _fetch(conn, db.native(_KEYS_NAMED + condition), (sync_id, *params))
        for kind, name, key_id in rows:
            if (kind, name) in wanted:
                found[(kind, name)] = int(key_id)
    return found


async def _intern(
    conn: AsyncConnection, db: Database, sync_id: str, keys: Iterable[Key]
) -> dict[Key, int]:
    """Ids for these keys, numbering the new ones (in the caller's write transaction)."""
    wanted = set(keys)
    ids = await _key_ids(conn, db, sync_id, wanted)
    new = sorted(wanted - ids.keys())
    if not new:
        return ids
    if db.is_postgres:
        # A sync has one writer at a time (its lease), so a conflict here is only a key some
        # other write of the same sync stored meanwhile: read it back.
        rows = await _fetch(
            conn, _INSERT_KEYS_PG, (sync_id, [k for k, _ in new], [n for _, n in new])
        )
        ids.update(((kind, name), int(key_id)) for kind, name, key_id in rows)
        if len(ids) < len(wanted):
            ids.update(await _key_ids(conn, db, sync_id, wanted - ids.keys()))
        return ids
    # SQLite's single writer holds the database for the whole transaction: number in order.
    top = (await conn.exec_driver_sql("SELECT max(id) FROM permission_keys")).scalar()
    first = int(top or 0) + 1
    rows_in = [(first + i, sync_id, kind, name) for i, (kind, name) in enumerate(new)]
    await conn.exec_driver_sql(_INSERT_KEYS, rows_in)
    ids.update(((kind, name), key_id) for key_id, _sync, kind, name in rows_in)
    return ids


async def _insert_tuples(
    conn: AsyncConnection, db: Database, rows: Sequence[tuple[int, int, int]]
) -> None:
    await db.bulk_insert(
        conn, "permission_tuples", _TUPLE_COLUMNS, rows, skip_conflicts_on=_TUPLE_COLUMNS
    )


async def write_access(
    conn: AsyncConnection,
    db: Database,
    sync_id: str,
    items: Sequence[tuple[str, Sequence[tuple[Key, int, Key]]]],
    *,
    replace: bool,
) -> None:
    """Write the tuples of these (record id, its `item_tuples`) pairs, inside the caller's
    transaction.

    `replace` first drops what the records had (a changed item); a first listing skips that.
    """
    if replace:
        await drop_access(conn, db, sync_id, [rid for rid, _tuples in items])
    rows = [row for _rid, tuples in items for row in tuples]
    if rows:
        # A page's new keys get one run of consecutive ids: its tuples land side by side.
        ids = await _intern(
            conn, db, sync_id, {key for obj, _rel, sub in rows for key in (obj, sub)}
        )
        await _insert_tuples(conn, db, [(ids[obj], rel, ids[sub]) for obj, rel, sub in rows])


async def drop_access(
    conn: AsyncConnection, db: Database, sync_id: str, rids: Sequence[str]
) -> None:
    """Remove every tuple of these objects (deleted records, or about to be rewritten)."""
    for start in range(0, len(rids), _CHUNK):
        condition, params = db.native_one_of("name", list(rids[start : start + _CHUNK]))
        await conn.exec_driver_sql(
            db.native(
                "DELETE FROM permission_tuples WHERE object IN (SELECT id FROM permission_keys"  # noqa: S608 - fixed SQL, placeholders only
                f" WHERE sync_id = ? AND type IN ('file', 'folder') AND {condition})"
            ),
            (sync_id, *params),
        )


async def forget_sync(conn: AsyncConnection, sync_id: str) -> None:
    """Drop every tuple, key and source of a sync (inside the caller's delete transaction)."""
    keys = select(permission_keys.c.id).where(permission_keys.c.sync_id == sync_id)
    await conn.execute(delete(permission_tuples).where(permission_tuples.c.object.in_(keys)))
    await conn.execute(delete(permission_keys).where(permission_keys.c.sync_id == sync_id))
    await conn.execute(delete(permission_sources).where(permission_sources.c.sync_id == sync_id))


FEED = "feed"
"""The `permission_sources` kind of a membership activity feed's position (not a source of
members: never counted as one that is stale)."""


@dataclass(frozen=True, slots=True)
class SourceState:
    """A shared drive or group whose members a sync has read: `ok`, `opaque` or `gone`."""

    status: str
    fetched_at: datetime


Row = tuple[str, str, str, str]
"""(object_id, object_type, relation, subject)."""

# Every tuple whose object is one of a level's keys, with its subject's key spelled out.
_TUPLES_OF = (
    "SELECT t.object, t.relation, t.subject, s.type, s.name FROM permission_tuples t"
    " JOIN permission_keys s ON s.id = t.subject WHERE "
)
# The groups that a level's subjects are direct members of.
_GROUPS_OF = (
    "SELECT t.subject, t.object, g.name FROM permission_tuples t"
    " JOIN permission_keys g ON g.id = t.object WHERE t.relation = ? AND "
)

# Objects a set of subjects reaches: direct grants, then everything below them through
# `parent` tuples. UNION (not UNION ALL) drops repeats, which also ends any cycle.
_REACHABLE = """
WITH RECURSIVE reached(id) AS (
    SELECT object FROM permission_tuples
    WHERE subject IN ({subjects}) AND relation IN ({relations})
    UNION
    SELECT t.object FROM permission_tuples t JOIN reached r ON t.subject = r.id
    WHERE t.relation = :parent AND :recursive
)
SELECT DISTINCT k.name FROM reached JOIN permission_keys k ON k.id = reached.id
WHERE k.type IN ({types}) AND k.name > :after
ORDER BY k.name
"""


def _in_list(prefix: str, values: Sequence[object], params: dict[str, object]) -> str:
    """Named placeholders for an IN list, their values added to `params`."""
    keys = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(keys, values, strict=True))
    return ", ".join(f":{key}" for key in keys)


class PermissionStore:
    """Reads for the evaluator, and the writes of drive and group memberships."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _ids_named(
        self, conn: AsyncConnection, sync_id: str, names: Iterable[str]
    ) -> dict[int, Key]:
        """Every key of the sync with one of these names, whatever its type."""
        wanted = sorted(set(names))
        out: dict[int, Key] = {}
        for start in range(0, len(wanted), _CHUNK):
            condition, params = self.db.native_one_of("name", wanted[start : start + _CHUNK])
            rows = await _fetch(conn, self.db.native(_KEYS_NAMED + condition), (sync_id, *params))
            out.update((int(key_id), (kind, name)) for kind, name, key_id in rows)
        return out

    async def closure(
        self, sync_id: str, object_ids: Iterable[str], max_depth: int = 128
    ) -> list[Row]:
        """Every tuple of these objects and of their ancestors: one indexed query per level of
        parents, for all the objects at once (a recursive CTE plans worse on both databases)."""
        out: list[Row] = []
        async with self.db.read() as conn:
            frontier = await self._ids_named(conn, sync_id, object_ids)
            seen = set(frontier)
            for _ in range(max_depth):
                if not frontier:
                    break
                level, frontier = frontier, {}
                ids = sorted(level)
                for start in range(0, len(ids), _CHUNK):
                    condition, params = self.db.native_one_of(
                        "t.object", ids[start : start + _CHUNK]
                    )
                    rows = await _fetch(conn, self.db.native(_TUPLES_OF + condition), params)
                    for obj, rel, sub, sub_type, sub_name in rows:
                        kind, name = level[int(obj)]
                        out.append((name, kind, _RELATIONS[rel], _subject(sub_type, sub_name)))
                        if rel == _PARENT and int(sub) not in seen:
                            seen.add(int(sub))
                            frontier[int(sub)] = (sub_type, sub_name)
        return out

    async def memberships(
        self, sync_id: str, subjects: Iterable[str], max_depth: int = 128
    ) -> list[tuple[str, str]]:
        """(member subject, group) edges from these subjects up through nested groups, one
        indexed query per level of nesting."""
        out: list[tuple[str, str]] = []
        async with self.db.read() as conn:
            start_keys = [subject_key(s) for s in subjects]
            found = await _key_ids(conn, self.db, sync_id, start_keys)
            frontier = {key_id: _subject(*key) for key, key_id in found.items()}
            seen = set(frontier)
            for _ in range(max_depth):
                if not frontier:
                    break
                level, frontier = frontier, {}
                ids = sorted(level)
                for first in range(0, len(ids), _CHUNK):
                    condition, params = self.db.native_one_of(
                        "t.subject", ids[first : first + _CHUNK]
                    )
                    rows = await _fetch(
                        conn, self.db.native(_GROUPS_OF + condition), (_MEMBER, *params)
                    )
                    for sub, group_id, group in rows:
                        out.append((level[int(sub)], group))
                        # A group's subject key is the group's own key: climb by its id.
                        if int(group_id) not in seen:
                            seen.add(int(group_id))
                            frontier[int(group_id)] = _subject("group", group)
        return out

    async def tuples(
        self, sync_id: str, object_ids: Iterable[str], relations: Iterable[str]
    ) -> list[Tuple]:
        """The tuples on these objects with these relations."""
        codes = {RELATION_CODES[r] for r in relations if r in RELATION_CODES}
        out: list[Tuple] = []
        async with self.db.read() as conn:
            objects = await self._ids_named(conn, sync_id, object_ids)
            ids = sorted(objects)
            for start in range(0, len(ids), _CHUNK):
                condition, params = self.db.native_one_of("t.object", ids[start : start + _CHUNK])
                rows = await _fetch(conn, self.db.native(_TUPLES_OF + condition), params)
                out.extend(
                    (objects[int(obj)][1], _RELATIONS[rel], _subject(sub_type, sub_name))
                    for obj, rel, _sub, sub_type, sub_name in rows
                    if rel in codes
                )
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
        rels = sorted({RELATION_CODES[r] for r in relations if r in RELATION_CODES})
        types = sorted(set(object_types))
        if not rels or not types:
            return
        async with self.db.read() as conn:
            subs = sorted(
                (await _key_ids(conn, self.db, sync_id, map(subject_key, subjects))).values()
            )
            if not subs:
                return
            params: dict[str, object] = {"parent": _PARENT, "recursive": inherited, "after": after}
            sql = _REACHABLE.format(
                subjects=_in_list("s", subs, params),
                relations=_in_list("r", rels, params),
                types=_in_list("t", types, params),
            )
            if limit is not None:
                sql += " LIMIT :limit"
                params["limit"] = limit
            result = await conn.stream(text(sql), params)
            async for rows in result.partitions(batch):
                for row in rows:
                    yield row[0]

    async def glance(self, sync_id: str, feed: str) -> tuple[SourceState | None, datetime | None]:
        """In one read: where the sync stands in the provider's membership activity feed
        `feed` (`fetched_at` is the time of the newest activity acted on; None before the feed
        was first read), and when its least recently read drive or group was read (None:
        none)."""
        s = permission_sources.c
        at_feed = (s.sync_id == sync_id, s.kind == FEED, s.key == feed)
        # One statement, one round trip to the driver: every idle incremental asks this.
        query = select(
            select(s.status).where(*at_feed).scalar_subquery(),
            select(s.fetched_at).where(*at_feed).scalar_subquery(),
            select(func.min(s.fetched_at))
            .where(s.sync_id == sync_id, s.kind != FEED)
            .scalar_subquery(),
        )
        async with self.db.read(snapshot=False) as conn:
            status, fetched_at, oldest = (await conn.execute(query)).one()
        return (None if status is None else SourceState(status, fetched_at)), oldest

    async def sources(self, sync_id: str, kind: str) -> dict[str, SourceState]:
        """The drives (`kind="drive"`) or groups (`"group"`) this sync has read members of."""
        s = permission_sources.c
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(s.key, s.status, s.fetched_at).where(s.sync_id == sync_id, s.kind == kind)
            )
            return {r[0]: SourceState(r[1], r[2]) for r in rows}

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
        obj: Key = (kind, key)
        async with self.db.write() as conn:
            subjects = [subject_key(subject) for _rel, subject in tuples]
            ids = await _intern(conn, self.db, sync_id, [obj, *subjects])
            await conn.execute(
                delete(permission_tuples).where(permission_tuples.c.object == ids[obj])
            )
            if tuples:
                await _insert_tuples(
                    conn,
                    self.db,
                    [
                        (ids[obj], RELATION_CODES[rel], ids[sub])
                        for (rel, _subject), sub in zip(tuples, subjects, strict=True)
                    ],
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

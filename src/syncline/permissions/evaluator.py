"""Answers permission questions from a sync's stored tuples, following the model.

A batch of checks costs one indexed query per level of parents (every tuple of the batch's
objects, then of their parents...) and one per level of group nesting, whatever the batch's
size. The walk itself then runs in memory; walks keep a visited set and stop at `MAX_DEPTH`,
so a cycle in the data ends the walk instead of the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from syncline.domain.permissions import ANYONE, Relation
from syncline.errors import InvalidInput
from syncline.permissions.model import (
    MODEL,
    Computed,
    This,
    direct_relations,
    parent_steps,
    reverse_plan,
)
from syncline.types import JSON, JSONObject

__all__ = ["MAX_DEPTH", "Check", "Evaluator", "TupleReader"]

MAX_DEPTH = 128
"""Levels of parents or of nested groups followed (Drive nests folders at most 100 deep)."""

Tuple = tuple[str, str, str]


class TupleReader(Protocol):
    """The indexed reads the evaluator needs (`store.permissions.PermissionStore`)."""

    async def closure(
        self, sync_id: str, object_ids: Iterable[str]
    ) -> list[tuple[str, str, str, str]]: ...

    async def memberships(self, sync_id: str, subjects: Iterable[str]) -> list[tuple[str, str]]: ...

    async def tuples(
        self, sync_id: str, object_ids: Iterable[str], relations: Iterable[str]
    ) -> list[Tuple]: ...

    def reachable(
        self,
        sync_id: str,
        subjects: Iterable[str],
        relations: Iterable[str],
        *,
        inherited: bool,
        object_types: Iterable[str],
        after: str = "",
        limit: int | None = None,
    ) -> AsyncIterator[str]: ...


@dataclass(slots=True)
class _Graph:
    """The tuples of some objects and all their ancestors, indexed for walking in memory."""

    types: dict[str, str] = field(default_factory=dict)
    holders: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (obj, rel) -> subs

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str, str]]) -> _Graph:
        graph = cls()
        for obj, kind, rel, subject in rows:
            graph.types[obj] = kind
            graph.holders.setdefault((obj, rel), set()).add(subject)
        return graph

    def related(self, obj: str, relation: str) -> set[str]:
        return self.holders.get((obj, relation), set())


@dataclass(frozen=True, slots=True)
class Check:
    """May `user` (a lowercased email) hold `role` on `object_id`?"""

    object_id: str
    user: str
    role: str


def _user_base(email: str) -> set[str]:
    base = {f"user:{email}", ANYONE}
    domain = email.rpartition("@")[2]
    if "@" in email and domain:
        base.add(f"domain:{domain}")
    return base


class Evaluator:
    """Check, list and expand permissions of one sync at a time."""

    def __init__(self, reader: TupleReader) -> None:
        self._reader = reader

    async def subjects_of(self, sync_id: str, emails: Iterable[str]) -> dict[str, set[str]]:
        """Every subject each user answers to: themselves, anyone, their domain, their groups
        (nested groups included), read for all the users at once."""
        bases = {email: _user_base(email) for email in emails}
        containing: dict[str, set[str]] = {}  # subject -> the groups it is a direct member of
        wanted = set().union(*bases.values()) if bases else set()
        for member, group in await self._reader.memberships(sync_id, wanted):
            containing.setdefault(member, set()).add(f"group:{group}")
        out: dict[str, set[str]] = {}
        for email, base in bases.items():
            subjects, pending = set(base), list(base)
            while pending:
                for group in containing.get(pending.pop(), ()):
                    if group not in subjects:
                        subjects.add(group)
                        pending.append(group)
            out[email] = subjects
        return out

    async def _walk(
        self, sync_id: str, starts: Sequence[tuple[str, str]]
    ) -> tuple[_Graph, list[set[tuple[str, str]]]]:
        """For each (object id, relation), the (object, relation) pairs whose own tuples would
        grant it, following parents upward through the tuples of every ancestor."""
        graph = _Graph.of(await self._reader.closure(sync_id, {obj for obj, _ in starts}))
        return graph, [_pairs(graph, obj, relation) for obj, relation in starts]

    async def check(self, sync_id: str, checks: Sequence[Check]) -> list[bool]:
        """The answer to each check, in order; unknown objects and users are simply denied."""
        # The objects' side and the users' side are independent: read them concurrently.
        (graph, walks), subjects = await asyncio.gather(
            self._walk(sync_id, [(c.object_id, c.role) for c in checks]),
            self.subjects_of(sync_id, {c.user for c in checks}),
        )
        return [
            any(not graph.related(*pair).isdisjoint(subjects[c.user]) for pair in pairs)
            for c, pairs in zip(checks, walks, strict=True)
        ]

    async def list_users(self, sync_id: str, object_id: str, role: str, limit: int) -> list[str]:
        """Who holds `role` on the object: emails, plus `user:*` (anyone with the link) and
        `domain:<domain>` (everyone in a Workspace domain) where such grants apply."""
        graph, (pairs,) = await self._walk(sync_id, [(object_id, role)])
        holders = set().union(*(graph.related(*pair) for pair in pairs)) if pairs else set()
        groups = {s.removeprefix("group:") for s in holders if s.startswith("group:")}
        seen = set(groups)
        for _ in range(MAX_DEPTH):
            if not groups:
                break
            found: set[str] = set()
            for _group, _rel, member in await self._reader.tuples(
                sync_id, groups, [Relation.MEMBER.value]
            ):
                holders.add(member)
                if member.startswith("group:") and member[6:] not in seen:
                    seen.add(member[6:])
                    found.add(member[6:])
            groups = found
        users = sorted(
            s.removeprefix("user:") if s != ANYONE else s
            for s in holders
            if s.startswith(("user:", "domain:"))
        )
        return users[:limit]

    async def objects(
        self,
        sync_id: str,
        user: str,
        role: str,
        object_type: str,
        *,
        after: str = "",
        limit: int | None = None,
    ) -> AsyncIterator[str]:
        """The ids of every object of `object_type` the user holds `role` on, in id order."""
        relations, inherited = reverse_plan(object_type, role)
        subjects = (await self.subjects_of(sync_id, [user]))[user]
        async for object_id in self._reader.reachable(
            sync_id,
            subjects,
            relations,
            inherited=inherited,
            object_types=[object_type],
            after=after,
            limit=limit,
        ):
            yield object_id

    async def expand(self, sync_id: str, object_id: str, relation: str) -> JSONObject:
        """One level of the relation's userset tree, as OpenFGA's Expand returns it."""
        rows = [r for r in await self._reader.closure(sync_id, [object_id]) if r[0] == object_id]
        kind = rows[0][1] if rows else "file"
        rules = MODEL.get(kind, {}).get(relation)
        if rules is None:
            raise InvalidInput(
                f"{relation!r} is not a relation of {kind} objects", field="relation"
            )
        name = f"{kind}:{object_id}#{relation}"
        found = [(obj, rel, subject) for obj, _kind, rel, subject in rows]
        nodes: list[JSON] = []
        for rule in rules:
            leaf: JSONObject
            if isinstance(rule, This):
                users: list[JSON] = [
                    *sorted(_userset(subject) for _o, rel, subject in found if rel == relation)
                ]
                leaf = {"users": {"users": users}}
            elif isinstance(rule, Computed):
                leaf = {"computed": {"userset": f"{kind}:{object_id}#{rule.relation}"}}
            else:
                targets: list[JSON] = [
                    {"userset": f"{subject}#{rule.relation}"}
                    for _o, rel, subject in sorted(found)
                    if rel == rule.tupleset
                ]
                leaf = {
                    "tupleToUserset": {
                        "tupleset": f"{kind}:{object_id}#{rule.tupleset}",
                        "computed": targets,
                    }
                }
            nodes.append({"name": name, "leaf": leaf})
        root: JSON = nodes[0] if len(nodes) == 1 else {"name": name, "union": {"nodes": nodes}}
        return {"tree": {"root": root}}


def _pairs(graph: _Graph, obj: str, relation: str) -> set[tuple[str, str]]:
    """The (object, relation) pairs whose tuples grant `relation` on `obj`, climbing parents;
    a visited set and `MAX_DEPTH` end cycles and runaway chains."""
    kind = graph.types.get(obj)
    if kind is None:
        return set()  # nobody holds anything on an object the sync has no tuples for
    pairs: set[tuple[str, str]] = set()
    frontier = {(obj, kind, relation)}
    seen = set(frontier)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        following: set[tuple[str, str, str]] = set()
        for node, node_kind, rel in frontier:
            pairs.update((node, direct) for direct in direct_relations(node_kind, rel))
            for step in parent_steps(node_kind, rel):
                for subject in graph.related(node, step.tupleset):
                    target_kind, _, target = subject.partition(":")
                    nxt = (target, target_kind, step.relation)
                    if nxt not in seen:
                        seen.add(nxt)
                        following.add(nxt)
        frontier = following
    return pairs


def _userset(subject: str) -> str:
    """A stored subject as OpenFGA writes it: a group's members are `group:<id>#member`."""
    return f"{subject}#member" if subject.startswith("group:") else subject

"""Answers permission questions from a sync's stored tuples, following the model.

Every answer is a handful of indexed queries whatever the batch size: one per level of groups
(a user's groups, their groups...), one per level of parents (all the batch's objects at once),
then one for the grants themselves. Walks stop at `MAX_DEPTH` and never visit a node twice, so
a cycle in the data (a group inside itself) ends the walk instead of the process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from syncline.domain.permissions import ANYONE, Relation
from syncline.errors import InvalidInput
from syncline.permissions.model import (
    MODEL,
    Computed,
    FromParent,
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

    async def object_types(self, sync_id: str, object_ids: Iterable[str]) -> dict[str, str]: ...

    async def tuples(
        self,
        sync_id: str,
        object_ids: Iterable[str],
        relations: Iterable[str],
        subjects: Iterable[str] | None = None,
    ) -> list[Tuple]: ...

    async def holders(
        self, sync_id: str, subjects: Iterable[str], relation: str
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


@dataclass(frozen=True, slots=True)
class Check:
    """May `user` (a lowercased email) hold `role` on `object_id`?"""

    object_id: str
    user: str
    role: str


@dataclass(slots=True)
class _Walk:
    """The (object, relation) pairs whose own tuples would answer one question."""

    pairs: set[tuple[str, str]] = field(default_factory=set)
    frontier: set[tuple[str, str, str]] = field(default_factory=set)  # (id, type, relation)
    seen: set[tuple[str, str, str]] = field(default_factory=set)


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
        (nested groups included)."""
        bases = {email: _user_base(email) for email in emails}
        containing: dict[str, set[str]] = {}  # subject -> the groups it is a direct member of
        frontier = set().union(*bases.values()) if bases else set()
        seen = set(frontier)
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            found: set[str] = set()
            for group, _rel, member in await self._reader.holders(
                sync_id, frontier, Relation.MEMBER.value
            ):
                subject = f"group:{group}"
                containing.setdefault(member, set()).add(subject)
                if subject not in seen:
                    seen.add(subject)
                    found.add(subject)
            frontier = found
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

    async def _walk(self, sync_id: str, starts: Sequence[tuple[str, str] | None]) -> list[_Walk]:
        """For each (object id, relation), the pairs to look up, following parents upward."""
        ids = {start[0] for start in starts if start is not None}
        types = await self._reader.object_types(sync_id, ids)
        walks = []
        for start in starts:
            walk = _Walk()
            kind = types.get(start[0]) if start is not None else None
            if start is not None and kind is not None:
                node = (start[0], kind, start[1])
                walk.frontier.add(node)
                walk.seen.add(node)
            walks.append(walk)
        parents: dict[str, list[str]] = {}
        for _ in range(MAX_DEPTH):
            if not any(walk.frontier for walk in walks):
                break
            wanted = {
                obj
                for walk in walks
                for obj, kind, rel in walk.frontier
                if parent_steps(kind, rel) and obj not in parents
            }
            tuplesets = {
                step.tupleset
                for walk in walks
                for _obj, kind, rel in walk.frontier
                for step in parent_steps(kind, rel)
            }
            for obj in wanted:
                parents[obj] = []
            for obj, _rel, subject in await self._reader.tuples(sync_id, wanted, tuplesets):
                parents[obj].append(subject)
            for walk in walks:
                _advance(walk, parents)
        return walks

    async def check(self, sync_id: str, checks: Sequence[Check]) -> list[bool]:
        """The answer to each check, in order; unknown objects and users are simply denied."""
        walks = await self._walk(sync_id, [(c.object_id, c.role) for c in checks])
        subjects = await self.subjects_of(sync_id, {c.user for c in checks})
        objects = {obj for walk in walks for obj, _ in walk.pairs}
        relations = {rel for walk in walks for _, rel in walk.pairs}
        wanted = set().union(*subjects.values()) if subjects else set()
        granted: dict[tuple[str, str], set[str]] = {}
        for obj, rel, subject in await self._reader.tuples(sync_id, objects, relations, wanted):
            granted.setdefault((obj, rel), set()).add(subject)
        return [
            any(not granted.get(pair, set()).isdisjoint(subjects[c.user]) for pair in walk.pairs)
            for c, walk in zip(checks, walks, strict=True)
        ]

    async def list_users(self, sync_id: str, object_id: str, role: str, limit: int) -> list[str]:
        """Who holds `role` on the object: emails, plus `user:*` (anyone with the link) and
        `domain:<domain>` (everyone in a Workspace domain) where such grants apply."""
        (walk,) = await self._walk(sync_id, [(object_id, role)])
        objects = {obj for obj, _ in walk.pairs}
        relations = {rel for _, rel in walk.pairs}
        holders = {
            subject
            for obj, rel, subject in await self._reader.tuples(sync_id, objects, relations)
            if (obj, rel) in walk.pairs
        }
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
        kind = (await self._reader.object_types(sync_id, [object_id])).get(object_id, "file")
        rules = MODEL.get(kind, {}).get(relation)
        if rules is None:
            raise InvalidInput(
                f"{relation!r} is not a relation of {kind} objects", field="relation"
            )
        name = f"{kind}:{object_id}#{relation}"
        tuplesets = {rule.tupleset for rule in rules if isinstance(rule, FromParent)}
        found = await self._reader.tuples(sync_id, [object_id], {relation, *tuplesets})
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


def _advance(walk: _Walk, parents: dict[str, list[str]]) -> None:
    """Record the frontier's direct pairs and replace it by the parents' nodes."""
    following: set[tuple[str, str, str]] = set()
    for obj, kind, rel in walk.frontier:
        walk.pairs.update((obj, direct) for direct in direct_relations(kind, rel))
        for step in parent_steps(kind, rel):
            for subject in parents.get(obj, ()):
                target_kind, _, target = subject.partition(":")
                node = (target, target_kind, step.relation)
                if node not in walk.seen:
                    walk.seen.add(node)
                    following.add(node)
    walk.frontier = following


def _userset(subject: str) -> str:
    """A stored subject as OpenFGA writes it: a group's members are `group:<id>#member`."""
    return f"{subject}#member" if subject.startswith("group:") else subject

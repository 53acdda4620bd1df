"""The chaos scenario: many syncs on a sandbox Drive that fails a steady share of requests.

One place for the scenario that `tests/integration/engine/test_chaos.py` asserts on and that
`python -m bench.faults` reports on. It runs a whole Syncline in-process (the harness's wiring)
against the sandbox Drive and a webhook receiver, both real HTTP servers on 127.0.0.1:

1. Drive users with My Drive folders, shared drives and cross-user shares; one "everything"
   sync per user, plus folder-scoped syncs; the initial syncs run under steady faults.
2. Rounds of upstream mutations (create, update, move, trash, delete, share, unshare, in My
   Drive and shared drives), some made while runs are in flight, with incremental runs, full
   runs on request, and the harness clock moved on so retries and rate-limit waits fall due.
3. Midway the webhook endpoint goes down for hours of harness time: first answering 503, then
   refusing connections, while syncs keep producing events; then it comes back.
4. One sync meets a deliberate `403 insufficientFilePermissions`: it alone may end ERRORED.
5. Faults off; the clock moves on until nothing is due. Then every sync's records are
   compared with the sandbox's own view, and the event log and the receiver are read.

The oracle never asks Syncline: the truth is what the sandbox lists to each user, tracked
after every mutation, so a removal (trash, delete, unshare, move out of a synced folder) is
known for each sync it concerns. Mutations never bring a removed item back into a sync's view,
so every `record_deleted` must match one removal.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from syncline.domain.ids import record_id
from syncline.sandbox import BackgroundServer, DriveFile, DriveState
from syncline.store.tables import outbox
from tests.support.harness import Harness, harness

__all__ = ["ChaosConfig", "ChaosReport", "chaos_harness", "run_chaos"]

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
PERMISSION_REASON = "insufficientFilePermissions"


@dataclass(frozen=True)
class ChaosConfig:
    """How big and how hostile the scenario is."""

    syncs: int = 12
    """Syncs that must converge (about three in four sync a whole Drive, the rest a folder)."""
    rate: float = 0.15
    """Share of Drive data requests that fail."""
    seed: int = 1
    """Seeds the faults and the mutations."""
    rounds: int = 6
    """Rounds of mutations and runs after the initial syncs."""
    mutations: int = 8
    """Upstream mutations per round (half of them while runs are in flight)."""


@dataclass
class ChaosReport:
    """What happened, and every way the outcome differs from the truth."""

    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    runs: int = 0
    retries_logged: int = 0
    rate_limits_logged: int = 0
    incomplete_warnings: int = 0
    logged_statuses: dict[int, int] = field(default_factory=dict)
    """HTTP statuses named by SYNC_RUN_RETRY / SYNC_RUN_RATE_LIMITED entries."""
    mutations: dict[str, int] = field(default_factory=dict)
    records: int = 0
    lost: int = 0
    extra: int = 0
    duplicated: int = 0
    stale: int = 0
    """Records present but with a name, parent or type the upstream no longer has."""
    removals: int = 0
    """Items removed upstream from the view of a sync that held them (true deletions)."""
    deletions: int = 0
    """record_deleted events received (distinct event ids)."""
    wrong_deletions: int = 0
    mass_deletes: int = 0
    errored: list[str] = field(default_factory=list)
    """Syncs that ended ERRORED although they only met transient faults."""
    not_idle: list[str] = field(default_factory=list)
    deliberate_error: str | None = None
    """The reason the deliberately failed sync gave (None: it did not end ERRORED)."""
    events: int = 0
    undelivered: int = 0
    out_of_order: int = 0
    webhook_failures_logged: int = 0
    server_errors: int = 0
    """Syncline API responses with a 5xx status."""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """A human summary; the last line holds the headline counts."""
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.logged_statuses.items()))
        mutations = ", ".join(f"{k} {v}" for k, v in sorted(self.mutations.items()))
        out = [
            f"drive requests {self.requests}, faults injected {sum(self.faults.values())}",
            f"faults by kind: {faults}",
            f"upstream mutations: {mutations}",
            f"runs {self.runs}, retries logged {self.retries_logged}, rate limits logged "
            f"{self.rate_limits_logged}, incomplete-listing warnings {self.incomplete_warnings}",
            f"HTTP statuses in the event log: {statuses or 'none'}",
            f"records {self.records}: lost {self.lost}, extra {self.extra}, duplicated "
            f"{self.duplicated}, stale {self.stale}",
            f"true deletions {self.removals}, record_deleted events {self.deletions}, wrong "
            f"deletions {self.wrong_deletions}",
            f"syncs ERRORED by transient faults {len(self.errored)}, not IDLE "
            f"{len(self.not_idle)}, deliberate 403 errored: {self.deliberate_error is not None}",
            f"webhook events {self.events}, delivery failures logged "
            f"{self.webhook_failures_logged}, undelivered {self.undelivered}, out of order "
            f"{self.out_of_order}",
            f"API 500s {self.server_errors}, {self.seconds:.1f} s",
        ]
        out += [f"PROBLEM: {p}" for p in self.problems[:30]]
        out.append(
            f"lost {self.lost}, duplicated {self.duplicated}, mass deletes {self.mass_deletes}, "
            f"undelivered {self.undelivered}, out of order {self.out_of_order}"
        )
        return out


@dataclass
class ChaosHarness:
    """The harness, plus control of the webhook receiver's server (to refuse connections)."""

    h: Harness
    stack: ExitStack

    def refuse_webhooks(self) -> None:
        """Stop the receiver: connections to its port are refused."""
        self.h.receiver_server.stop()

    def restore_webhooks(self) -> None:
        """Serve the receiver again on the same port."""
        port = self.h.receiver_server.port
        self.h.receiver_server = BackgroundServer(self.h.receiver.app, port=port)
        self.stack.enter_context(self.h.receiver_server)


@asynccontextmanager
async def chaos_harness(database_url: str, **settings: Any) -> AsyncIterator[ChaosHarness]:
    """A `Harness` like `tests.support.harness.harness`, with upstream timeouts short enough
    for hanging requests to fail fast."""
    drive = DriveState()
    drive.hang_seconds = 3.0
    drive.empty_pages = True  # Drive may send empty pages mid-listing: every listing has two
    # The harness clock runs hours ahead of the receiver's: accept any signature age.
    tolerance = timedelta(days=365)
    with ExitStack() as stack:
        async with harness(
            database_url, drive=drive, receiver_tolerance=tolerance, **settings
        ) as h:
            # A hung upstream request fails after half a second, not a minute.
            h.runtime.http.timeout = httpx.Timeout(0.5)
            # Minting a user token parses the RSA key (~0.1 s): one token per user will do.
            h.auth = functools.cache(h.auth)  # type: ignore[method-assign]
            yield ChaosHarness(h, stack)


# -- the world the scenario mutates ---------------------------------------------------------


@dataclass
class _Sync:
    id: str
    app_user: str
    drive_user: str
    folder: str | None  # None: the whole Drive
    truth: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    """Items that left this sync's view upstream; none ever comes back."""


class _World:
    """The scenario's bookkeeping over the sandbox: users, folders, syncs and their truth."""

    def __init__(self, drive: DriveState, rng: random.Random) -> None:
        self.drive = drive
        self.rng = rng
        self.users: list[str] = []
        self.drives: dict[str, list[str]] = {}  # shared drive id -> member emails
        self.syncs: list[_Sync] = []
        self.frozen: set[str] = set()
        """Items a mutation may no longer move or share (moved out of a synced folder)."""
        self.shared: set[tuple[str, str]] = set()  # (item, user) ever shared
        self.mutations: Counter[str] = Counter()
        self._live: list[DriveFile] | None = None

    # -- truth --------------------------------------------------------------------------

    def listed(self, user: str) -> dict[str, DriveFile]:
        """Every untrashed item the sandbox lists to `user` (the connector's listing)."""
        with self.drive.lock:
            files, _ = self.drive.list_files(
                user,
                matches=lambda f: not f.trashed,
                folders=None,
                drive_id=None,
                include_drives=True,
                start=(0, 0),
                want=10**9,
                budget=10**9,
            )
        return {f.id: f for f in files}

    def view(self, sync: _Sync) -> dict[str, DriveFile]:
        """What `sync` should hold: the whole listing, or the folder and what lies below it."""
        listed = self.listed(sync.drive_user)
        if sync.folder is None:
            return listed
        inside: dict[str, DriveFile] = {}
        for f in listed.values():
            item: DriveFile | None = f
            while item is not None:
                if item.id == sync.folder:
                    inside[f.id] = f
                    break
                item = listed.get(item.parent) if item.parent else None
        return inside

    def observe(self) -> None:
        """After a mutation: note what left each sync's view; nothing removed may return."""
        for sync in self.syncs:
            now = set(self.view(sync))
            back = now & sync.removed
            if back:
                raise AssertionError(f"scenario bug: {sorted(back)} came back into {sync.id}")
            sync.removed |= sync.truth - now
            sync.truth = now

    # -- mutations ------------------------------------------------------------------------

    def live(self) -> list[DriveFile]:
        """Items a mutation may touch: untrashed, not roots, in anyone's view."""
        if self._live is None:
            seen: dict[str, DriveFile] = {}
            for user in self.users:
                seen.update(self.listed(user))
            self._live = sorted(seen.values(), key=lambda f: f.seq)
        return self._live

    def folders(self) -> list[DriveFile]:
        return [f for f in self.live() if f.mime_type == FOLDER]

    def small(self, f: DriveFile) -> bool:
        """A file, or a folder with at most three items below it."""
        if f.mime_type != FOLDER:
            return True
        return sum(1 for g in self.live() if self._below(g, f.id)) <= 3

    def _below(self, f: DriveFile, folder: str) -> bool:
        parent = f.parent
        while parent is not None:
            if parent == folder:
                return True
            item = self.drive.get(parent)
            parent = item.parent if item is not None else None
        return False

    def zone(self, f: DriveFile) -> str | None:
        """The synced folder `f` lies in (or is), if any."""
        for sync in self.syncs:
            if sync.folder is not None and (f.id == sync.folder or self._below(f, sync.folder)):
                return sync.folder
        return None

    def mutate(self) -> None:
        """One random upstream mutation, then update the truth."""
        ops = [
            (self._create, 4),
            (self._create_folder, 1),
            (self._update, 4),
            (self._move, 2),
            (self._trash, 2),
            (self._delete, 1),
            (self._share, 1),
            (self._unshare, 1),
        ]
        for _ in range(10):
            op = self.rng.choices([o for o, _ in ops], [w for _, w in ops])[0]
            self._live = None
            done = op()
            self._live = None
            if done:
                self.observe()
                return

    def _owner_of(self, folder: DriveFile) -> str:
        if folder.drive_id is not None:
            return self.rng.choice(self.drives[folder.drive_id])
        return folder.owner_email() or self.users[0]

    def _create(self, mime: str | None = None) -> bool:
        parent = self.rng.choice(self.folders())
        n = self.mutations["create"] + self.mutations["create_folder"]
        if mime == FOLDER:
            self.drive.add_folder(f"new-folder-{n}", parent=parent.id, owner=self._owner_of(parent))
            self.mutations["create_folder"] += 1
        else:
            kind = self.rng.choice(["text/plain", DOC, "application/pdf"])
            self.drive.add_file(
                f"new-{n}.txt",
                mime_type=kind,
                content=f"v{n}".encode(),
                parent=parent.id,
                owner=self._owner_of(parent),
            )
            self.mutations["create"] += 1
        return True

    def _create_folder(self) -> bool:
        return self._create(FOLDER)

    def _pick(self, *, small: bool = False, files_only: bool = False) -> DriveFile | None:
        synced = {s.folder for s in self.syncs if s.folder is not None}
        candidates = [
            f
            for f in self.live()
            if f.id not in synced
            and f.id not in self.frozen
            and not (files_only and f.mime_type == FOLDER)
            and (not small or self.small(f))
        ]
        return self.rng.choice(candidates) if candidates else None

    def _update(self) -> bool:
        f = self._pick()
        if f is None:
            return False
        n = self.mutations["update"]
        if f.mime_type == FOLDER or self.rng.random() < 0.5:
            self.drive.update_file(f.id, name=f"{f.name.split('~')[0]}~{n}")
        else:
            self.drive.update_file(f.id, content=f"edit {n}".encode())
        self.mutations["update"] += 1
        return True

    def _move(self) -> bool:
        f = self._pick(small=True)
        if f is None:
            return False
        here = self.zone(f)
        targets = [
            g
            for g in self.folders()
            if g.drive_id == f.drive_id
            and g.id != f.id
            and g.id != f.parent
            and not self._below(g, f.id)
            and (f.drive_id is not None or g.owner_email() == f.owner_email())
        ]
        # Within its zone; out of a synced folder only (never into one it left).
        allowed = [g for g in targets if self.zone(g) == here]
        if here is not None and self.rng.random() < 0.3:
            allowed = [g for g in targets if self.zone(g) is None]
        if not allowed:
            return False
        target = self.rng.choice(allowed)
        self.drive.update_file(f.id, parent=target.id)
        if self.zone(target) != here:
            self.frozen.add(f.id)
            self.frozen.update(g.id for g in self.live() if self._below(g, f.id))
        self.mutations["move"] += 1
        return True

    def _trash(self) -> bool:
        f = self._pick(small=True)
        if f is None:
            return False
        self.drive.trash(f.id)
        self.mutations["trash"] += 1
        return True

    def _delete(self) -> bool:
        f = self._pick(small=True)
        if f is None:
            return False
        self.drive.delete(f.id)
        self.mutations["delete"] += 1
        return True

    def _share(self) -> bool:
        f = self._pick(small=True)
        if f is None or f.drive_id is not None:
            return False
        owner = f.owner_email()
        others = [u for u in self.users if u != owner and (f.id, u) not in self.shared]
        if not others:
            return False
        user = self.rng.choice(others)
        below = {f.id} | {g.id for g in self.live() if self._below(g, f.id)}
        if any(below & s.removed for s in self.syncs if s.drive_user == user):
            return False  # it would bring back what that user lost
        self.drive.share(f.id, user, self.rng.choice(["reader", "writer"]))
        self.shared.add((f.id, user))
        self.mutations["share"] += 1
        return True

    def _unshare(self) -> bool:
        pairs = sorted(
            (item, user)
            for item, user in self.shared
            if (g := self.drive.get(item)) is not None
            and not g.trashed
            and any(p.email == user for p in g.perms)
        )
        if not pairs:
            return False
        item, user = self.rng.choice(pairs)
        self.drive.unshare(item, user)
        self.frozen.add(item)
        self.mutations["unshare"] += 1
        return True


def _populate(world: _World, users: int) -> list[tuple[str, str | None]]:
    """Drive users, their folders, shared drives; returns (user, folder or None) per sync."""
    drive, rng = world.drive, world.rng
    world.users = [f"user{i:02d}@example.com" for i in range(users)]
    plan: list[tuple[str, str | None]] = []
    folders: dict[str, str] = {}
    for i, user in enumerate(world.users):
        projects = drive.add_folder("Projects", owner=user)
        for j in range(3):
            drive.add_file(f"plan-{j}.txt", content=b"x", parent=projects, owner=user)
        sub = drive.add_folder("Archive", parent=projects, owner=user)
        for j in range(3):
            drive.add_file(f"old-{j}.pdf", mime_type="application/pdf", parent=sub, owner=user)
        notes = drive.add_folder("Notes", owner=user)
        folders[user] = notes
        for j in range(3):
            drive.add_file(f"note-{j}", mime_type=DOC, content=b"n", parent=notes, owner=user)
        for j in range(2):
            drive.add_file(f"loose-{j}.txt", content=b"l", owner=user)
        plan.append((user, None))
        if i % 3 == 0:
            plan.append((user, projects))
    half = max(1, users // 2)
    for name, members in (("Eng", world.users[:half]), ("Sales", world.users[half // 2 :])):
        drive_id = drive.add_shared_drive(name, members)
        world.drives[drive_id] = list(members)
        top = drive.add_folder("Team", drive_id=drive_id, owner=members[0])
        for j in range(4):
            drive.add_file(f"{name}-{j}.txt", content=b"s", parent=top, owner=members[0])
        for j in range(2):
            drive.add_file(f"{name}-root-{j}.txt", content=b"s", drive_id=drive_id)
    for i, user in enumerate(world.users):  # a folder shared with the next user
        other = world.users[(i + 1) % len(world.users)]
        notes = folders[user]
        drive.share(notes, other, "reader")
        world.shared.add((notes, other))
    rng.shuffle(plan)
    return plan


# -- the scenario ---------------------------------------------------------------------------


async def run_chaos(ch: ChaosHarness, config: ChaosConfig) -> ChaosReport:
    """Run the scenario; the report lists every discrepancy in `problems`."""
    began = time.monotonic()
    h = ch.h
    report = ChaosReport()
    server_errors: list[str] = []

    async def count_5xx(response: httpx.Response) -> None:
        if response.status_code >= 500:
            server_errors.append(f"{response.request.method} {response.request.url.path}")

    h.api.event_hooks["response"].append(count_5xx)
    world = _World(h.drive, random.Random(config.seed))
    users = max(2, (config.syncs * 3 + 3) // 4)
    plan = _populate(world, users)[: config.syncs]

    h.drive.chaos(config.rate, seed=config.seed)
    for n, (user, folder) in enumerate(plan):
        app_user = f"app-{n:02d}"
        await h.connect(app_user, user)
        body: dict[str, Any] = {"configurationName": f"chaos-{n}"}
        if folder is not None:
            body["configuration"] = {"folderId": folder}
        sync = await h.enable(app_user, **body)
        world.syncs.append(_Sync(sync["id"], app_user, user, folder))
    world.observe()

    async def step(mutations: int = 0, minutes: float = 2) -> None:
        """Start what is due, mutate while it runs, let it finish, deliver, move the clock."""
        report.runs += await h.runtime.scheduler.tick()
        for _ in range(mutations):
            world.mutate()
            await asyncio.sleep(0.01)
        await h.runtime.scheduler.idle()
        report.runs += await _run_due(h)
        await h.deliver()
        h.clock.advance(minutes=minutes)

    for _ in range(2):
        await step()
    outage = range(config.rounds // 3, config.rounds // 3 + 3)
    for r in range(config.rounds):
        if r == outage.start:
            h.receiver.down = True  # 503 for every delivery
        elif r == outage.start + 2:
            h.receiver.down = False
            ch.refuse_webhooks()  # then nobody listening at all
        elif r == outage.stop:
            ch.restore_webhooks()
        for _ in range(config.mutations // 2):
            world.mutate()
        if r == 1:  # besides the steady ones: at least one listing Drive calls incomplete
            h.drive.inject("incomplete")
            h.drive.inject("truncated")
        if r % 2 == 1:  # some full syncs on request, under faults
            for chosen in world.rng.sample(world.syncs, max(1, len(world.syncs) // 3)):
                await h.trigger(chosen.id, "full", chosen.app_user)
        await step(mutations=config.mutations - config.mutations // 2)
        await step(minutes=60 if r in outage else 2)
    if outage.stop >= config.rounds:
        ch.restore_webhooks()
    h.receiver.down = False

    doomed = await _deliberate_403(h, world)

    h.drive.calm()
    report.requests = h.drive.request_count()
    report.faults = h.drive.faults_fired
    for _ in range(40):  # faults off: everything due runs, every event goes out
        await step(minutes=30)
        if await _quiet(h, [s.id for s in world.syncs] + [doomed]):
            break
    report.mutations = dict(world.mutations)

    await _check_records(h, world, report)
    await _check_statuses(h, world, doomed, report)
    await _check_events(h, world, report)
    await _check_webhooks(h, world, report)
    report.server_errors = len(server_errors)
    if server_errors:
        report.problems.append(f"API 5xx: {server_errors[:5]}")
    report.seconds = time.monotonic() - began
    return report


async def _run_due(h: Harness) -> int:
    started = 0
    for _ in range(50):
        n = await h.runtime.scheduler.tick()
        await h.runtime.scheduler.idle()
        started += n
        if not n:
            return started
    raise AssertionError("syncs kept being due")


async def _quiet(h: Harness, sync_ids: list[str]) -> bool:
    """Nothing left to do: every sync at rest, no full sync due, and no event waiting."""
    counts = await h.runtime.store.outbox_counts()
    if counts.get("pending"):
        return False
    for sync_id in sync_ids:
        sync = await h.runtime.store.get_sync(sync_id)
        if sync is None or sync.status.value == "ERRORED":
            continue  # at rest for good (its checkpoint stays for a re-enable)
        if sync.status.value != "IDLE" or sync.requested_run is not None:
            return False
        if sync.checkpoint is not None:
            return False
        if sync.next_full_at is not None and sync.next_full_at <= h.clock():
            return False  # a full sync is due (e.g. after an incomplete listing)
    return True


async def _deliberate_403(h: Harness, world: _World) -> str:
    """A folder sync whose folder answers 403 insufficientFilePermissions: a fault no retry
    can fix, so this sync alone must end ERRORED."""
    user = world.users[0]
    folder = h.drive.add_folder("Locked", owner=user)
    h.drive.inject("403_permission", path=f"/drive/v3/files/{folder}")
    await h.connect("app-doomed", user)
    sync = await h.enable(
        "app-doomed", configurationName="doomed", configuration={"folderId": folder}
    )
    return str(sync["id"])


def _by_sync(world: _World) -> Iterator[_Sync]:
    yield from world.syncs


async def _check_records(h: Harness, world: _World, report: ChaosReport) -> None:
    for sync in _by_sync(world):
        truth = world.view(sync)
        records, _ = await h.pull(sync.id, page_size=1000, user=sync.app_user)
        seen = Counter(r["externalId"] for r in records)
        dups = sum(n - 1 for n in seen.values() if n > 1)
        active = {r["externalId"]: r for r in records if not r.get("deleted")}
        tombstones = {r["externalId"] for r in records if r.get("deleted")}
        lost = set(truth) - set(active)
        extra = set(active) - set(truth)
        stale = [
            x
            for x, f in truth.items()
            if x in active
            and (active[x]["name"], active[x]["parentFolderId"], active[x]["mimeType"])
            != (f.name, f.parent, f.mime_type)
        ]
        wrong = tombstones - sync.removed
        report.records += len(active)
        report.lost += len(lost)
        report.extra += len(extra)
        report.duplicated += dups
        report.stale += len(stale)
        report.wrong_deletions += len(wrong)
        tag = f"sync {sync.id[:8]} ({sync.drive_user}, {'folder' if sync.folder else 'all'})"
        for what, items in (
            ("lost", lost),
            ("extra", extra),
            ("stale", stale),
            ("deleted but never removed upstream", wrong),
        ):
            if items:
                names = [_describe(h.drive, x) for x in sorted(items)[:5]]
                report.problems.append(f"{tag}: {len(items)} {what}: {names}")
        if dups:
            report.problems.append(f"{tag}: {dups} duplicated records")


def _describe(drive: DriveState, file_id: str) -> str:
    f = drive.get(file_id)
    if f is None:
        return f"{file_id} (deleted)"
    parent = drive.get(f.parent) if f.parent else None
    where = parent.name if parent is not None else f.parent
    return f"{f.name!r} in {where!r}{' (trashed)' if f.trashed else ''}"


async def _check_statuses(h: Harness, world: _World, doomed: str, report: ChaosReport) -> None:
    for sync in _by_sync(world):
        status = await h.status(sync.id, sync.app_user)
        if status["status"] == "ERRORED":
            report.errored.append(sync.id)
            report.problems.append(f"sync {sync.id[:8]} ERRORED: {status.get('reason')}")
        elif status["status"] != "IDLE":
            report.not_idle.append(sync.id)
            report.problems.append(f"sync {sync.id[:8]} ended {status['status']}")
    status = await h.status(doomed, "app-doomed")
    if status["status"] == "ERRORED" and PERMISSION_REASON in (status.get("reason") or ""):
        report.deliberate_error = status["reason"]
    else:
        report.problems.append(
            f"the sync that met {PERMISSION_REASON} ended {status['status']}: "
            f"{status.get('reason')}"
        )


async def _events_of(h: Harness, sync: _Sync) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"pageSize": 1000}
        if cursor:
            params["cursor"] = cursor
        response = await h.api.get(
            f"/api/syncs/{sync.id}/events", headers=h.auth(sync.app_user), params=params
        )
        assert 200 == response.status_code, response.text
        body = response.json()
        events += body["data"]
        cursor = body["paging"]["cursor"]
        if not cursor:
            return events


async def _check_events(h: Harness, world: _World, report: ChaosReport) -> None:
    statuses: Counter[int] = Counter()
    for sync in _by_sync(world):
        for event in await _events_of(h, sync):
            kind, error = event["syncEvent"], event.get("error") or {}
            if kind in ("SYNC_RUN_RETRY", "SYNC_RUN_RATE_LIMITED"):
                if kind == "SYNC_RUN_RETRY":
                    report.retries_logged += 1
                else:
                    report.rate_limits_logged += 1
                if isinstance(error.get("httpStatus"), int):
                    statuses[error["httpStatus"]] += 1
            elif kind == "SYNC_RUN_WARNING":
                message = str(error.get("message", ""))
                if "incomplete" in message:
                    report.incomplete_warnings += 1
                if "would delete" in message:
                    report.mass_deletes += 1
                    report.problems.append(f"sync {sync.id[:8]}: mass delete refused: {message}")
            elif kind == "WEBHOOK_DELIVERY_FAILED":
                report.webhook_failures_logged += 1
    report.logged_statuses = dict(statuses)


async def _check_webhooks(h: Harness, world: _World, report: ChaosReport) -> None:
    """Every outbox event reached the receiver, once accepted per id, in order per sync; and
    record_deleted events match the true removals one for one."""
    async with h.runtime.store.db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.sync_id, outbox.c.event_id, outbox.c.status).order_by(outbox.c.id)
            )
        ).all()
    expected: dict[str, list[str]] = {}
    for sync_id, event_id, status in rows:
        expected.setdefault(sync_id, []).append(event_id)
        if status != "delivered":
            report.problems.append(f"event {event_id} of sync {sync_id[:8]} is {status}")
    received: dict[str, list[str]] = {}
    bodies: dict[str, dict[str, Any]] = {}
    for delivery in h.receiver.deliveries:
        if not delivery["accepted"]:
            continue
        body = delivery["body"]
        event_id = delivery["headers"]["webhook-id"]
        if event_id in bodies:
            continue  # a redelivery: the receiver dedupes by id
        bodies[event_id] = body
        received.setdefault(body["syncInstanceId"], []).append(event_id)
    report.events = sum(len(v) for v in expected.values())
    for sync_id, ids in expected.items():
        got = received.get(sync_id, [])
        position = {event_id: i for i, event_id in enumerate(ids)}
        missing = set(ids) - set(got)
        report.undelivered += len(missing)
        order = [position[e] for e in got if e in position]
        backwards = sum(1 for a, b in itertools.pairwise(order) if b < a)
        report.out_of_order += backwards
        if missing:
            report.problems.append(f"sync {sync_id[:8]}: {len(missing)} events never delivered")
        if backwards:
            report.problems.append(f"sync {sync_id[:8]}: {backwards} events out of order")
    for sync in _by_sync(world):
        removed_ids = {record_id(sync.id, x) for x in sync.removed}
        deleted = [
            b["data"]["recordId"]
            for b in bodies.values()
            if b["syncInstanceId"] == sync.id and b["event"] == "record_deleted"
        ]
        held = await _ever_held(h, sync)
        true_deletions = sync.removed & held
        report.removals += len(true_deletions)
        report.deletions += len(deleted)
        wrong = [d for d in deleted if d not in removed_ids]
        twice = len(deleted) - len(set(deleted))
        if wrong or twice:
            report.wrong_deletions += len(wrong) + twice
            report.problems.append(
                f"sync {sync.id[:8]}: {len(wrong)} record_deleted for items never removed, "
                f"{twice} repeated"
            )
        if len(set(deleted)) != len(true_deletions):
            report.problems.append(
                f"sync {sync.id[:8]}: {len(set(deleted))} record_deleted events for "
                f"{len(true_deletions)} true deletions"
            )
        if len(deleted) > len(true_deletions):
            report.mass_deletes += 1


async def _ever_held(h: Harness, sync: _Sync) -> set[str]:
    """External ids this sync ever held: its records and its tombstones (a deletion of an item
    a sync never held leaves no trace, and sends no event)."""
    records, _ = await h.pull(sync.id, page_size=1000, user=sync.app_user)
    return {r["externalId"] for r in records}

"""The crash scenario, shared by `python -m bench.crash` and `tests/e2e/test_crash.py`.

Real processes on real PostgreSQL: `apis` x `syncline api` and `workers` x `syncline worker`,
one credential and one Google Drive sync per user against the sandbox Drive (in this process),
and a webhook receiver. While the syncs run, upstream files are created, renamed and deleted,
incremental and full syncs are triggered through the API, a client follows every sync's records
feed with its cursor, workers are killed with SIGKILL while they hold an initial, incremental or
full run (each kind at least once) and restarted, and PostgreSQL itself is restarted once. Then
the mutations stop, everything is given time to settle, and `Report` counts what went wrong:

* not IDLE: syncs whose status is not IDLE at the end;
* lost: upstream files missing from a sync's records (or still carrying an old name), either in
  a full read of the feed or in the replica the cursor-following client built;
* duplicated: an id twice in one full read of a feed, or a record present that upstream deleted;
* undelivered: record events in the outbox that never reached the receiver, plus upstream
  changes (made after a sync's initial run) that produced no event for their record;
* doubled runs: two runs of one sync (run ids from the User-Agent) whose requests to the
  sandbox overlapped in time;
* 500s: HTTP answers in the 5xx range other than 503 that any client got from the API.
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench._crash_pg import scratch_database
from syncline.auth import mint_user_token
from syncline.sandbox import DriveState
from tests.support.client import Sandbox, sandboxed
from tests.support.processes import SynclineProcess, free_port
from tests.support.receiver import Receiver

__all__ = ["KINDS", "CrashConfig", "Report", "run_scenario"]

KINDS = ("initial", "incremental", "full")
RECORD_EVENTS = ("record_created", "record_updated", "record_deleted")

log = logging.getLogger("bench.crash")


@dataclass(frozen=True)
class CrashConfig:
    """What to run. The defaults are the reviewer's full run."""

    postgres_url: str
    """An admin URL of the server: a scratch database is created (and dropped) on it."""
    restart_postgres_command: str
    syncs: int = 200
    workers: int = 3
    apis: int = 2
    kills: int = 9
    seed: int = 1
    chaos_seconds: float = 90.0
    """How long mutations, triggers and kills go on."""
    settle_seconds: float = 240.0
    """The bound on waiting for every sync to catch up and every event to be delivered."""
    big_share: float = 0.05
    """Share of users whose drives fill several listing pages (1000 files a page). The sandbox
    walks every user's files for each listing, so the total is kept modest."""
    big_files: tuple[int, int] = (1500, 3000)
    small_files: tuple[int, int] = (2, 40)
    reserve: int = 2
    """The biggest drives, held back until an initial run is due to be killed."""
    latency: float = 0.05
    """Seconds the sandbox adds to each Drive request while the chaos lasts (longer runs)."""
    keep_database: bool = False
    lease_seconds: float = 8.0
    """Short, so a killed worker's syncs are taken over soon (and leases are put to work)."""
    logs: Path = Path("crash-logs")


@dataclass
class Report:
    """The counts the scenario verifies; `failed` is what must be zero."""

    syncs: int = 0
    files: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    postgres_restarts: int = 0
    mutations: int = 0
    triggers: Counter[str] = field(default_factory=Counter)
    not_idle: int = 0
    lost: int = 0
    duplicated: int = 0
    undelivered: int = 0
    missing_events: int = 0
    doubled_runs: int = 0
    http: Counter[int] = field(default_factory=Counter)
    events_delivered: int = 0
    runs_seen: int = 0
    settle_seconds: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def errors_500(self) -> int:
        return sum(n for status, n in self.http.items() if status >= 500 and status != 503)

    @property
    def failed(self) -> dict[str, int]:
        """The nonzero failure counts by name."""
        counts = {
            "not IDLE": self.not_idle,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "undelivered": self.undelivered + self.missing_events,
            "doubled runs": self.doubled_runs,
            "500s": self.errors_500,
            "run kinds never killed": sum(1 for kind in KINDS if not self.kills[kind]),
        }
        return {name: n for name, n in counts.items() if n}

    def table(self) -> str:
        kills = ", ".join(f"{kind} {self.kills[kind]}" for kind in KINDS)
        other = sum(n for kind, n in self.kills.items() if kind not in KINDS)
        idle = f", holding no run {other}" if other else ""
        triggers = f"{self.triggers['incremental']}, {self.triggers['full']}"
        rows = [
            ("syncs", str(self.syncs)),
            ("upstream files (start)", str(self.files)),
            ("upstream mutations", str(self.mutations)),
            ("triggers (incremental, full)", triggers),
            ("worker kills", f"{sum(self.kills.values())} ({kills}{idle})"),
            ("postgres restarts", str(self.postgres_restarts)),
            ("runs seen by the sandbox", str(self.runs_seen)),
            ("record events delivered", str(self.events_delivered)),
            ("API answers 429 / 503", f"{self.http[429]} / {self.http[503]}"),
            ("syncs not IDLE", str(self.not_idle)),
            ("lost", str(self.lost)),
            ("duplicated", str(self.duplicated)),
            ("events undelivered", str(self.undelivered)),
            ("changes without an event", str(self.missing_events)),
            ("doubled runs", str(self.doubled_runs)),
            ("HTTP 500s", str(self.errors_500)),
            ("settled in", f"{self.settle_seconds:.1f} s"),
            ("duration", f"{self.seconds:.1f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)

    def summary(self) -> str:
        return (
            f"lost {self.lost}, duplicated {self.duplicated}, doubled runs {self.doubled_runs}, "
            f"undelivered {self.undelivered + self.missing_events}, 500s {self.errors_500}, "
            f"not IDLE {self.not_idle}"
        )


# --- the API client --------------------------------------------------------------------------


class Api:
    """Calls the API processes in turn as the users; retries what a client should retry (429,
    503, refused connections) and counts every status it saw."""

    def __init__(self, bases: list[str], tokens: dict[str, str]) -> None:
        self._clients = [httpx.Client(base_url=b, timeout=30) for b in bases]
        self._tokens = tokens
        self._turn = 0
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def call(
        self, user: str, method: str, path: str, *, patience: float = 90, **kwargs: Any
    ) -> Any:
        """The JSON answer of a 2xx; AssertionError on anything else once patience runs out."""
        deadline = time.monotonic() + patience
        headers = {"Authorization": f"Bearer {self._tokens[user]}"}
        while True:
            with self._lock:
                client = self._clients[self._turn % len(self._clients)]
                self._turn += 1
            try:
                response = client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                with self._lock:
                    self.statuses[response.status_code] += 1
                if response.is_success:
                    return response.json()
                problem = f"{response.status_code} {response.text[:300]}"
                if response.status_code >= 500 and response.status_code != 503:
                    with self._lock:
                        self.failures.append(f"{method} {path}: {problem}")
                if response.status_code not in (429, 503) and response.status_code < 500:
                    raise AssertionError(f"{method} {path}: {problem}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} kept failing: {problem}")
            time.sleep(0.2)


# --- upstream ----------------------------------------------------------------------------------


@dataclass
class User:
    """One end user: a Drive account, a credential, a sync; what upstream holds for them."""

    name: str
    email: str
    files: list[str] = field(default_factory=list)
    """Every file id ever created for the user (deleted ones included)."""
    sync_id: str = ""
    tracked: bool | None = None
    """Whether every mutation of this user came after its initial sync completed (None: none
    yet); only then does each change have to produce a record event."""
    before: dict[str, str] = field(default_factory=dict)
    """Live files and names just before the first mutation (tracked users)."""
    mutated: set[str] = field(default_factory=set)
    version: int = 0


def live_files(drive: DriveState, user: User) -> dict[str, str]:
    """{file id: name} of the user's files that exist upstream now."""
    out = {}
    for fid in user.files:
        f = drive.get(fid)
        if f is not None and not f.trashed:
            out[fid] = f.name
    return out


def populate(drive: DriveState, config: CrashConfig, rng: random.Random) -> list[User]:
    users = []
    for i in range(config.syncs):
        user = User(f"user-{i:04d}", f"user{i:04d}@example.com")
        low, high = config.big_files if rng.random() < config.big_share else config.small_files
        for k in range(rng.randint(low, high)):
            user.files.append(
                drive.add_file(f"u{i}-f{k}.txt", content=f"{i}/{k}".encode(), owner=user.email)
            )
        users.append(user)
    return users


def mutate(drive: DriveState, user: User, rng: random.Random, completed: bool) -> None:
    """One create, rename-and-rewrite, or delete of one of the user's files."""
    if user.tracked is None:
        user.tracked = completed
        user.before = live_files(drive, user)
    elif not completed:
        user.tracked = False
    live = [fid for fid in user.files if drive.get(fid) is not None]
    roll = rng.random()
    user.version += 1
    if roll < 0.4 or not live:
        fid = drive.add_file(
            f"new-{user.version}.txt", content=uuid.uuid4().bytes, owner=user.email
        )
        user.files.append(fid)
    elif roll < 0.8:
        fid = rng.choice(live)
        drive.update_file(fid, name=f"renamed-{user.version}.txt", content=uuid.uuid4().bytes)
    else:
        fid = rng.choice(live)
        drive.delete(fid)
    user.mutated.add(fid)


# --- processes and the database --------------------------------------------------------------


class Fleet:
    """The API and worker processes."""

    def __init__(self, env: dict[str, str], config: CrashConfig) -> None:
        self.apis = [
            SynclineProcess(
                "api", {**env, "SYNCLINE_PORT": str(free_port())}, config.logs / f"api-{i}.log"
            )
            for i in range(config.apis)
        ]
        self.workers = [
            SynclineProcess("worker", env, config.logs / f"worker-{i}.log")
            for i in range(config.workers)
        ]

    def start(self) -> None:
        for process in [*self.apis, *self.workers]:
            process.start()
        for api in self.apis:
            api.wait_ready(timeout=180)  # slow on a busy machine: imports, migrations check

    def worker_by_pid(self, pid: int) -> SynclineProcess | None:
        return next((w for w in self.workers if w.pid == pid and w.alive), None)

    def stop(self) -> None:
        for process in [*self.workers, *self.apis]:
            if process.alive:
                process.stop(timeout=15)


class Db:
    """The orchestrator's own view of the database (leases, statuses, the outbox); reconnects
    after PostgreSQL restarts."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        for attempt in range(30):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
                return self._conn.execute(sql).fetchall()
            except psycopg.OperationalError:
                self.close()
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("the database stayed unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def leases(self) -> list[tuple[str, int, str]]:
        """(sync id, worker pid, run kind) of every live lease."""
        found = []
        for sync_id, owner, checkpoint_type, initial_done in self.rows(
            "SELECT id, lease_owner, checkpoint_type, initial_completed_at IS NOT NULL"
            " FROM syncs WHERE lease_owner IS NOT NULL AND lease_expires_at > now()"
        ):
            if not initial_done:
                kind = "initial"
            elif checkpoint_type == "FULL":
                kind = "full"
            else:
                kind = "incremental"
            found.append((sync_id, int(owner.split(":")[-2]), kind))
        return found


# --- the scenario ----------------------------------------------------------------------------


@dataclass
class Chaos:
    """State of the chaos phase."""

    config: CrashConfig
    drive: DriveState
    receiver: Receiver
    api: Api
    db: Db
    fleet: Fleet
    users: list[User]
    rng: random.Random
    report: Report
    reserve: list[User] = field(default_factory=list)
    """Big drives not enabled yet: one is enabled when an initial run is due to be killed and
    none is running (a fast machine finishes the first initial syncs before the chaos starts)."""
    completed: set[str] = field(default_factory=set)
    completed_at: float = 0.0
    restarts: list[tuple[float, SynclineProcess]] = field(default_factory=list)

    def refresh_completed(self) -> None:
        if time.monotonic() - self.completed_at > 1.0:
            self.completed = {e["syncInstanceId"] for e in self.receiver.events("sync_complete")}
            self.completed_at = time.monotonic()

    def mutate_some(self) -> None:
        self.refresh_completed()
        done = [u for u in self.users if u.sync_id in self.completed]
        pool = done if done and self.rng.random() < 0.85 else self.users
        user = self.rng.choice(pool)
        mutate(self.drive, user, self.rng, user.sync_id in self.completed)
        self.report.mutations += 1
        if self.rng.random() < 0.3:
            self.trigger(user, "incremental")

    def trigger(self, user: User, kind: str) -> None:
        self.api.call(user.name, "POST", f"/api/syncs/{user.sync_id}/trigger", json={"type": kind})
        self.report.triggers[kind] += 1

    def trigger_full(self) -> None:
        """A full sync of a user whose initial sync is done, big drives preferred (longer)."""
        self.refresh_completed()
        done = [u for u in self.users if u.sync_id in self.completed]
        if not done:
            return
        done.sort(key=lambda u: len(u.files), reverse=True)
        pool = done[: max(3, len(done) // 10)] if self.rng.random() < 0.7 else done
        self.trigger(self.rng.choice(pool), "full")

    def kill(self) -> bool:
        """SIGKILL a worker that holds a run, of a kind not hit yet while there is one; schedule
        its restart. False when no worker holds such a run right now."""
        missing = {kind for kind in KINDS if not self.report.kills[kind]}
        candidates = [
            (pid, kind) for _, pid, kind in self.db.leases() if kind in (missing or KINDS)
        ]
        if "initial" in missing and not any(kind == "initial" for _, kind in candidates):
            self.enable_reserve()
        self.rng.shuffle(candidates)
        for pid, kind in candidates:
            worker = self.fleet.worker_by_pid(pid)
            if worker is None:
                continue
            worker.kill()
            self.report.kills[kind] += 1
            log.info(
                "killed worker %s during %s run",
                pid,
                ("an " if kind[0] in "aeiou" else "a ") + kind,
            )
            self.restarts.append((time.monotonic() + self.rng.uniform(0.5, 3.0), worker))
            return True
        return False

    def enable_reserve(self) -> None:
        """Enable the next held-back user, whose initial run a later kill can then hit."""
        if self.reserve:
            user = self.reserve.pop()
            enable(self.api, self.drive, [user])
            self.users.append(user)
            log.info("enabled %s (%d files) for an initial run to kill", user.name, len(user.files))

    def restart_due(self, *, all_now: bool = False) -> None:
        waiting = []
        for at, worker in self.restarts:
            if all_now or time.monotonic() >= at:
                worker.start()
            else:
                waiting.append((at, worker))
        self.restarts = waiting

    def restart_postgres(self) -> None:
        log.info("restarting PostgreSQL: %s", self.config.restart_postgres_command)
        done = subprocess.run(
            self.config.restart_postgres_command,
            shell=True,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"restarting PostgreSQL failed:\n{done.stdout}{done.stderr}")
        self.report.postgres_restarts += 1

    def run(self) -> None:
        """Mutations, triggers, kills and one PostgreSQL restart for `chaos_seconds`; a kill that
        is due waits for a run of a kind not hit yet, while there is one."""
        config, rng = self.config, self.rng
        start = time.monotonic()
        end = start + config.chaos_seconds
        # The first kill comes early, while initial syncs run; the others at random moments.
        later = [rng.uniform(0.1, 0.9) * config.chaos_seconds for _ in range(config.kills - 1)]
        kill_at = [start + 1.0, *sorted(start + t for t in later)]
        postgres_at = start + config.chaos_seconds * rng.uniform(0.4, 0.6)
        next_full = start + 2.0
        # On a slow machine the initial syncs may outlast the planned time: the chaos then
        # goes on (up to as long again) until every planned kill found its run.
        overtime = end + config.chaos_seconds
        while time.monotonic() < end or (kill_at and time.monotonic() < overtime):
            now = time.monotonic()
            self.restart_due()
            self.mutate_some()
            if now >= next_full:
                self.trigger_full()
                next_full = now + rng.uniform(0.5, 2.0)
            if kill_at and now >= kill_at[0] and self.kill():
                kill_at.pop(0)
            if postgres_at and now >= postgres_at:
                self.restart_postgres()
                postgres_at = 0.0
            time.sleep(rng.uniform(0.02, 0.1))
        if kill_at:
            self.report.notes.append(f"{len(kill_at)} planned kills found no run to hit")
        self.restart_due(all_now=True)
        while self.reserve:
            self.enable_reserve()


class Follower(threading.Thread):
    """A client that follows every sync's records feed with its cursor, as an application
    would, and keeps a replica {external id: name} per sync."""

    def __init__(self, api: Api, users: list[User]) -> None:
        super().__init__(daemon=True, name="feed-follower")
        self.api = api
        self.users = users
        self.cursors: dict[str, str | None] = {}
        self.replicas: dict[str, dict[str, str]] = {}
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                for user in self.users:
                    if self.stopping.is_set():
                        break
                    self.catch_up(user)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def catch_up(self, user: User) -> None:
        sync_id = user.sync_id
        replica = self.replicas.setdefault(sync_id, {})
        while True:
            params: dict[str, Any] = {"pageSize": 1000}
            if self.cursors.get(sync_id):
                params["cursor"] = self.cursors[sync_id]
            body = self.api.call(user.name, "GET", f"/api/syncs/{sync_id}/records", params=params)
            for record in body["data"]:
                if record.get("deleted"):
                    replica.pop(record["externalId"], None)
                else:
                    replica[record["externalId"]] = record["name"]
            self.cursors[sync_id] = body["paging"]["cursor"] or self.cursors[sync_id]
            if not body["data"] or body["paging"]["remainingRecords"] == 0:
                return


def enable(api: Api, drive: DriveState, users: list[User]) -> None:
    """A credential and a files sync per user, through the API processes in turn."""
    expires = (datetime.now(UTC) + timedelta(hours=6)).isoformat()

    def one(user: User) -> None:
        access, refresh = drive.issue_tokens(user.email)
        body = {
            "integration": "googledrive",
            "accessToken": access,
            "refreshToken": refresh,
            "expiresAt": expires,
        }
        api.call(user.name, "POST", "/api/credentials", json=body)
        sync = {"integration": "googledrive", "pipeline": "files"}
        user.sync_id = api.call(user.name, "POST", "/api/syncs", json=sync)["id"]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, users))


def settle(chaos: Chaos, since: datetime, timeout: float) -> bool:
    """Every sync caught up (a run ended after `since`, IDLE, nothing requested, leased or due)
    and every event delivered; False if not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        behind = chaos.db.rows(
            "SELECT count(*) FROM syncs WHERE status <> 'IDLE' OR requested_run IS NOT NULL"
            " OR lease_owner IS NOT NULL OR checkpoint IS NOT NULL OR next_run_at <= now()"
            f" OR last_synced_at IS NULL OR last_synced_at <= '{since.isoformat()}'"
        )[0][0]
        pending = chaos.db.rows("SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
        if behind == 0 and pending == 0:
            return True
        time.sleep(0.5)
    return False


def verify(chaos: Chaos, follower: Follower) -> None:
    """Fill in the report's failure counts from the API, the database and the sandbox."""
    report, drive, api = chaos.report, chaos.drive, chaos.api
    delivered: dict[str, set[str]] = {}  # record id -> event types delivered
    ids = chaos.receiver.unique_ids()
    for event in chaos.receiver.events():
        if event["event"] in RECORD_EVENTS:
            delivered.setdefault(event["data"]["recordId"], set()).add(event["event"])
    report.events_delivered = sum(len(v) for v in delivered.values())
    outbox = chaos.db.rows(
        "SELECT event_id, status FROM outbox WHERE event IN "
        "('record_created', 'record_updated', 'record_deleted')"
    )
    report.undelivered = sum(1 for event_id, _ in outbox if event_id not in ids)
    if report.undelivered:
        statuses = Counter(status for event_id, status in outbox if event_id not in ids)
        report.notes.append(f"outbox statuses of the undelivered: {dict(statuses)}")

    for user in chaos.users:
        status = api.call(user.name, "GET", f"/api/syncs/{user.sync_id}")["status"]
        if status != "IDLE":
            report.not_idle += 1
            report.notes.append(f"{user.name} {user.sync_id} is {status}")
        truth = live_files(drive, user)
        feed = read_feed(api, user)
        seen = Counter(r["externalId"] for r in feed)
        twice = {ext for ext, n in seen.items() if n > 1}
        held = {r["externalId"]: r for r in feed if not r.get("deleted")}
        record_ids = {r["externalId"]: r["id"] for r in feed}
        replica = follower.replicas[user.sync_id]
        lost = {
            ext
            for ext, name in truth.items()
            if ext not in held or held[ext]["name"] != name or replica.get(ext) != name
        }
        extra = (set(held) | set(replica)) - set(truth)
        report.lost += len(lost)
        report.duplicated += len(twice | extra)
        if lost or twice or extra:
            report.notes.append(
                f"{user.name} (sync {user.sync_id}, tracked {user.tracked}): "
                f"twice {sorted(twice)[:5]}, deleted but present {sorted(extra)[:5]}"
            )
        for ext in sorted(lost)[:5]:
            in_feed = [r.get("name", "deleted") for r in feed if r["externalId"] == ext]
            report.notes.append(
                f"{user.name} lost {ext}: upstream {truth[ext]!r}, feed {in_feed}, replica "
                f"{replica.get(ext)!r}, mutated {ext in user.mutated}"
            )
        if user.tracked:
            missing = missing_events(user, truth, record_ids, delivered)
            report.missing_events += len(missing)
            if missing:
                report.notes.append(f"{user.name}: changes without an event: {missing[:5]}")


def missing_events(
    user: User,
    truth: dict[str, str],
    record_ids: dict[str, str],
    delivered: dict[str, set[str]],
) -> list[str]:
    """The user's changed files whose change no delivered record event reported."""
    missing = []
    for ext in user.mutated:
        existed, exists = ext in user.before, ext in truth
        if existed and exists and user.before[ext] == truth[ext]:
            continue  # changed and changed back: nothing to report
        wanted = (
            {"record_created", "record_updated"}
            if existed and exists
            else {"record_deleted"}
            if existed
            else {"record_created"}
            if exists
            else set()
        )
        if wanted and not wanted & delivered.get(record_ids.get(ext, ""), set()):
            missing.append(ext)
    return missing


def read_feed(api: Api, user: User) -> list[dict[str, Any]]:
    """The sync's whole records feed, from the start."""
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
        body = api.call(user.name, "GET", f"/api/syncs/{user.sync_id}/records", params=params)
        records += body["data"]
        cursor = body["paging"]["cursor"]
        if not body["data"] or body["paging"]["remainingRecords"] == 0:
            return records


@contextmanager
def _deployment(config: CrashConfig, database_url: str) -> Iterator[Sandbox]:
    """The sandbox Drive, the receiver, the migrated database, the processes' environment."""
    settings = {
        "SYNCLINE_LEASE_SECONDS": str(config.lease_seconds),
        "SYNCLINE_SCHEDULER_POLL_SECONDS": "0.3",
        "SYNCLINE_SHUTDOWN_GRACE_SECONDS": "5",
        "SYNCLINE_LOG_LEVEL": "info",
    }
    with sandboxed(database_url, settings) as sandbox:
        migrate = subprocess.run(
            [sys.executable, "-m", "syncline", "migrate"],
            env=sandbox.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"syncline migrate failed:\n{migrate.stderr}")
        yield sandbox


def run_scenario(config: CrashConfig, progress: Callable[[str], None] = print) -> Report:
    """Run the whole crash scenario; the report's `failed` says whether it held."""
    started = time.monotonic()

    def say(message: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f} s] {message}")

    report = Report(syncs=config.syncs)
    rng = random.Random(config.seed)
    config.logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        database_url = stack.enter_context(
            scratch_database(config.postgres_url, keep=config.keep_database)
        )
        sandbox = stack.enter_context(_deployment(config, database_url))
        drive, receiver = sandbox.drive, sandbox.receiver
        users = populate(drive, config, rng)
        report.files = sum(len(u.files) for u in users)
        fleet = Fleet(sandbox.env, config)
        stack.callback(fleet.stop)
        fleet.start()
        tokens = {
            u.name: mint_user_token(sandbox.signing_key, sandbox.project, u.name) for u in users
        }
        api = Api([a.url for a in fleet.apis], tokens)
        stack.callback(api.close)
        db = Db(database_url)
        stack.callback(db.close)
        say(f"database {database_url}")
        say(f"{len(fleet.apis)} api and {len(fleet.workers)} worker processes up; "
                 f"enabling {config.syncs} syncs ({report.files} files)")  # fmt: skip
        drive.latency = config.latency
        users.sort(key=lambda u: len(u.files))
        enabled, reserve = users[: -config.reserve], users[-config.reserve :]
        enable(api, drive, enabled)
        chaos = Chaos(config, drive, receiver, api, db, fleet, enabled, rng, report, reserve)
        follower = Follower(api, enabled)
        follower.start()
        say(f"chaos for {config.chaos_seconds:.0f} s")
        chaos.run()
        say(f"chaos over: {report.mutations} mutations, kills {dict(report.kills)}")
        drive.latency = 0.0
        since = datetime.now(UTC)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda user: chaos.trigger(user, "incremental"), users))
        say("settling")
        settle_start = time.monotonic()
        if not settle(chaos, since, config.settle_seconds):
            report.notes.append(f"not settled within {config.settle_seconds:.0f} s")
        report.settle_seconds = time.monotonic() - settle_start
        follower.stopping.set()
        follower.join(timeout=120)
        if follower.error is not None:
            raise follower.error
        say("verifying")
        for user in users:
            follower.catch_up(user)
        verify(chaos, follower)
        spans = drive.traffic.run_spans()
        report.runs_seen = len({s.run_id for s in spans})
        doubled = drive.traffic.overlapping_runs()
        report.doubled_runs = len(doubled)
        for first, second in doubled[:5]:
            report.notes.append(f"doubled: {first} and {second}")
        report.http = api.statuses
        report.notes += api.failures[:10]
    report.seconds = time.monotonic() - started
    return report

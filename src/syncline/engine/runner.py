"""One sync run: initial, incremental or full; page by page, checkpointed, under a lease."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from syncline import __version__
from syncline.connectors.base import ChangeStrategy, Connector, PermissionsReader
from syncline.connectors.http import OAuthBearer
from syncline.connectors.registry import Registry
from syncline.credentials.service import CredentialService
from syncline.domain.events import SyncEvent, WebhookEvent
from syncline.domain.notifications import LogEntry, Notice, iso
from syncline.domain.records import RecordCounts
from syncline.domain.retry import INLINE_RETRY, SYNC_RETRY, RetryPolicy
from syncline.domain.syncs import Sync, SyncStatus, SyncType, next_run_type
from syncline.engine.hierarchy import FolderReader, flat_changes, scope_changes
from syncline.engine.offload import PageWorkers
from syncline.engine.outcome import classify
from syncline.engine.permissions import MembershipScan
from syncline.engine.prefetch import prefetch
from syncline.engine.windows import later, shifted
from syncline.errors import ConfigError, CredentialRevoked, CursorInvalid, LeaseLost, StoreError
from syncline.store.store import Progress, RunWrite, Store
from syncline.types import JSONObject

log = structlog.get_logger("syncline.engine")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    lease_for: timedelta = timedelta(seconds=60)
    full_interval: timedelta = timedelta(hours=24)
    max_delete_fraction: float = 0.5
    """A full sync refuses to delete more than this share of a sync's records (and > 10)."""
    inline_wait_max: timedelta = timedelta(seconds=10)
    """Rate-limit waits up to this long happen inside the run; longer ones end it."""
    inline_retries: int = 3
    inline_retry: RetryPolicy = INLINE_RETRY
    """Waits between attempts inside one run (transient errors without a Retry-After)."""
    max_failures: int = 10
    """Consecutive failed runs of a non-transient kind before the sync turns ERRORED."""
    membership_refresh: timedelta = timedelta(minutes=10)
    """Shared-drive and group memberships older than this are read again by any run
    (`SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE`)."""
    analyze_after: int = 10_000
    """A listing that wrote this many records refreshes the planner's statistics."""
    incomplete_retry: timedelta = timedelta(minutes=15)
    """After a listing the upstream called incomplete, the next full sync is due this soon."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a run did: its record counts, and its permission summary (None: nothing read)."""

    counts: RecordCounts
    permissions: JSONObject | None = None
    incomplete: bool = False
    """The listing may have missed items: a full sync must follow soon."""


_LEASE_USE = 0.75
"""Share of a lease a run may use before it must have confirmed it again (the rest is margin
for the cancellation to land before another worker may claim the sync)."""


class _Restart(Exception):
    """Re-read the sync and continue the run from its stored progress (after a wait)."""


class _Drained(Exception):
    """The process is stopping: the page in hand is committed, so give the sync back."""


class SyncRunner:
    """Runs one sync at a time for the scheduler; owns every decision about retries and status."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        credentials: CredentialService,
        clock: Callable[[], datetime],
        settings: EngineSettings | None = None,
        workers: PageWorkers | None = None,
    ) -> None:
        self._store = store
        self.workers = workers or PageWorkers(0)
        """Where listing pages are parsed and prepared (in-process when it has no processes)."""
        self._registry = registry
        self._credentials = credentials
        self._clock = clock
        self.settings = settings or EngineSettings()
        self.draining = asyncio.Event()
        """Set when the process stops: runs end after the page in hand, leaving a checkpoint."""

    async def connector(self, sync: Sync, *, run_id: str | None = None) -> Connector:
        """Build the connector of a sync (also used by the API to download content)."""
        spec = self._registry.get(sync.integration)
        if spec is None:
            raise ConfigError(f"integration {sync.integration!r} is not available")
        if sync.credential_id is None:
            raise CredentialRevoked("The sync has no credential.")
        config = spec.config_model.model_validate(sync.configuration)
        # The run id in the User-Agent lets an upstream's logs (and the sandbox) tell runs apart.
        agent = f"syncline/{__version__}" + (f" (run {run_id})" if run_id else "")
        auth = OAuthBearer(self._credentials.tokens_for(sync.credential_id), user_agent=agent)
        data = await self._credentials.provider_data(sync.credential_id)
        ctx = self._credentials.context(spec, auth, data, credential_id=sync.credential_id)
        return spec.build(config, ctx)

    async def run(self, sync: Sync, owner: str) -> None:
        """Run the sync's due work until done, rescheduled, or errored; always frees the lease."""
        trace_id = str(uuid.uuid4())
        run_type = next_run_type(sync, self._clock())
        spec = self._registry.get(sync.integration)
        if (
            run_type is SyncType.INCREMENTAL
            and spec is not None
            and spec.capabilities.changes is ChangeStrategy.RELIST
        ):
            run_type = SyncType.FULL  # no feed: only a listing tells what changed
        started = time.monotonic()
        run = self._write(sync, owner, trace_id, run_type)
        heartbeat = asyncio.create_task(self._heartbeat(run, asyncio.current_task()))
        inline_attempts = 0
        outcome = _Outcome(RecordCounts())
        bound = log.bind(sync_id=sync.id, trace_id=trace_id, run=run_type.value)
        try:
            await self._start(run, run_type)
            while True:
                try:
                    outcome = await self._run_once(run, run_type)
                    break
                except _Restart:
                    pass
                except _Drained:
                    raise
                except Exception as exc:  # noqa: BLE001 - classify() is the one place errors are judged
                    inline_attempts += 1
                    if not await self._handle(run, run_type, exc, inline_attempts, bound):
                        return
                # Continue from what is stored: the checkpoint of the last committed page.
                fresh = await self._store.get_sync(sync.id)
                if fresh is None:
                    return
                run = self._write(fresh, owner, trace_id, run_type)
            await self._finish(run, run_type, outcome, time.monotonic() - started)
            counts = outcome.counts
            if run_type is not SyncType.INCREMENTAL and counts.processed >= (
                self.settings.analyze_after
            ):
                # Fresh statistics keep the next incremental and permission queries on indexes.
                await self._store.refresh_statistics()
            # A quiet check of an idle sync is routine (every sync, every minute): debug only.
            quiet = run_type is SyncType.INCREMENTAL and not counts.changed
            (bound.debug if quiet else bound.info)(
                "sync.run_completed",
                created=counts.created,
                updated=counts.updated,
                deleted=counts.deleted,
                processed=counts.processed,
            )
        except LeaseLost:
            bound.warning("sync.lease_lost")
        except StoreError as exc:
            # The database failed where the run could not record the failure itself (while
            # judging an attempt, starting or finishing): end the run; once the database is
            # back, the lease is given back or lapses, and the run resumes from its checkpoint.
            bound.warning("sync.store_unavailable", error=str(exc))
            await self._release_now(run)
        except _Drained:
            await self._release_now(run)
            bound.info("sync.run_paused", reason="shutting down; resumes from its checkpoint")
        except asyncio.CancelledError:
            # Cut short (shutdown grace over, or the lease could not be confirmed): give the sync
            # back at once, if the database answers, so another worker resumes without waiting.
            await asyncio.shield(self._release_now(run))
            raise
        finally:
            heartbeat.cancel()

    def _write(self, sync: Sync, owner: str, trace_id: str, run_type: SyncType) -> RunWrite:
        return RunWrite(
            sync=sync,
            owner=owner,
            trace_id=trace_id,
            lease_for=self.settings.lease_for,
            initial=run_type is SyncType.INITIAL,
            generation=sync.generation,
        )

    async def _heartbeat(self, run: RunWrite, task: asyncio.Task[None] | None) -> None:
        """Extend the lease every third of its length. When it is lost, or cannot be confirmed
        before it could lapse (the database is unreachable or slow), stop the run: another
        worker may take the sync over, and two runs must never call the upstream at the same
        time.

        A lease runs from the moment the write that set it was sent (the claim, then each
        heartbeat), so the run is stopped a quarter of the lease before that write's lease
        ends, whatever a heartbeat or a sleep costs: no wait may outlast the deadline.
        """
        lease = self.settings.lease_for.total_seconds()
        deadline = time.monotonic() + lease * _LEASE_USE
        while True:
            await asyncio.sleep(max(0.0, min(lease / 3, deadline - time.monotonic())))
            sent = time.monotonic()
            until = self._clock() + self.settings.lease_for
            try:
                held = await asyncio.wait_for(
                    self._store.heartbeat(run.sync.id, run.owner, until),
                    timeout=max(0.0, deadline - sent),
                )
            except (StoreError, TimeoutError):
                held = time.monotonic() < deadline  # try again while the lease surely holds
            else:
                if held:
                    deadline = sent + lease * _LEASE_USE
            if not held:
                log.warning("sync.lease_unconfirmed", sync_id=run.sync.id)
                if task is not None:
                    task.cancel()
                return

    async def _start(self, run: RunWrite, run_type: SyncType) -> None:
        sync = run.sync
        if (
            run_type is SyncType.INCREMENTAL
            and sync.status is SyncStatus.IDLE
            and sync.requested_run is None
        ):
            # A routine check of an idle sync: it stays IDLE, and costs no write until it finds
            # a change (most syncs, most minutes).
            return
        entries = []
        if run_type is not SyncType.INCREMENTAL:  # quiet incrementals log only when they find work
            entries.append(LogEntry(SyncEvent.started(run_type.value), run_type, SyncStatus.ACTIVE))
        values: dict[str, object] = {"status": SyncStatus.ACTIVE, "rate_limit_backoff_ms": None}
        if sync.requested_run is run_type or run_type is SyncType.FULL:
            values["requested_run"] = None  # a full run answers any request
        await self._store.update_run(run, self._clock(), values=values, entries=entries)

    async def _run_once(self, run: RunWrite, run_type: SyncType) -> _Outcome:
        connector = await self.connector(run.sync, run_id=run.trace_id)
        scan = MembershipScan(
            self._store.permissions, self._clock, self.settings.membership_refresh
        )
        complete = True
        if run_type is SyncType.INCREMENTAL:
            counts = await self._incremental(run, connector, scan)
        else:
            counts, complete = await self._listing(run, run_type, connector, scan)
        summary = None
        if isinstance(connector, PermissionsReader):
            summary = await scan.read(
                run.sync.id, connector, everything=run_type is not SyncType.INCREMENTAL
            )
        return _Outcome(counts, summary, incomplete=not complete)

    async def _listing(
        self, run: RunWrite, run_type: SyncType, connector: Connector, scan: MembershipScan
    ) -> tuple[RecordCounts, bool]:
        """List everything in scope; returns the counts and whether the listing was complete."""
        sync = run.sync
        state = sync.checkpoint if sync.checkpoint_type is run_type else None
        cursor = sync.cursor
        if state is None:
            # Take the change token before listing, so changes made during the listing are kept.
            if run_type is SyncType.INITIAL or cursor is None:
                cursor = await connector.start_cursor()
            generation = sync.generation + (1 if run_type is SyncType.FULL else 0)
            state = {"connector": None, "complete": True}
            await self._store.update_run(
                run,
                self._clock(),
                values={
                    "cursor": cursor,
                    "generation": generation,
                    "checkpoint": state,
                    "checkpoint_type": run_type,
                },
            )
            run = dataclasses.replace(run, generation=generation)
        counts = RecordCounts()
        complete = bool(state.get("complete", True))
        resume = state.get("connector")
        listing = connector.list_all(resume if isinstance(resume, dict) else None)
        # Two pages read ahead: the workers prepare them while this one commits.
        pages = prefetch(self.workers.pipeline(sync.id, listing), depth=2)
        try:
            async with contextlib.aclosing(pages):
                async for page, preparing in pages:
                    prepared = await preparing
                    complete = complete and page.complete
                    scan.observe_prepared(prepared)
                    counts += await self._store.commit_page(
                        run,
                        self._clock(),
                        upserts=prepared,
                        progress=Progress(
                            cursor=cursor,
                            checkpoint={"connector": page.checkpoint, "complete": complete},
                            checkpoint_type=run_type,
                        ),
                    )
                    self._pause_if_draining()
        except CursorInvalid:
            # The listing's own page token went stale: list again from the start, same generation.
            await self._store.update_run(
                run,
                self._clock(),
                values={"checkpoint": {"connector": None, "complete": complete}},
            )
            raise _Restart from None
        if run_type is SyncType.FULL:
            counts += await self._sweep(run, complete)
        elif not complete:
            await self._warn(
                run,
                "The listing was incomplete; some items may be missing until the full sync "
                f"that follows in {_minutes(self.settings.incomplete_retry)}.",
            )
        return counts, complete

    async def _sweep(self, run: RunWrite, complete: bool) -> RecordCounts:
        now = self._clock()
        if not complete:
            await self._warn(
                run,
                "The listing was incomplete; no record was deleted. Another full sync follows "
                f"in {_minutes(self.settings.incomplete_retry)}.",
            )
            return RecordCounts()
        unseen = await self._store.count_unseen(run.sync.id, run.generation)
        fresh = await self._store.get_sync(run.sync.id)
        active = fresh.active_records if fresh else 0
        if unseen > 10 and unseen > self.settings.max_delete_fraction * active:
            await self._warn(
                run,
                f"The full sync would delete {unseen} of {active} records, more than "
                f"SYNCLINE_MAX_DELETE_FRACTION={self.settings.max_delete_fraction}; "
                "nothing was deleted.",
            )
            return RecordCounts()
        swept = await self._store.sweep_unseen(run, now)
        return RecordCounts(deleted=swept, processed=swept)

    async def _warn(self, run: RunWrite, message: str) -> None:
        entry = LogEntry(
            SyncEvent.SYNC_RUN_WARNING, SyncType.FULL, SyncStatus.ACTIVE, error={"message": message}
        )
        await self._store.update_run(run, self._clock(), values={}, entries=[entry])

    async def _incremental(
        self, run: RunWrite, connector: Connector, scan: MembershipScan
    ) -> RecordCounts:
        sync = run.sync
        assert sync.cursor is not None
        caps = connector.capabilities
        counts = RecordCounts()
        structure_changed = False
        cursor = sync.cursor
        window = caps.changes is ChangeStrategy.WINDOW
        # A window is read from before its high-water mark: what changed in the same coarse
        # second, or on a clock a little behind ours, is read again (and costs nothing if it
        # did not change: its hash is the same).
        start = shifted(cursor, -caps.window_overlap) if window else cursor
        pages = prefetch(connector.changes(start))
        try:
            async with contextlib.aclosing(pages):
                async for page in pages:
                    scan.containers_changed(page.changed_containers)
                    # A window's mark only moves forward, whatever an overlapping page holds.
                    reached = later(cursor, page.cursor) if window else page.cursor
                    if not page.upserts and not page.deletions and reached == cursor:
                        continue  # nothing happened upstream: nothing to write
                    if (
                        not page.upserts
                        and reached == cursor
                        and not (await self._store.active_items(sync.id, page.deletions))
                    ):
                        continue  # deletions of records gone already (a trash read again)
                    scan.observe(page.upserts)
                    cursor = reached
                    if caps.hierarchical:
                        scoped = await scope_changes(
                            page,
                            connector.scope,
                            lambda ids: self._store.active_folders(sync.id, ids),
                            connector.children if isinstance(connector, FolderReader) else None,
                        )
                    else:
                        scoped = flat_changes(page, connector.scope)
                    structure_changed = structure_changed or scoped.structure_changed
                    if page.subtrees and not structure_changed:
                        # Asked before this page is written: afterwards every one is held.
                        held = await self._store.active_items(sync.id, page.subtrees)
                        structure_changed = not held.issuperset(page.subtrees)
                    counts += await self._store.commit_page(
                        run,
                        self._clock(),
                        upserts=scoped.upserts,
                        deletions=scoped.deletions,
                        progress=Progress(cursor=reached, checkpoint=None, checkpoint_type=None),
                    )
                    self._pause_if_draining()
        except CursorInvalid:
            await self._warn(run, "The change cursor was rejected upstream; a full sync follows.")
            await self._store.update_run(
                run, self._clock(), values={"cursor": None, "requested_run": SyncType.FULL}
            )
            return counts
        if structure_changed:
            await self._store.update_run(
                run, self._clock(), values={"requested_run": SyncType.FULL}
            )
        return counts

    async def _finish(
        self, run: RunWrite, run_type: SyncType, outcome: _Outcome, seconds: float
    ) -> None:
        counts = outcome.counts
        now = self._clock()
        fresh = await self._store.get_sync(run.sync.id)
        if fresh is None:
            return
        values: dict[str, object] = {
            "status": SyncStatus.IDLE,
            "reason": None,
            "failures": 0,
            "rate_limit_backoff_ms": None,
            "last_synced_at": now,
        }
        notices: list[Notice] = []
        next_full = fresh.next_full_at
        if run_type is not SyncType.INCREMENTAL:
            values.update(checkpoint=None, checkpoint_type=None)
            next_full = now + self.settings.full_interval
            if outcome.incomplete:
                # Items may be missing (and nothing was swept): list again soon, not tomorrow.
                next_full = now + self.settings.incomplete_retry
            values["next_full_at"] = next_full
        if run_type is SyncType.INITIAL:
            values["initial_completed_at"] = now
            notices.append(
                Notice(
                    WebhookEvent.SYNC_COMPLETE,
                    data={
                        "model": fresh.pipeline,
                        "syncedAt": iso(now),
                        "numRecords": fresh.active_records,
                    },
                )
            )
        if run_type is SyncType.FULL:
            values["last_full_synced_at"] = now
        next_run = now + fresh.interval
        # A run asked for through the API meanwhile waits in `run_requests`: the next claim
        # makes the sync due at once.
        spec = self._registry.get(fresh.integration)
        has_feed = spec is None or spec.capabilities.changes is not ChangeStrategy.RELIST
        if fresh.requested_run is not None or (has_feed and run_type is not SyncType.INCREMENTAL):
            # A listing's change token predates it: what changed while it ran (a file renamed
            # after its page was read) is in the feed; read it now, not an interval from now.
            next_run = now
        elif next_full is not None:
            next_run = min(next_run, next_full)
        values["next_run_at"] = next_run
        entries = []
        # An incremental that changed nothing (a window's overlap read again, an item touched
        # upstream without a change) writes no entry: an idle sync costs no log growth.
        if run_type is not SyncType.INCREMENTAL or counts.changed:
            summary: JSONObject = {
                "created": counts.created,
                "updated": counts.updated,
                "deleted": counts.deleted,
                "processed": counts.processed,
                "durationMs": int(seconds * 1000),
            }
            if run_type is SyncType.INCREMENTAL:
                entries.append(
                    LogEntry(SyncEvent.started(run_type.value), run_type, SyncStatus.ACTIVE)
                )
            entries.append(
                LogEntry(SyncEvent.completed(run_type.value), run_type, SyncStatus.IDLE, summary)
            )
        if outcome.permissions is not None:
            entries.append(
                LogEntry(
                    SyncEvent.PERMISSION_SYNC_COMPLETED,
                    SyncType.PERMISSION,
                    SyncStatus.IDLE,
                    outcome.permissions,
                )
            )
        await self._store.update_run(
            run, now, values=values, notices=notices, entries=entries, release=True
        )

    async def _handle(
        self,
        run: RunWrite,
        run_type: SyncType,
        exc: Exception,
        attempt: int,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> bool:
        """Act on a failed attempt; True to try again inside this run, False when the run ends."""
        fresh = await self._store.get_sync(run.sync.id) or run.sync
        decision = classify(exc, failures=fresh.failures, settings=self.settings)
        now = self._clock()
        error: JSONObject = {
            "message": str(exc),
            "type": type(exc).__name__,
            "retryable": decision.retry,
        }
        status_code = getattr(exc, "status_code", None)
        if status_code is not None:
            error["httpStatus"] = status_code
        if decision.kind == "errored":
            bound.warning("sync.errored", error=str(exc))
            if decision.revoke_credential and fresh.credential_id is not None:
                await self._credentials.revoke(fresh.credential_id, str(exc))
                await self._release_now(run)
            else:
                await self._store.error_run(run, str(exc), run_type, now)
            return False
        if decision.kind == "bug":
            bound.exception("sync.run_failed", exc_info=exc)
        wait = decision.wait or self.settings.inline_retry.delay(attempt)
        if attempt > self.settings.inline_retries:
            wait = decision.wait or SYNC_RETRY.delay(fresh.failures + 1)
        rate_limited = decision.kind == "rate_limited"
        event = SyncEvent.SYNC_RUN_RATE_LIMITED if rate_limited else SyncEvent.SYNC_RUN_RETRY
        status = SyncStatus.RATE_LIMITED if rate_limited else SyncStatus.ACTIVE
        entry = LogEntry(event, run_type, status, error={**error, "retryInMs": _ms(wait)})
        inline = (
            decision.kind != "bug"
            and attempt <= self.settings.inline_retries
            and wait <= self.settings.inline_wait_max
        )
        if inline:
            values: dict[str, object] = {"status": status}
            if rate_limited:
                values["rate_limit_backoff_ms"] = _ms(wait)
            await self._store.update_run(run, now, values=values, entries=[entry])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.draining.wait(), wait.total_seconds())
            self._pause_if_draining()
            await self._store.update_run(
                run,
                self._clock(),
                values={"status": SyncStatus.ACTIVE, "rate_limit_backoff_ms": None},
            )
            return True
        resting = status
        if not rate_limited:
            resting = SyncStatus.IDLE if fresh.initial_completed_at else SyncStatus.INITIALIZING
            if fresh.checkpoint is not None:
                resting = SyncStatus.ACTIVE
        await self._store.update_run(
            run,
            now,
            values={
                "status": resting,
                "rate_limit_backoff_ms": _ms(wait) if rate_limited else None,
                "failures": fresh.failures + 1,
                "next_run_at": now + wait,
            },
            entries=[entry],
            release=True,
        )
        return False

    def _pause_if_draining(self) -> None:
        if self.draining.is_set():
            raise _Drained

    async def _release_now(self, run: RunWrite) -> None:
        with contextlib.suppress(LeaseLost, StoreError):
            await self._store.update_run(
                run, self._clock(), values={"next_run_at": self._clock()}, release=True
            )


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _minutes(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


__all__ = ["EngineSettings", "SyncRunner"]

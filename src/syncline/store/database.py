"""Connections and transactions on SQLite (embedded) or PostgreSQL, behind one interface.

This is the only module that branches on the dialect.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Select, String, Table, any_, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from syncline.errors import ConfigError, StoreError
from syncline.store.checkpointer import BACKSTOP_PAGES, Checkpointer


def database_url(url: str) -> str:
    """The async driver URL for a user-facing `sqlite:///...` or `postgresql://...` URL."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"SYNCLINE_DATABASE_URL is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ConfigError(
        f"SYNCLINE_DATABASE_URL must be sqlite:///path or postgresql://..., not {backend!r}"
    )


def sync_driver_url(url: str) -> str:
    """The blocking driver URL, for Alembic."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


class Database:
    """An async engine plus the two kinds of transaction the store needs."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        async_url = database_url(url)
        self.dialect = make_url(async_url).get_backend_name()
        self._checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            # Last in, first out: one connection stays hot and holds the page cache, instead
            # of every pooled connection filling a 64 MB cache of its own in turn. Room for
            # every run at once: a connection beyond the pool is closed on return, and opening
            # one (a thread, its pragmas, a cold cache) cost more than the read it served.
            self.engine: AsyncEngine = create_async_engine(
                async_url, pool_use_lifo=True, pool_size=32, max_overflow=32
            )
            path = make_url(async_url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                self._checkpointer = Checkpointer(path)
            _configure_sqlite(self.engine, self._checkpointer)
        else:
            self.engine = create_async_engine(
                async_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
        # SQLite has one writer: queue writers in-process, not fail with "database is locked".
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def read(self, *, snapshot: bool = True) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; whatever it did is rolled back.

        With `snapshot=False` each statement sees the latest commit by itself, which saves
        SQLite a BEGIN round trip (about a quarter of a small read's cost on the event loop):
        for reads of one statement, or of statements that need not agree.
        """
        with translate_errors():
            async with self.engine.connect() as raw:
                if not snapshot and self.dialect == "sqlite":
                    yield await raw.execution_options(sqlite_autocommit=True)
                else:
                    yield raw

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on any exception."""
        if self._write_lock is None:
            with translate_errors():
                async with self.engine.begin() as conn:
                    yield conn
            return
        async with self._write_lock:
            with translate_errors():
                async with self.engine.connect() as raw:
                    conn = await raw.execution_options(sqlite_immediate=True)
                    async with conn.begin():
                        yield conn

    async def serialize(self, conn: AsyncConnection, name: str) -> None:
        """Make transactions that call this with the same `name` run one at a time (until
        commit). SQLite's writers already do."""
        if self.is_postgres:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name}
            )

    def skip_locked(self, query: Select[Any]) -> Select[Any]:
        """Rows other workers are claiming are skipped on PostgreSQL; SQLite's single writer
        needs no row locks."""
        return query.with_for_update(skip_locked=True) if self.is_postgres else query

    def native(self, sql: str) -> str:
        """Raw SQL written with `?` placeholders, in this driver's parameter style."""
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def native_one_of(self, column: str, values: list[str] | list[int]) -> tuple[str, list[object]]:
        """`one_of` for raw SQL written with `?`: the condition and its parameters."""
        if self.is_postgres:
            return f"{column} = ANY(?)", [values]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def one_of(self, column: ColumnElement[str], values: list[str]) -> ColumnElement[bool]:
        """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter instead of
        hundreds, which PostgreSQL plans in microseconds rather than tens of milliseconds."""
        if self.is_postgres:
            return column == any_(bindparam(None, values, type_=postgresql.ARRAY(String)))
        return column.in_(values)

    async def bulk_insert(
        self,
        conn: AsyncConnection,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        skip_conflicts_on: Sequence[str],
    ) -> int:
        """Insert `rows` (values of `columns`), skipping rows whose `skip_conflicts_on` key is
        already stored; returns how many were inserted.

        On PostgreSQL the rows are COPied into a temporary twin of the table and moved over by
        one INSERT ... SELECT: COPY encodes rows in C, where a multi-row executemany spends more
        of the event loop's time than the database does. SQLite takes a plain executemany.
        """
        names = ", ".join(columns)
        conflict = f"ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
        if not rows:
            return 0
        if not self.is_postgres:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608 - the store's own names
            return int((await conn.exec_driver_sql(sql, list(rows))).rowcount)
        raw = await conn.get_raw_connection()
        pg = raw.driver_connection
        assert pg is not None
        staging = f"copy_{table}"
        async with pg.cursor() as cursor:
            # One per session (LIKE copies the columns, not the keys), emptied after each use.
            await cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table})")
            async with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
            await cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} {conflict}"  # noqa: S608 - the store's own names
            )
            inserted = cursor.rowcount
            await cursor.execute(f"TRUNCATE {staging}")
        return int(inserted)

    def upsert(self, table: Table) -> Any:
        """INSERT ... ON CONFLICT support for this dialect (both share the same API)."""
        return postgresql.insert(table) if self.is_postgres else sqlite.insert(table)

    async def analyze(self, *tables: str) -> None:
        """Refresh the planner's statistics of these tables.

        A table that just grew by a bulk load has none (or stale ones), and both planners then
        pick scans over the indexes; autovacuum may be off, or a minute late. On SQLite the
        analysis samples a bounded number of index rows, so it stays fast on big tables.
        """
        async with self.write() as conn:
            if not self.is_postgres:
                await conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            for table in tables:
                await conn.exec_driver_sql(f"ANALYZE {table}")

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)


P = ParamSpec("P")
R = TypeVar("R")


def atomic(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Let a write transaction finish even if its caller is cancelled mid-way.

    A cancelled await inside a SQLite transaction can strand the connection with the write
    lock held; run the write as its own task instead, and let the cancellation reach the caller
    at once while the transaction commits or rolls back cleanly behind it.
    """

    @functools.wraps(method)
    async def shielded(*args: P.args, **kwargs: P.kwargs) -> R:
        task = asyncio.ensure_future(method(*args, **kwargs))
        _pending.add(task)
        task.add_done_callback(_settled)
        return await asyncio.shield(task)

    return shielded


def _settled(task: asyncio.Future[Any]) -> None:
    _pending.discard(task)
    if not task.cancelled():
        # Mark a failure as seen: a caller that was cancelled meanwhile no longer waits for it,
        # and asyncio would otherwise log "Task exception was never retrieved" for each one
        # (every write in flight when the database went away).
        task.exception()


_pending: set[asyncio.Future[Any]] = set()
"""Writes running on after their caller was cancelled (kept referenced until they end)."""


class translate_errors:  # noqa: N801 - used like a function: `with translate_errors():`
    """Turn SQLAlchemy's exceptions into `StoreError`, once, at the store's boundary."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if isinstance(exc, PoolTimeout):
            # Every pooled connection stayed busy for the pool's whole timeout: an overload
            # that passes, not a fault; the message names no pool internals.
            raise StoreError("The database is busy (no free connection); retry later.") from exc
        if isinstance(exc, DBAPIError | SQLAlchemyError):
            raise StoreError(f"database error: {type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


def _configure_sqlite(engine: AsyncEngine, checkpointer: Checkpointer | None) -> None:
    started = False

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # Any: DB-API objects are untyped
        nonlocal started
        # Take transaction control from the driver so BEGIN IMMEDIATE can be issued.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A larger page cache keeps the indexes of big record tables off the disk path.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        if checkpointer is not None:
            # The checkpointer thread copies the log back; the writer only as a backstop.
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            # Once the log has been copied back, the next writer trims the file to this size.
            cursor.execute(f"PRAGMA journal_size_limit={BACKSTOP_PAGES * 4096}")
        cursor.close()
        if checkpointer is not None and not started:
            started = True  # the database file exists from the first connection on
            checkpointer.start()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("sqlite_autocommit"):
            return  # each statement is its own transaction (see Database.read)
        immediate = options.get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

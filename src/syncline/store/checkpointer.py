"""Copies SQLite's write-ahead log back into the database on a thread of its own.

Left to itself, SQLite checkpoints inside the commit that pushes the log past
`wal_autocheckpoint` pages: the writer stops to copy pages and fsync the file, on the event
loop's critical path. Here a second connection does that work a few times a second; SQLite
runs it with the GIL released, so it lands on the other core while the writer goes on. The
writer keeps a larger `wal_autocheckpoint` as a backstop, should this thread fall behind.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

__all__ = ["BACKSTOP_PAGES", "Checkpointer"]

log = structlog.get_logger("syncline.store")

BACKSTOP_PAGES = 16_384
"""The writer's own `wal_autocheckpoint` (64 MB of 4 KB pages): reached only when this thread
lags; measured on the bench, it also bounds how large the log file grows."""

_INTERVAL = 0.25
"""Seconds between passive checkpoints (each copies what readers no longer need)."""


class Checkpointer:
    """A daemon thread that checkpoints one SQLite database's log until `stop()`."""

    def __init__(self, path: str, interval: float = _INTERVAL) -> None:
        self._path = path
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint that truncates the log (when no one reads)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("store.checkpointer_unavailable", error=str(exc))
            return
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stopping.wait(self._interval):
                self._checkpoint(conn, "PASSIVE")
            self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection, mode: str) -> None:
        try:
            conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        except sqlite3.Error as exc:
            # Busy or locked for a moment: the next turn (or the writer's backstop) catches up.
            log.debug("store.checkpoint_skipped", mode=mode, error=str(exc))

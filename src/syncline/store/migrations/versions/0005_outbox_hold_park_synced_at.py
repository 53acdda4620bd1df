"""outbox: held and parked events; records: `syncedAt` in every record

- `outbox.first_failed_at`: when an event first failed, so one that keeps failing can be parked
  after SYNCLINE_WEBHOOK_BLOCK_AFTER and stop blocking the events behind it.
- Events that an earlier version skipped for want of a webhook URL are held again: they go out
  once the project has a URL, instead of being lost.
- Every stored record gets `syncedAt`, the time of the write that gave it its place in the feed
  (`changed_at_ms`), as records written from now on carry it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# `syncedAt` as `domain.notifications.iso` writes it (ISO-8601 UTC, milliseconds, `Z`), from
# `changed_at_ms`, spliced before the closing brace of each record's JSON. The literal pieces
# are bound parameters: they are full of quotes, colons and percent signs.
_ISO = {
    "sqlite": "strftime(:format, changed_at_ms / 1000.0, 'unixepoch')",
    "postgresql": "to_char(to_timestamp(changed_at_ms / 1000.0) AT TIME ZONE 'UTC', :format)",
}
_FORMAT = {"sqlite": "%Y-%m-%dT%H:%M:%fZ", "postgresql": 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'}


def upgrade() -> None:
    op.add_column("outbox", sa.Column("first_failed_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE outbox SET status = 'held', last_error = NULL"
        " WHERE status = 'skipped' AND last_error = 'no webhook URL'"
    )
    dialect = op.get_bind().dialect.name
    statement = (
        "UPDATE records SET data = substr(data, 1, length(data) - 1) || :prefix"  # noqa: S608
        f" || {_ISO[dialect]} || :suffix WHERE data NOT LIKE :marker"
    )
    op.execute(
        sa.text(statement).bindparams(
            prefix=',"syncedAt":"', suffix='"}', marker='%"syncedAt":%', format=_FORMAT[dialect]
        )
    )


def downgrade() -> None:
    op.drop_column("outbox", "first_failed_at")

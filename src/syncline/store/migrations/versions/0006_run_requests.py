"""run_requests: runs asked for through the API, folded into the sync when a worker claims it

A trigger used to read the sync's requested run and write it back: an incremental request could
overwrite a full one made an instant earlier, and on PostgreSQL the write waited for any page a
run was committing (the run holds the sync row). Requests now go to their own table, merged with
one statement (a full request outranks an incremental one).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_requests",
        sa.Column("sync_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sync_id", name=op.f("pk_run_requests")),
    )


def downgrade() -> None:
    op.drop_table("run_requests")

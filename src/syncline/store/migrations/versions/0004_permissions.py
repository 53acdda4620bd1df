"""permissions: relationship tuples, their sources, and each record's access digest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("access_hash", sa.String(length=32), nullable=True))
    op.create_table(
        "permission_tuples",
        sa.Column("sync_id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=320), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint(
            "sync_id", "object_id", "relation", "subject", name=op.f("pk_permission_tuples")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_permission_tuples_sync_id_subject_relation"),
        "permission_tuples",
        ["sync_id", "subject", "relation"],
    )
    op.create_table(
        "permission_sources",
        sa.Column("sync_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sync_id", "kind", "key", name=op.f("pk_permission_sources")),
    )


def downgrade() -> None:
    op.drop_table("permission_sources")
    op.drop_index(
        op.f("ix_permission_tuples_sync_id_subject_relation"), table_name="permission_tuples"
    )
    op.drop_table("permission_tuples")
    op.drop_column("records", "access_hash")

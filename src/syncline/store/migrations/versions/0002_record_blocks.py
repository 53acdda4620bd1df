"""record_blocks: live records per block of sequence numbers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_blocks",
        sa.Column("sync_id", sa.String(length=36), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("live", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sync_id", "block", name=op.f("pk_record_blocks")),
    )
    # Existing feeds: count their live records per block once.
    op.execute(
        "INSERT INTO record_blocks (sync_id, block, live)"
        " SELECT sync_id, seq / 4096, count(*) FROM records GROUP BY sync_id, seq / 4096"
    )


def downgrade() -> None:
    op.drop_table("record_blocks")

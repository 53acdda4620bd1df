"""records: leave room on PostgreSQL pages for in-place (HOT) updates

A full sync stamps every record it lists with its generation. With free space on the page,
PostgreSQL rewrites such a row in place without touching the indexes (a HOT update), since
`generation` is in no index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records RESET (fillfactor)")

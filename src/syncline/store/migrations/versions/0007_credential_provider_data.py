"""credentials.provider_data_enc: what a provider adds to a credential (instance URL, ...)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("provider_data_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("credentials", "provider_data_enc")

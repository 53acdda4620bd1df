"""permission_keys: tuples as three integers, each key stored once per sync

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The codes of store/permissions.py RELATION_CODES, fixed for good.
_RELATION_CODE = (
    "CASE relation WHEN 'owner' THEN 1 WHEN 'editor' THEN 2 WHEN 'viewer' THEN 3"
    " WHEN 'parent' THEN 4 WHEN 'member' THEN 5 END"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index(
        op.f("ix_permission_tuples_sync_id_subject_relation"), table_name="permission_tuples"
    )
    op.rename_table("permission_tuples", "permission_tuples_0004")
    if postgres:
        op.execute("ALTER INDEX pk_permission_tuples RENAME TO pk_permission_tuples_0004")
    op.create_table(
        "permission_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sync_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_keys")),
    )
    op.create_index(
        op.f("ix_permission_keys_sync_id_name_type"),
        "permission_keys",
        ["sync_id", "name", "type"],
        unique=True,
    )
    op.create_table(
        "permission_tuples",
        sa.Column("object", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.SmallInteger(), nullable=False),
        sa.Column("subject", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("object", "relation", "subject", name=op.f("pk_permission_tuples")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_permission_tuples_subject_relation_object"),
        "permission_tuples",
        ["subject", "relation", "object"],
    )
    # Every object and every subject of the old tuples becomes a key; a subject `type:name`
    # and the object it names are one key.
    colon = "strpos(subject, ':')" if postgres else "instr(subject, ':')"
    op.execute(
        "INSERT INTO permission_keys (sync_id, type, name)"  # noqa: S608 - fixed SQL, placeholders only
        " SELECT sync_id, object_type, object_id FROM permission_tuples_0004"
        " UNION"
        f" SELECT sync_id, substr(subject, 1, {colon} - 1), substr(subject, {colon} + 1)"
        " FROM permission_tuples_0004"
    )
    op.execute(
        "INSERT INTO permission_tuples (object, relation, subject)"  # noqa: S608 - fixed SQL, placeholders only
        f" SELECT DISTINCT o.id, {_RELATION_CODE}, s.id FROM permission_tuples_0004 t"
        " JOIN permission_keys o ON o.sync_id = t.sync_id AND o.name = t.object_id"
        " AND o.type = t.object_type"
        " JOIN permission_keys s ON s.sync_id = t.sync_id"
        f" AND s.name = substr(t.subject, {colon} + 1)"
        f" AND s.type = substr(t.subject, 1, {colon} - 1)"
    )
    op.drop_table("permission_tuples_0004")


def downgrade() -> None:
    op.rename_table("permission_tuples", "permission_tuples_0009")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX pk_permission_tuples RENAME TO pk_permission_tuples_0009")
    op.drop_index(
        op.f("ix_permission_tuples_subject_relation_object"), table_name="permission_tuples_0009"
    )
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
    op.execute(
        "INSERT INTO permission_tuples (sync_id, object_id, relation, subject, object_type)"
        " SELECT o.sync_id, o.name, CASE t.relation WHEN 1 THEN 'owner' WHEN 2 THEN 'editor'"
        " WHEN 3 THEN 'viewer' WHEN 4 THEN 'parent' WHEN 5 THEN 'member' END,"
        " s.type || ':' || s.name, o.type"
        " FROM permission_tuples_0009 t JOIN permission_keys o ON o.id = t.object"
        " JOIN permission_keys s ON s.id = t.subject"
    )
    op.drop_table("permission_tuples_0009")
    op.drop_index(op.f("ix_permission_keys_sync_id_name_type"), table_name="permission_keys")
    op.drop_table("permission_keys")

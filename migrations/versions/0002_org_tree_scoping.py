"""Org tree (path, serving township, posts, active flag), record routes, audit subject.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    # Plain ADD COLUMNs: SQLite can add them in place (a batch copy of org_units would have to drop a
    # table that users and records point at).
    # SQLite cannot add a foreign key to an existing table; there the ORM keeps serves_id consistent.
    postgres = op.get_bind().dialect.name == "postgresql"
    fk = [sa.ForeignKey("org_units.id", name="fk_org_units_serves_id")] if postgres else []
    op.add_column("org_units", sa.Column("serves_id", sa.Integer(), *fk, nullable=True))
    op.add_column("org_units", sa.Column("path", sa.String(length=255), nullable=False, server_default=""))
    op.add_column("org_units", sa.Column("posts", JSON, nullable=False, server_default="{}"))
    op.add_column("org_units", sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index("ix_org_units_serves_id", "org_units", ["serves_id"], unique=False)
    op.create_index("ix_org_units_path", "org_units", ["path"], unique=False)
    # Units created before this revision: rebuild their paths from the parent chain.
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, parent_id FROM org_units ORDER BY id")).all()
    parents = {r.id: r.parent_id for r in rows}
    for unit_id in parents:
        chain, current = [], unit_id
        while current is not None:
            chain.append(current)
            current = parents.get(current)
        path = "/" + "/".join(str(i) for i in reversed(chain)) + "/"
        conn.execute(sa.text("UPDATE org_units SET path = :p WHERE id = :i"), {"p": path, "i": unit_id})

    op.create_table(
        "record_routes",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"]),
        sa.PrimaryKeyConstraint("record_id", "org_unit_id"),
    )
    op.create_index("ix_record_routes_org_unit_id", "record_routes", ["org_unit_id"], unique=False)
    op.add_column("audit_log", sa.Column("subject", sa.String(length=100), nullable=True))
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"], unique=False)
    op.create_index("ix_records_created_by_id", "records", ["created_by_id"], unique=False)


def downgrade():
    op.drop_index("ix_records_created_by_id", table_name="records")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("subject")
    op.drop_index("ix_record_routes_org_unit_id", table_name="record_routes")
    op.drop_table("record_routes")
    op.drop_index("ix_org_units_path", table_name="org_units")
    op.drop_index("ix_org_units_serves_id", table_name="org_units")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_org_units_serves_id", "org_units", type_="foreignkey")
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.drop_column("is_active")
        batch_op.drop_column("posts")
        batch_op.drop_column("path")
        batch_op.drop_column("serves_id")

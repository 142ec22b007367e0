"""Official documents: published document definitions, the 发文字号 counters, the issued register.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.add_column("config_state", sa.Column("documents", sa.JSON(), nullable=True))
    op.create_table(
        "document_template_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("doc_id", sa.String(length=40), nullable=False, index=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("doc_id", "digest", name="uq_document_template_versions"),
    )
    op.create_table(
        "document_counters",
        sa.Column("key", sa.String(length=160), primary_key=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("doc_id", sa.String(length=40), nullable=False, index=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("counter_key", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True, index=True),
        sa.Column("issuer_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False, index=True),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("template_version", sa.String(length=64), nullable=False),
        sa.Column("config_seq", sa.Integer(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("revoked_reason", sa.Text(), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("number", name="uq_issued_documents_number"),
    )


def downgrade():
    op.drop_table("issued_documents")
    op.drop_table("document_counters")
    op.drop_table("document_template_versions")
    op.drop_column("config_state", "documents")

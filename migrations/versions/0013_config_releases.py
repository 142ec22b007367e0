"""Published configuration kept whole (files by content, releases naming them) and administrators'
drafts, for the configuration studio and ``config export``/``import``.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "config_blobs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "config_releases",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("tree", sa.JSON(), nullable=False),
        sa.Column("tree_digest", sa.String(64), nullable=False, index=True),
        sa.Column("config_seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "config_drafts",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("user_id", _ID, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("base_digest", sa.String(64), nullable=False),
        sa.Column("base_release", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "path", name="uq_config_drafts_user_path"),
    )


def downgrade():
    op.drop_table("config_drafts")
    op.drop_table("config_releases")
    op.drop_table("config_blobs")

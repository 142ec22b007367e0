"""Server-side sessions and the first-login password change.

The session used to live only in the signed cookie, so a cookie copied before a logout kept working.
Sessions are now rows the server can end: the cookie carries a random id whose SHA-256 is stored here.
``users.must_change_password`` makes a user (the demo users outside development) set a new password
before doing anything else. ``users.session_version`` (0003), which sessions in the cookie were
checked against, has no use left and goes.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# BIGINT ids (migration 0008 converts the older tables); SQLite only autoincrements INTEGER primary keys.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.create_table(
        "user_sessions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("ip", sa.String(length=45), nullable=False, server_default=""),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
    )
    op.create_index("ix_user_sessions_user_open", "user_sessions", ["user_id", "ended_at"])
    if op.get_bind().dialect.name == "sqlite":  # SQLite ≥ 3.35 drops a plain column without a table copy
        op.execute("ALTER TABLE users DROP COLUMN session_version")
    else:
        op.drop_column("users", "session_version")


def downgrade():
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_user_sessions_user_open", table_name="user_sessions")
    op.drop_table("user_sessions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN must_change_password")
    else:
        op.drop_column("users", "must_change_password")

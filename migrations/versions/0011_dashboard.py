"""The published 统计分析 configuration (``config/dashboard.json``) beside the rest of a version.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("config_state", sa.Column("dashboard", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("config_state") as batch:
        batch.drop_column("dashboard")

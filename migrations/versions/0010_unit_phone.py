"""A 联系电话 for org units (``org_units.phone``).

A 请示 sent up to the county carries a 附注 naming the contact person and telephone
(党政机关公文处理工作条例; GB/T 9704-2012 7.3.7). The contact person is a post holder of the issuing
unit (already in ``posts``); the telephone is the unit's, configured as the optional ``phone`` of
``config/org/units.json`` and synced here on publish. Nullable: units without one keep working, and a
document that needs it says so instead of printing an empty line.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("org_units", sa.Column("phone", sa.String(40), nullable=True))


def downgrade():
    with op.batch_alter_table("org_units") as batch:
        batch.drop_column("phone")

"""A second search text for values under a protection (要求保密, ``x-confidential``).

``records.search_text`` held every value of a record, so a search by a confidential reporter's name
found the record for every unit it was routed to. Values under a protection in force now go into
``records.search_protected``, which only readers who may see them search (see
``server.records.confidential``). Existing rows keep their text until the first publish of a
configuration whose ``x-confidential`` differs from the last published one, which redoes the search
texts of those forms' records (the shipped forms gain ``x-confidential`` with this change).

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("records", sa.Column("search_protected", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("records") as batch:
        batch.drop_column("search_protected")

"""One index on records by (form_id, org_unit_id) in place of the one on form_id alone.

Every ledger list, export and dashboard figure asks for one form's records within a part of the org
tree (``form_id = … AND org_unit_id IN (subtree)``): with both columns in one index the database reads
just that unit's rows of that form, however many other counties and ledgers the table holds
(tests/benchmarks/bench_dashboard.py). ``form_id`` alone is still answered by it, as its first column.

On PostgreSQL, org_units.path also gets an index for prefix matches (``path LIKE '/1/4/%'``, "this unit
and everything beneath it", in every scoped query): a plain index serves LIKE only under the C
collation, and databases are usually created with a language collation (en_US.UTF-8, zh_CN.UTF-8).

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_records_form_unit", "records", ["form_id", "org_unit_id"])
    op.drop_index("ix_records_form_id", table_name="records")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_org_units_path_prefix ON org_units (path varchar_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_org_units_path_prefix")
    op.create_index("ix_records_form_id", "records", ["form_id"])
    op.drop_index("ix_records_form_unit", table_name="records")

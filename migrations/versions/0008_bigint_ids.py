"""64-bit ids: every primary key, foreign key and id-holding column becomes BIGINT on PostgreSQL.

Routes take ids up to 2**63 - 1; against 32-bit ``integer`` columns PostgreSQL refused any id past
2**31 - 1 ("value out of range"), so a request for an unknown id answered 500 instead of 404, and a
county's audit log would have stopped at its 2,147,483,647th row. The serial sequences behind the
primary keys grow with their columns (``ALTER SEQUENCE … AS bigint`` also lifts their maximum).

On SQLite this is a no-op: its INTEGER is already 64-bit, and converting would mean copying every
table (an autoincrementing primary key must stay ``INTEGER PRIMARY KEY``).

Columns that count (``version``, ``seq``, ``year``, ``pages`` …) stay ``integer``. ``user_sessions``
(0007) was created with BIGINT ids.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# table -> its id-holding columns; referenced tables before the tables referring to them.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "org_units": ("id", "parent_id", "serves_id"),
    "users": ("id", "org_unit_id"),
    "api_tokens": ("id", "user_id"),
    "form_versions": ("id",),
    "config_state": ("id",),
    "records": ("id", "org_unit_id", "waiting_unit_id", "created_by_id", "updated_by_id"),
    "audit_log": ("id", "user_id", "object_id"),
    "number_counters": ("org_unit_id",),
    "record_routes": ("record_id", "org_unit_id"),
    "record_transitions": ("id", "record_id", "user_id"),
    "rule_decisions": ("id", "record_id", "user_id"),
    "award_ineligibility": ("id", "unit_id", "record_id", "decision_id"),
    "vetoes": ("id", "unit_id", "record_id", "decision_id"),
    "accountability": ("id", "unit_id", "record_id", "decision_id"),
    "document_template_versions": ("id",),
    "issued_documents": ("id", "record_id", "issuer_unit_id", "issued_by_id", "revoked_by_id"),
    "workflow_versions": ("id",),
    "record_timers": ("id", "record_id"),
    "timer_steps": ("id", "timer_id"),
    "inbox_items": ("id", "unit_id", "record_id", "decision_id", "timer_id", "closed_by_id"),
}


def upgrade():
    _convert("bigint", ID_COLUMNS)


def downgrade():
    _convert("integer", dict(reversed(ID_COLUMNS.items())))


def _convert(sql_type: str, tables: dict[str, tuple[str, ...]]) -> None:
    """One ``ALTER TABLE`` per table (PostgreSQL rewrites a table once for all its columns), then the
    sequence of its primary key. A downgrade fails, and changes nothing, when an id no longer fits."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in tables.items():
        clauses = ", ".join(f"ALTER COLUMN {column} TYPE {sql_type}" for column in columns)
        if sql_type == "integer" and "id" in columns:  # the sequence first: it refuses a value past 2**31 - 1
            _alter_sequence(table, sql_type)
        op.execute(f"ALTER TABLE {table} {clauses}")
        if sql_type == "bigint" and "id" in columns:
            _alter_sequence(table, sql_type)


def _alter_sequence(table: str, sql_type: str) -> None:
    sequence = op.get_bind().exec_driver_sql(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar()
    if sequence is not None:
        op.execute(f"ALTER SEQUENCE {sequence} AS {sql_type}")

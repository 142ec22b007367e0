"""Workflows: record states and timelines, workflow versions, timers and their steps, the 待办 inbox
(tasks and notifications move into it), decisions in force, published workflows and calendar.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
IN_FORCE = "lifted_at IS NULL AND outcome = 'applied' AND subject IS NOT NULL"


def upgrade():
    op.add_column("config_state", sa.Column("workflows", sa.JSON(), nullable=True))
    op.add_column("config_state", sa.Column("calendar", sa.JSON(), nullable=True))
    # Plain ADD COLUMN (no batch copy): SQLite cannot drop and re-create a table that others refer to.
    op.add_column("records", sa.Column("workflow_id", sa.String(length=40), nullable=True))
    op.add_column("records", sa.Column("workflow_version", sa.Integer(), nullable=True))
    op.add_column("records", sa.Column("state_since", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # (Alembic would want a batch copy for the constraint)
        op.execute("ALTER TABLE records ADD COLUMN waiting_unit_id INTEGER REFERENCES org_units (id)")
    else:
        op.add_column("records", sa.Column("waiting_unit_id", sa.Integer(),
                                           sa.ForeignKey("org_units.id", name="fk_records_waiting_unit"), nullable=True))
    op.add_column("records", sa.Column("due_date", sa.Date(), nullable=True))
    op.create_index("ix_records_waiting_unit_id", "records", ["waiting_unit_id"])
    op.create_index("ix_records_due_date", "records", ["due_date"])
    op.create_table(
        "record_transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("transition", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_record_transitions_record", "record_transitions", ["record_id", "id"])
    op.create_table(
        "workflow_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workflow_id", sa.String(length=40), nullable=False, index=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("form_id", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workflow_id", "seq", name="uq_workflow_versions_seq"),
    )
    op.create_table(
        "record_timers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("timer", sa.String(length=40), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("base_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("next_at", sa.Date(), nullable=True),
        sa.Column("paused_on", sa.Date(), nullable=True),
        sa.Column("due_fixed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("fired", JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_record_timers_due", "record_timers", ["status", "next_at", "id"])
    op.create_index("ix_record_timers_record", "record_timers", ["record_id", "timer"])
    op.create_table(
        "timer_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("timer_id", sa.Integer(), sa.ForeignKey("record_timers.id"), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("fired_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.UniqueConstraint("timer_id", "step", name="uq_timer_steps"),
    )
    op.create_table(
        "tick_runs",
        sa.Column("job", sa.String(length=40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("rule_decisions", sa.Column("subject", sa.String(length=120), nullable=True))
    op.add_column("rule_decisions", sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_rule_decisions_subject", "rule_decisions", ["subject"])
    _backfill_subjects()
    op.create_index("uq_rule_decisions_in_force", "rule_decisions", ["ruleset", "rule", "subject"], unique=True,
                    sqlite_where=sa.text(IN_FORCE), postgresql_where=sa.text(IN_FORCE))
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True, index=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("rule_decisions.id"), nullable=True, index=True),
        sa.Column("timer_id", sa.Integer(), nullable=True, index=True),
        sa.Column("state", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
    )
    op.create_index("ix_inbox_unit_status", "inbox_items", ["unit_id", "status", "due_date"])
    # Tasks and notifications of the rules become inbox items (nothing is lost).
    op.execute("INSERT INTO inbox_items (source_key, kind, unit_id, record_id, decision_id, title, message, due_date, "
               "status, created_at, close_note) SELECT source_key, 'task', assignee_unit_id, record_id, decision_id, "
               "title, '', due_date, status, created_at, '' FROM tasks")
    op.execute("INSERT INTO inbox_items (source_key, kind, unit_id, record_id, decision_id, title, message, "
               "status, created_at, close_note) SELECT source_key, 'notice', unit_id, record_id, decision_id, "
               "'通知', message, 'open', created_at, '' FROM notifications")
    op.drop_table("notifications")
    op.drop_table("tasks")


def _backfill_subjects() -> None:
    """Decisions stored before 0006 get the subject they are about (the record, or the unit and the
    month for unit facts, as their effect keys already say) and only the latest applied one per rule
    and subject stays in force, so the first tick after the upgrade does not decide everything again
    and the notices it raised can still be withdrawn."""
    bind = op.get_bind()
    table = sa.table("rule_decisions", sa.column("id", sa.Integer), sa.column("ruleset", sa.String),
                     sa.column("rule", sa.String), sa.column("record_id", sa.Integer), sa.column("facts", JSON),
                     sa.column("outcome", sa.String), sa.column("at", sa.DateTime(timezone=True)),
                     sa.column("subject", sa.String), sa.column("lifted_at", sa.DateTime(timezone=True)))
    latest: dict[tuple[str, str, str], int] = {}
    rows = bind.execute(sa.select(table.c.id, table.c.ruleset, table.c.rule, table.c.record_id, table.c.facts,
                                  table.c.outcome, table.c.at).order_by(table.c.id)).all()
    for row in rows:
        facts = row.facts if isinstance(row.facts, dict) else {}
        if row.record_id is not None:
            subject = f"record:{row.record_id}"
        else:
            subject = ":".join(str(p) for p in ("unit", facts.get("unit_code"), facts.get("report_month")) if p)
        bind.execute(table.update().where(table.c.id == row.id).values(subject=subject))
        if row.outcome == "applied":
            previous = latest.get((row.ruleset, row.rule, subject))
            if previous is not None:
                bind.execute(table.update().where(table.c.id == previous).values(lifted_at=row.at))
            latest[(row.ruleset, row.rule, subject)] = row.id


def downgrade():
    if op.get_bind().dialect.name == "sqlite":  # the batch copies below re-create tables others refer to
        op.execute("PRAGMA foreign_keys=OFF")
    op.create_table(
        "tasks", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("assignee_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False, index=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False), *_effect_columns())
    op.create_table(
        "notifications", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False, index=True),
        sa.Column("message", sa.Text(), nullable=False), *_effect_columns())
    op.execute("INSERT INTO tasks (source_key, title, assignee_unit_id, due_date, status, record_id, decision_id, "
               "created_at) SELECT source_key, title, unit_id, due_date, status, record_id, decision_id, created_at "
               "FROM inbox_items WHERE kind = 'task' AND decision_id IS NOT NULL AND due_date IS NOT NULL")
    op.execute("INSERT INTO notifications (source_key, unit_id, message, record_id, decision_id, created_at) "
               "SELECT source_key, unit_id, message, record_id, decision_id, created_at FROM inbox_items "
               "WHERE kind = 'notice' AND decision_id IS NOT NULL")
    op.drop_table("inbox_items")
    op.drop_index("uq_rule_decisions_in_force", table_name="rule_decisions")
    op.drop_index("ix_rule_decisions_subject", table_name="rule_decisions")
    with op.batch_alter_table("rule_decisions") as batch:
        batch.drop_column("lifted_at")
        batch.drop_column("subject")
    op.drop_table("tick_runs")
    op.drop_table("timer_steps")
    op.drop_table("record_timers")
    op.drop_table("workflow_versions")
    op.drop_table("record_transitions")
    op.drop_index("ix_records_due_date", table_name="records")
    op.drop_index("ix_records_waiting_unit_id", table_name="records")
    with op.batch_alter_table("records") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint("fk_records_waiting_unit", type_="foreignkey")
        for column in ("due_date", "waiting_unit_id", "state_since", "workflow_version", "workflow_id"):
            batch.drop_column(column)
    op.drop_column("config_state", "calendar")
    op.drop_column("config_state", "workflows")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=ON")


def _effect_columns() -> list[sa.Column]:
    return [
        sa.Column("source_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True, index=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("rule_decisions.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]

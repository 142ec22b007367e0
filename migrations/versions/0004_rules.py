"""Rules: published rules in config_state; decisions and their effects (tasks, eligibility, vetoes,
accountability, notifications).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _effect_columns() -> list[sa.Column]:
    return [
        sa.Column("source_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True, index=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("rule_decisions.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _unit() -> sa.Column:
    return sa.Column("unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False, index=True)


def upgrade():
    op.add_column("config_state", sa.Column("rules", sa.JSON(), nullable=True))
    op.create_table(
        "rule_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("ruleset", sa.String(length=60), nullable=False),
        sa.Column("ruleset_version", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True, index=True),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "tasks", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("assignee_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False, index=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False), *_effect_columns())
    op.create_table(
        "award_ineligibility", sa.Column("id", sa.Integer(), primary_key=True), _unit(),
        sa.Column("award", sa.String(length=100), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True), sa.Column("until_date", sa.Date(), nullable=True),
        *_effect_columns())
    op.create_table(
        "vetoes", sa.Column("id", sa.Integer(), primary_key=True), _unit(),
        sa.Column("year", sa.Integer(), nullable=False), sa.Column("reason", sa.Text(), nullable=False),
        *_effect_columns())
    op.create_table(
        "accountability", sa.Column("id", sa.Integer(), primary_key=True), _unit(),
        sa.Column("post", sa.String(length=60), nullable=False), sa.Column("person", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False), *_effect_columns())
    op.create_table(
        "notifications", sa.Column("id", sa.Integer(), primary_key=True), _unit(),
        sa.Column("message", sa.Text(), nullable=False), *_effect_columns())


def downgrade():
    for table in ("notifications", "accountability", "vetoes", "award_ineligibility", "tasks", "rule_decisions"):
        op.drop_table(table)
    with op.batch_alter_table("config_state", schema=None) as batch_op:
        batch_op.drop_column("rules")

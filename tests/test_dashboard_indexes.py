"""The period indexes of the dashboard (server/stats/indexes.py): which ones the configuration asks for,
the command that makes them (idempotent) on PostgreSQL, and the conditions written in their terms."""
from __future__ import annotations

import json

from sqlalchemy import select, text

from server.extensions import db
from server.records.models import Record
from server.settings import PROJECT_ROOT
from server.stats.indexes import PeriodIndex, period_column, wanted
from tests.test_flow_intake import clients, config_copy  # noqa: F401 (fixtures)

DASHBOARD = json.loads((PROJECT_ROOT / "config/dashboard.json").read_text(encoding="utf-8"))
FORMS = [p.stem for p in (PROJECT_ROOT / "config/forms").glob("*.json")]


def test_one_index_per_ledger_and_date_field_counted_by() -> None:
    found = {(i.form, i.pointer) for i in wanted(DASHBOARD, FORMS)}
    assert ("security_problem", "/received_at") in found and ("case_statistics", "/month") in found
    assert ("monthly_inspection", "/report_month") in found
    assert all(not p.startswith("$") for _, p in found)  # $created is the created_at index's
    assert len(found) == len(wanted(DASHBOARD, FORMS))   # each once, though several figures share it
    # names are SQL identifiers of at most 63 characters; odd names are never written into SQL
    assert all(len(i.name) <= 63 and i.name.isidentifier() for i in wanted(DASHBOARD, FORMS))
    odd = {"sections": [{"figures": [{"count": {"form": "security_problem", "date": "/x'; DROP TABLE records; --"}}]}]}
    assert wanted(odd, FORMS) == []
    assert "WHERE form_id = 'security_problem'" in PeriodIndex("security_problem", "/received_at").statement


def test_the_condition_matches_the_index_on_postgresql_only() -> None:
    form, column = period_column("security_problem", "/location/division_code", "postgresql")
    sql = str(select(Record.id).where(form, column >= "2026").compile())
    assert "records.form_id = 'security_problem'" in sql and "records.data #>> '{location,division_code}'" in sql
    form, column = period_column("security_problem", "/received_at", "sqlite")
    assert "'security_problem'" not in str(select(Record.id).where(form).compile())


def test_the_command(clients) -> None:  # type: ignore[no-untyped-def]
    app = clients.app  # the shipped configuration, with its dashboard
    runner = app.test_cli_runner()
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    first = runner.invoke(args=["stats", "indexes"])
    assert first.exit_code == 0, first.output
    if not postgres:
        assert "SQLite 不需要统计索引" in first.output
        return
    again = runner.invoke(args=["stats", "indexes"])  # idempotent
    assert again.exit_code == 0, again.output
    with app.app_context():
        names = set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'records'")))
        expected = {i.name for i in wanted(app.extensions["registry"].live.dashboard, app.extensions["registry"].live.forms)}
        assert len(expected) >= 5 and expected <= names

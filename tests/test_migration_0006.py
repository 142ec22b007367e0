"""Upgrading a database that already holds decisions, tasks and notices to 0006 (workflows).

Decisions get the subject they are about and only the latest one per rule and subject stays in force,
so the first tick after the upgrade neither decides everything again nor duplicates effects; tasks
and notices move into the 待办 inbox with their keys and decisions. Always on a SQLite file of its own.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.extensions import db


def test_upgrade_to_0006_keeps_decisions_and_effects(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"database_url": url, "instance_dir": tmp_path / "instance", "secret_key": "test"})
    with app.app_context():
        upgrade(revision="0005")
        run = db.session.execute
        run(sa.text("INSERT INTO org_units (id, code, name, kind, path, posts, is_active) VALUES "
                    "(1, '139901000000', '示范县', 'county', '/1/', '{}', 1), "
                    "(2, '139901101000', '河口镇', 'township', '/1/2/', '{}', 1)"))
        run(sa.text("INSERT INTO users (id, username, display_name, password_hash, role, is_enabled, org_unit_id, "
                    "session_version, created_at) VALUES (1, 'county', '', 'x', 'county_staff', 1, 1, 0, "
                    "'2026-05-01 00:00:00')"))
        run(sa.text("INSERT INTO records (id, form_id, form_version, number, org_unit_id, data, search_text, state, "
                    "created_by_id, created_at, updated_by_id, updated_at, version) VALUES (7, 'key_area', 1, 'ZD-1', "
                    "2, '{}', '', 'active', 1, '2026-05-01 00:00:00', 1, '2026-05-01 00:00:00', 1)"))
        decision = ("INSERT INTO rule_decisions (id, at, ruleset, ruleset_version, rule, title, record_id, facts, "
                    "actions, explanation, outcome, error) VALUES (:id, :at, :ruleset, '1', :rule, 't', :record, "
                    ":facts, '[]', 'e', :outcome, '')")
        rows = [  # the old tick stored the overdue decision every day
            (1, "2026-11-11 00:00:00", "overdue", "deadline_passed", 7, "{}", "applied"),
            (2, "2026-11-12 00:00:00", "overdue", "deadline_passed", 7, "{}", "applied"),
            (3, "2026-11-13 00:00:00", "overdue", "deadline_passed", 7, "{}", "failed"),
            (4, "2026-06-06 00:00:00", "monthly_report", "missing", None,
             '{"unit_code": "139901101000", "report_month": "2026-05"}', "applied"),
        ]
        for id_, at, ruleset, rule, record, facts, outcome in rows:
            run(sa.text(decision), {"id": id_, "at": at, "ruleset": ruleset, "rule": rule, "record": record,
                                    "facts": facts, "outcome": outcome})
        run(sa.text("INSERT INTO tasks (title, assignee_unit_id, due_date, status, source_key, record_id, decision_id, "
                    "created_at) VALUES ('报送 2026-05 月度检查报告', 2, '2026-06-08', 'open', "
                    "'monthly_report:missing:unit:139901101000:2026-05:0', NULL, 4, '2026-06-06 00:00:00')"))
        run(sa.text("INSERT INTO notifications (unit_id, message, source_key, record_id, decision_id, created_at) "
                    "VALUES (2, '请报送', 'monthly_report:missing:unit:139901101000:2026-05:1', NULL, 4, "
                    "'2026-06-06 00:00:00')"))
        db.session.commit()

        upgrade()

        decisions = run(sa.text("SELECT id, subject, lifted_at IS NOT NULL FROM rule_decisions ORDER BY id")).all()
        assert [tuple(r) for r in decisions] == [
            (1, "record:7", 1), (2, "record:7", 0), (3, "record:7", 0), (4, "unit:139901101000:2026-05", 0)]
        items = run(sa.text("SELECT kind, unit_id, decision_id, status, source_key FROM inbox_items ORDER BY id")).all()
        assert [tuple(i) for i in items] == [
            ("task", 2, 4, "open", "monthly_report:missing:unit:139901101000:2026-05:0"),
            ("notice", 2, 4, "open", "monthly_report:missing:unit:139901101000:2026-05:1")]
        assert "tasks" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()

"""The records service: the one write path (validate → number → store → audit)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Conflict, ValidationFailed
from server.extensions import db
from server.records import service
from server.records.models import AuditEntry, NumberCounter, Record
from server.timeutil import local_year, utcnow

GOOD = {"reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音扰民", "people": 3,
        "visitor": {"name": "王五"}, "steps": [{"what": "约谈摊主", "due": "2026-05-10"}]}


def test_create_numbers_stores_and_audits(app, user):
    record = service.create_record("incident", GOOD, user)
    year = local_year(utcnow())
    assert record.number == f"T-999901001000-{year}-0001"
    assert record.data == GOOD and record.version == 1 and record.form_version == 1
    assert record.org_unit_id == user.org_unit_id
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "record")).one()
    assert entry.action == "create" and entry.object_id == record.id and entry.user_id == user.id
    assert {"op": "add", "path": "/summary", "new": "夜市噪音扰民"} in entry.diff


def test_numbers_count_per_org_unit_and_form(app, user):
    from server.auth.models import User

    county = db.session.scalar(sa.select(User).where(User.username == "county"))
    numbers = [service.create_record("incident", GOOD, u).number for u in (user, user, county, user)]
    year = local_year(utcnow())
    assert numbers == [f"T-999901001000-{year}-0001", f"T-999901001000-{year}-0002",
                       f"T-999901000000-{year}-0001", f"T-999901001000-{year}-0003"]
    other = service.create_record("transfer", {"incident": numbers[0]}, user)
    assert other.number == f"999901001000-{year}-0001"  # the default pattern, its own sequence


def test_invalid_data_writes_nothing(app, user):
    bad = dict(GOOD, people=0, phone="123")
    del bad["summary"]
    with pytest.raises(ValidationFailed) as caught:
        service.create_record("incident", bad, user)
    assert {(e.pointer, e.message) for e in caught.value.errors} == {
        ("/summary", "此项为必填项"), ("/people", "不能小于 1"), ("/phone", "请填写 11 位手机号")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NumberCounter)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.object_type == "record")) == 0


def test_conditional_section_required_when_active(app, user):
    with pytest.raises(ValidationFailed) as caught:
        service.create_record("incident", dict(GOOD, handling="transfer"), user)
    assert [e.as_dict() for e in caught.value.errors] == [{"pointer": "/unit", "message": "此项为必填项"}]
    record = service.create_record("incident", dict(GOOD, handling="transfer", unit="县公安局"), user)
    assert record.data["unit"] == "县公安局"


def test_reference_must_name_an_existing_record(app, user):
    with pytest.raises(ValidationFailed) as caught:
        service.create_record("transfer", {"incident": "T-NOPE"}, user)
    assert [e.as_dict() for e in caught.value.errors] == [
        {"pointer": "/incident", "message": "找不到编号为 T-NOPE 的《测试登记簿》记录"}]
    target = service.create_record("incident", GOOD, user)
    assert service.create_record("transfer", {"incident": target.number}, user).data["incident"] == target.number


def test_update_bumps_version_and_audits_the_diff(app, user):
    record = service.create_record("incident", GOOD, user)
    changed = dict(GOOD, people=5, steps=[{"what": "约谈摊主", "due": "2026-05-12"}])
    del changed["visitor"]
    updated = service.update_record(record.id, changed, user, expected_version=1)
    assert updated.version == 2 and updated.data == changed
    entries = service.record_history(record.id, user)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].record_version == 2
    assert entries[1].diff == [
        {"op": "replace", "path": "/people", "old": 3, "new": 5},
        {"op": "remove", "path": "/visitor", "old": {"name": "王五"}},
        {"op": "replace", "path": "/steps/0/due", "old": "2026-05-10", "new": "2026-05-12"},
    ]


def test_stale_update_conflicts_and_overwrites_nothing(app, user):
    record = service.create_record("incident", GOOD, user)
    service.update_record(record.id, dict(GOOD, people=4), user, expected_version=1)
    with pytest.raises(Conflict) as caught:
        service.update_record(record.id, dict(GOOD, people=9), user, expected_version=1)
    assert caught.value.current_version == 2
    db.session.expire_all()
    assert db.session.get(Record, record.id).data["people"] == 4
    assert len(service.record_history(record.id, user)) == 2


def test_unchanged_update_is_a_no_op(app, user):
    record = service.create_record("incident", GOOD, user)
    same = service.update_record(record.id, dict(GOOD), user, expected_version=1)
    assert same.version == 1 and len(service.record_history(record.id, user)) == 1


def test_audit_rows_cannot_be_changed_even_in_sql(app, user):
    service.create_record("incident", GOOD, user)
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(sa.text("UPDATE audit_log SET action = 'x'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(sa.text("DELETE FROM audit_log"))
        db.session.commit()
    db.session.rollback()

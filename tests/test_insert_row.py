"""server.db.insert_row and insert_values: the record write path's INSERT without the unit of work (issue 15).

The object it returns must behave as one the session loaded: persistent, every attribute there without
a query, changes to it written as an UPDATE by the next flush; rows must keep the order they were made
in; a values dict that misses a column is refused before anything is written.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect

from server.db import insert_row, insert_values
from server.extensions import db
from server.records.models import AuditEntry, Record
from server.timeutil import utcnow
from tests.conftest import user_named


def _record_values(number: str) -> dict:
    user = user_named("clerk")
    now = utcnow()
    return dict(form_id="incident", form_version=1, number=number, org_unit_id=user.org_unit_id, data={"a": 1},
                search_text="x", search_protected="", state="active", workflow_id=None, workflow_version=None,
                state_since=None, waiting_unit_id=None, due_date=None, created_by_id=user.id, created_at=now,
                updated_by_id=user.id, updated_at=now, version=1)


def _statements(app) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def test_the_object_is_persistent_and_loaded_and_an_edit_is_an_update(app) -> None:  # type: ignore[no-untyped-def]
    record = insert_row(Record, _record_values("T-1"))
    state = inspect(record)
    assert state.persistent and record.id is not None and not db.session.new and not db.session.dirty
    seen = _statements(app)
    assert (record.number, record.state, record.due_date, record.version) == ("T-1", "active", None, 1)
    assert seen == []  # every attribute was there: no lazy load
    record.state = "closed"
    db.session.commit()
    assert any(s.lstrip().upper().startswith("UPDATE RECORDS") for s in seen)
    assert db.session.scalar(sa.select(Record.state).where(Record.id == record.id)) == "closed"


def test_pending_orm_rows_are_written_first_so_ids_follow_creation(app) -> None:  # type: ignore[no-untyped-def]
    first = AuditEntry(action="login", object_type="user", subject="clerk", diff=[], detail="")
    db.session.add(first)
    insert_values(AuditEntry, dict(at=utcnow(), user_id=None, action="create", subject="T-2", object_type="record",
                                   object_id=None, form_id="incident", record_version=1, diff=[], detail=""))
    db.session.commit()
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject.in_(["clerk", "T-2"]))
                                 .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["login", "create"]


def test_values_missing_a_column_are_refused_before_writing(app) -> None:  # type: ignore[no-untyped-def]
    values = _record_values("T-3")
    del values["due_date"]
    with pytest.raises(ValueError, match="due_date"):
        insert_row(Record, values)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.number == "T-3")) == 0

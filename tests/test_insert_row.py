"""server.db.insert_row and insert_values: the record write path's INSERT without the unit of work (issue 15).

The object it returns must behave as one the session loaded: persistent, every attribute there without
a query, changes to it written as an UPDATE by the next flush; rows must keep the order they were made
in; a values dict that misses a column is refused before anything is written.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


def test_the_object_is_persistent_and_loaded_and_an_edit_is_an_update(app) -> None:  # type: ignore[no-untyped-def]
    record = insert_row(Record, _record_values("T-1"))
    state = inspect(record)
    assert state.persistent and record.id is not None and not db.session.new and not db.session.dirty
    with _statements() as seen:
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


def test_a_rolled_back_savepoint_takes_its_rows_out_of_the_session(app) -> None:  # type: ignore[no-untyped-def]
    kept = insert_row(Record, _record_values("T-4"))
    savepoint = db.session.begin_nested()
    ghost = insert_row(Record, _record_values("T-5"))
    ghost_id = ghost.id
    savepoint.rollback()
    assert ghost not in db.session and inspect(ghost).transient and kept in db.session
    again = insert_row(Record, _record_values("T-5"))  # SQLite hands out the same id again: no clash
    db.session.commit()
    assert db.session.get(Record, again.id).number == "T-5"
    numbers = db.session.scalars(sa.select(Record.number).where(Record.number.in_(["T-4", "T-5"]))).all()
    assert sorted(numbers) == ["T-4", "T-5"] and (again.id == ghost_id or db.engine.dialect.name != "sqlite")


def test_a_rolled_back_transaction_takes_its_rows_out_and_a_commit_keeps_them(app) -> None:  # type: ignore[no-untyped-def]
    committed = insert_row(Record, _record_values("T-6"))
    db.session.commit()
    ghost = insert_row(Record, _record_values("T-7"))
    ghost_id = ghost.id
    inner = db.session.begin_nested()
    inner_row = insert_row(Record, _record_values("T-8"))
    inner.commit()  # a released savepoint is still inside the transaction
    db.session.rollback()
    assert ghost not in db.session and inner_row not in db.session
    assert committed in db.session and committed.number == "T-6"
    assert db.session.get(Record, ghost_id) is None

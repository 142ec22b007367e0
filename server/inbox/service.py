"""The 待办 inbox: opening, closing and listing what waits on a unit.

Items are written by rules (tasks, notices) and workflows (a record waiting in a state, escalation
steps) inside their own transactions, keyed by ``source_key`` so each effect exists once. A user
sees exactly their own unit's items, overdue first, then by due date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import case, func, select, update

from server.audit import log_event
from server.auth.models import User
from server.db import write_transaction
from server.errors import FieldError, NotFound, ValidationFailed
from server.extensions import db
from server.inbox.models import InboxItem
from server.timeutil import local_today, utcnow


def upsert(source_key: str, *, kind: str, unit_id: int, title: str, message: str = "", record_id: int | None = None,
           decision_id: int | None = None, timer_id: int | None = None, due_date: date | None = None,
           state: str | None = None) -> InboxItem:
    """Open the item ``source_key`` (inside the caller's transaction), or update the one that exists.

    An item withdrawn because its cause went away opens again when the cause is back; one closed by
    hand or done stays closed (its text is brought up to date)."""
    item = db.session.scalar(select(InboxItem).where(InboxItem.source_key == source_key))
    if item is None:
        item = InboxItem(source_key=source_key, kind=kind, unit_id=unit_id, status="open", close_note="")
        db.session.add(item)
    elif item.status == "withdrawn":
        item.status, item.closed_at = "open", None
    item.unit_id, item.title, item.message = unit_id, title[:200], message
    item.record_id, item.decision_id, item.timer_id = record_id, decision_id, timer_id
    item.due_date, item.state = due_date, state
    db.session.flush()
    return item


def close_where(*conditions, status: str = "done") -> int:
    """Close the open items matching ``conditions`` (the step they ask for happened)."""
    result = db.session.execute(update(InboxItem).where(InboxItem.status == "open", *conditions)
                                .values(status=status, closed_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def close_for_state(record_id: int, state: str) -> int:
    return close_where(InboxItem.record_id == record_id, InboxItem.kind == "step", InboxItem.state == state)


def close_for_timer(timer_id: int) -> int:
    return close_where(InboxItem.timer_id == timer_id)


def withdraw_for_decisions(decision_ids: Iterable[int]) -> int:
    ids = list(decision_ids)
    return close_where(InboxItem.decision_id.in_(ids), status="withdrawn") if ids else 0


# -- reading -------------------------------------------------------------------------------------------
def _mine(user: User):  # type: ignore[no-untyped-def]
    return InboxItem.unit_id == (user.org_unit_id if user.org_unit_id is not None else -1)


def items_for(user: User, status: str = "open", today: date | None = None, limit: int = 500) -> list[InboxItem]:
    """The user's unit's items: overdue first, then by due date (undated last), newest first within."""
    today = today or local_today()
    overdue = case((InboxItem.due_date < today, 0), else_=1)
    undated = case((InboxItem.due_date.is_(None), 1), else_=0)
    stmt = (select(InboxItem).where(_mine(user), InboxItem.status == status)
            .order_by(overdue, undated, InboxItem.due_date, InboxItem.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Counts:
    open: int
    overdue: int


def counts_for(user: User, today: date) -> Counts:
    """What the navigation bar shows: one query."""
    row = db.session.execute(select(func.count(), func.count(case((InboxItem.due_date < today, 1))))
                             .where(_mine(user), InboxItem.status == "open")).one()
    return Counts(open=row[0], overdue=row[1])


def get_item(item_id: int, user: User) -> InboxItem:
    item = db.session.get(InboxItem, item_id)
    if item is None or item.unit_id != user.org_unit_id:
        raise NotFound(str(item_id))
    return item


def close_by_hand(item_id: int, user: User, note: str) -> InboxItem:
    """Close an item with a note saying why (audited); only the unit's own users may."""
    item = get_item(item_id, user)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed([FieldError("/note", "请填写办结说明")])
    if len(note) > 2000:
        raise ValidationFailed([FieldError("/note", "办结说明不超过 2000 字")])
    if item.status != "open":
        raise ValidationFailed([FieldError("", "该事项已不在待办中")])
    if item.kind == "step":
        raise ValidationFailed([FieldError("", "这是等待本单位办理的流程环节，请在记录页办理，办理后自动办结")])
    with write_transaction():
        item = db.session.get(InboxItem, item_id, populate_existing=True, with_for_update=True)
        item.status, item.closed_at, item.closed_by_id, item.close_note = "closed", utcnow(), user.id, note
        log_event("inbox.close", "inbox_item", object_id=item.id, user_id=user.id, subject=item.title[:100],
                  detail=note)
    return item

"""A matter's agenda: records of other ledgers it takes up while it is open (``agenda`` of a workflow).

The monthly 联席会议 reviews the key areas its 研判 recommended (a 建议书 issued, still 线索 or 已认定) and
those whose rectification period ran out without acceptance (the timer marked them 提请挂牌督办). The
meeting page lists them, as the reader may see them, so the clerk picks the listing decisions from what
the procedure put before the meeting instead of from memory.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from server.flow.service import workflow_of
from server.forms.pointers import get_path
from server.records import confidential
from server.records.models import Record
from server.records.scope import record_scope
from server.records.titles import record_title


@dataclass
class AgendaItem:
    record: Record
    title: str
    state_title: str


@dataclass
class AgendaSection:
    title: str
    form: str
    items: list[AgendaItem]


def agenda(record: Record, user: User) -> list[AgendaSection]:
    """The record's agenda while it is open (empty once closed, or when its workflow has none)."""
    workflow = workflow_of(record)
    state = workflow.state(record.state) if workflow is not None else None
    if workflow is None or not workflow.agenda or state is None or not state.open:
        return []
    sections, seer = [], confidential.Sight(user)
    for entry in workflow.agenda:
        rows = db.session.scalars(select(Record).where(Record.form_id == entry.form, Record.state.in_(entry.states),
                                                       record_scope(user)).order_by(Record.id))
        items = [AgendaItem(r, record_title(r, seer), _state_title(r)) for r in rows
                 if get_path(r.data, entry.field) not in (None, "", [], {})]
        sections.append(AgendaSection(entry.title, entry.form, items))
    return sections


def _state_title(record: Record) -> str:
    workflow = workflow_of(record)
    return workflow.state_title(record.state) if workflow is not None else ""

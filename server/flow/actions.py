"""Actions of transitions and timer steps: the rules' vocabulary plus what only a running matter has.

``start_timer`` / ``stop_timer`` act on the record's timers in the same transaction. ``issue_document``
needs a person and renders a PDF, which takes its own transactions (the gap-free register); so it is
collected here and issued right after the transition commits, and the 发文字号 is written back into
the record's field. Everything else is performed by ``server.rules.apply``.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from server.auth.models import User
from server.db import write_transaction
from server.extensions import db
from server.flow import timers
from server.flow.timers import TimerEnv
from server.forms.pointers import get_path
from server.records import service as records
from server.records.models import Record
from server.rules.apply import ActionFailed, ActionRun, perform, resolve, set_pointer
from server.workflow.definition import Workflow

log = logging.getLogger(__name__)


def run_for(record: Record, data: dict[str, Any], user: User | None, env: TimerEnv, key: str, source: str,
            timer_id: int | None = None) -> ActionRun:
    return ActionRun(key=key, record=record, data=data, user=user, today=env.today, calendar=env.calendar,
                     params=env.params, source=source, timer_id=timer_id)


#: Runs a transition of another record inside the acting transaction (``transition_record``); installed by
#: :mod:`server.flow.chains`, which needs the flow service that imports this module.
TransitionOther = Callable[[Mapping[str, Any], ActionRun, list["Issue"]], Record]
transition_other: TransitionOther | None = None


@dataclass(frozen=True)
class Issue:
    """A document to issue once the transaction committed: from ``record``, its number written to ``number_to``."""

    record: Record
    doc_id: str
    number_to: str | None = None


def perform_all(actions: tuple[dict[str, Any], ...], values: Mapping[str, Any], run: ActionRun, workflow: Workflow,
                documents: list[Issue]) -> None:
    """Perform ``actions`` in order; ``documents`` collects the documents to issue after the commit."""
    env = TimerEnv(today=run.today, calendar=run.calendar, params=run.params, fact=values)
    created_before = len(run.created)
    for index, raw in enumerate(actions):
        action = resolve(raw, values)
        do = action["do"]
        if do == "start_timer":
            timer = workflow.timers[action["timer"]]
            started = timers.start(run.record, workflow, timer, env, due_from=action.get("due_from"), data=run.data)
            if started is None:
                raise ActionFailed(f"无法启动“{timer.title}”：起算日期或新期限未填写")
        elif do == "stop_timer":
            for row in timers.live_timers(run.record.id):
                if row.timer == action["timer"]:
                    timers.stop(row)
        elif do == "issue_document":
            if run.user is None:
                raise ActionFailed("签发文书须由人办理，计时步骤不能签发")
            issue = _issue(action, run, created_before)
            if issue is not None:
                documents.append(issue)
        elif do == "for_each":
            _for_each(raw, values, run, workflow, documents, index)
        elif do == "transition_record":
            if transition_other is None or run.user is None:
                raise ActionFailed("流转关联记录须由人办理")
            run.updated.append(transition_other(action, run, documents))
        else:
            perform(action, index, run)


def _issue(action: Mapping[str, Any], run: ActionRun, created_before: int) -> Issue | None:
    """The document of an ``issue_document``: from the acting record, or (``"of": "created"``) from the
    record this action list created last (the 建议书 of a key area a 研判 registered); None when the list
    created nothing this time (the row's record was registered, and its document issued, before)."""
    if action.get("of") != "created":
        return Issue(run.record, action["doc_id"], action.get("number_to"))
    if len(run.created) == created_before:
        return None
    return Issue(run.created[-1], action["doc_id"], action.get("number_to"))


def _for_each(raw: Mapping[str, Any], values: Mapping[str, Any], run: ActionRun, workflow: Workflow,
              documents: list[Issue], index: int) -> None:
    """The actions of a ``for_each`` once per row of ``items`` that matches ``where``; ``{item.x}`` and
    ``./x`` name the row's values. Each row runs under its own key (its notices are its own)."""
    pointer = raw["items"]
    rows = get_path(run.data, pointer)
    where = raw.get("where") or {}
    saved = run.key, run.item, run.item_pointer
    try:
        for number, row in enumerate(rows if isinstance(rows, list) else []):
            if not isinstance(row, dict) or any(row.get(k) != v for k, v in where.items()):
                continue
            run.key, run.item, run.item_pointer = f"{saved[0]}:{index}:{number}", row, f"{pointer}/{number}"
            item_values = {**values, **{f"item.{k}": v for k, v in row.items() if not isinstance(v, (dict, list))}}
            perform_all(tuple(raw["actions"]), item_values, run, workflow, documents)
    finally:
        run.key, run.item, run.item_pointer = saved


def issue_document(record: Record, doc_id: str, number_to: str | None, user: User) -> str | None:
    """Issue a document from the record after its transition committed; write its 发文字号 back.

    A failure does not undo the transition (it happened): it is returned as a warning for the person
    and the document can be issued from the record page."""
    from server.documents import service as documents
    from server.documents.pdf import RenderError
    from server.errors import NotAllowed, ValidationFailed

    try:
        # the transition is the deliberate act: a case that enters the state again gets its document again
        issued = documents.issue(doc_id, user, record_id=record.id, confirm_reissue=True)
    except (RenderError, ValidationFailed, NotAllowed, ActionFailed) as exc:
        message = "；".join(f"{e.message}" for e in exc.errors) if isinstance(exc, ValidationFailed) else \
            getattr(exc, "message", str(exc))
        log.warning("流转后签发文书失败：%s %s", doc_id, message)
        return f"文书未能签发（{message}），请在“生成文书”中签发"
    if number_to:
        with write_transaction():
            fresh = records.locked_record(record.id)
            data = copy.deepcopy(fresh.data)
            set_pointer(data, number_to, issued.number)
            records.write_data(fresh, data, user, "document_number", detail=f"{issued.title} {issued.number}")
        db.session.refresh(record)
    return None

"""Actions of transitions and timer steps: the rules' vocabulary plus what only a running matter has.

``start_timer`` / ``stop_timer`` act on the record's timers in the same transaction. ``issue_document``
needs a person and renders a PDF, which takes its own transactions (the gap-free register); so it is
collected here and issued right after the transition commits, and the 发文字号 is written back into
the record's field. Everything else is performed by ``server.rules.apply``.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Mapping

from server.auth.models import User
from server.db import write_transaction
from server.extensions import db
from server.flow import timers
from server.flow.timers import TimerEnv
from server.records import service as records
from server.records.models import Record
from server.rules.apply import ActionFailed, ActionRun, perform, resolve, set_pointer
from server.workflow.definition import Workflow

log = logging.getLogger(__name__)


def run_for(record: Record, data: dict[str, Any], user: User | None, env: TimerEnv, key: str, source: str,
            timer_id: int | None = None) -> ActionRun:
    return ActionRun(key=key, record=record, data=data, user=user, today=env.today, calendar=env.calendar,
                     params=env.params, source=source, timer_id=timer_id)


def perform_all(actions: tuple[dict[str, Any], ...], values: Mapping[str, Any], run: ActionRun, workflow: Workflow,
                documents: list[tuple[str, str | None]]) -> None:
    """Perform ``actions`` in order; ``documents`` collects the documents to issue after the commit."""
    env = TimerEnv(today=run.today, calendar=run.calendar, params=run.params, fact=values)
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
            documents.append((action["doc_id"], action.get("number_to")))
        else:
            perform(action, index, run)


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

"""What a draft configuration would change for the matters under way, on a given date.

For every open record of a workflow the draft also defines: whether its state still exists, each
running timer's due date recomputed under the draft (its length, the parameters, the calendar), and
which escalation steps would have fired by the date under the live and under the draft definition;
timers the draft starts or drops in the record's state. Then the decisions of every ruleset on that
date (daily ones and per-unit ones included). Nothing is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.flow import service, timers
from server.records.models import Record
from server.rules.facts import FactContext
from server.rules.service import compare_draft, record_fact
from server.specs.model import ConfigSet
from server.workflow.calendar import WorkCalendar
from server.workflow.deadlines import AmountError, due_date, pending_steps
from server.workflow.definition import Timer, Workflow


@dataclass(frozen=True)
class Effect:
    """One thing the draft would change for one record (or unit): ``subject`` names it, ``what`` says it."""

    subject: str
    what: str
    record: Record | None = None

    def __str__(self) -> str:
        return f"{self.subject}  {self.what}"


def simulate_draft(draft: ConfigSet, on: date | None = None) -> list[Effect]:
    on = on or service.today()
    registry = current_app.extensions["registry"]
    live_params = registry.live.rules.values if registry.live.rules else {}
    calendar = WorkCalendar(draft.calendar)
    lines: list[Effect] = []
    for workflow_id, planned in sorted(draft.workflows.items()):
        rows = db.session.scalars(select(Record).where(Record.workflow_id == workflow_id).order_by(Record.id))
        for record in rows:
            current = service.workflow_of(record)
            state = current.state(record.state) if current else None
            if state is None or not state.open:
                continue
            lines += _record_lines(record, current, planned, on, live_params, draft, calendar)
    if draft.rules is not None:
        live_rules = registry.live.rules
        for change in compare_draft(draft.rules, on):
            before = "、".join(_rule_titles(live_rules, change.ruleset, change.before)) or "（无）"
            after = "、".join(_rule_titles(draft.rules, change.ruleset, change.after)) or "（无）"
            ruleset = (draft.rules.rulesets.get(change.ruleset) or (live_rules.rulesets.get(change.ruleset)
                                                                     if live_rules else None))
            title = f"规则『{ruleset.title}』" if ruleset is not None else f"规则 {change.ruleset}"
            lines.append(Effect(change.subject, f"{title}：{before} → {after}", change.record))
    return lines


def _rule_titles(rules: Any, ruleset_id: str, rule_ids: list[str]) -> list[str]:
    """Each rule's title as the administrator wrote it (its id where the ruleset no longer has it)."""
    ruleset = rules.rulesets.get(ruleset_id) if rules is not None else None
    return [ruleset.rules[r]["title"] if ruleset is not None and r in ruleset.rules else r for r in rule_ids]


def _record_lines(record: Record, current: Workflow, planned: Workflow, on: date, live_params: dict[str, Any],
                  draft: ConfigSet, calendar: WorkCalendar) -> list[Effect]:
    label = f"{record.number}（{current.state_title(record.state)}）"
    if record.state not in planned.states:
        return [Effect(label, f"草稿中没有此状态：迁移时须映射（--map {record.state}=…）", record)]
    fact = service.workflow_fact(record, current, on=on)
    draft_params = draft.rules.values if draft.rules else {}
    draft_fact = fact
    if planned.facts and draft.rules is not None and planned.facts in draft.rules.facts:
        ctx = FactContext(today=on, parameters=draft_params, calendar=calendar)
        draft_fact = record_fact(draft.rules, planned.facts, record, ctx)
    lines: list[Effect] = []
    live_rows = {row.timer: row for row in timers.live_timers(record.id)}
    live_calendar = current_app.extensions["registry"].live.calendar
    for timer_id, row in live_rows.items():
        timer = planned.timers.get(timer_id)
        if timer is None or (record.state not in timer.runs_in and record.state not in timer.paused_in):
            title = current.timers[timer_id].title if timer_id in current.timers else timer_id
            lines.append(Effect(label, f"{title}：草稿中将停止计时", record))
            continue
        old_timer = current.timers.get(timer_id, timer)
        try:
            new_due = _due(row, timer, old_timer, live_params, draft_params, fact, draft_fact, live_calendar, calendar)
            before = _steps(old_timer, row.due_date, row.fired, on, live_params, fact, live_calendar)
            after = _steps(timer, new_due, row.fired, on, draft_params, draft_fact, calendar)
        except AmountError as exc:
            lines.append(Effect(label, f"{timer.title}：{exc}", record))
            continue
        if new_due != row.due_date or before != after:
            due = f"到期日 {row.due_date} → {new_due}" if new_due != row.due_date else f"到期日 {new_due}（不变）"
            lines.append(Effect(label, f"{timer.title}：{due}；至 {on} 应触发："
                                       f"{'、'.join(before) or '无'} → {'、'.join(after) or '无'}", record))
    for timer in planned.timers.values():
        if record.state in timer.runs_in and timer.id not in live_rows:
            lines.append(Effect(label, f"草稿中将开始计时：{timer.title}", record))
    return lines


def _due(row: Any, planned: Timer, current: Timer, live_params: dict[str, Any], draft_params: dict[str, Any],
         fact: dict[str, Any], draft_fact: dict[str, Any], live_calendar: WorkCalendar, calendar: WorkCalendar) -> date:
    """The due date under the draft. One that the live definition does not explain (set from a field
    by an approved 延期, or moved by a pause) is kept as it is."""
    if due_date(current, row.base_date, live_params, fact, live_calendar) != row.due_date:
        return row.due_date
    return due_date(planned, row.base_date, draft_params, draft_fact, calendar)


def _steps(timer: Timer, due: date, fired: list[str] | None, on: date, params: dict[str, Any], fact: dict[str, Any],
           calendar: WorkCalendar) -> list[str]:
    pending, _ = pending_steps(timer, due, set(fired or []), on, params, fact, calendar)
    return [step.title for step in pending]

"""What the history page says about one audit row beyond its diff: who made it and what it was.

A change made by policy (``rule_update``) is credited to the ruleset and rules that made it, not to
the person whose save set them off, and lists the values a rule replaced. Routing rows say where the
matter went by the unit's name. Action identifiers stay out of the text (the page shows them on hover).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from server.audit import POLICY_NOTICE_START, action_title
from server.records.confidential import HistoryEntry

_ROUTE = re.compile(r"^\S+ (?P<name>.+?)（(?P<source>[^（）]*)）$")  # "GA-PCS01 城关派出所（rule:routing.to_police）"
_SOURCES = {"rule": "按规则", "field": "按登记的单位", "transition": "办理流转"}


@dataclass
class HistoryNote:
    action: str
    by: str = ""                       # instead of the user: the rules that made the change
    lines: list[str] = field(default_factory=list)


def history_note(entry: HistoryEntry) -> HistoryNote:
    note = HistoryNote(action=action_title(entry.action))
    detail = entry.detail or ""
    if entry.action == "rule_update":
        first, *rest = detail.splitlines() or [""]
        note.by = first if first.startswith("规则集") else "规则"
        note.lines = [line for line in rest if line.startswith(POLICY_NOTICE_START)]
    elif entry.action == "route":
        match = _ROUTE.match(detail)
        if match:
            how = _SOURCES.get(match["source"].split(":", 1)[0], "")
            note.lines = [f"分流至 {match['name']}" + (f"（{how}）" if how else "")]
    elif entry.action in ("transition", "workflow_migrate", "timer") and detail:
        note.lines = [detail]
    return note

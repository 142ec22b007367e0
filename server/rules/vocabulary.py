"""The fixed vocabulary of rule actions: their names, arguments and Chinese titles.

Configuration may only name these; each is implemented in ``server.rules.apply`` as a decision applied
after evaluation, inside one transaction. Declared here, apart from the implementations, so that
``config check`` can validate rule files without a database.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def arguments(self) -> tuple[str, ...]:
        return self.required + self.optional


ACTIONS: dict[str, ActionSpec] = {a.name: a for a in (
    ActionSpec("set_field", "设置字段", ("field", "value")),
    ActionSpec("assign_responsibility", "确定责任人", ("role", "post", "field"), ("unit", "position")),
    ActionSpec("route_to", "归口分流", ("unit",)),
    ActionSpec("create_task", "生成任务", ("title", "assignee", "due_working_days")),
    ActionSpec("mark_ineligible", "取消评先资格", ("unit", "award"), ("from", "until")),
    ActionSpec("record_veto", "一票否决", ("unit", "year", "reason")),
    ActionSpec("record_accountability", "责任追究", ("unit", "post", "reason")),
    ActionSpec("notify", "通知", ("unit", "message")),
)}

RESPONSIBILITY_ROLES = ("first_responsible", "direct_responsible")
EVENTS = ("record_saved", "daily")

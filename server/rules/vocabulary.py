"""The fixed vocabularies configuration may use: actions, fact operators and named lookups.

Configuration may only name these; actions are implemented in ``server.rules.apply`` (and, for the
workflow-only ones, ``server.flow.actions``), fact operators in ``server.rules.facts``, lookups in
``server.rules.lookups``. Declared here, apart from the implementations and free of the database,
so that ``config check`` can validate rule, fact and workflow files without one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    workflow_only: bool = False  # needs a transition or a timer (a person, a running matter)

    @property
    def arguments(self) -> tuple[str, ...]:
        return self.required + self.optional


ACTIONS: dict[str, ActionSpec] = {a.name: a for a in (
    ActionSpec("set_field", "设置字段", ("field", "value"), ("mode",)),
    ActionSpec("assign_responsibility", "确定责任人", ("role", "post", "field"), ("unit", "position", "position_field", "mode")),
    ActionSpec("route_to", "归口分流", ("unit",)),
    ActionSpec("create_task", "生成任务", ("title", "assignee", "due_working_days")),
    ActionSpec("mark_ineligible", "取消评先资格", ("unit", "award"), ("from", "until")),
    ActionSpec("record_veto", "一票否决", ("unit", "year", "reason")),
    ActionSpec("record_accountability", "责任追究", ("unit", "post", "reason")),
    ActionSpec("notify", "通知", ("unit", "message"), ("title",)),
    ActionSpec("create_record", "登记到其他台账", ("form", "map"), ("number_to", "unit")),
    ActionSpec("update_record", "更新关联记录", ("form", "ref", "map")),
    ActionSpec("issue_document", "签发文书", ("doc_id",), ("number_to",), workflow_only=True),
    ActionSpec("start_timer", "启动计时", ("timer",), ("due_from",), workflow_only=True),
    ActionSpec("stop_timer", "停止计时", ("timer",), workflow_only=True),
)}

RESPONSIBILITY_ROLES = ("first_responsible", "direct_responsible")
#: How an action writes a record field: ``fill`` (the default) only an empty one, ``overwrite`` whatever
#: is there (shown to the person who saved, and in the history, as the rule's change).
SET_FIELD_MODES = ("fill", "overwrite")
EVENTS = ("record_saved", "daily")

# -- facts ----------------------------------------------------------------------------------------
#: Properties of the record a fact may read (``{"record": "<name>"}``) and their JSON types.
RECORD_PROPERTIES = {
    "number": "string", "state": "string", "unit_code": "string", "unit_kind": "string", "unit_name": "string",
    "created_date": "string", "due_date": "string", "state_date": "string",
}
#: Properties of the org unit a unit fact is about (``{"unit": "<name>"}``).
UNIT_PROPERTIES = {"code": "string", "name": "string", "kind": "string", "township": "string", "parent": "string"}
#: What ``{"today": "<name>"}`` gives.
TODAY_PROPERTIES = {"date": "string", "year": "integer", "month": "integer", "day_of_month": "integer",
                    "previous_month": "string"}
#: Operators taking one operand (a ``/pointer`` into the record, or the name of an earlier attribute)
#: and the type of what they give.
UNARY_OPERATORS = {"days_until": "integer", "days_since": "integer", "exists": "boolean", "year_of": "integer",
                   "in_list": "boolean"}
#: Operators over a list of operands.
LIST_OPERATORS = {"equals": "boolean", "sum": "number", "difference": "number", "ratio": "number",
                  "latest": "string", "earliest": "string", "days_between": "integer"}
FACT_OPERATORS = ("field", "record", "unit", "param", "today", "value", "count", "switch", "lookup", "transitions",
                  *UNARY_OPERATORS, *LIST_OPERATORS)
#: Options each operator accepts besides its own key.
FACT_OPTIONS = {"field": ("default",), "days_until": ("working",), "days_since": ("working",),
                "in_list": ("values",), "difference": ("minimum",), "ratio": ("percent",), "days_between": ("working",),
                "switch": ("cases", "default"), "lookup": ("output", "inputs")}


@dataclass(frozen=True)
class LookupSpec:
    """A cross-record or org-tree lookup implemented in code, referenced by name from fact files."""

    name: str
    title: str
    subject: str                    # "record" or "org_unit": the facts it can serve
    inputs: dict[str, str]          # input name -> what it takes (described for messages)
    required: tuple[str, ...]
    outputs: dict[str, str]         # output name -> JSON type


LOOKUPS: dict[str, LookupSpec] = {lk.name: lk for lk in (
    LookupSpec("area", "所在乡镇（单位）及辖区派出所、司法所", "record",
               {"code": "区划代码或单位代码字段的 JSON 指针（缺省为登记单位）"}, (),
               {"code": "string", "name": "string", "kind": "string", "police_station": "string",
                "justice_office": "string"}),
    LookupSpec("relisting", "同一乡镇同类问题前次摘牌至本次挂牌的天数", "record",
               {"township": "乡镇代码字段的指针", "categories": "问题类别（多选）字段的指针",
                "listed_date": "挂牌日期字段的指针", "delisted_date": "摘牌日期字段的指针"},
               ("township", "categories", "listed_date", "delisted_date"),
               {"days": "integer"}),
    LookupSpec("count_records", "引用本单位的某台账记录数", "org_unit",
               {"form": "表单 id", "unit_fields": "该表单中单位代码字段的指针列表",
                "where": "条件：{指针: 值 或 {\"$fact\": 属性}}"},
               ("form", "unit_fields"),
               {"count": "integer"}),
)}

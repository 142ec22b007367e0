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
    ActionSpec("issue_document", "签发文书", ("doc_id",), ("number_to", "of"), workflow_only=True),
    ActionSpec("for_each", "逐项办理", ("items", "actions"), ("where",), workflow_only=True),
    ActionSpec("transition_record", "流转关联记录", ("form", "ref", "transition"), ("fields", "reason"),
               workflow_only=True),
    ActionSpec("start_timer", "启动计时", ("timer",), ("due_from",), workflow_only=True),
    ActionSpec("stop_timer", "停止计时", ("timer",), workflow_only=True),
)}

#: ``of`` of issue_document: the record the document is made from (default: the acting record).
DOCUMENT_OF = ("created",)
#: Values of a ``map`` (create_record, update_record) or of ``fields`` (transition_record) computed from
#: another value: the 乡镇（街道） the unit a code field holds lies in, that unit when it is a 村（社区）, or a
#: one-item list (a single choice into a multiple-choice field).
MAP_FUNCTIONS = {"$township_of": "所在乡镇（街道）", "$village_of": "村（社区）", "$list": "单项列表"}
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
FACT_OPERATORS = ("field", "record", "unit", "param", "today", "value", "count", "count_values", "switch", "lookup",
                  "transitions", *UNARY_OPERATORS, *LIST_OPERATORS)
#: Options each operator accepts besides its own key. ``count_values`` counts, over the rows of a list
#: field, the values at ``at`` (a pointer inside a row; an object's members, a list's items) that are one
#: of ``values``: the 满意 answers of every participant of a survey.
FACT_OPTIONS = {"field": ("default",), "count_values": ("at", "values"), "days_until": ("working",),
                "days_since": ("working",),
                "in_list": ("values",), "difference": ("minimum",), "ratio": ("percent",), "days_between": ("working",),
                "switch": ("cases", "default"), "lookup": ("output", "inputs")}


#: The cadences of ``last_period`` (研判 every 半月 ...): how a month is divided into periods.
CADENCES = ("月", "半月", "旬")
#: What a ``count_in_period`` ``date_field`` may name besides a pointer: the day a record was registered.
RECORD_DATE_PROPERTIES = ("created_date",)
#: Whose records ``count_in_period`` counts: the unit's and those beneath it (a township's villages, the
#: offices serving it; the county: all), or only those the unit registered itself.
PERIOD_SCOPES = ("subtree", "unit")


@dataclass(frozen=True)
class LookupSpec:
    """A cross-record or org-tree lookup implemented in code, referenced by name from fact files."""

    name: str
    title: str
    subject: str                    # "record", "org_unit" or "any": the facts it can serve
    inputs: dict[str, str]          # input name -> what it takes (described for messages)
    required: tuple[str, ...]
    outputs: dict[str, str]         # output name -> JSON type
    dates: tuple[str, ...] = ()     # outputs holding YYYY-MM-DD dates (usable where a date is needed)


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
    LookupSpec("count_in_period", "本单位（及辖区）某台账在两个日期之间的记录数", "any",
               {"form": "表单 id", "date_field": "该表单中日期字段的指针，或 created_date（登记日期）",
                "from": "起始日期（含）：本记录日期字段的指针或 {\"$fact\": 日期属性}",
                "to": "截止日期（含）：本记录日期字段的指针或 {\"$fact\": 日期属性}",
                "scope": "subtree（本单位及其下级、服务本辖区的站所，缺省）或 unit（仅本单位登记的）",
                "where": "条件：{指针: 值 或 {\"$fact\": 属性}}"},
               ("form", "date_field", "from", "to"),
               {"count": "integer"}),
    LookupSpec("last_period", "截止日已过的最近一个周期（月、半月、旬）", "any",
               {"cadence": f"周期：{'、'.join(CADENCES)} 之一，或 {{\"$param\": 参数名}}",
                "grace_days": "周期结束后再过几天算逾期：非负整数或 {\"$param\": 参数名}（缺省 0）"},
               ("cadence",),
               {"start": "string", "end": "string", "deadline": "string", "label": "string"},
               dates=("start", "end", "deadline")),
)}

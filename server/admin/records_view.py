"""记录: every record, read-only. Changes go through the records service (validation, rules,
workflow, audit), never straight to the table, so this view offers no create, edit or delete.

The list obeys the same scoping as every other record path (:func:`record_scope`); opening a
record's data here is a view of possibly personal data and is written to the audit log. Values a form
protects (``x-confidential``, 要求保密) are masked like everywhere else: the administrator is at county
level but configures the system rather than handling the matters, so sees them only where a form's
readers name ``county_admin``.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_login import current_user
from markupsafe import Markup

from server.admin.base import LazyOptions, ReadOnlyModelView, cst, pretty_json
from server.admin.filters import CstDateBetween, IdEqualFilter
from server.admin.lookups import (form_options, form_title, remember_units, remember_users, unit_name,
                                  unit_options, user_label)
from server.audit import log_event
from server.extensions import db
from server.ids import parse_id
from server.records.confidential import visible_data
from server.records.models import Record
from server.records.scope import record_scope


def _fmt_form(_view: Any, _context: Any, model: Record, _name: str) -> Markup:
    return Markup('<span title="{}">{}</span>').format(model.form_id, form_title(model.form_id))  # the id on hover


#: What a record of a form without a workflow is in (its stored state id is ``active``).
NO_WORKFLOW_STATE = "已登记"


def state_title(record: Record) -> str:
    """A record's state as its workflow names it (the version the record keeps), never the state id."""
    from server.errors import NotFound

    if not record.workflow_id:
        return NO_WORKFLOW_STATE if record.state == "active" else record.state
    try:
        workflow = current_app.extensions["registry"].workflow(record.workflow_id, record.workflow_version)
    except NotFound:
        return record.state
    return workflow.state_title(record.state)


def _fmt_state(_view: Any, _context: Any, model: Record, _name: str) -> Markup:
    return Markup('<span title="{}">{}</span>').format(model.state, state_title(model))


class RecordView(ReadOnlyModelView):
    can_view_details = True
    column_list = ("number", "form_id", "org_unit_id", "state", "version", "created_by_id", "created_at",
                   "updated_by_id", "updated_at")
    column_details_list = ("id", "number", "form_id", "form_version", "org_unit_id", "state", "version",
                           "created_by_id", "created_at", "updated_by_id", "updated_at", "data")
    column_labels = {"id": "编号", "number": "记录编号", "form_id": "表单", "form_version": "表单版本",
                     "org_unit_id": "单位", "state": "状态", "version": "版本", "created_by_id": "创建人",
                     "created_at": "创建时间", "updated_by_id": "最后修改人", "updated_at": "最后修改时间",
                     "data": "数据（JSON）"}
    column_sortable_list = ("number", "form_id", "state", "version", "created_at", "updated_at")
    column_default_sort = [("updated_at", True), ("id", True)]
    column_searchable_list = ("number",)
    column_formatters = {
        "form_id": _fmt_form,
        "state": _fmt_state,
        "org_unit_id": lambda _v, _c, m, _n: unit_name(m.org_unit_id),
        "created_by_id": lambda _v, _c, m, _n: user_label(m.created_by_id),
        "updated_by_id": lambda _v, _c, m, _n: user_label(m.updated_by_id),
        "created_at": lambda _v, _c, m, _n: cst(m.created_at),
        "updated_at": lambda _v, _c, m, _n: cst(m.updated_at),
        # county_admin is not among the readers of protected values unless a form grants it (要求保密)
        "data": lambda _v, _c, m, _n: pretty_json(visible_data(m, current_user)),
    }
    column_filters = (
        FilterEqual(Record.form_id, "表单", options=LazyOptions(form_options)),
        IdEqualFilter(Record.org_unit_id, "单位", options=LazyOptions(unit_options)),
        FilterEqual(Record.state, "状态"),
        FilterLike(Record.number, "记录编号"),
        CstDateBetween(Record.created_at, "创建时间"),
    )

    def get_query(self):  # type: ignore[no-untyped-def]
        return super().get_query().filter(record_scope(current_user))

    def get_count_query(self):  # type: ignore[no-untyped-def]
        return super().get_count_query().filter(record_scope(current_user))

    def get_one(self, id: Any) -> Record | None:
        record_id = parse_id(id)
        if record_id is None:
            return None
        return self.get_query().filter(Record.id == record_id).first()

    def prefetch(self, rows: Any) -> None:
        if isinstance(rows, list):
            remember_users([r.created_by_id for r in rows] + [r.updated_by_id for r in rows])
            remember_units(r.org_unit_id for r in rows)

    @expose("/details/")
    def details_view(self):  # type: ignore[no-untyped-def]
        record = self.get_one(request.args.get("id", ""))
        if record is not None:
            log_event("record_view", "record", object_id=record.id, user_id=current_user.id, subject=record.number,
                      form_id=record.form_id, record_version=record.version, detail="管理后台查看记录数据")
            db.session.commit()
        return super().details_view()

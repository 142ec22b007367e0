"""Ledger pages: list, new, detail, edit, history, export and the reference picker's lookup.

Thin views: the records service does the work; these translate between HTML forms and it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from server.auth.permissions import allowed
from server.errors import Conflict, ValidationFailed
from server.extensions import db
from server.forms import build_form, describe_change, display_cell, display_value, filter_fields, get_path, list_columns, parse_submission, ref_values, render_fields, render_readonly, shorten, title_paths
from server.records import confidential, service, stages, titles
from server.records.export import export_workbook
from server.web.history_notes import history_note
from server.stats.viewpoint import may_see
from server.records.query import build_select, counts_by_form, list_page, parse_list_args, visible_forms

bp = Blueprint("records", __name__)


def _registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def _lookup_url(form_id: str) -> str:
    return url_for("records.lookup", form_id=form_id)


@bp.route("/")
def home():  # type: ignore[no-untyped-def]
    """The ledgers as cards; a leader, who enters nothing, starts on the dashboard (统计分析) instead."""
    if current_user.role == "leader" and current_app.extensions["registry"].live.dashboard and may_see(current_user):
        return redirect(url_for("dashboard.page"))
    return render_template("home.html", forms=visible_forms(current_user), counts=counts_by_form(current_user))


@bp.route("/forms/<form_id>/")
def form_list(form_id: str):  # type: ignore[no-untyped-def]
    form = _registry().form(form_id)
    model = build_form(form)
    query = parse_list_args(form, request.args)
    page = list_page(form, query, current_user)
    columns = list_columns(model)
    seer = confidential.Sight(current_user)
    visible = [(r, confidential.visible_data(r, seer)) for r in page.items]
    links = titles.referenced_in(model, [p for p, _ in columns], [d for _, d in visible], current_user)
    rows = [(r, [_ref_link(links[key]) if (key := (path, get_path(data, path))) in links
                 else display_cell(model, path, key[1]) for path, _ in columns]) for r, data in visible]
    workflow = _registry().workflow_for_form(form_id)
    return render_template("records/list.html", form=form, columns=columns, rows=rows, page=page,
                           query=query, filters=filter_fields(model), workflow=workflow, today=_today(),
                           units=titles.unit_names({r.org_unit_id for r in page.items}))


def _ref_link(target: titles.Referenced) -> Markup:
    """A reference as the referenced record's title linking to it, its number on hover."""
    return Markup('<a class="x-ref" href="{}" title="{}">{}</a>').format(
        url_for("records.detail", record_id=target.record_id), target.number, target.title)


def _today():  # type: ignore[no-untyped-def]
    from server.flow.service import today

    return today()


@bp.route("/forms/<form_id>/new", methods=["GET", "POST"])
def form_new(form_id: str):  # type: ignore[no-untyped-def]
    form = _registry().form(form_id)
    service.require(current_user, "create", form)
    model = build_form(form)
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = parse_submission(model, request.form)
        try:
            record = service.create_record(form_id, data, current_user)
        except ValidationFailed as exc:
            errors = {e.pointer: e.message for e in exc.errors}
        else:
            flash(f"已保存，编号 {record.number}", "success")
            for notice in service.policy_notices(record.id, 0, current_user):
                flash(notice, "warning")
            return redirect(url_for("records.detail", record_id=record.id))
    data, frozen = _frozen(form, model, data, None, {})
    fields = render_fields(model, data, errors, lookup_url=_lookup_url, **frozen)
    return render_template("records/edit.html", form=form, fields=fields, errors=errors, record=None), (422 if errors else 200)


def _frozen(form, model, data: dict[str, Any], record, shown: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The data to render and the ``frozen``/``links`` arguments of :func:`render_fields` for sections
    of other workflow stages (``x-ui.states``): shown as stored (``shown``: the record as this reader
    may read it), never as typed into a crafted post."""
    notes = stages.frozen_notes(form, record)
    if not notes:
        return data, {}
    data = dict(data)
    for key in notes:
        if key in shown:
            data[key] = shown[key]
        else:
            data.pop(key, None)
    kept = {key: data[key] for key in notes if key in data}
    referenced = titles.resolve(((target, number) for _, target, number in ref_values(model, kept)), current_user)
    return data, {"frozen": notes, "links": {key: _ref_link(t) for key, t in referenced.items() if t.record_id}}


@bp.route("/records/<int:record_id>")
def detail(record_id: int):  # type: ignore[no-untyped-def]
    record = service.get_record(record_id, current_user)
    form = _registry().form_version(record.form_id, record.form_version)
    model, data = build_form(form), confidential.visible_data(record, current_user)
    referenced = titles.resolve(((target, number) for _, target, number in ref_values(model, data)), current_user)
    body = render_readonly(model, data, {key: _ref_link(t) for key, t in referenced.items() if t.record_id})
    from server.flow.agenda import agenda
    from server.flow.view import view as flow_view
    from server.rules.service import decisions_for, ruleset_titles
    from server.web.document_views import record_documents  # documents: 生成文书 section

    flow = flow_view(record, current_user)
    may_update = allowed(current_user, "update", _registry().form(record.form_id))
    return render_template("records/detail.html", form=form, record=record, body=body, flow=flow, may_update=may_update,
                           timeline_users=service.user_labels({e.user_id for e in flow.timeline}, with_unit=True) if flow else {},
                           decisions=decisions_for(record, current_user), ruleset_titles=ruleset_titles(),
                           agenda=agenda(record, current_user), **record_documents(record))


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
def edit(record_id: int):  # type: ignore[no-untyped-def]
    record = service.get_record(record_id, current_user)
    form = _registry().form(record.form_id)
    service.require(current_user, "update", form)
    model = build_form(form)
    data, errors, conflict, version = confidential.visible_data(record, current_user), {}, None, record.version
    if request.method == "POST":
        data = parse_submission(model, request.form)
        version = _int(request.form.get("_version"))
        try:
            service.update_record(record_id, data, current_user, version)
        except ValidationFailed as exc:
            errors = {e.pointer: e.message for e in exc.errors}
        except Conflict as exc:
            conflict = exc
        else:
            flash("已保存修改", "success")
            for notice in service.policy_notices(record_id, version, current_user):
                flash(notice, "warning")
            return redirect(url_for("records.detail", record_id=record_id))
    data, frozen = _frozen(form, model, data, record, confidential.visible_data(record, current_user))
    fields = render_fields(model, data, errors, lookup_url=_lookup_url, **frozen)
    status = 409 if conflict else 422 if errors else 200
    return render_template("records/edit.html", form=form, fields=fields, errors=errors, record=record,
                           version=version, conflict=conflict), status


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        abort(400)


@bp.route("/records/<int:record_id>/history")
def history(record_id: int):  # type: ignore[no-untyped-def]
    record = service.get_record(record_id, current_user)
    entries = service.record_history(record_id, current_user)
    form = _registry().form_version(record.form_id, record.form_version)
    model = build_form(form)
    changes = {e.id: [_change_row(model, c) for c in e.diff] for e in entries}
    return render_template("records/history.html", form=form, record=record, entries=entries, changes=changes,
                           notes={e.id: history_note(e) for e in entries},
                           users=service.user_labels({e.user_id for e in entries}))


def _change_row(model, change: dict[str, Any]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    label, old = describe_change(model, change["path"], change.get("old"))
    _, new = describe_change(model, change["path"], change.get("new"))
    return {"label": label, "path": change["path"], "old": old if "old" in change else "",
            "new": new if "new" in change else ""}


@bp.route("/forms/<form_id>/export.xlsx")
def export(form_id: str) -> Response:
    form = _registry().form(form_id)
    query = parse_list_args(form, request.args)
    payload = export_workbook(form, db.session.scalars(build_select(form, query, current_user)), current_user)
    filename = f"{form.title}.xlsx"
    response = Response(payload, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


@bp.route("/forms/<form_id>/lookup")
def lookup(form_id: str):  # type: ignore[no-untyped-def]
    """Search-as-you-type for reference pickers: up to 10 records matching ``q`` (empty: the
    newest), each a number and a label: the record's title (王建华, as lists show the reference once
    picked), then its other list columns, joined by " · "."""
    form = _registry().form(form_id)
    model = build_form(form)
    query = parse_list_args(form, {"q": request.args.get("q", ""), "per_page": "10"})
    named = set(title_paths(model))
    # who may not read the form (an officer naming their own 花名册 entry) sees numbers and titles only
    columns = [p for p, _ in list_columns(model) if p not in named] if allowed(current_user, "read", form) else []
    items = []
    seer = confidential.Sight(current_user)
    for record in list_page(form, query, current_user, picking=True).items:
        data = confidential.visible_data(record, seer)
        title = titles.record_title(record, seer)
        values = [title if title != record.number else ""]
        values += [display_value(model, p, get_path(data, p)).strip() for p in columns]
        items.append({"number": record.number, "label": shorten(" · ".join(v for v in values if v))})
    return jsonify(items)

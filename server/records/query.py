"""Listing records: whole-record search, filters on configured fields, sorting, paging.

The page, the export and the API build their query here from the same request arguments, so a
filter that narrows the list narrows the export identically. Only fields the form configures as
list columns or filters can be filtered or sorted on: request arguments never name arbitrary paths.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import Select, func, or_, select

from server.auth.models import User
from server.auth.permissions import allowed
from server.errors import NotAllowed
from server.extensions import db
from server.forms import build_form, filter_fields, list_columns, title_paths
from server.records.confidential import protected_paths, search_clause
from server.records.models import Record
from server.records.scope import record_scope, reference_scope
from server.specs.model import FormSpec

MAX_PER_PAGE = 100
FIXED_SORTS = {"number": Record.number, "created_at": Record.created_at, "updated_at": Record.updated_at,
               "due_date": Record.due_date}


@dataclass
class ListQuery:
    q: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[str, str]] = field(default_factory=dict)
    sort: str = "-created_at"
    page: int = 1
    per_page: int = 20
    state: str = ""          # workflow state (forms with x-form.workflow)
    overdue: bool = False    # past its due date (open matters)

    def args(self) -> dict[str, str]:
        """The query as URL arguments (for paging links and the export link)."""
        out: dict[str, str] = {}
        if self.q:
            out["q"] = self.q
        for path, value in self.choices.items():
            out[f"f.{path}"] = value
        for path, (low, high) in self.ranges.items():
            if low:
                out[f"from.{path}"] = low
            if high:
                out[f"to.{path}"] = high
        if self.sort != "-created_at":
            out["sort"] = self.sort
        if self.state:
            out["state"] = self.state
        if self.overdue:
            out["overdue"] = "1"
        return out


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value or default)))
    except ValueError:
        return default


def parse_list_args(form: FormSpec, args: Mapping[str, str]) -> ListQuery:
    model = build_form(form)
    query = ListQuery(q=(args.get("q") or "").strip()[:200])
    for flt in filter_fields(model):
        if flt.kind == "choice":
            value = args.get(f"f.{flt.path}") or ""
            if value in {const for const, _ in flt.choices}:
                query.choices[flt.path] = value
        else:
            low, high = (args.get(f"from.{flt.path}") or "")[:10], (args.get(f"to.{flt.path}") or "")[:10]
            if low or high:
                query.ranges[flt.path] = (low, high)
    sort = args.get("sort") or "-created_at"
    if sort.lstrip("-") in sortable_paths(form):
        query.sort = sort
    workflow = _workflow(form)
    if workflow is not None:
        query.state = args.get("state", "") if args.get("state") in workflow.states else ""
        query.overdue = args.get("overdue") == "1"
    query.page = _int(args.get("page"), 1, 1, 10**6)
    query.per_page = _int(args.get("per_page"), 20, 1, MAX_PER_PAGE)
    return query


def _workflow(form: FormSpec):  # type: ignore[no-untyped-def]
    from flask import current_app

    return current_app.extensions["registry"].workflow_for_form(form.id)


def sortable_paths(form: FormSpec) -> set[str]:
    """Fixed columns and list columns, except protected fields (their order would link records)."""
    return set(FIXED_SORTS) | ({path for path, _ in list_columns(build_form(form))} - protected_paths(form))


def _json_at(path: str) -> Any:
    parts = tuple(path.split("/"))
    return Record.data[parts if len(parts) > 1 else parts[0]]


def _is_numeric(form: FormSpec, path: str) -> bool:
    field = build_form(form).by_path.get(path)
    return field is not None and field.kind in {"integer", "number"}


def build_select(form: FormSpec, query: ListQuery, user: User, *, picking: bool = False) -> Select[tuple[Record]]:
    """The records of ``form`` the user may see, narrowed by ``query`` (NotAllowed without read permission).

    ``picking`` (a reference picker): an information officer may name records they cannot read (their
    own 花名册 entry, :func:`reference_scope`), so the picker of a form they fill in offers those,
    searched by number and title only (no finding a fellow officer by ID or phone number).
    """
    if allowed(user, "read", form):
        stmt = select(Record).where(Record.form_id == form.id, record_scope(user))
    elif picking and user.role == "info_officer" and _referred_to(form, user):
        stmt = select(Record).where(Record.form_id == form.id, reference_scope(user))
        if query.q:
            stmt = stmt.where(_title_search(form, query.q.lower()))
        return stmt.order_by(*_order(form, "-created_at"))
    else:
        raise NotAllowed(f"read:{form.id}")
    if query.q:
        stmt = stmt.where(search_clause(form, user, query.q.lower()))
    for path, value in query.choices.items():
        stmt = stmt.where(_json_at(path).as_string() == value)
    if query.state:
        stmt = stmt.where(Record.state == query.state)
    if query.overdue:
        from server.timeutil import local_today

        stmt = stmt.where(Record.due_date < local_today())
    for path, (low, high) in query.ranges.items():
        column = _json_at(path).as_string()
        if low:
            stmt = stmt.where(column >= low)
        if high:
            stmt = stmt.where(column <= high + "\uffff")
    return stmt.order_by(*_order(form, query.sort))


def _referred_to(form: FormSpec, user: User) -> bool:
    """Whether a form the user may fill in has a reference field pointing at ``form``."""
    from flask import current_app

    return any(field.ref == form.id for other in current_app.extensions["registry"].forms()
               if allowed(user, "create", other) for field in build_form(other).by_path.values())


def _title_search(form: FormSpec, q: str) -> Any:
    """Records whose number or (unprotected) title contains ``q``."""
    paths = [p for p in title_paths(build_form(form)) if p not in protected_paths(form)]
    return or_(func.lower(Record.number).contains(q, autoescape=True),
               *[func.lower(_json_at(p).as_string()).contains(q, autoescape=True) for p in paths])


def _order(form: FormSpec, sort: str) -> list[Any]:
    path = sort.lstrip("-")
    if path in FIXED_SORTS:
        column = FIXED_SORTS[path]
    elif _is_numeric(form, path):
        column = _json_at(path).as_float()
    else:
        column = _json_at(path).as_string()
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return [ordered, Record.id.desc() if sort.startswith("-") else Record.id.asc()]


@dataclass
class Page:
    items: list[Record]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_page(form: FormSpec, query: ListQuery, user: User, *, picking: bool = False) -> Page:
    stmt = build_select(form, query, user, picking=picking)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)))
    return Page(items=items, total=total, page=query.page, per_page=query.per_page)


def visible_forms(user: User) -> list[FormSpec]:
    """The live forms a user may read or fill in, in menu order (the menu and the home page)."""
    from flask import current_app

    return [f for f in current_app.extensions["registry"].forms()
            if allowed(user, "read", f) or allowed(user, "create", f)]


def counts_by_form(user: User) -> dict[str, int]:
    """How many records of each form the user may see."""
    rows = db.session.execute(
        select(Record.form_id, func.count()).where(record_scope(user)).group_by(Record.form_id)).all()
    return {form_id: count for form_id, count in rows}

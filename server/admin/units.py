"""单位: the org tree as the database holds it (read-only: it is configuration, changed by publishing
``config/org/`` or by importing a sheet), and 导入单位表: upload a sheet, all rows valid or nothing
changes; download the current tree in the same layout."""
from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from flask import current_app, flash, make_response, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter, FilterEqual
from flask_login import current_user
from markupsafe import Markup

from server.admin.base import AdminPage, LazyOptions, ReadOnlyModelView
from server.admin.lookups import kind_title, post_titles, remember_units, unit_label, unit_of
from server.audit import log_event
from server.extensions import db
from server.ids import parse_id
from server.org.kinds import KINDS
from server.org.models import OrgUnit
from server.timeutil import local, utcnow

KIND_CHOICES = [(kind.id, kind.title) for kind in KINDS.values()]
#: A sheet of the org tree may be far larger than any other post (the app's cap is 2 MB): a county's
#: 1,500 units are ~100 KB as .xlsx, a prefecture's ten times that; 20 MB leaves room for formatting.
SHEET_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
SHEET_UPLOAD_ENDPOINT = "admin_org_import.index"


def allow_sheet_uploads(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Raise the request size cap for the sheet import only.

    Registered as a URL value preprocessor because those run before every ``before_request``
    function, and CSRFProtect's reads (and so size-checks) the posted form there: a limit set in
    the view itself would come too late."""
    if endpoint == SHEET_UPLOAD_ENDPOINT:
        request.max_content_length = SHEET_UPLOAD_MAX_BYTES


def _fmt_ref(attribute: str):  # type: ignore[no-untyped-def]
    def show(_view: Any, _context: Any, model: OrgUnit, _name: str) -> Markup | str:
        unit = unit_of(getattr(model, attribute))
        if unit is None:
            return ""
        return Markup('{} <small class="text-muted">{}</small>').format(unit.name, unit.code)
    return show


def _fmt_posts(_view: Any, _context: Any, model: OrgUnit, _name: str) -> str:
    titles = post_titles()
    return "；".join(f"{titles.get(post, post)}：{holder}" for post, holder in (model.posts or {}).items())


def _branch_options() -> list[tuple[int, str]]:
    """Units that can have units beneath them (county, townships, county departments)."""
    kinds = {parent for kind in KINDS.values() for parent in kind.parents}
    units = db.session.query(OrgUnit).filter(OrgUnit.is_active.is_(True), OrgUnit.kind.in_(kinds))
    return [(unit.id, unit_label(unit)) for unit in units.order_by(OrgUnit.id)]


class SubtreeFilter(BaseSQLAFilter):
    """A unit and everything beneath it (prefix of the materialised path)."""

    def __init__(self) -> None:
        super().__init__(OrgUnit.path, "上级单位", options=LazyOptions(_branch_options))

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        unit_id = parse_id(value)
        unit = db.session.get(OrgUnit, unit_id) if unit_id is not None else None
        if unit is None or not unit.path:
            return query.filter(OrgUnit.id == -1)
        return query.filter(OrgUnit.path.startswith(unit.path, autoescape=True))

    def operation(self) -> str:
        return "含其下级"


class OrgUnitView(ReadOnlyModelView):
    column_display_actions = False
    column_list = ("code", "name", "kind", "parent_id", "serves_id", "posts", "phone", "is_active")
    column_labels = {"code": "代码", "name": "名称", "kind": "类别", "parent_id": "上级单位",
                     "serves_id": "服务乡镇", "posts": "职务", "phone": "联系电话", "is_active": "有效"}
    column_sortable_list = ("code", "name", "kind", "is_active")
    column_default_sort = ("id", False)  # configuration order: parents first
    column_searchable_list = ("code", "name")
    column_formatters = {"kind": lambda _v, _c, m, _n: kind_title(m.kind), "parent_id": _fmt_ref("parent_id"),
                         "serves_id": _fmt_ref("serves_id"), "posts": _fmt_posts}
    column_filters = (
        FilterEqual(OrgUnit.kind, "类别", options=KIND_CHOICES),
        SubtreeFilter(),
        BooleanEqualFilter(OrgUnit.is_active, "有效"),
    )

    def prefetch(self, rows: Any) -> None:
        if isinstance(rows, list):
            remember_units([u.parent_id for u in rows] + [u.serves_id for u in rows])


class OrgImportView(AdminPage):
    """Upload a sheet (.xlsx / .csv) to replace the org tree; download the current one."""

    @expose("/", methods=("GET", "POST"))
    def index(self):  # type: ignore[no-untyped-def]
        errors: list[str] = []
        result = None
        if request.method == "POST":
            upload = request.files.get("sheet")
            if upload is None or not upload.filename:
                errors = ["请选择要导入的 .xlsx 或 .csv 文件"]
            else:
                result, errors = self._import(upload.filename, upload.read())
        return self.render("admin/org_import.html", errors=errors, result=result,
                           count=db.session.query(OrgUnit).filter(OrgUnit.is_active.is_(True)).count())

    @staticmethod
    def _import(filename: str, content: bytes):  # type: ignore[no-untyped-def]
        from server.org.importer import import_sheet

        name = PurePath(filename).name
        result = import_sheet(content, name, current_app.extensions["registry"], current_user.username)
        if not result.ok:
            return None, result.errors
        log_event("org_import", "org", user_id=current_user.id, subject=name,
                  detail=f"导入 {result.units} 个单位，配置版本 {result.version}")
        db.session.commit()
        flash(f"已导入 {result.units} 个单位（配置版本 {result.version}）", "success")
        return result, []

    @expose("/export.xlsx")
    def export(self):  # type: ignore[no-untyped-def]
        from server.org.sheet import export_xlsx

        from server.org.importer import live_org

        org = live_org(current_app.extensions["registry"])
        if org is None:
            flash("配置中没有 org/ 目录，无法导出", "error")
            return self.render("admin/org_import.html", errors=[], result=None, count=0)
        response = make_response(export_xlsx(org))
        stamp = local(utcnow()).replace("-", "").replace(":", "").replace(" ", "-")
        response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response.headers["Content-Disposition"] = (f"attachment; filename=org-units-{stamp}.xlsx; "
                                                   f"filename*=UTF-8''{quote(f'组织机构-{stamp}.xlsx')}")
        response.headers["Cache-Control"] = "no-store"
        return response


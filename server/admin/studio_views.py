"""配置工作台 (/admin/config): county administrators change configuration in the browser.

Thin views over ``server.studio``: the files by kind, the parameters as a form, an editor for the rest
with the errors of ``config check`` at their lines, previews (a ledger's form, a document's 草稿 PDF, a
simulation of rules, parameters and workflows against existing records), publishing with a diff and a
note, the releases with restore and export. Everything is the administrator's draft until published.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import abort, flash, jsonify, make_response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from werkzeug.wrappers import Response

from server.admin.base import AdminPage
from server.errors import NotFound, ValidationFailed
from server.extensions import db
from server.forms.parse import parse_submission
from server.forms.render import render_fields
from server.forms.model import build_form
from server.forms.validate import validate
from server.flow.simulate import simulate_draft
from server.ids import parse_id
from server.specs import releases
from server.specs.models import ConfigRelease
from server.specs.releases import text_digest
from server.specs.schemas import schema_for
from server.studio import catalog, drafts, parameters, preview
from server.studio.publish import PublishRefused, check, publish_drafts, restore
from server.timeutil import local


MAX_SEQ = 2**31 - 1
DIGITS = re.compile(r"[0-9]{1,9}")  # not isdigit(): "²" is a digit to Python, not to int()
DIGEST = re.compile(r"[0-9a-f]{64}")


def _workspace() -> drafts.Workspace:
    return drafts.workspace(current_user.id)


def _path() -> str:
    path = request.values.get("path", "")
    try:
        return releases.check_path(path)
    except releases.TreeError:
        abort(404)


def _release_or_404(seq: int) -> ConfigRelease:
    row = releases.release(seq) if seq <= MAX_SEQ else None  # a number past the column's range names none
    if row is None:
        raise NotFound(f"release {seq}")
    return row


def _version(value: str | None) -> int | None:
    return int(value) if value and DIGITS.fullmatch(value) else None


def _digest(value: str | None) -> str | None:
    """The base a page was showing: a SHA-256 in hex, "" for a file that did not exist, None if not sent."""
    return value if value is not None and (value == "" or DIGEST.fullmatch(value)) else None


class ConfigStudioView(AdminPage):
    """Every page of the studio; county administrators only (AdminPage)."""

    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        space = _workspace()
        checked = check(space.tree) if space.drafts else None
        return self.render("admin/studio/index.html", space=space, sections=catalog.sections(space.tree),
                           checked=checked, moved=set(space.moved_on()), latest=space.release,
                           source_titles=releases.SOURCE_TITLES, local=local)

    # -- parameters --------------------------------------------------------------------------------
    @expose("/parameters", methods=("GET", "POST"))
    def parameters(self):  # type: ignore[no-untyped-def]
        space = _workspace()
        text = space.text(catalog.PARAMETERS)
        params = parameters.read(text or "")
        if params is None:
            flash("参数文件现在不是有效的 JSON，请在编辑器中修改", "error")
            return redirect(url_for(".file", path=catalog.PARAMETERS))
        errors: dict[str, str] = {}
        typed: dict[str, str] = {}
        if request.method == "POST":
            typed = {p.name: request.form[p.name] for p in params if p.name in request.form}
            was = {p.name: request.form[f"was-{p.name}"] for p in params if f"was-{p.name}" in request.form}
            new_text, errors = parameters.apply(text or "", typed, was)
            if not errors:
                drafts.save(space, current_user.id, catalog.PARAMETERS, new_text, None)
                db.session.commit()
                flash("已保存到草稿（尚未发布）。可先预览影响，再发布。" if new_text != text else "参数没有变化", "success")
                return redirect(url_for(".parameters"))
        live = {p.name: p.value for p in parameters.read(space.live.get(catalog.PARAMETERS, "")) or []}
        return self.render("admin/studio/parameters.html", params=params, errors=errors, typed=typed, live=live,
                           shown=parameters.shown,
                           drafted=catalog.PARAMETERS in space.drafts), (422 if errors else 200)

    # -- the editor ---------------------------------------------------------------------------------
    @expose("/file", methods=("GET", "POST"))
    def file(self):  # type: ignore[no-untyped-def]
        path = _path()
        space = _workspace()
        if request.method == "GET" and space.text(path) is None and not request.args.get("new"):
            raise NotFound(path)
        text, conflict, status = space.text(path) or "", None, 200
        if request.method == "POST":
            text = request.form.get("text", "")
            try:
                drafts.save(space, current_user.id, path, text, _version(request.form.get("version")),
                            _digest(request.form.get("base")))
                db.session.commit()
            except drafts.DraftError as exc:
                db.session.rollback()
                conflict, status = str(exc), 422
            except drafts.DraftConflict as exc:
                db.session.rollback()
                conflict, status = str(exc), 409
        checked = check(space.tree)
        mine = checked.errors_in(path)
        draft = space.drafts.get(path)
        return self.render(
            "admin/studio/file.html", path=path, title=catalog.title_of(path, space.tree), text=text, draft=draft,
            language=catalog.language_of(path), checked=checked, mine=mine,
            elsewhere=checked.errors_elsewhere(path), others=drafts.others(current_user.id, path),
            moved=path in space.moved_on(), live_text=space.live.get(path), conflict=conflict,
            saved=request.method == "POST" and status == 200, kind=catalog.kind_of(path), local=local,
            has_schema=schema_for(path) is not None,
            base=draft.base_digest if draft is not None else (text_digest(space.live[path]) if path in space.live else ""),
            problems=[{"line": e.line, "column": e.column, "message": e.message, "pointer": e.pointer} for e in mine],
            diffs=releases.diff_trees({path: space.live[path]} if path in space.live else {},
                                      {path: draft.text} if draft is not None else {}),
        ), status

    @expose("/file/discard", methods=("POST",))
    def discard(self):  # type: ignore[no-untyped-def]
        space = _workspace()
        path = request.form.get("path")
        drafts.discard(space, path or None)
        db.session.commit()
        flash("已放弃草稿" if path else "已放弃全部草稿", "success")
        return redirect(url_for(".index"))

    @expose("/file/accept", methods=("POST",))
    def accept(self):  # type: ignore[no-untyped-def]
        path = _path()
        space = _workspace()
        drafts.accept_live(space, path)
        db.session.commit()
        flash(f"已确认：{path} 保留你的草稿，发布时将覆盖他人已发布的修改", "warning")
        return redirect(url_for(".file", path=path))

    @expose("/schema")
    def schema(self):  # type: ignore[no-untyped-def]
        found = schema_for(_path())
        if found is None:
            raise NotFound("schema")
        return jsonify(found)

    # -- previews -----------------------------------------------------------------------------------
    def _draft_config(self, space: drafts.Workspace | None = None):  # type: ignore[no-untyped-def]
        checked = check((space or _workspace()).tree)
        if checked.config is None:
            flash(f"草稿有 {len(checked.errors)} 处错误，改正后才能预览", "error")
        return checked.config

    @expose("/preview/form/<form_id>", methods=("GET", "POST"))
    def preview_form(self, form_id: str):  # type: ignore[no-untyped-def]
        config = self._draft_config()
        if config is None:
            return redirect(url_for(".index"))
        spec = preview.form(config, form_id)
        model = build_form(spec)
        data: dict[str, Any] = {}
        errors: dict[str, str] = {}
        if request.method == "POST":
            data = parse_submission(model, request.form)
            errors = {e.pointer: e.message for e in validate(model, data)}
            if not errors:
                flash("填写内容符合草稿中的表单（预览不保存）", "success")
        fields = render_fields(model, data, errors, lookup_url=lambda f: url_for("records.lookup", form_id=f))
        return self.render("admin/studio/form_preview.html", form=spec, fields=fields, errors=errors,
                           path=f"forms/{form_id}.json")

    @expose("/preview/document/<doc_id>")
    def preview_document(self, doc_id: str):  # type: ignore[no-untyped-def]
        config = self._draft_config()
        if config is None:
            return redirect(url_for(".index"))
        if doc_id not in config.documents:
            raise NotFound(doc_id)
        spec = config.documents[doc_id]
        record_id = parse_id(request.args.get("record")) if request.args.get("record") else None
        month = request.args.get("month") or None
        errors: dict[str, str] = {}
        if record_id is not None or month:
            try:
                pdf = preview.document_pdf(config, doc_id, current_user, record_id, month)
            except ValidationFailed as exc:
                errors = {e.pointer: e.message for e in exc.errors}
            else:
                response = make_response(pdf)
                response.headers["Content-Type"] = "application/pdf"
                name = quote(f"{spec.title}（草稿）.pdf")
                response.headers["Content-Disposition"] = f"inline; filename=draft.pdf; filename*=UTF-8''{name}"
                response.headers["Cache-Control"] = "no-store"
                return response
        return self.render("admin/studio/document_preview.html", spec=spec, doc_id=doc_id, errors=errors,
                           records=preview.document_records(config, doc_id), month=month or "",
                           record_id=record_id), (422 if errors else 200)

    @expose("/simulate")
    def simulate(self):  # type: ignore[no-untyped-def]
        space = _workspace()
        config = self._draft_config(space)
        if config is None:
            return redirect(url_for(".index"))
        typed = request.args.get("on", "")
        try:
            on = date.fromisoformat(typed) if typed else None
        except ValueError:
            on, error = None, "日期格式应为 YYYY-MM-DD，如 2026-12-07"
        else:
            error = ""
        effects = simulate_draft(config, on) if not error else []
        return self.render("admin/studio/simulate.html", effects=effects, on=typed, error=error,
                           drafted=sorted(space.drafts)), (422 if error else 200)

    # -- publishing ---------------------------------------------------------------------------------
    @expose("/publish", methods=("GET", "POST"))
    def publish(self):  # type: ignore[no-untyped-def]
        space = _workspace()
        note, problem, status = "", "", 200
        if request.method == "POST":
            note = request.form.get("note", "")
            try:
                seq = publish_drafts(current_user, note, _version(request.form.get("release")) or 0)
            except (PublishRefused, releases.ReleaseConflict) as exc:
                db.session.rollback()
                problem, status = str(exc), 409 if isinstance(exc, releases.ReleaseConflict) else 422
                space = _workspace()
            else:
                flash(f"已发布为版本 {seq}，各服务进程将在数秒内采用", "success")
                return redirect(url_for(".release_view", seq=seq))
        checked = check(space.tree) if space.drafts else None
        return self.render("admin/studio/publish.html", space=space, diffs=releases.diff_trees(space.live, space.tree),
                           checked=checked, moved=space.moved_on(), note=note, problem=problem,
                           kinds=preview.changed_kinds(space.live, space.tree)), status

    @expose("/releases")
    def releases_list(self):  # type: ignore[no-untyped-def]
        return self.render("admin/studio/releases.html", rows=releases.releases(100),
                           source_titles=releases.SOURCE_TITLES, local=local)

    @expose("/releases/<int:seq>", methods=("GET", "POST"))
    def release_view(self, seq: int):  # type: ignore[no-untyped-def]
        row = _release_or_404(seq)
        latest = releases.latest_release()
        note, problem, status = "", "", 200
        if request.method == "POST":
            note = request.form.get("note", "")
            try:
                made = restore(current_user, seq, note, _version(request.form.get("release")) or 0)
            except (PublishRefused, releases.ReleaseConflict) as exc:
                db.session.rollback()
                problem, status = str(exc), 409 if isinstance(exc, releases.ReleaseConflict) else 422
                latest = releases.latest_release()
            else:
                flash(f"已将版本 {seq} 的内容恢复为新版本 {made}", "success")
                return redirect(url_for(".release_view", seq=made))
        previous = releases.release(seq - 1)
        tree = releases.tree_of(row)
        diffs = releases.diff_trees(releases.tree_of(previous) if previous else {}, tree)
        live_diffs = releases.diff_trees(releases.tree_of(latest), tree) if latest and latest.seq != seq else []
        return self.render("admin/studio/release.html", row=row, latest=latest, diffs=diffs, live_diffs=live_diffs,
                           note=note, problem=problem, source_titles=releases.SOURCE_TITLES,
                           local=local), status

    @expose("/import", methods=("POST",))
    def import_archive(self):  # type: ignore[no-untyped-def]
        """A zip of configuration (an exported release, edited) becomes the administrator's drafts: they are
        checked, previewed and published like any other edit."""
        upload = request.files.get("archive")
        if upload is None or not upload.filename:
            flash("请选择要导入的 zip 文件", "error")
            return redirect(url_for(".releases_list"))
        try:
            tree, exported = releases.unzip_tree(upload.read())
            space = _workspace()
            source = releases.release(exported) if exported is not None and exported <= MAX_SEQ else None
            # each draft is based on the file as exported, so that files published since show as moved on
            bases = {p: text_digest(t) for p, t in releases.tree_of(source).items()} if source is not None else None
            changed = [path for path, text in sorted(tree.items()) if space.text(path) != text]
            for path in changed:
                drafts.save(space, current_user.id, path, tree[path], None,
                            bases.get(path, "") if bases is not None else None)
        except (releases.TreeError, drafts.DraftError, drafts.DraftConflict) as exc:
            db.session.rollback()
            flash(f"导入失败，未做任何改动：{exc}", "error")
            return redirect(url_for(".releases_list"))
        db.session.commit()
        missing = sorted(set(space.live) - set(tree))
        flash(f"已将 {len(changed)} 个有变化的文件放入你的草稿" + (
            f"；压缩包中没有的 {len(missing)} 个文件（{'、'.join(missing[:3])}…）保持不变，删除文件请用 flask config import"
            if missing else ""), "success")
        return redirect(url_for(".publish"))

    @expose("/releases/<int:seq>/export.zip")
    def export(self, seq: int) -> Response:
        row = _release_or_404(seq)
        response = make_response(releases.zip_tree(releases.tree_of(row), row.seq))
        response.headers["Content-Type"] = "application/zip"
        response.headers["Content-Disposition"] = f"attachment; filename=config-release-{seq}.zip"
        response.headers["Cache-Control"] = "no-store"
        return response

"""Preview, issue, fetch and revoke official documents: the one path pages, API and CLI share.

Issuing is one transaction: take the next 发文字号, render the PDF with that number, store the bytes,
their SHA-256, the data snapshot and the template version, audit it. A render that fails rolls the
number back. Stored bytes are served as they are, so a download is identical to what was issued.
Who may see an issued document follows the record it was made from (``record_scope``); a statistics
document follows its issuing unit.
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy import text as sa_text

from server.audit import log_event
from server.auth.models import User
from server.auth.permissions import allowed, user_level
from server.db import write_transaction
from server.documents import worker
from server.documents.data import record_data, statistics_data, township_of
from server.documents.models import IssuedDocument
from server.documents.numbering import format_doc_number, next_doc_seq, peek_doc_seq
from server.documents.pdf import RenderError, RenderResult
from server.documents.sandbox import LAYOUT_DIR, cn_date
from server.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.forms import build_form
from server.org.models import OrgUnit
from server.org.service import subtree_ids
from server.records import stages
from server.records.models import Record
from server.records.scope import COUNTY_WIDE_ROLES, is_county_wide, record_scope
from server.records.service import get_record, registry
from server.specs.model import ConfigSet, DocumentSpec, FormSpec
from server.timeutil import CST, utcnow

TEMPLATE_NAME = "document.html"
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")  # used with fullmatch: "2026-05\n" is not a month
_UNIT_SUFFIXES = ("街道办事处", "街道", "自治县", "县", "市", "区", "镇", "乡")


@dataclass
class Prepared:
    """Everything a render needs, gathered before any number is taken."""

    spec: DocumentSpec
    issuer: OrgUnit
    record: Record | None
    data: dict[str, Any]
    context: dict[str, Any]
    short: str = ""  # the issuer part of the 发文字号
    deadline: float | None = None  # time.monotonic() by which every render for this request must end


# -- permissions --------------------------------------------------------------------------------
def may(user: User, spec: DocumentSpec, action: str = "issue") -> bool:
    """``permissions.issue`` (and ``revoke``, which defaults to the issuers) of ``document.json``."""
    if not user.is_enabled:
        return False
    grants = spec.document["permissions"].get(action) or spec.document["permissions"]["issue"]
    level = user_level(user)
    return any(g["role"] == user.role and level in g.get("levels", [level]) for g in grants)


def documents_for_form(form_id: str, user: User) -> list[DocumentSpec]:
    """Documents made from a form's records that this user may preview and issue."""
    return [s for _, s in sorted(registry().live.documents.items()) if s.form == form_id and may(user, s)]


def documents_for_record(record: Record, user: User) -> list[DocumentSpec]:
    """Documents the user may make from this record: permitted, applying in the record's state, and in the
    name of a unit they act for."""
    return [s for s in documents_for_form(record.form_id, user)
            if s.applies_in(record.state) and acts_for(user, _issuer_unit(s, user, record).id)]


def may_revoke(user: User, row: IssuedDocument, *, any_state: bool = False) -> bool:
    """Whether the user may revoke this document (``revoke`` permission, for a unit they act for);
    the page offers 撤销 only while it is issued."""
    spec = registry().live.documents.get(row.doc_id)
    return ((any_state or row.state == "issued") and spec is not None and may(user, spec, "revoke")
            and acts_for(user, row.issuer_unit_id))


def statistics_documents(user: User) -> list[DocumentSpec]:
    return [s for _, s in sorted(registry().live.documents.items()) if s.is_statistics and may(user, s)]


def _spec(doc_id: str, user: User, draft: ConfigSet | None = None) -> DocumentSpec:
    """The live document, if ``user`` may issue it. A ``draft`` configuration is the configuration studio's
    preview (county administrators check an edit's layout; they issue nothing, nothing is numbered or kept)."""
    if draft is not None:
        if doc_id not in draft.documents:
            raise NotFound(doc_id)
        return draft.documents[doc_id]
    spec = registry().document(doc_id)
    if not may(user, spec):
        raise NotAllowed(f"issue:{doc_id}")
    return spec


# -- building -----------------------------------------------------------------------------------
def unit_short(name: str) -> str:
    """``示范县`` -> ``示范``; ``河口镇`` -> ``河口``: the default 发文机关代字 prefix."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _county() -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None), OrgUnit.kind == "county")
                             .order_by(OrgUnit.id).limit(1))
    if unit is None:
        raise NotFound("county")
    return unit


def _issuer_unit(spec: DocumentSpec, user: User, record: Record | None) -> OrgUnit:
    how = spec.document["issuer"]["unit"]
    if how == "county":
        return _county()
    if how == "user" or record is None:  # a statistics document has no record: the issuer's own unit
        return user.org_unit or _county()
    unit = db.session.get(OrgUnit, record.org_unit_id)
    return township_of(unit) if how == "record_township" else unit


def acts_for(user: User, unit_id: int) -> bool:
    """Whether a user may sign for a unit: county-wide staff for any, others for their own unit and
    the units beneath it. Seeing a record (one routed to you, say) is not enough to issue in its
    unit's name."""
    if is_county_wide(user):
        return True
    own = user.org_unit
    unit = db.session.get(OrgUnit, unit_id)
    return bool(own is not None and own.path and unit is not None and unit.path.startswith(own.path))


class NotOwnIssuer(NotAllowed):
    """Permitted to issue the document, but not in this unit's name."""

    def __init__(self, spec: DocumentSpec, issuer: OrgUnit):
        super().__init__(f"issue:{spec.id}:{issuer.code}")
        self.message = f"只能以本单位（或下属单位）的名义签发，不能以{issuer.name}的名义签发《{spec.title}》"


def _require_own_issuer(user: User, issuer: OrgUnit, spec: DocumentSpec) -> None:
    if not acts_for(user, issuer.id):
        raise NotOwnIssuer(spec, issuer)


def _issuer_names(spec: DocumentSpec, unit: OrgUnit) -> dict[str, str]:
    issuer = spec.document["issuer"]
    values = {"unit": unit.name, "unit_short": unit_short(unit.name)}
    name = issuer.get("name", "{unit}").format(**values)
    return {"name": name, "mark": issuer.get("mark", "{name}").format(name=name, **values),
            "short": issuer.get("short", "{unit_short}").format(name=name, **values)}


def _post_title(post: str) -> str:
    """The title of a post id (党委副书记（综治中心主任）) of the configured org tree; the id without one.
    Read only when a document is refused for a missing post holder."""
    from pathlib import Path

    from server.specs.org_loader import load_org

    org, _errors = load_org(Path(registry().config_dir))
    return (org.posts.get(post) if org is not None else None) or post


def _upward(spec: DocumentSpec, issuer: OrgUnit) -> dict[str, Any]:
    """The 签发人 (``issuer.signed_by``) and the 附注's contact (``issuer.contact``) of a 上行文, from the
    issuing unit's post holders and telephone. What is missing is refused with what to fill in, never
    printed as an empty line."""
    config = spec.document["issuer"]
    out: dict[str, Any] = {}
    missing: list[str] = []
    posts = issuer.posts or {}
    if config.get("signed_by"):
        holder = (posts.get(config["signed_by"]) or "").strip()
        if holder:
            out["signed_by"] = holder
        else:
            missing.append(f"{issuer.name}未配置「{_post_title(config['signed_by'])}」的任职人（签发人），"
                           f"无法生成《{spec.title}》")
    if config.get("contact"):
        holder = (posts.get(config["contact"]) or "").strip()
        phone = (issuer.phone or "").strip()
        if not holder:
            missing.append(f"{issuer.name}未配置「{_post_title(config['contact'])}」的任职人（附注联系人），"
                           f"无法生成《{spec.title}》")
        if not phone:
            missing.append(f"{issuer.name}未配置联系电话（附注写明「{_post_title(config['contact'])}」"
                           f"{holder}的联系电话），无法生成《{spec.title}》")
        if holder and phone:
            out["contact"] = {"name": holder, "phone": phone}
    if missing:
        raise ValidationFailed([FieldError("/issuer", f"{m}；请管理员在组织机构中填写") for m in missing])
    return out


def today() -> date:
    return utcnow().astimezone(CST).date()


def _form(form_id: str, draft: ConfigSet | None = None) -> FormSpec:
    """The form as live, or as in the draft configuration being previewed."""
    if draft is not None and form_id in draft.forms:
        return registry().with_org(draft.forms[form_id])
    return registry().form(form_id)


def prepare(doc_id: str, user: User, record_id: int | None = None, month: str | None = None,
            draft: ConfigSet | None = None) -> Prepared:
    """Check permission and scope, map the data, and build the template context (number left blank).
    ``draft`` stands in for the live configuration (the studio's preview of an edit: its document, forms
    and parameters)."""
    spec = _spec(doc_id, user, draft)
    record, record_context = None, {}
    if spec.is_statistics:
        if not isinstance(month, str) or not MONTH.fullmatch(month):
            raise ValidationFailed([FieldError("/month", "请填写统计月份，格式如 2026-11")])
        if month > today().strftime("%Y-%m"):  # a month still to come has nothing to count yet
            year, mon = month.split("-")
            raise ValidationFailed([FieldError(
                "/month", f"{int(year)}年{int(mon)}月尚未到来，不能生成统计；请选择本月或以前的月份")])
        issuer = _issuer_unit(spec, user, None)
        _require_own_issuer(user, issuer, spec)
        unreadable = sorted({c["form"] for c in spec.document["source"]["statistics"]["columns"]}
                            - {f.id for f in registry().forms() if allowed(user, "read", f)})
        if unreadable:
            titles = "、".join(f"「{registry().form(f).title}」" if f in registry().live.forms else f for f in unreadable)
            refused = NotAllowed(f"statistics:{spec.id}")
            refused.message = f"您无权查看{titles}的记录，不能生成《{spec.title}》"  # type: ignore[attr-defined]
            raise refused
        data = statistics_data(spec, issuer, month, user)
    else:
        if record_id is None:
            raise ValidationFailed([FieldError("/record_id", f"《{spec.title}》须由一条记录生成，请指定记录")])
        record = get_record(record_id, user)  # NotFound outside the user's scope
        if record.form_id != spec.form:
            raise ValidationFailed([FieldError("/record_id", f"《{spec.title}》只能由「{_form(spec.form, draft).title}」的记录生成")])
        _require_state(spec, record)
        issuer = _issuer_unit(spec, user, record)
        _require_own_issuer(user, issuer, spec)
        form = _form(record.form_id, draft)
        data = record_data(spec, record, build_form(form), form.title, today())
        record_context = {"number": record.number, "form_title": form.title,
                          "unit": db.session.get(OrgUnit, record.org_unit_id).name}
    names = _issuer_names(spec, issuer)
    date_text = cn_date(today().isoformat())
    rules = draft.rules if draft is not None else registry().live.rules
    params = {n: p.value for n, p in (rules.parameters.items() if rules else [])}
    context = {
        "doc": {"title": spec.title, "mark": names["mark"], "number": "", "signer": names["name"],
                "date": date_text, "printer": names["name"], "printed_date": date_text, "draft": True},
        "data": data, "params": params, "record": record_context,
    }
    context["doc"].update(_upward(spec, issuer))
    return Prepared(spec=spec, issuer=issuer, record=record, data=data, context=context, short=names["short"])


def _require_state(spec: DocumentSpec, record: Record) -> None:
    """A document belongs to a stage of the matter (a 挂牌督办通知书 to 挂牌督办): refused elsewhere, with
    the stages it belongs to."""
    if spec.applies_in(record.state):
        return
    judged = stages.stage(registry().form(record.form_id), record)
    title = judged[0].state_title if judged is not None else str
    raise ValidationFailed([FieldError("/record_id", (
        f"《{spec.title}》只能在「{'、'.join(title(s) for s in spec.states)}」阶段生成，"
        f"该记录现处于「{title(record.state) if record.state else '无流程'}」阶段"))])


def _pool() -> worker.RenderPool:
    settings = current_app.config["SERVER_SETTINGS"]
    return worker.pool(settings.document_workers, settings.fonts_dir, settings.document_memory_mb)


def start_render_pool(app: Any) -> None:
    """Start this process's render processes now, in the background (gunicorn's ``post_worker_init``
    in ``gunicorn.conf.py``), so the first document after a (re)start does not wait for them."""
    settings = app.config["SERVER_SETTINGS"]
    worker.start_in_background(settings.document_workers, settings.fonts_dir, settings.document_memory_mb)


def _render(prepared: Prepared) -> RenderResult:
    settings = current_app.config["SERVER_SETTINGS"]
    pool = _pool()
    job = worker.Job(templates={TEMPLATE_NAME: prepared.spec.template}, template=TEMPLATE_NAME,
                     context=prepared.context, max_pages=int(prepared.spec.document.get("max_pages", 20)))
    return pool.render(job, settings.document_time_limit, prepared.deadline)


# -- preview and issue --------------------------------------------------------------------------
def preview(doc_id: str, user: User, record_id: int | None = None, month: str | None = None,
            draft: ConfigSet | None = None) -> bytes:
    """A 草稿 PDF: watermarked, no number taken (a full-width space where the sequence goes)."""
    prepared = prepare(doc_id, user, record_id, month, draft)
    prepared.context["doc"]["number"] = _doc_number(prepared, today().year, None, blank="\u3000")
    return _render(prepared).pdf


OPTIMISTIC_ATTEMPTS = 3


class _NumberTaken(Exception):
    """Another issuer took the number this render carries; render again with the next one."""


class AlreadyIssued(Exception):
    """The document was issued for this record before (and not revoked): a second one is issued only
    when the person confirms it (409). ``earlier`` are those documents, newest first."""

    status = 409

    def __init__(self, title: str, earlier: list[IssuedDocument]):
        self.title, self.earlier = title, earlier
        numbers = "、".join(f"{row.number}（{cn_date(as_cst_date(row.issued_at))}）" for row in earlier)
        super().__init__(f"该记录已签发过《{title}》：{numbers}。如确需再次签发，请确认后重新提交")


def as_cst_date(moment: datetime) -> str:
    """ISO date (China time) of a stored UTC moment."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(CST).date().isoformat()


def earlier_issues(doc_id: str, record_id: int) -> list[IssuedDocument]:
    """Documents of this kind issued for the record and still in force (revoked ones do not count)."""
    return list(db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.doc_id == doc_id, IssuedDocument.record_id == record_id,
                                     IssuedDocument.state == "issued").order_by(IssuedDocument.id.desc())))


def issue(doc_id: str, user: User, record_id: int | None = None, month: str | None = None, *,
          confirm_reissue: bool = False) -> IssuedDocument:
    """Take the next number, render with it, store: gap-free, and normally without holding a lock
    while WeasyPrint works.

    A second document of the same kind for the same record is refused with :class:`AlreadyIssued`
    unless ``confirm_reissue``: one record had three 挂牌督办通知书 from repeated clicks, each with its
    own 发文字号, and a 发文字号 once taken cannot be returned.

    The render happens first with the number the counter would give next; the write transaction then
    takes that number and stores the PDF, or, when another issuer took it meanwhile, rolls back and
    renders again. After a few lost races the render runs inside the transaction, holding the counter
    (and, on SQLite, the database write lock) until it is stored, so a busy 代字 always makes progress.

    On PostgreSQL concurrent issuers of one 代字 do not guess the same number: each claims its guess
    (:func:`_claim_seq`) and the next one guesses past it, so two gunicorn workers render in parallel
    instead of one re-rendering every lost race (20 建议书 at once cost 33 renders before). A claim is
    only a hint: the counter, bumped in the storing transaction, still decides, so numbers never skip
    or repeat whatever the claims say.
    """
    prepared = prepare(doc_id, user, record_id, month)
    if prepared.record is not None and not confirm_reissue:
        earlier = earlier_issues(doc_id, prepared.record.id)
        if earlier:
            raise AlreadyIssued(prepared.spec.title, earlier)
    year = today().year  # once: the key and every number rendered belong to the same year
    key = _doc_number(prepared, year, None)
    _pool().start()  # a cold worker starts before any number is taken
    # One time limit for the whole request, however many renders the number races cost.
    prepared.deadline = time.monotonic() + current_app.config["SERVER_SETTINGS"].document_time_limit
    claims = db.session.get_bind().dialect.name == "postgresql"
    for _ in range(OPTIMISTIC_ATTEMPTS):
        try:
            return _attempt(prepared, user, key, year, claims)
        except _NumberTaken:
            continue
    with write_transaction():
        seq = next_doc_seq(key)
        if claims:
            _try_claim(key, seq)  # so that guessers pass it by; never waits (a guesser may hold it)
        result = _render_numbered(prepared, year, seq)  # a failure rolls the number back
        return _store(prepared, user, key, seq, result)


def _attempt(prepared: Prepared, user: User, key: str, year: int, claims: bool) -> IssuedDocument:
    """One optimistic try: render with the number the counter should give next, then take it and store,
    or raise :class:`_NumberTaken` (nothing stored, the number not taken). Without claims (SQLite) the
    render runs before the write transaction, which on SQLite holds the database's write lock; with
    claims (PostgreSQL) the guess is claimed, and the claim lasts as long as the transaction."""
    if not claims:
        seq = peek_doc_seq(key)
        result = _render_numbered(prepared, year, seq)
        with write_transaction():
            return _take_and_store(prepared, user, key, seq, result)
    with write_transaction():
        guess = peek_doc_seq(key)
        seq = _claim_seq(key, guess)
        result = _render_numbered(prepared, year, seq)
        _wait_for_claims(key, guess, seq, prepared.deadline)
        return _take_and_store(prepared, user, key, seq, result)


def _take_and_store(prepared: Prepared, user: User, key: str, seq: int, result: RenderResult) -> IssuedDocument:
    if next_doc_seq(key) != seq:
        raise _NumberTaken
    return _store(prepared, user, key, seq, result)


MAX_CLAIM_AHEAD = 64  # numbers past the counter one issuer may claim (more issuers at once than that: they race)
CLAIM_POLL_SECONDS = 0.02


def _claim_id(key: str) -> int:
    """A stable 31-bit id of a counter key, the first half of its advisory locks (the second: the seq)."""
    return int.from_bytes(hashlib.sha256(b"document-number:" + key.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _try_claim(key: str, seq: int, *, shared: bool = False) -> bool:
    """A transaction-level advisory lock on (key, seq), without waiting. It ends with the transaction,
    also when the process dies, so a claim is never left behind."""
    function = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
    return bool(db.session.execute(sa_text(f"SELECT {function}(:k, :s)"),
                                   {"k": _claim_id(key), "s": seq}).scalar())


def _claim_seq(key: str, guess: int) -> int:
    """The first number from ``guess`` on that no running issue has claimed; claimed now."""
    for seq in range(guess, guess + MAX_CLAIM_AHEAD):
        if _try_claim(key, seq):
            return seq
    return guess  # everything claimed: race for the guess as without claims


def _wait_for_claims(key: str, guess: int, seq: int, deadline: float | None) -> None:
    """Wait until the issues holding the numbers below ``seq`` have stored or given up (their
    transactions ended). When they all stored, the counter stands at ``seq - 1`` and this issue gets
    ``seq``; when one gave up, the counter check after this wait fails and this issue renders again with
    the number it gets. Polls without blocking: a blocking wait could deadlock with a holder of the
    counter row; bounded by the deadline."""
    for lower in range(guess, seq):
        while not _try_claim(key, lower, shared=True):
            if deadline is not None and time.monotonic() >= deadline:
                raise RenderError("文书排版繁忙，本次请求的时限已用尽，已停止。请稍后再试")
            time.sleep(CLAIM_POLL_SECONDS)


def _doc_number(prepared: Prepared, year: int, seq: int | None, blank: str = "#") -> str:
    """The document's number in its 代字's pattern; ``seq`` None: the counter key (or a draft's number)."""
    return format_doc_number(prepared.spec.document["number"], issuer_short=prepared.short, year=year, seq=seq,
                             blank=blank)


def _render_numbered(prepared: Prepared, year: int, seq: int) -> RenderResult:
    prepared.context["doc"].update(number=_doc_number(prepared, year, seq), draft=False)
    return _render(prepared)


def _store(prepared: Prepared, user: User, key: str, seq: int, result: RenderResult) -> IssuedDocument:
    number = prepared.context["doc"]["number"]
    row = IssuedDocument(
        doc_id=prepared.spec.id, title=prepared.spec.title, number=number, counter_key=key, seq=seq,
        record_id=prepared.record.id if prepared.record else None, issuer_unit_id=prepared.issuer.id,
        issuer_name=prepared.context["doc"]["signer"], template_version=template_version(prepared.spec),
        config_seq=registry().live.seq, data=prepared.data,
        pdf=result.pdf, sha256=hashlib.sha256(result.pdf).hexdigest(), size=len(result.pdf),
        pages=result.pages, issued_by_id=user.id, issued_at=utcnow(), state="issued", revoked_reason="")
    db.session.add(row)
    db.session.flush()
    log_event("document.issue", "document", object_id=row.id, user_id=user.id, subject=number,
              detail=f"{prepared.spec.title} {number}（{result.pages} 页，SHA-256 {row.sha256[:16]}…）")
    return row


def template_version(spec: DocumentSpec) -> str:
    """The definition + template digest, and the shared layout's, so a layout change shows too."""
    return f"{spec.version}/{layout_digest()[:8]}"


_layout_digest: str | None = None


def layout_digest() -> str:
    global _layout_digest
    if _layout_digest is None:
        h = hashlib.sha256()
        for path in sorted(Path(LAYOUT_DIR).iterdir()):
            if path.is_file():
                h.update(path.name.encode() + b"\0" + path.read_bytes())
        _layout_digest = h.hexdigest()
    return _layout_digest


# -- the register -------------------------------------------------------------------------------
def document_scope(user: User) -> ColumnElement[bool]:
    """Issued documents a user may know exist: those of records they may see; statistics by issuer."""
    if not user.is_enabled:
        return false()
    by_record = IssuedDocument.record_id.in_(select(Record.id).where(record_scope(user)))
    unit = user.org_unit
    if is_county_wide(user):
        by_issuer = true()
    elif user.role == "info_officer" or unit is None or not unit.path:
        by_issuer = false()
    else:
        by_issuer = IssuedDocument.issuer_unit_id.in_(subtree_ids(unit))
    return or_(and_(IssuedDocument.record_id.is_not(None), by_record),
               and_(IssuedDocument.record_id.is_(None), by_issuer))


def get_issued(pk: int, user: User) -> IssuedDocument:
    row = db.session.scalar(select(IssuedDocument).where(IssuedDocument.id == pk, document_scope(user)))
    if row is None:
        raise NotFound(str(pk))
    if row.record_id is not None:
        get_record(row.record_id, user)  # also needs read permission on the record's form
    return row


def issued_list(user: User, record_id: int | None = None, limit: int = 200) -> list[IssuedDocument]:
    """The register as this user may see it: the same documents :func:`get_issued` would open."""
    query = (select(IssuedDocument, Record.form_id).outerjoin(Record, Record.id == IssuedDocument.record_id)
             .where(document_scope(user)).order_by(IssuedDocument.id.desc()).limit(limit))
    if record_id is not None:
        query = query.where(IssuedDocument.record_id == record_id)
    readable: dict[str, bool] = {}
    out = []
    for row, form_id in db.session.execute(query):
        if form_id is not None and form_id not in readable:
            try:
                readable[form_id] = allowed(user, "read", registry().form(form_id))
            except NotFound:
                readable[form_id] = user.role in COUNTY_WIDE_ROLES
        if form_id is None or readable[form_id]:
            out.append(row)
    return out


def issued_pdf(pk: int, user: User) -> tuple[IssuedDocument, bytes]:
    row = get_issued(pk, user)
    pdf = row.pdf
    with write_transaction():
        log_event("document.download", "document", object_id=row.id, user_id=user.id, subject=row.number)
    return row, pdf


def revoke(pk: int, user: User, reason: str) -> IssuedDocument:
    """Mark an issued document revoked with a reason; it keeps its number and bytes."""
    row = get_issued(pk, user)
    if not may_revoke(user, row, any_state=True):
        raise NotAllowed(f"revoke:{row.doc_id}")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("/reason", "请填写撤销理由")])
    if len(reason) > 500:
        raise ValidationFailed([FieldError("/reason", "撤销理由不能超过 500 字")])
    with write_transaction():
        row = db.session.get(IssuedDocument, pk, with_for_update=True, populate_existing=True)
        if row.state == "revoked":  # checked under the lock: of two revokes, the second is refused
            raise ValidationFailed([FieldError("/reason", "此文书已撤销")])
        row.state, row.revoked_reason, row.revoked_by_id, row.revoked_at = "revoked", reason, user.id, utcnow()
        log_event("document.revoke", "document", object_id=row.id, user_id=user.id, subject=row.number,
                  detail=reason)
    return row


"""The document register: gap-free 发文字号 under concurrent issuing, stored bytes served unchanged,
drafts that take no number, revocation that never deletes, and scoping like records."""
from __future__ import annotations

import hashlib
import re
import threading

import pytest
import sqlalchemy as sa

from server.auth.models import User
from server.documents import service
from server.documents.models import DocumentCounter, IssuedDocument
from server.documents.pdf import RenderError
from server.errors import NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.records import service as records
from server.records.models import AuditEntry
from tests.conftest import user_named
from tests.documents_fixtures import doc_app  # noqa: F401  (fixture)
from tests.test_records import GOOD

DOC = "incident_letter"  # tests/configs/documents/incident_letter


@pytest.fixture
def clerk(doc_app):  # type: ignore[no-untyped-def]
    return user_named("clerk")


@pytest.fixture
def record(clerk):  # type: ignore[no-untyped-def]
    return records.create_record("incident", GOOD, clerk)


def text_of(pdf: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "".join(page.extract_text() or "" for page in document.pages).replace("\n", "").replace(" ", "")


def test_issue_numbers_stores_and_audits(doc_app, clerk, record):
    first = service.issue(DOC, clerk, record_id=record.id)
    second = service.issue(DOC, clerk, record_id=record.id, confirm_reissue=True)
    year = service.today().year
    assert (first.number, second.number) == (f"城关综治测〔{year}〕1号", f"城关综治测〔{year}〕2号")
    assert first.seq == 1 and first.counter_key == f"城关综治测〔{year}〕#号"
    assert first.sha256 == hashlib.sha256(first.pdf).hexdigest() and first.size == len(first.pdf)
    assert first.pdf.startswith(b"%PDF") and first.pages in (1, 2)  # 版记 may go on the even page
    assert first.data["summary"] == "夜市噪音扰民" and first.data["source"] == "来访"  # the title, not the code
    assert first.data["last_step"] == {"what": "约谈摊主", "due": "2026-05-10"}
    assert first.template_version.startswith(doc_app.extensions["registry"].document(DOC).version)
    text = text_of(first.pdf)
    assert first.number in text and "夜市噪音扰民" in text and "来源：来访" in text and "草稿" not in text
    audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "document.issue")).all()
    assert [a.subject for a in audit] == [first.number, second.number]


def test_download_returns_the_identical_bytes(doc_app, clerk, record):
    issued = service.issue(DOC, clerk, record_id=record.id)
    digest = issued.sha256
    db.session.expunge_all()
    row, pdf = service.issued_pdf(issued.id, clerk)
    assert hashlib.sha256(pdf).hexdigest() == digest == row.sha256
    again = service.issue(DOC, clerk, record_id=record.id, confirm_reissue=True)  # a later render of the same record differs
    assert again.pdf != pdf and service.issued_pdf(issued.id, clerk)[1] == pdf


def test_preview_is_watermarked_and_takes_no_number(doc_app, clerk, record):
    pdf = service.preview(DOC, clerk, record_id=record.id)
    text = text_of(pdf)
    assert ("草稿" in text or "稿草" in text) and "〔" in text  # rotated: extracted either way round and re.search(r"〔\d{4}〕1号", text) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0
    assert service.issue(DOC, clerk, record_id=record.id).seq == 1


def test_a_failed_render_takes_no_number(doc_app, clerk, record, monkeypatch):
    def broken(_prepared):  # type: ignore[no-untyped-def]
        raise RenderError("排版失败")

    monkeypatch.setattr(service, "_render", broken)
    with pytest.raises(RenderError):
        service.issue(DOC, clerk, record_id=record.id)
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
    assert service.issue(DOC, clerk, record_id=record.id).seq == 1


def test_revoke_keeps_the_document_and_its_number(doc_app, clerk, record):
    issued = service.issue(DOC, clerk, record_id=record.id)
    with pytest.raises(ValidationFailed) as missing:
        service.revoke(issued.id, clerk, "  ")
    assert missing.value.errors[0].pointer == "/reason"
    revoked = service.revoke(issued.id, clerk, "受文单位写错")
    assert revoked.state == "revoked" and revoked.revoked_reason == "受文单位写错" and revoked.revoked_by_id == clerk.id
    with pytest.raises(ValidationFailed):
        service.revoke(issued.id, clerk, "再次撤销")
    assert service.issued_pdf(issued.id, clerk)[1] == issued.pdf
    assert service.issue(DOC, clerk, record_id=record.id).seq == 2  # the revoked number is never reused
    assert db.session.scalar(sa.select(AuditEntry.detail).where(AuditEntry.action == "document.revoke")) == "受文单位写错"


def test_issued_documents_are_scoped_like_their_records(doc_app, clerk, record):
    issued = service.issue(DOC, clerk, record_id=record.id)
    for name in ("county", "leader", "clerk"):
        assert service.get_issued(issued.id, user_named(name)).id == issued.id
        assert [d.id for d in service.issued_list(user_named(name))] == [issued.id]
    for name in ("clerk_b", "justice", "officer"):
        with pytest.raises(NotFound):
            service.get_issued(issued.id, user_named(name))
        with pytest.raises(NotFound):
            service.issued_pdf(issued.id, user_named(name))
        assert service.issued_list(user_named(name)) == []
    with pytest.raises(NotFound):
        service.get_issued(issued.id + 1000, clerk)


def test_who_may_issue(doc_app, record):
    for name in ("leader", "police", "officer", "admin"):
        with pytest.raises(NotAllowed):
            service.issue(DOC, user_named(name), record_id=record.id)
    with pytest.raises(NotFound):  # may issue, but cannot see the record
        service.issue(DOC, user_named("clerk_b"), record_id=record.id)
    assert service.issue(DOC, user_named("county"), record_id=record.id).seq == 1


def test_revoking_needs_the_issue_permission(doc_app, clerk, record):
    issued = service.issue(DOC, clerk, record_id=record.id)
    with pytest.raises(NotAllowed):
        service.revoke(issued.id, user_named("leader"), "理由")


def test_missing_data_is_named_and_nothing_is_issued(doc_app, clerk):
    bare = records.create_record("incident", {"reported_on": "2026-05-01", "source": "phone", "summary": "x"}, clerk)
    issued = service.issue(DOC, clerk, record_id=bare.id)  # optional fields may be absent
    assert "visitor" not in issued.data and "last_step" not in issued.data
    with pytest.raises(ValidationFailed) as wrong:
        service.issue(DOC, clerk, record_id=None)
    assert wrong.value.errors[0].pointer == "/record_id"
    with pytest.raises(NotFound):
        service.issue("no_such_document", clerk, record_id=bare.id)


def test_data_schema_violations_name_the_field(doc_app, clerk):
    long = records.create_record("incident", {**GOOD, "summary": "长" * 200}, clerk)
    spec = doc_app.extensions["registry"].document(DOC)
    limited = type(spec)(id=spec.id, title=spec.title, template=spec.template, digest=spec.digest,
                         document={**spec.document, "data": {**spec.document["data"], "properties": {
                             **spec.document["data"]["properties"], "summary": {"type": "string", "title": "事由摘要",
                                                                                "maxLength": 10}}}})
    from server.documents.data import check_data

    with pytest.raises(ValidationFailed) as failure:
        check_data(limited, {"number": "1", "reported_on": "2026-05-01", "summary": "长" * 200})
    assert failure.value.errors[0].pointer == "/summary"
    assert failure.value.errors[0].message == "「事由摘要」应不超过 10 个字符，实际为 200 个，无法生成《测试事项处理通知》"
    with pytest.raises(ValidationFailed) as missing:
        check_data(limited, {"number": "1", "summary": "x"})
    assert missing.value.errors[0].pointer == "/reported_on"
    assert "缺少「登记日期」" in missing.value.errors[0].message and "测试事项处理通知" in missing.value.errors[0].message
    assert long.id


THREADS, PER_THREAD = 6, 3


def issue_together(doc_app, user_id: int, record_id: int, threads: int, each: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    """``threads`` issuers, each in its own app context and session, start at once and issue ``each``
    documents for the record; returns what failed."""
    failures: list[str] = []
    barrier = threading.Barrier(threads)

    def issue_some() -> None:
        with doc_app.app_context():
            me = db.session.get(User, user_id)
            barrier.wait()
            for _ in range(each):
                try:
                    service.issue(DOC, me, record_id=record_id, confirm_reissue=True)
                except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
                    failures.append(repr(exc))
            db.session.remove()

    running = [threading.Thread(target=issue_some) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=300)
    return failures


def test_concurrent_issuing_gets_gap_free_unique_numbers(doc_app, clerk, record):
    assert issue_together(doc_app, clerk.id, record.id, THREADS, PER_THREAD) == []
    db.session.rollback()
    rows = db.session.execute(sa.select(IssuedDocument.seq, IssuedDocument.number, IssuedDocument.pdf)).all()
    assert sorted(seq for seq, _, _ in rows) == list(range(1, THREADS * PER_THREAD + 1))
    for seq, number, pdf in rows:  # each stored PDF carries its own number
        assert number.endswith(f"〔{service.today().year}〕{seq}号") and number in text_of(pdf)


def test_a_wording_change_is_published_without_a_restart(doc_app, clerk, record, make_app):
    registry = doc_app.extensions["registry"]
    old = registry.document(DOC)
    template = registry.config_dir / "documents" / DOC / "template.html"
    template.write_text(template.read_text(encoding="utf-8").replace("最近措施", "已采取措施"), encoding="utf-8")
    registry.publish_files("test")
    new = registry.document(DOC)
    assert new.digest != old.digest
    assert "已采取措施" in text_of(service.preview(DOC, clerk, record_id=record.id))
    issued = service.issue(DOC, clerk, record_id=record.id)
    assert issued.template_version.startswith(new.version)
    from server.documents.models import DocumentTemplateVersion

    versions = db.session.scalars(sa.select(DocumentTemplateVersion.digest).where(
        DocumentTemplateVersion.doc_id == DOC)).all()
    assert set(versions) == {old.digest, new.digest}  # the version an older document used is kept
    other = make_app(config_dir=registry.config_dir)  # another process on the same database
    with other.app_context():
        other.extensions["registry"].refresh()
        assert other.extensions["registry"].document(DOC).digest == new.digest


def test_a_broken_template_edit_is_refused_and_the_old_one_keeps_serving(doc_app, clerk, record):
    from server.errors import ConfigInvalid

    registry = doc_app.extensions["registry"]
    old = registry.document(DOC)
    template = registry.config_dir / "documents" / DOC / "template.html"
    template.write_text(template.read_text(encoding="utf-8") + "{% if %}", encoding="utf-8")
    with pytest.raises(ConfigInvalid) as refused:
        registry.publish_files("test")
    assert f"documents/{DOC}/template.html" in str(refused.value) and "模板语法错误" in str(refused.value)
    assert registry.document(DOC).digest == old.digest
    assert service.issue(DOC, clerk, record_id=record.id).seq == 1


def test_a_lost_race_renders_again_with_the_number_it_gets(doc_app, clerk, record, monkeypatch):
    """The render runs before the number is taken; when another issuer took it, the PDF is made again,
    and after a few lost races the render runs holding the counter."""
    renders: list[str] = []
    real_render = service._render

    def counting(prepared):  # type: ignore[no-untyped-def]
        renders.append(prepared.context["doc"]["number"])
        return real_render(prepared)

    monkeypatch.setattr(service, "_render", counting)
    monkeypatch.setattr(service, "peek_doc_seq", lambda key: 1)  # always the stale guess
    first = service.issue(DOC, clerk, record_id=record.id)
    assert first.seq == 1 and len(renders) == 1
    renders.clear()
    second = service.issue(DOC, clerk, record_id=record.id, confirm_reissue=True)
    year = service.today().year
    assert second.seq == 2 and second.number in text_of(second.pdf) and first.number not in text_of(second.pdf)
    assert renders == [f"城关综治测〔{year}〕1号"] * service.OPTIMISTIC_ATTEMPTS + [f"城关综治测〔{year}〕2号"]
    assert db.session.scalar(sa.select(DocumentCounter.last_seq)) == 2


def test_seeing_a_routed_record_does_not_let_another_unit_sign_for_it(doc_app, clerk, record):
    from server.org.service import unit_by_code

    records.route_record(record, unit_by_code("999901002000"), "test")  # 河口镇 may now see 城关镇's record
    db.session.commit()
    other = user_named("clerk_b")
    assert records.get_record(record.id, other).id == record.id
    with pytest.raises(NotAllowed):
        service.issue(DOC, other, record_id=record.id)
    with pytest.raises(NotAllowed):
        service.preview(DOC, other, record_id=record.id)
    issued = service.issue(DOC, clerk, record_id=record.id)
    assert service.get_issued(issued.id, other).id == issued.id  # it may read it, as it reads the record
    with pytest.raises(NotAllowed):
        service.revoke(issued.id, other, "不是我们的文")
    assert service.issue(DOC, user_named("county"), record_id=record.id, confirm_reissue=True).issuer_name == "城关镇综治中心"


def test_download_audit_survives_a_concurrent_writer(doc_app, clerk, record):
    """The download's audit row is its own write transaction: another writer between the page's read
    and the audit must not turn the download into a 'database is locked' error."""
    issued = service.issue(DOC, clerk, record_id=record.id)
    user_id, record_id = clerk.id, record.id
    db.session.commit()
    db.session.scalar(sa.select(IssuedDocument.id))  # this request's read transaction is open

    def other_writer() -> None:
        with doc_app.app_context():
            records.create_record("incident", GOOD, db.session.get(User, user_id))
            db.session.remove()

    thread = threading.Thread(target=other_writer)
    thread.start()
    thread.join(60)
    row, pdf = service.issued_pdf(issued.id, clerk)
    assert pdf == issued.pdf and record_id


def test_statistics_count_every_record_the_issuer_may_see(doc_app, clerk):
    records.create_record("incident", GOOD, clerk)                                   # 城关镇, visit
    records.create_record("incident", {**GOOD, "source": "phone"}, user_named("clerk_b"))  # 河口镇
    records.create_record("incident", GOOD, user_named("county"))                    # the county's own
    records.create_record("incident", {**GOOD, "reported_on": "2026-06-01"}, clerk)  # another month
    county = service.prepare("monthly_report", user_named("county"), month="2026-05").data
    rows = {r["unit"]: r["counts"] for r in county["rows"]}
    assert rows == {"城关镇": {"incidents": 1, "visits": 1}, "河口镇": {"incidents": 1, "visits": 0},
                    "县本级及其他": {"incidents": 1, "visits": 1}}
    assert county["totals"] == {"incidents": 3, "visits": 2}
    township = service.prepare("monthly_report", clerk, month="2026-05").data  # its own unit only
    assert township["totals"] == {"incidents": 1, "visits": 1}
    with pytest.raises(ValidationFailed) as bad:
        service.prepare("monthly_report", clerk, month="2026-13")
    assert bad.value.errors[0].pointer == "/month"


def test_a_single_item_of_a_choice_list_prints_its_title():
    from server.documents.data import labelled
    from server.forms import compile_schema

    form = compile_schema({"type": "object", "properties": {"kinds": {
        "type": "array", "title": "类别", "items": {"type": "string", "oneOf": [
            {"const": "theft_robbery", "title": "盗抢"}, {"const": "fraud", "title": "诈骗"}]}}}})
    field = form.field_at("/kinds/0")
    assert labelled(field, ["theft_robbery", "fraud"]) == ["盗抢", "诈骗"]
    assert labelled(field, "theft_robbery") == "盗抢"


def test_statistics_over_a_form_the_user_may_not_read_are_refused(doc_app, monkeypatch):
    real = service.allowed
    monkeypatch.setattr(service, "allowed", lambda user, action, form: action != "read" and real(user, action, form))
    with pytest.raises(NotAllowed) as refused:
        service.prepare("monthly_report", user_named("county"), month="2026-05")
    assert "「测试登记簿」" in refused.value.message and "事件登记月报" in refused.value.message


def test_missing_fields_are_listed_once_each(doc_app):
    """Issue 12 item 7: jsonschema reports every missing property with the whole ``required`` list;
    three missing fields gave nine messages."""
    from server.documents.data import check_data

    spec = doc_app.extensions["registry"].document(DOC)
    required = spec.document["data"]["required"]
    assert len(required) >= 2
    with pytest.raises(ValidationFailed) as missing:
        check_data(spec, {})
    pointers = [e.pointer for e in missing.value.errors]
    assert len(pointers) == len(set(pointers)) == len(required)


def test_statistics_of_a_month_still_to_come_are_refused(doc_app, clerk, monkeypatch):
    """Issue 12 item 7: 2027年5月 was issued in 2026; this month (partly counted) still may be."""
    from datetime import date

    monkeypatch.setattr(service, "today", lambda: date(2026, 11, 30))
    assert service.prepare("monthly_report", clerk, month="2026-11").data["month_text"] == "2026年11月"
    with pytest.raises(ValidationFailed) as future:
        service.prepare("monthly_report", clerk, month="2026-12")
    assert [(e.pointer, e.message) for e in future.value.errors] == [
        ("/month", "2026年12月尚未到来，不能生成统计；请选择本月或以前的月份")]


def test_concurrent_issuers_claim_different_numbers_and_render_once_each(doc_app, clerk, record, monkeypatch):
    """On PostgreSQL an issuer claims the number it guessed (an advisory lock of its transaction), so
    issuers starting together render different numbers at once instead of re-rendering lost races;
    the one with the higher number stores after the lower one, and the numbers stay gap-free."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("number claims are PostgreSQL advisory locks; SQLite serialises writers anyway")
    import time

    renders: list[str] = []
    real_render = service._render

    def slow(prepared):  # type: ignore[no-untyped-def]
        renders.append(prepared.context["doc"]["number"])
        time.sleep(0.5)  # all issuers render at the same time, none commits before the others claimed
        return real_render(prepared)

    monkeypatch.setattr(service, "_render", slow)
    issuers = 3
    assert issue_together(doc_app, clerk.id, record.id, issuers) == []
    db.session.rollback()
    assert sorted(db.session.scalars(sa.select(IssuedDocument.seq))) == [1, 2, 3]
    assert len(renders) == issuers and len(set(renders)) == issuers  # no race lost, no number rendered twice

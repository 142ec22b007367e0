"""上行文 (GB/T 9704-2012 7.2.4, 7.2.5, 7.3.7): the shipped 请示 (extension_request) and 报告
(rectification_report) go up to the county, so their 版头 carries the 发文字号 left, 1 字 in from the
版心's left edge, and "签发人：" + the name (楷体) right, 1 字 in from the right edge, on the same line;
the 请示 has a 附注 with the contact person and telephone on the line after the 成文日期, indented 2 字.
Who signs and who is the contact are posts of the issuing unit (``issuer.signed_by`` / ``issuer.contact``
of document.json, holders and telephone from config/org/units.json). A 下行文 keeps its centred number.

A unit without the holder or the telephone is refused with what to fill in (422, a Chinese page),
nothing issued and no number taken.
"""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from server.documents.models import DocumentCounter, IssuedDocument
from server.extensions import db
from server.org.models import OrgUnit
from tests import pdfcheck
from tests.conftest import csrf_token, login_session
from tests.test_documents_shipped import HEKOU, env, key_area, sample  # noqa: F401  (env is a fixture)

ZI, HANG = pdfcheck.ZI, pdfcheck.HANG
KAI = ("Kai", "Kaiti", "gkai")  # AR PL KaitiM GB is embedded as "…+AR-PL-KaitiM-GB"


def _extended(user: Any) -> Any:
    """A key area whose acceptance failed and whose rectification was extended (the 请示's case)."""
    from tests.test_survey import participants

    data = sample("key_area")
    acceptance = {**data["acceptance"], "satisfaction_survey": {"participants": participants(18, 6, 6)}}
    acceptance.pop("conclusion")
    delisting = {"extensions": [{"approved_date": "2026-09-12", "approved_by": "河口镇党委",
                                 "reason": "监控尚未联网。", "new_deadline": "2026-10-31"}]}
    return key_area(user, acceptance=acceptance, delisting=delisting, consolidation=None)


def _hekou() -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == HEKOU))


def _number_line(pdf: pdfcheck.Pdf) -> pdfcheck.Line:
    line = pdf.find_line(0, r"〔\d{4}〕", size=16.0)
    assert line is not None, [ln.text for ln in pdf.lines(0)]
    return line


def _check_head(pdf: pdfcheck.Pdf, number: str, signer: str) -> None:
    """Number left 1 字 in; 签发人：NAME right 1 字 in; one baseline; the name in 楷体, the label in 仿宋."""
    left, right = (pdfcheck.pt(x) for x in pdfcheck.block_x_mm(0))
    line = _number_line(pdf)  # every 16 pt glyph between the 标志 and the red rule's line
    ordered = sorted((c for c in pdf.chars(0, size=16.0) if c["top"] < line.bottom and c["bottom"] > line.top),
                     key=lambda c: c["x0"])
    text = "".join(c["text"] for c in ordered)
    assert text == f"{number}签发人：{signer}", text
    first, last = ordered[0], ordered[-1]
    assert first["x0"] - left == pytest.approx(ZI, abs=1.0)
    assert right - last["x1"] == pytest.approx(ZI, abs=1.5)
    baselines = {round(c["matrix"][5], 1) for c in ordered}
    assert max(baselines) - min(baselines) <= 0.5, baselines
    name = ordered[-len(signer):]
    label = ordered[-len(signer) - 4:-len(signer)]
    assert "".join(c["text"] for c in name) == signer and "".join(c["text"] for c in label) == "签发人："
    assert all(any(k in c["fontname"] for k in KAI) for c in name), {c["fontname"] for c in name}
    assert not any(any(k in c["fontname"] for k in KAI) for c in label), {c["fontname"] for c in label}
    assert first["fontname"] == label[0]["fontname"]  # the number and the label: 仿宋
    rule = next(r for r in pdf.red_rects(0) if r["width"] > 100 * pdfcheck.MM)  # the red rule: 4 mm below
    assert pdfcheck.mm(rule["top"] - max(c["bottom"] for c in ordered)) == pytest.approx(4, abs=1.0)


def _last_lines(pdf: pdfcheck.Pdf) -> tuple[int, list[pdfcheck.Line]]:
    """The page with the 成文日期 and its 16 pt lines."""
    for i in reversed(range(pdf.page_count)):
        lines = pdf.lines(i)
        if any(ln.text.endswith("日") and "年" in ln.text and ln.text[:4].isdigit() for ln in lines):
            return i, lines
    raise AssertionError("no 成文日期")


def test_request_and_report_are_laid_out_as_upward_documents(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    township = env["township"]
    hekou = _hekou()
    signer, contact, phone = hekou.posts["deputy_secretary"], hekou.posts["office_director"], hekou.phone
    assert signer and contact and phone  # the demo org has them (config/org/units.json)

    request = issue("extension_request", township, record_id=_extended(township).id)
    with pdfcheck.Pdf(request.pdf) as pdf:
        _check_head(pdf, request.number, signer)
        page, lines = _last_lines(pdf)
        date = max(i for i, ln in enumerate(lines) if ln.text[:4].isdigit() and ln.text.endswith("日"))
        note = lines[date + 1]
        assert note.text == f"（联系人：{contact}，联系电话：{phone}）"
        assert note.baseline - lines[date].baseline == pytest.approx(HANG, abs=0.6)
        left = pdfcheck.pt(pdfcheck.block_x_mm(page)[0])
        assert (note.x0 - left) / ZI == pytest.approx(2, abs=0.1)

    report = issue("rectification_report", township, record_id=key_area(township).id)
    with pdfcheck.Pdf(report.pdf) as pdf:
        _check_head(pdf, report.number, signer)
        text = pdf.text()
        assert "联系人" not in text and "联系电话" not in text  # a 报告 has no 附注

    # a 下行文 (the county's 挂牌督办通知书) keeps the centred number, without 签发人
    row = issue("listing_notice", env["county"], record_id=key_area(township).id)
    with pdfcheck.Pdf(row.pdf) as pdf:
        number = _number_line(pdf)
        assert number.text == row.number
        assert pdfcheck.mm(number.centre) == pytest.approx(106, abs=1.5)
        assert "签发人" not in pdf.text()


def test_preview_has_the_upward_head_too(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import preview

    with pdfcheck.Pdf(preview("extension_request", env["township"], record_id=_extended(env["township"]).id)) as pdf:
        assert "签发人：" + _hekou().posts["deputy_secretary"] in pdf.text()


def _issued_count() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(DocumentCounter.last_seq), 0))))


@pytest.mark.parametrize("missing", ["deputy_secretary", "office_director", "phone"])
def test_a_unit_without_the_holder_or_phone_is_refused(env, missing):  # type: ignore[no-untyped-def]
    import server.auth.service as auth_service

    app, township = env["app"], env["township"]
    record = _extended(township)
    hekou = _hekou()
    if missing == "phone":
        hekou.phone = None
        expected = ["河口镇未配置联系电话", "综治办主任", "延期整治申请"]
    else:
        hekou.posts = {k: v for k, v in hekou.posts.items() if k != missing}
        title = {"deputy_secretary": "党委副书记（综治中心主任）", "office_director": "综治办主任"}[missing]
        expected = [f"河口镇未配置「{title}」的任职人", "延期整治申请", "请管理员在组织机构中填写"]
    db.session.commit()
    before = _issued_count()

    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {auth_service.create_token('hekou', 'tests')}"
    response = api.post("/api/v1/documents", json={"doc_id": "extension_request", "record_id": record.id})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert [e["pointer"] for e in errors] == ["/issuer"]
    assert all(part in errors[0]["message"] for part in expected), errors

    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = login_session(township)
        session["_fresh"] = True
    page = browser.post(f"/records/{record.id}/documents/extension_request",
                        data={"csrf_token": csrf_token(browser)})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert all(part in html for part in expected), html
    preview = browser.get(f"/records/{record.id}/documents/extension_request/preview.pdf")
    assert preview.status_code == 422 and expected[0] in preview.get_data(as_text=True)
    assert _issued_count() == before  # nothing issued, no number taken

    if missing != "deputy_secretary":  # the 报告 (after 验收) needs only the 签发人
        from tests.keyareas import in_stage

        in_stage("rectification_report", record.id, township)
        assert api.post("/api/v1/documents", json={"doc_id": "rectification_report",
                                                   "record_id": record.id}).status_code == 201

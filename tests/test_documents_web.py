"""Document pages: 生成文书 on the record page, preview, issue, the register, download, revoke, scope."""
from __future__ import annotations

import hashlib
import io
import re
from urllib.parse import quote

import pdfplumber
import sqlalchemy as sa

from server.documents.models import DocumentCounter, IssuedDocument
from server.extensions import db
from server.timeutil import CST
from tests.conftest import csrf_token
from tests.documents_fixtures import doc_app, make_record, user_client  # noqa: F401


def _year() -> int:
    from datetime import datetime

    return datetime.now(CST).year


def _issued() -> list[IssuedDocument]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(IssuedDocument).order_by(IssuedDocument.id)))


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join(c["text"] for page in pdf.pages for c in page.chars if not c["text"].isspace())


def _issue(client, record_id: int, doc_id: str = "incident_notice"):  # type: ignore[no-untyped-def]
    return client.post(f"/records/{record_id}/documents/{doc_id}", data={"csrf_token": csrf_token(client)})


def test_record_page_offers_documents_only_to_those_who_may_issue(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    html = clerk.get(f"/records/{record.id}").get_data(as_text=True)
    section = html[html.index('class="card my-3 x-documents"'):]
    assert "生成文书" in section and "《事件处置告知书》" in section
    assert f'href="/records/{record.id}/documents/incident_notice/preview.pdf"' in section
    assert f'action="/records/{record.id}/documents/incident_notice"' in section and 'name="csrf_token"' in section
    assert "尚未签发" in section
    assert "<script>" not in html and not re.search(r"\sstyle=", html)  # CSP
    assert '>文书登记</a>' in html  # the nav link
    county = user_client(doc_app, "county").get(f"/records/{record.id}").get_data(as_text=True)
    assert "生成文书" in county
    # the county leader may read the record but issue nothing: no section at all (nothing issued yet)
    leader = user_client(doc_app, "leader").get(f"/records/{record.id}")
    assert leader.status_code == 200 and "生成文书" not in leader.get_data(as_text=True)
    # the other township's clerk does not see the record at all
    assert user_client(doc_app, "clerk_b").get(f"/records/{record.id}").status_code == 404


def test_preview_is_a_watermarked_draft_and_takes_no_number(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    response = clerk.get(f"/records/{record.id}/documents/incident_notice/preview.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    text = _pdf_text(response.data)
    assert "草稿" in text and "事件处置告知书" in text and "夜市噪音扰民" in text and record.number in text
    assert f"城关综测〔{_year()}〕" in text and f"〔{_year()}〕1号" not in text  # the sequence left blank
    assert _issued() == [] and db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0
    # twice: still nothing taken
    assert clerk.get(f"/records/{record.id}/documents/incident_notice/preview.pdf").status_code == 200
    assert _issued() == []


def test_issue_numbers_one_then_two_and_the_download_is_the_stored_bytes(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    first = _issue(clerk, record.id)
    assert first.status_code == 302
    rows = _issued()
    assert [r.number for r in rows] == [f"城关综测〔{_year()}〕1号"]
    assert first.headers["Location"] == f"/documents/{rows[0].id}"
    page = clerk.get(first.headers["Location"]).get_data(as_text=True)
    assert f"已签发《事件处置告知书》，文号 城关综测〔{_year()}〕1号" in page  # the flash
    for expected in ("城关镇综治中心", rows[0].sha256, rows[0].template_version, "已签发", record.number):
        assert expected in page
    assert f"{rows[0].pages} 页" in page

    # again for the same record: a confirm page listing the earlier one (with its link), nothing issued
    again = _issue(clerk, record.id)
    html = again.get_data(as_text=True)
    assert again.status_code == 409 and "确认再次签发《事件处置告知书》" in html
    assert f'href="/documents/{rows[0].id}"' in html and rows[0].number in html and len(_issued()) == 1
    second = clerk.post(f"/records/{record.id}/documents/incident_notice",
                        data={"csrf_token": csrf_token(clerk), "confirm_reissue": "1"})
    rows = _issued()
    assert second.status_code == 302 and [r.number for r in rows] == [f"城关综测〔{_year()}〕{n}号" for n in (1, 2)]

    download = clerk.get(f"/documents/{rows[0].id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == rows[0].pdf and hashlib.sha256(download.data).hexdigest() == rows[0].sha256
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(rows[0].number + '.pdf', safe='')}" in disposition
    text = _pdf_text(download.data)
    assert rows[0].number in text and "草稿" not in text

    # the record page lists both, with download links
    html = clerk.get(f"/records/{record.id}").get_data(as_text=True)
    section = html[html.index('class="card my-3 x-documents"'):]
    assert "本记录已签发的文书" in section and section.count("已签发</span>") == 2
    assert f'href="/documents/{rows[1].id}.pdf"' in section and rows[1].number in section
    # and the register too
    register = clerk.get("/documents/").get_data(as_text=True)
    assert register.count("事件处置告知书") == 2 and rows[0].number in register and rows[1].number in register


def test_revoke_needs_a_reason_keeps_the_number_and_shows_revoked(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    _issue(clerk, record.id)
    row = _issued()[0]
    url = f"/documents/{row.id}"
    assert "撤销理由（必填）" in clerk.get(url).get_data(as_text=True)

    empty = clerk.post(f"{url}/revoke", data={"csrf_token": csrf_token(clerk), "reason": "   "})
    assert empty.status_code == 422 and "请填写撤销理由" in empty.get_data(as_text=True)
    long = "错" * 501
    too_long = clerk.post(f"{url}/revoke", data={"csrf_token": csrf_token(clerk), "reason": long})
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "不能超过 500 字" in html and f">{long}</textarea>" in html
    assert _issued()[0].state == "issued"

    done = clerk.post(f"{url}/revoke", data={"csrf_token": csrf_token(clerk), "reason": "事由有误，重新签发"})
    assert done.status_code == 302 and done.headers["Location"] == url
    row = _issued()[0]
    assert row.state == "revoked" and row.number == f"城关综测〔{_year()}〕1号"
    page = clerk.get(url).get_data(as_text=True)
    assert "已撤销" in page and "事由有误，重新签发" in page and row.number in page
    assert "撤销理由（必填）" not in page  # no second revocation
    record_page = clerk.get(f"/records/{record.id}").get_data(as_text=True)
    assert "已撤销</span>" in record_page and "事由有误，重新签发" in record_page
    assert clerk.get(f"{url}.pdf").data == row.pdf  # still downloadable
    # the next one continues the sequence: a revoked number is never reused
    _issue(clerk, record.id)
    assert _issued()[-1].number == f"城关综测〔{_year()}〕2号"


def test_leader_sees_but_may_not_revoke(doc_app):
    record = make_record()
    _issue(user_client(doc_app, "clerk"), record.id)
    row = _issued()[0]
    leader = user_client(doc_app, "leader")
    page = leader.get(f"/documents/{row.id}")
    assert page.status_code == 200 and "撤销理由" not in page.get_data(as_text=True)
    refused = leader.post(f"/documents/{row.id}/revoke", data={"csrf_token": csrf_token(leader), "reason": "x"})
    assert refused.status_code == 403 and _issued()[0].state == "issued"


def test_other_township_gets_404_everywhere(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    _issue(clerk, record.id)
    row = _issued()[0]
    other = user_client(doc_app, "clerk_b")
    for url in (f"/documents/{row.id}", f"/documents/{row.id}.pdf",
                f"/records/{record.id}/documents/incident_notice/preview.pdf"):
        response = other.get(url)
        assert response.status_code == 404, url
        assert "未找到" in response.get_data(as_text=True)
    missing = other.get("/documents/999999")
    assert missing.status_code == 404 and missing.get_data() == other.get(f"/documents/{row.id}").get_data()
    assert other.post(f"/documents/{row.id}/revoke",
                      data={"csrf_token": csrf_token(other), "reason": "越权"}).status_code == 404
    assert _issue(other, record.id).status_code == 404
    assert row.number not in other.get("/documents/").get_data(as_text=True)
    assert [r.state for r in _issued()] == ["issued"]


def test_posts_without_csrf_token_are_refused(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    assert clerk.post(f"/records/{record.id}/documents/incident_notice").status_code == 400
    assert _issued() == []
    _issue(clerk, record.id)
    row = _issued()[0]
    assert clerk.post(f"/documents/{row.id}/revoke", data={"reason": "无令牌"}).status_code == 400
    assert clerk.post("/documents/new/monthly_report", data={"month": "2026-05", "action": "issue"}).status_code == 400
    assert _issued()[0].state == "issued" and len(_issued()) == 1


def test_render_failure_shows_the_message_and_issues_nothing(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    for response in (clerk.get(f"/records/{record.id}/documents/broken_notice/preview.pdf"),
                     _issue(clerk, record.id, "broken_notice")):
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and response.mimetype == "text/html"
        assert "文书模板出错" in html and "模板运算结果过大" in html and "未签发任何文书" in html
    assert _issued() == []
    # the failed issue rolled its number back: the first real one of that 代字 is still 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0


def test_unknown_document_is_404(doc_app):
    record = make_record()
    clerk = user_client(doc_app, "clerk")
    assert clerk.get(f"/records/{record.id}/documents/nope/preview.pdf").status_code == 404
    assert _issue(clerk, record.id, "nope").status_code == 404
    assert clerk.get("/documents/new/nope").status_code == 404
    assert clerk.get("/documents/new/incident_notice").status_code == 404  # not a statistics document


def test_statistics_document_by_month(doc_app):
    make_record(reported_on="2026-05-03")
    make_record(reported_on="2026-05-20", source="phone")
    make_record(reported_on="2026-06-01")
    county = user_client(doc_app, "county")
    assert "生成《事件登记月报》" in county.get("/documents/").get_data(as_text=True)
    form = county.get("/documents/new/monthly_report?month=2026-05")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and 'type="month"' in html and 'value="2026-05"' in html

    bad = county.post("/documents/new/monthly_report",
                      data={"csrf_token": csrf_token(county), "month": "2026-13", "action": "issue"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写统计月份" in html and 'value="2026-13"' in html and _issued() == []
    empty = county.post("/documents/new/monthly_report",
                        data={"csrf_token": csrf_token(county), "month": "", "action": "issue"})
    assert empty.status_code == 422 and "请填写统计月份" in empty.get_data(as_text=True) and _issued() == []

    preview = county.post("/documents/new/monthly_report",
                          data={"csrf_token": csrf_token(county), "month": "2026-05", "action": "preview"})
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    text = _pdf_text(preview.data)
    assert "草稿" in text and "2026年5月" in text and "城关镇" in text and _issued() == []

    issued = county.post("/documents/new/monthly_report",
                         data={"csrf_token": csrf_token(county), "month": "2026-05", "action": "issue"})
    row = _issued()[0]
    assert issued.status_code == 302 and issued.headers["Location"] == f"/documents/{row.id}"
    assert row.number == f"示范综月〔{_year()}〕1号" and row.record_id is None
    assert row.data["totals"] == {"incidents": 2, "visits": 1}
    page = county.get(f"/documents/{row.id}").get_data(as_text=True)
    assert "统计（2026年5月）" in page
    # statistics documents follow their issuing unit: the county's is not a township clerk's
    assert user_client(doc_app, "clerk").get(f"/documents/{row.id}").status_code == 404
    # a leader may issue no statistics document
    assert user_client(doc_app, "leader").get("/documents/new/monthly_report").status_code == 403

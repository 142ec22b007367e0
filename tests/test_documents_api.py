"""/api/v1/documents: issue (201 + links), read, download the stored bytes; 422, 404 and scope."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from server.documents.models import IssuedDocument
from server.extensions import db
from tests.documents_fixtures import api_client, doc_app, make_record, user_client  # noqa: F401


def _issued() -> list[IssuedDocument]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(IssuedDocument).order_by(IssuedDocument.id)))


def test_issue_returns_201_with_links_then_get_and_pdf(doc_app):
    record = make_record()
    api = api_client(doc_app, "clerk")
    response = api.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    row = _issued()[0]
    assert body["id"] == row.id and body["number"] == row.number and row.number.startswith("城关综测〔")
    assert {k: body[k] for k in ("doc_id", "title", "record_id", "sha256", "pages", "state")} == {
        "doc_id": "incident_notice", "title": "事件处置告知书", "record_id": record.id, "sha256": row.sha256,
        "pages": row.pages, "state": "issued"}
    assert body["links"] == {"self": f"/api/v1/documents/{row.id}", "pdf": f"/api/v1/documents/{row.id}.pdf"}
    assert response.headers["Location"] == body["links"]["self"]

    assert api.get(body["links"]["self"]).get_json() == body
    pdf = api.get(body["links"]["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == row.pdf and hashlib.sha256(pdf.data).hexdigest() == body["sha256"]
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]

    # the same document for the same record again: refused (409, nothing numbered) until confirmed
    again = api.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id})
    assert again.status_code == 409
    refusal = again.get_json()
    assert refusal["error"] == "already_issued" and row.number in refusal["message"]
    assert refusal["earlier"] == [body]
    bad = api.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id,
                                              "confirm_reissue": "yes"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/confirm_reissue"
    second = api.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id,
                                                 "confirm_reissue": True}).get_json()
    assert second["number"] == row.number.replace("1号", "2号") and second["id"] != body["id"]


def test_statistics_document_by_month(doc_app):
    make_record(reported_on="2026-05-03")
    api = api_client(doc_app, "county")
    response = api.post("/api/v1/documents", json={"doc_id": "monthly_report", "month": "2026-05"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["record_id"] is None and body["number"].startswith("示范综月〔")
    bad = api.post("/api/v1/documents", json={"doc_id": "monthly_report", "month": "May"})
    assert bad.status_code == 422 and [e["pointer"] for e in bad.get_json()["errors"]] == ["/month"]


def test_bad_bodies_get_422_naming_the_field(doc_app):
    record = make_record()
    api = api_client(doc_app, "clerk")

    def errors(body):  # type: ignore[no-untyped-def]
        response = api.post("/api/v1/documents", json=body)
        assert response.status_code == 422, response.get_json()
        return [e["pointer"] for e in response.get_json()["errors"]]

    assert errors({"record_id": record.id}) == ["/doc_id"]
    assert errors({"doc_id": 7, "record_id": record.id}) == ["/doc_id"]
    assert errors({"doc_id": "incident_notice", "record_id": "abc"}) == ["/record_id"]
    assert errors({"doc_id": "incident_notice", "record_id": True}) == ["/record_id"]
    assert errors({"doc_id": "incident_notice"}) == ["/record_id"]  # the service: a record is needed
    assert errors({"doc_id": "incident_notice", "record_id": record.id, "extra": 1}) == ["/extra"]
    assert errors([1, 2]) == [""]
    not_json = api.post("/api/v1/documents", data="x", content_type="text/plain")
    assert not_json.status_code == 422
    assert _issued() == []


def test_render_failure_is_422_render_failed_and_issues_nothing(doc_app):
    record = make_record()
    api = api_client(doc_app, "clerk")
    response = api.post("/api/v1/documents", json={"doc_id": "broken_notice", "record_id": record.id})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "render_failed" and "模板运算结果过大" in body["message"]
    assert _issued() == []


def test_unknown_document_and_scope_are_404_with_the_same_body(doc_app):
    record = make_record()
    clerk = api_client(doc_app, "clerk")
    other = api_client(doc_app, "clerk_b")
    unknown = clerk.post("/api/v1/documents", json={"doc_id": "nope", "record_id": record.id})
    assert unknown.status_code == 404
    missing_record = clerk.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": 99999})
    assert missing_record.status_code == 404
    foreign_record = other.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id})
    assert foreign_record.status_code == 404 and foreign_record.get_json() == missing_record.get_json()

    row_id = clerk.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id}).get_json()["id"]
    missing = other.get("/api/v1/documents/99999")
    for url in (f"/api/v1/documents/{row_id}", f"/api/v1/documents/{row_id}.pdf"):
        response = other.get(url)
        assert response.status_code == 404 and response.get_json() == missing.get_json() == {
            "error": "not_found", "message": "未找到"}


def test_leader_may_read_but_not_issue(doc_app):
    record = make_record()
    row_id = api_client(doc_app, "clerk").post(
        "/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id}).get_json()["id"]
    leader = api_client(doc_app, "leader")
    assert leader.get(f"/api/v1/documents/{row_id}").status_code == 200
    refused = leader.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": record.id})
    assert refused.status_code == 403 and len(_issued()) == 1


def test_session_cookie_is_not_enough(doc_app):
    from tests.documents_fixtures import user_client

    browser = user_client(doc_app, "clerk")
    assert browser.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": 1}).status_code == 401


def test_openapi_documents_the_document_routes(doc_app):
    doc = api_client(doc_app, "clerk").get("/api/v1/openapi.json").get_json()
    assert {"/documents", "/documents/{document_id}", "/documents/{document_id}.pdf"} <= set(doc["paths"])
    assert "IssuedDocument" in doc["components"]["schemas"]


def test_a_month_with_a_trailing_newline_is_not_a_month(doc_app):
    api = api_client(doc_app, "county")
    response = api.post("/api/v1/documents", json={"doc_id": "monthly_report", "month": "2026-05\n"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["pointer"] == "/month"
    assert _issued() == []


def test_ids_beyond_64_bits_are_404_or_422_not_500(doc_app):
    api = api_client(doc_app, "clerk")
    huge = 10**20
    for url in (f"/api/v1/documents/{huge}", f"/api/v1/documents/{huge}.pdf", f"/api/v1/records/{huge}"):
        assert api.get(url).status_code == 404, url
    response = api.post("/api/v1/documents", json={"doc_id": "incident_notice", "record_id": huge})
    assert response.status_code == 422 and response.get_json()["errors"][0]["pointer"] == "/record_id"
    assert user_client(doc_app, "clerk").get(f"/documents/{huge}").status_code == 404


def test_issuing_in_another_units_name_is_403_with_the_reason(doc_app):
    from server.org.service import unit_by_code
    from server.records import service as records

    record = make_record("clerk_b")  # 河口镇's record, routed to 城关镇
    records.route_record(record, unit_by_code("999901001000"), "test")
    db.session.commit()
    response = api_client(doc_app, "clerk").post("/api/v1/documents",
                                                 json={"doc_id": "incident_notice", "record_id": record.id})
    assert response.status_code == 403 and "河口镇" in response.get_json()["message"]
    page = user_client(doc_app, "clerk").get(f"/records/{record.id}").get_data(as_text=True)
    assert "确认签发" not in page  # not offered where it would be refused
    assert _issued() == []

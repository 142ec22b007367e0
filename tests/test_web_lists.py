"""Lists a clerk can use: the registering unit, references by the referenced record's title, linked.

A transfer that says "XXY-139901001000-2026-0001" makes the clerk open another tab; one that says
王建华 and links to him does not. The title must not undo 要求保密: a referenced record's title reads
as the viewer may read that record.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.records import service
from tests.conftest import _seed_org_and_users, login_session, user_named

CONFIDENTIAL = Path(__file__).parent / "configs" / "confidential"


def _web(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
    return client


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _links_to(html: str, record_id: int) -> list[str]:
    """The texts of the links to a record's page."""
    return re.findall(rf'<a class="x-ref" href="/records/{record_id}" title="[^"]*">([^<]*)</a>', html)


def test_list_and_detail_name_the_referenced_record_and_the_registering_unit(app, client):
    incident = service.create_record("incident", {"reported_on": "2026-05-06", "source": "visit",
                                                  "summary": "东街村出租屋聚众赌博"}, user_named("clerk"))
    transfer = service.create_record("transfer", {"incident": incident.number, "note": "请核查"}, user_named("clerk"))
    listing = _page(client, "/forms/transfer/")
    # the incident form defines no x-ui.title, so its first list column (登记日期) names it
    assert _links_to(listing, incident.id) == ["2026-05-06"]
    assert f'title="{incident.number}"' in listing  # the number one hover away
    assert "<th>登记单位</th>" in listing and '<td data-label="登记单位">城关镇</td>' in listing
    detail = _page(client, f"/records/{transfer.id}")
    assert _links_to(detail, incident.id) == ["2026-05-06"]


def test_a_reference_the_viewer_cannot_open_stays_a_bare_number(app):
    incident = service.create_record("incident", {"reported_on": "2026-05-06", "source": "visit",
                                                  "summary": "河西村纠纷"}, user_named("clerk_b"))
    transfer = service.create_record("transfer", {"incident": incident.number, "unit": "GA-PCS01"},
                                     user_named("county"))
    assert _links_to(_page(_web(app, "county"), f"/records/{transfer.id}"), incident.id) == ["2026-05-06"]
    # the 派出所 sees the transfer routed to it, but not 河口镇's incident: its number, no link, no title
    police = _web(app, "police")
    assert police.get(f"/records/{incident.id}").status_code == 404
    for url in ("/forms/transfer/", f"/records/{transfer.id}"):
        html = _page(police, url)
        assert incident.number in html and f'href="/records/{incident.id}"' not in html, url


@pytest.fixture
def titled_app(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The 要求保密 test form, named by its reporter (``x-ui.title``), and a note form referring to it."""
    config = tmp_path / "config"
    shutil.copytree(CONFIDENTIAL, config)
    report_path = config / "forms" / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["x-ui"]["title"] = ["reporter/name"]
    report_path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    note: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "测试备注簿", "type": "object",
        "properties": {"report": {"type": "string", "title": "所涉反映", "x-ui": {"ref": "report"}},
                       "text": {"type": "string", "title": "备注"}},
        "required": ["report"], "unevaluatedProperties": False,
        "x-ui": {"list": ["report", "text"]},
        "x-form": {"permissions": {"create": [{"role": "county_staff"}],
                                   "read": [{"role": "county_staff"}, {"role": "department_staff"}],
                                   "update": [{"role": "county_staff"}]}},
    }
    (config / "forms" / "note.json").write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    app = make_app(config_dir=config)
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        yield app


def test_a_referenced_title_keeps_what_the_viewer_may_not_read_hidden(titled_app):
    from server.org.service import unit_by_code

    secret = service.create_record("report", {"summary": "聚众赌博", "route_unit": "GA-PCS01",
                                              "reporter": {"name": "赵保密", "confidential": True}},
                                   user_named("clerk"))
    note = service.create_record("note", {"report": secret.number, "text": "已核实"}, user_named("county"))
    service.route_record(note, unit_by_code("GA-PCS01"), "test")
    county = _web(titled_app, "county")
    assert _links_to(_page(county, "/forms/note/"), secret.id) == ["赵保密"]
    assert _links_to(_page(county, f"/records/{note.id}"), secret.id) == ["赵保密"]
    police = _web(titled_app, "police")  # the 派出所 the report is routed to: not a reader of the name
    for url in ("/forms/note/", f"/records/{note.id}"):
        html = _page(police, url)
        assert _links_to(html, secret.id) == ["（保密）"], url
        assert "赵保密" not in html, url


def test_the_reference_picker_offers_records_by_title(titled_app):
    """The picker's label starts with the title the list will show once picked (赵公开), then the form's
    other list columns; a name hidden from the viewer stays hidden there too."""
    open_report = service.create_record("report", {"summary": "夜市噪音", "route_unit": "GA-PCS01",
                                                   "reporter": {"name": "赵公开"}}, user_named("clerk"))
    secret = service.create_record("report", {"summary": "聚众赌博", "route_unit": "GA-PCS01",
                                              "reporter": {"name": "赵保密", "confidential": True}},
                                   user_named("clerk"))
    labels = {i["number"]: i["label"] for i in _web(titled_app, "county").get("/forms/report/lookup?q=").get_json()}
    assert labels[open_report.number].startswith("赵公开 · ") and "夜市噪音" in labels[open_report.number]
    assert labels[secret.number].startswith("赵保密 · ")
    police = {i["number"]: i["label"] for i in _web(titled_app, "police").get("/forms/report/lookup?q=").get_json()}
    assert police[secret.number].startswith("（保密）") and "赵保密" not in police[secret.number]

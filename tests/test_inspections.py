"""The departments' monthly inspection reports as shipped (config/forms/monthly_inspection.json, the 月报催报
rule config/rules/monthly_report.json and its facts): key areas named by reference, and the 月报报送情况
page (server/records/reporting.py) at the month boundary and per role."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from server.extensions import db
from server.org.models import OrgUnit
from server.records.models import Record
from server.rules.models import Decision
from server.settings import PROJECT_ROOT
from tests.conftest import login_session, user_named
from tests.test_no_english import english_words

COUNTY, CHENGGUAN, HEKOU = "139901000000", "139901001000", "139901101000"
USERS = [("county", "county_staff", COUNTY), ("admin", "county_admin", COUNTY), ("leader", "leader", COUNTY),
         ("ga", "department_staff", "GA"), ("sf", "department_staff", "SF"), ("pcs", "department_staff", "GA-PCS01"),
         ("chengguan", "township_staff", CHENGGUAN), ("officer", "info_officer", "139901001001")]
KEY_AREA = {"name": "东岗村废弃砖厂周边", "area_type": "complex_village", "township_code": HEKOU,
            "identification": {"discovery_source": "screening", "identified_date": "2026-04-20"}}


@pytest.fixture
def app(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The shipped configuration (its county, 20 county units) and one user per role."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    with app.app_context():
        from server.auth.service import create_user

        for name, role, org in USERS:
            create_user(name, "Jiangbei-qiao-88", role=role, org_code=org, display_name=name)
        yield app


def browser(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def api(app, username: str):  # type: ignore[no-untyped-def]
    from server.auth.service import create_token

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(username, 'tests')}"
    return client


def key_area(app, name: str) -> str:
    response = api(app, "county").post("/api/v1/forms/key_area/records", json=dict(KEY_AREA, name=name))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def report(app, username: str, month: str, unit: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"report_month": month, "inspecting_unit": unit, "inspectors": "王建军", **extra}
    response = api(app, username).post("/api/v1/forms/monthly_inspection/records", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def county_units() -> list[str]:
    return list(db.session.scalars(sa.select(OrgUnit.name).where(
        OrgUnit.kind == "county_unit", OrgUnit.is_active.is_(True)).order_by(OrgUnit.id)))


def status_rows(html: str) -> dict[str, str]:
    """Unit name → 已报送/未报送 as the page lists them."""
    rows = re.findall(r'<tr class="x-(reported|missing)">\s*<td data-label="单位"><span title="[^"]*">([^<]+)</span>', html)
    return {name: "已报送" if state == "reported" else "未报送" for state, name in rows}


def counts(html: str) -> tuple[int, int, int]:
    match = re.search(r"应报 <strong>(\d+)</strong>，已报 <strong>(\d+)</strong>，未报 <strong[^>]*>(\d+)</strong>", html)
    assert match, html
    return int(match[1]), int(match[2]), int(match[3])


# -- key areas by reference ------------------------------------------------------------------------
def test_a_report_names_key_areas_by_reference_and_the_page_links_their_titles(app):
    first, second = key_area(app, "东岗村废弃砖厂周边"), key_area(app, "火车站广场夜市")
    saved = report(app, "county", "2026-05", "GA", other_places="城关镇网吧 3 家",
                   key_areas=[{"key_area": first}, {"key_area": second}])
    record = db.session.get(Record, saved["id"])
    assert record.data["key_areas"] == [{"key_area": first}, {"key_area": second}]
    assert record.data["other_places"] == "城关镇网吧 3 家"
    page = browser(app, "county").get(f"/records/{saved['id']}").get_data(as_text=True)
    for number, title in ((first, "东岗村废弃砖厂周边"), (second, "火车站广场夜市")):
        target = db.session.scalar(sa.select(Record.id).where(Record.number == number))
        assert f'<a class="x-ref" href="/records/{target}" title="{number}">{title}</a>' in page


def test_unknown_out_of_scope_and_repeated_key_areas_are_refused_field_by_field(app):
    # registered by the county and routed to the township and its 派出所 (直接责任人): outside the 司法局's records
    known = key_area(app, "东岗村废弃砖厂周边")
    body = {"report_month": "2026-05", "inspecting_unit": "GA", "inspectors": "王建军",
            "key_areas": [{"key_area": "ZD-139901000000-2026-999"}]}
    unknown = api(app, "county").post("/api/v1/forms/monthly_inspection/records", json=body)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == [{"pointer": "/key_areas/0/key_area",
                                             "message": "找不到编号为 ZD-139901000000-2026-999 的《社会治安重点地区排查整治台账》记录"}]
    outside = api(app, "sf").post("/api/v1/forms/monthly_inspection/records",
                                  json=dict(body, inspecting_unit="SF", key_areas=[{"key_area": known}]))
    assert outside.status_code == 422  # reads as unknown: its existence does not leak
    assert [e["pointer"] for e in outside.get_json()["errors"]] == ["/key_areas/0/key_area"]
    assert known in outside.get_json()["errors"][0]["message"]
    twice = api(app, "county").post("/api/v1/forms/monthly_inspection/records",
                                    json=dict(body, key_areas=[{"key_area": known}, {"key_area": known}]))
    assert twice.status_code == 422
    assert twice.get_json()["errors"] == [{"pointer": "/key_areas", "message": "同一重点地区只需填写一次"}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record).where(
        Record.form_id == "monthly_inspection")) == 0
    # the 公安局 names it: its 河口派出所 is the area's 直接责任人, and the area was routed there
    named = api(app, "ga").post("/api/v1/forms/monthly_inspection/records", json=dict(body, key_areas=[{"key_area": known}]))
    assert named.status_code == 201, named.get_json()


# -- 月报报送情况 ------------------------------------------------------------------------------------
def test_a_month_lists_who_reported_and_a_report_counts_for_its_own_month_only(app):
    may = report(app, "ga", "2026-05", "GA")
    report(app, "sf", "2026-06", "SF")
    units = county_units()
    county = browser(app, "county")
    page = county.get("/reporting/monthly?month=2026-05").get_data(as_text=True)
    rows = status_rows(page)
    assert list(rows) == units and counts(page) == (len(units), 1, len(units) - 1)
    assert rows["县公安局"] == "已报送" and rows["县司法局"] == "未报送"
    assert f'<a href="/records/{may["id"]}">{may["number"]}</a>' in page
    june = county.get("/reporting/monthly?month=2026-06").get_data(as_text=True)
    assert counts(june) == (len(units), 1, len(units) - 1)
    assert status_rows(june)["县公安局"] == "未报送" and status_rows(june)["县司法局"] == "已报送"
    assert english_words(page) == []


def test_the_previous_month_is_shown_unless_another_is_chosen_and_a_bad_month_is_refused(app):
    report(app, "ga", "2026-05", "GA")
    with freeze_time("2026-06-01 02:00:00"):  # 1 June, 10:00 in China: May's reports are due
        page = browser(app, "county").get("/reporting/monthly").get_data(as_text=True)
    assert 'name="month" value="2026-05"' in page and status_rows(page)["县公安局"] == "已报送"
    with freeze_time("2026-01-05 02:00:00"):
        assert 'value="2025-12"' in browser(app, "county").get("/reporting/monthly").get_data(as_text=True)
    bad = browser(app, "county").get("/reporting/monthly?month=2026-13")
    assert bad.status_code == 422
    assert "月份格式不正确，请按 2026-05 的格式选择月份" in bad.get_data(as_text=True)
    assert "x-reported" not in bad.get_data(as_text=True)


def test_county_level_sees_every_unit_a_department_its_own_and_others_are_refused(app):
    report(app, "county", "2026-05", "GA")  # filed by the county office on the bureau's behalf
    everyone = len(county_units())
    for username in ("county", "admin", "leader"):
        page = browser(app, username).get("/reporting/monthly?month=2026-05")
        assert page.status_code == 200 and len(status_rows(page.get_data(as_text=True))) == everyone, username
        assert "月报报送情况</a>" in page.get_data(as_text=True)  # the menu entry
    ga = browser(app, "ga").get("/reporting/monthly?month=2026-05").get_data(as_text=True)
    assert status_rows(ga) == {"县公安局": "已报送"} and counts(ga) == (1, 1, 0)
    assert 'href="/records/' not in ga.split("x-reporting")[1]  # the county's record: its number, no link
    assert status_rows(browser(app, "sf").get("/reporting/monthly?month=2026-05").get_data(as_text=True)) == {
        "县司法局": "未报送"}
    pcs = browser(app, "pcs").get("/reporting/monthly?month=2026-05").get_data(as_text=True)
    assert status_rows(pcs) == {} and "没有需要报送月报的单位" in pcs
    for username in ("chengguan", "officer"):
        refused = browser(app, username).get("/reporting/monthly?month=2026-05")
        assert refused.status_code == 403
        assert "月报报送情况由县综治办和县直单位查看，您的角色无权查看" in refused.get_data(as_text=True)
        assert "月报报送情况</a>" not in browser(app, username).get("/").get_data(as_text=True)


def test_the_chase_rule_still_flags_a_unit_without_a_report(app):
    report(app, "ga", "2026-05", "GA")
    output = app.test_cli_runner().invoke(args=["rules", "tick", "--date", "2026-06-06"]).output
    assert "monthly_report.missing" in output
    flagged = {d.facts["unit_code"] for d in db.session.scalars(sa.select(Decision).where(
        Decision.ruleset == "monthly_report", Decision.rule == "missing"))}
    assert "SF" in flagged and "GA" not in flagged

"""The seed's year as demo data (issue 10, item 8): ``flask demo load --year 2026`` replays a county year
through the services (records, transitions, rules, the tick, documents), once.

A small year (``--scale 0.05``, the same code paths) is loaded here and its structure checked: every
chain of the mechanism is there (研判 → 建议书 → 线索, 联席会议 → 挂牌督办 → 通知书, 验收 → 摘牌 or 延期),
dated within the year by the ``as_of`` clock, nothing after it. The full year takes about 100 seconds on
SQLite, so its test (which counts the seed's figures through the API) runs only with ``SLOW_TESTS=1``.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.settings import PROJECT_ROOT

START, END = "2025-12-01", "2026-11-30"
CST = timezone(timedelta(hours=8))


@pytest.fixture
def county(make_app):  # type: ignore[no-untyped-def]
    """The shipped configuration and the demo county (its org tree and users), no records yet."""
    app = make_app(config_dir=PROJECT_ROOT / "config")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "已载入示范县" in result.output, result.output
    return app


def load(app, *extra: str) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["demo", "load", "--year", "2026", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def api(app):  # type: ignore[no-untyped-def]
    """A county office reader of its own (the demo users must first change their published password)."""
    with app.app_context():
        from server.auth.models import User
        from server.auth.service import create_token, create_user

        if db.session.scalar(sa.select(User.id).where(User.username == "reader")) is None:
            create_user("reader", "Jiangbei-qiao-88", role="county_staff", org_code="139901000000", display_name="reader")
        token = create_token("reader", "tests")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def records(client, form: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every record of ``form`` the client may read, page by page."""
    out, page = [], 1
    while True:
        body = client.get(f"/api/v1/forms/{form}/records?per_page=100&page={page}").get_json()
        assert "items" in body, body
        out += body["items"]
        if page * body["per_page"] >= body["total"]:
            return out
        page += 1


def full(client, record: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/records/{record['id']}").get_json()


def change(rows: list[dict[str, Any]], field: str, months: range) -> float:
    """Per cent change of ``field`` summed over ``months`` of 2026 against 2025."""
    def total(year: int) -> int:
        return sum(r["data"][field] for r in rows if r["data"]["month"] in {f"{year}-{m:02d}" for m in months})
    return (total(2026) - total(2025)) * 100 / total(2025)


def days_between(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


# -- the clock ------------------------------------------------------------------------------------------------
def test_as_of_moves_what_the_server_calls_now_and_restores_it():
    from server.timeutil import as_of, local_today, utcnow

    real = local_today()
    with as_of(date(2026, 5, 6)):
        assert local_today() == date(2026, 5, 6)
        assert utcnow() == datetime(2026, 5, 6, 1, 0, tzinfo=timezone.utc)  # 09:00 China time
        with as_of(datetime(2026, 6, 1, 23, 30)):  # naive = China time: already the 1st in China, the 1st in UTC too
            assert local_today() == date(2026, 6, 1) and utcnow().hour == 15
        assert local_today() == date(2026, 5, 6)
    assert local_today() == real


# -- a small year -------------------------------------------------------------------------------------------------
def test_a_small_year_has_every_chain_of_the_mechanism_and_loads_once(county):
    output = load(county, "--scale", "0.05")
    assert "已载入示范年度 2026" in output and "重点地区 3 处" in output, output
    client = api(county)

    areas = [full(client, a) for a in records(client, "key_area")]
    assert sorted(a["state"] for a in areas) == ["consolidating", "consolidating", "extended"]
    assessments = {a["number"]: a for a in records(client, "assessment")}
    meetings = {m["number"]: m for m in records(client, "joint_meeting")}
    for area in areas:
        data = area["data"]
        assert data["identification"]["assessment"] in assessments  # 研判 → 线索
        assert assessments[data["identification"]["assessment"]]["state"] == "concluded"
        assert data["identification"]["recommendation_letter_number"].endswith("号")  # → 建议书
        assert data["listing"]["meeting"] in meetings  # 联席会议 → 挂牌督办
        assert data["listing"]["notice_number"].endswith("号") and data["listing"]["rectification_deadline"]
        assert data["rectification"]["plan_summary"] and data["rectification"]["monthly_progress"]
        timeline = [(e["label"], e["by"]) for e in client.get(f"/api/v1/records/{area['id']}/timeline").get_json()]
        assert ("认定为重点地区", timeline[1][1]) in timeline and "综治中心" in timeline[1][1]  # the township's step
        assert [label for label, _ in timeline][-1] in ("摘牌", "登记延期批准")
    accepted = [a for a in areas if a["state"] == "consolidating"]
    assert all(a["data"]["acceptance"]["conclusion"] == "passed" and a["data"]["delisting"]["delisted_date"]
               for a in accepted)
    (extended,) = [a for a in areas if a["state"] == "extended"]
    assert extended["data"]["acceptance"]["conclusion"] == "extended"
    assert extended["data"]["delisting"]["extensions"][0]["new_deadline"] > date.today().isoformat()

    (crossroads,) = [a for a in areas if "陉山大道" in a["data"]["name"]]
    units = " ".join(m["unit"] for m in crossroads["data"]["rectification"]["measures"])
    assert all(u in units for u in ("住房和城乡建设局", "市场监督管理局", "卫生健康局", "公安局"))
    assert days_between(crossroads["data"]["listing"]["listed_date"], crossroads["data"]["acceptance"]["acceptance_date"]) <= 31

    with county.app_context():
        from server.documents.models import IssuedDocument
        from server.records.models import Record

        issued = dict(db.session.execute(sa.select(IssuedDocument.doc_id, sa.func.count()).group_by(IssuedDocument.doc_id)).all())
        first, last = db.session.execute(sa.select(sa.func.min(Record.created_at), sa.func.max(Record.updated_at))).one()
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Record))
    assert issued["recommendation_letter"] == issued["listing_notice"] == 3
    assert issued["delisting_notice"] == issued["acceptance_report"] == issued["rectification_report"] == 2
    assert issued["extension_request"] == 1
    stamp = lambda moment: moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(CST).date().isoformat()  # noqa: E731
    assert START <= stamp(first) and stamp(last) <= END  # written as of the year's days, none after it

    problems = records(client, "security_problem")
    visits = [p for p in problems if p["data"]["info_source"] == "visit"]
    assert visits and all(p["data"]["visit_record"].startswith("LF-") for p in visits)
    from_officers = [p for p in problems if p["data"]["info_source"] == "info_officer"]
    salient = {r["number"] for r in records(client, "officer_report") if r["data"].get("verification", {}).get("is_salient_problem")}
    assert from_officers and {p["data"]["officer_report"] for p in from_officers} <= salient
    assert {p["data"]["formed_key_area"] for p in problems if p["data"].get("formed_key_area")} == \
        {a["number"] for a in areas if a["data"]["name"] != crossroads["data"]["name"]}
    reports = records(client, "monthly_inspection")
    assert sorted(r["data"]["report_month"] for r in reports) == \
        [f"2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]
    cases = records(client, "case_statistics")
    assert change(cases, "criminal_cases", range(4, 10)) == -21 and change(cases, "public_order_cases", range(4, 10)) == -23
    assert client.get("/api/v1/vetoes").get_json()["items"] == []

    again = load(county, "--scale", "0.05")
    assert "示范年度 2026 已于" in again and "未做改动" in again
    with county.app_context():
        from server.records.models import Record

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == before


def test_a_county_with_records_of_its_own_gets_no_demo_year(county):
    with county.app_context():
        from server.auth.models import User
        from server.records.service import create_record

        user = db.session.scalar(sa.select(User).where(User.username == "county"))
        create_record("monthly_inspection", {"report_month": "2026-11", "inspecting_unit": "GA", "inspectors": "王建军"}, user)
    assert "已有台账记录，未载入示范年度" in load(county, "--scale", "0.05")
    assert records(api(county), "key_area") == []


def test_a_year_not_yet_over_is_not_loaded(county):
    from freezegun import freeze_time

    with freeze_time("2026-11-30 12:00:00"):  # 20:00 in China: the year's last day
        assert "须在此后载入" in load(county, "--scale", "0.05")
    assert records(api(county), "officer_roster") == []


# -- the whole year -----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SLOW_TESTS"), reason="整年载入约需 100 秒；设置 SLOW_TESTS=1 时运行")
def test_the_whole_year_has_the_seed_s_figures(county):
    load(county)
    client = api(county)
    problems = records(client, "security_problem")
    centres = [p for p in problems if p["data"]["info_source"] != "info_officer"]
    assert len(centres) == 146
    assert sum(p["data"]["info_source"] == "visit" for p in centres) == 73
    assert len({p["data"]["formed_key_area"] for p in centres if p["data"].get("formed_key_area")}) == 5

    roster = records(client, "officer_roster")
    assert len(roster) == 1242
    by_unit: dict[str, int] = {}
    for officer in roster:
        code = officer["data"].get("village_code") or officer["data"].get("community_code") or officer["data"]["unit_code"]
        by_unit[code] = by_unit.get(code, 0) + 1
    quota = {"village": 3, "community": 2, "unit_branch": 1, "police_station": 1, "dept_office": 1}
    units = client.get("/api/v1/org-units").get_json()
    units = units["items"] if isinstance(units, dict) else units
    assert all(by_unit.get(u["code"], 0) >= quota[u["kind"]] for u in units if u["kind"] in quota)  # every quota met

    reports = records(client, "officer_report")
    assert len(reports) == 289
    salient = {r["number"] for r in reports if r["data"].get("verification", {}).get("is_salient_problem")}
    assert len(salient) == 27
    from_officers = [p for p in problems if p["data"]["info_source"] == "info_officer"]
    assert {p["data"]["officer_report"] for p in from_officers} == salient
    assert len({p["data"]["formed_key_area"] for p in from_officers}) == 7

    monthly = records(client, "monthly_inspection")
    assert len({r["data"]["report_month"] for r in monthly}) == 12
    assert all(sum(r["data"]["inspecting_unit"] == u for r in monthly) == 12 for u in {r["data"]["inspecting_unit"] for r in monthly})
    assert len(records(client, "assessment")) == 24
    assert [m["state"] for m in records(client, "joint_meeting")] == ["decided"] * 4

    areas = records(client, "key_area")
    assert len(areas) == 17 and all(a["data"]["listing"]["listed_date"] >= "2026-04-20" for a in areas)
    assert sum(bool(a["data"].get("delisting", {}).get("delisted_date")) for a in areas) == 15
    assert sum(a["state"] == "extended" for a in areas) == 2
    assert client.get("/api/v1/vetoes").get_json()["items"] == []

    cases = records(client, "case_statistics")
    assert change(cases, "criminal_cases", range(4, 10)) == -21  # 4至9月, as the article counts
    assert change(cases, "public_order_cases", range(4, 10)) == -23
    assert change(cases, "criminal_cases", range(1, 12)) == -21  # and the year to date alike

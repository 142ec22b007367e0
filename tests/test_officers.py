"""治安信息员 (issue 10, item 5), on the shipped configuration: coverage against the quotas, the report
workflow (报送 → 核查 → 采用/不予采用), rewards by tier from the parameters, and the yearly figures.

Boundaries: a village with 3 officers in post has no gap, with 2 a gap of 1; a dismissed officer is not
counted; a first report is rewarded by its tier, a report that is not the first gets nothing; the
yearly figures count only that year's reports and only adopted ones as adopted.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD, csrf_token, login_session, user_named
from tests.test_no_english import english_words

HEKOU, CHENGGUAN = "139901101000", "139901001000"
VILLAGE_A, VILLAGE_B, COMMUNITY = "139901101201", "139901101202", "139901101001"   # 阎洼村, 朱岗村, 福寿社区
DONGFENG = "139901001001"                                                         # 东风社区 (城关街道)
USERS = [  # username, role, unit
    ("county", "county_staff", "139901000000"),
    ("leader", "leader", "139901000000"),
    ("chengguan", "township_staff", CHENGGUAN),
    ("hekou", "township_staff", HEKOU),
    ("xinxiyuan", "info_officer", DONGFENG),
    ("xinxiyuan2", "info_officer", DONGFENG),
]
VERIFIED = {"verification_unit": "城关派出所", "verified_date": "2026-11-03", "verification_result": "confirmed",
            "is_first_report": True, "is_salient_problem": True}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


@pytest.fixture
def county(make_app, config_dir):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=config_dir)
    with app.app_context():
        from server.auth.service import create_user

        for username, role, unit in USERS:
            create_user(username, PASSWORD, role=role, org_code=unit, display_name=username)
        yield app


def _api(app, username: str):  # type: ignore[no-untyped-def]
    from server.auth.service import create_token

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(username, 'tests')}"
    return client


def _web(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


_serial = iter(range(1, 1000))


def _id_number() -> str:
    from server.forms.formats import id_check_char

    first17 = f"13990119800101{next(_serial):03d}"
    return first17 + id_check_char(first17)


def _roster(app, username: str, category: str, code: str,  # type: ignore[no-untyped-def]
            status: str = "active") -> dict[str, Any]:
    n = next(_serial)
    data: dict[str, Any] = {"name": f"信息员{n}", "gender": "male", "id_number": _id_number(), "phone": f"1393112{n:04d}",
                            "quota_category": category, "appointed_date": "2026-01-05", "status": status}
    data.update({"village": {"village_code": code}, "community": {"community_code": code, "estate_name": "东风小区"},
                 "unit": {"unit_code": code}}[category])
    if status == "dismissed":
        data.update(dismissed_date="2026-06-01", dismissal_reason="外出务工")
    response = _api(app, username).post("/api/v1/forms/officer_roster/records", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _report(client, officer: str,  # type: ignore[no-untyped-def]
            reported_at: str = "2026-11-02T09:00") -> dict[str, Any]:
    response = client.post("/api/v1/forms/officer_report/records", json={
        "officer": officer, "reported_at": reported_at, "report_method": "app", "info_category": "crime_clue",
        "content": "东风小区地下室夜间有人聚赌，约十人"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _go(client, rid: int, transition: str,  # type: ignore[no-untyped-def]
        fields: dict[str, Any] | None = None, reason: str = "", status: int = 200) -> dict[str, Any]:
    response = client.post(f"/api/v1/records/{rid}/transitions/{transition}",
                           json={"fields": fields or {}, "reason": reason})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _get(client, rid: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/records/{rid}").get_json()


def _adopted(app, officer: str, level: str, first: bool = True,  # type: ignore[no-untyped-def]
             reported_at: str = "2026-11-02T09:00") -> dict[str, Any]:
    centre = _api(app, "chengguan")
    rid = _report(_api(app, "xinxiyuan"), officer, reported_at)["id"]
    _go(centre, rid, "verify", {"verification": dict(VERIFIED, is_first_report=first)})
    _go(centre, rid, "adopt", {"adoption": {"uses": ["assessment", "handled"], "reward_level": level}})
    return _get(centre, rid)


# -- coverage ----------------------------------------------------------------------------------------------
def _area(user: str, code: str):  # type: ignore[no-untyped-def]
    from server.records.coverage import coverage_for

    return next(a for a in coverage_for(user_named(user)) if a.code == code)


def _unit(area, code: str):  # type: ignore[no-untyped-def]
    return next(u for u in area.units if u.code == code)


def test_coverage_per_kind_at_the_quota_boundary(county):
    for _ in range(3):
        _roster(county, "hekou", "village", VILLAGE_A)
    for _ in range(2):
        _roster(county, "hekou", "village", VILLAGE_B)
    _roster(county, "hekou", "village", VILLAGE_B, status="dismissed")   # not in post: not counted
    _roster(county, "hekou", "community", COMMUNITY)
    _roster(county, "county", "unit", "GA-PCS04")
    hekou = _area("county", HEKOU)
    a, b, c = _unit(hekou, VILLAGE_A), _unit(hekou, VILLAGE_B), _unit(hekou, COMMUNITY)
    assert (a.kind_title, a.quota, a.officers, a.gap) == ("行政村", 3, 3, 0)
    assert (b.quota, b.officers, b.gap) == (3, 2, 1)
    assert (c.kind_title, c.quota, c.officers, c.gap) == ("社区", 2, 1, 1)
    villages = sum(1 for u in hekou.units if u.kind_title == "行政村")
    assert hekou.quota == 3 * villages + 2 * 2 and hekou.officers == 6 and hekou.gap == hekou.quota - 6
    gaps = [u.gap for u in hekou.units]
    assert gaps == sorted(gaps, reverse=True) and hekou.units[-1].code == VILLAGE_A  # gaps first
    police = _area("county", "GA")
    assert (_unit(police, "GA-PCS04").quota, _unit(police, "GA-PCS04").gap) == (1, 0)
    assert (_unit(police, "GA-PCS05").officers, _unit(police, "GA-PCS05").gap) == (0, 1)
    # dismissing one of village A's three officers opens a gap of one
    from server.records.models import Record

    first = db.session.scalars(sa.select(Record).where(Record.form_id == "officer_roster").order_by(Record.id)).first()
    data = dict(first.data, status="dismissed", dismissed_date="2026-10-01", dismissal_reason="本人辞聘")
    assert _api(county, "hekou").put(f"/api/v1/records/{first.id}", json=data,
                                     headers={"If-Match": str(first.version)}).status_code == 200
    assert _unit(_area("county", HEKOU), VILLAGE_A).gap == 1


def test_the_page_shows_each_user_their_own_areas(county):
    for _ in range(2):
        _roster(county, "hekou", "village", VILLAGE_B)
    town = _web(county, "hekou").get("/coverage/")
    html = town.get_data(as_text=True)
    assert town.status_code == 200 and "信息员配备情况" in html
    assert "朱岗村" in html and "城关街道" not in html  # the township's own villages, straight away
    assert re.search(r"河口镇：应配 \d+ 名，实配 2 名，缺口 \d+ 名", html)
    assert 'class="table table-sm table-bordered record-list' in html  # cards on a phone
    assert english_words(html) == []
    assert _web(county, "hekou").get(f"/coverage/?area={CHENGGUAN}").status_code == 404
    overview = _web(county, "leader").get("/coverage/").get_data(as_text=True)
    assert "河口镇" in overview and "城关街道" in overview and "县公安局" in overview and "合计" in overview
    assert english_words(overview) == []
    assert _web(county, "xinxiyuan").get("/coverage/").status_code == 403
    assert "信息员配备情况" not in _web(county, "xinxiyuan").get("/").get_data(as_text=True)
    assert _web(county, "leader").get("/coverage/?area=GA&year=20x6").status_code == 422


# -- reports: the officer files, the centre verifies and adopts ---------------------------------------------
def test_the_officer_files_a_report_on_the_web_without_the_verification_section(county):
    roster = _roster(county, "chengguan", "community", DONGFENG)
    officer = _web(county, "xinxiyuan")
    page = officer.get("/forms/officer_report/new").get_data(as_text=True)
    assert "信息内容" in page and "报送方式" in page and english_words(page) == []
    for closed in ("核查结果", "是否首报", "突出治安问题", "奖励等级", "奖励金额", "采用情况"):
        assert closed not in page, closed
    response = officer.post("/forms/officer_report/new", data={
        "csrf_token": csrf_token(officer), "officer": roster["number"], "reported_at": "2026-11-02T21:30",
        "report_method": "app", "info_category": "crime_clue", "content": "东风小区地下室夜间有人聚赌"})
    assert response.status_code == 302, response.get_data(as_text=True)
    rid = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    mine = _api(county, "xinxiyuan")
    assert _get(mine, rid)["state"] == "submitted"
    other = _report(_api(county, "xinxiyuan2"), roster["number"])
    assert [r["id"] for r in mine.get("/api/v1/forms/officer_report/records").get_json()["items"]] == [rid]
    assert mine.get(f"/api/v1/records/{other['id']}").status_code == 404
    crafted = mine.post("/api/v1/forms/officer_report/records", json={
        "officer": roster["number"], "reported_at": "2026-11-02T09:00", "report_method": "app",
        "info_category": "crime_clue", "content": "再报", "adoption": {"uses": ["handled"], "reward_level": "major"}})
    assert crafted.status_code == 422
    assert crafted.get_json()["errors"][0]["pointer"] == "/adoption"
    _go(mine, rid, "verify", {"verification": VERIFIED}, status=403)  # the officer only reports


def test_the_centre_is_told_verifies_and_adopts(county):
    from server.inbox.models import InboxItem
    from server.org.service import unit_by_code

    roster = _roster(county, "chengguan", "community", DONGFENG)
    rid = _report(_api(county, "xinxiyuan"), roster["number"])["id"]
    notice = db.session.scalars(sa.select(InboxItem).where(InboxItem.record_id == rid)).one()
    assert notice.unit_id == unit_by_code(CHENGGUAN).id and notice.status == "open"
    assert _api(county, "hekou").post(f"/api/v1/records/{rid}/transitions/verify",
                                      json={"fields": {"verification": VERIFIED}}).status_code == 404
    centre = _api(county, "chengguan")
    _go(centre, rid, "verify", {"verification": VERIFIED})
    _go(centre, rid, "adopt", {"adoption": {"uses": ["assessment"], "reward_level": "general"}})
    record = _get(centre, rid)
    assert record["state"] == "adopted"
    assert record["data"]["verification"]["is_salient_problem"] is True  # for the next 研判
    assert record["data"]["adoption"]["reward_amount"] == 50
    db.session.expire_all()
    assert db.session.get(InboxItem, notice.id).status == "withdrawn"
    html = _web(county, "chengguan").get(f"/records/{rid}").get_data(as_text=True)
    assert "按县定标准奖励 50 元" in html and english_words(html) == []


def test_an_unfounded_report_cannot_be_adopted(county):
    roster = _roster(county, "chengguan", "community", DONGFENG)
    rid = _report(_api(county, "xinxiyuan"), roster["number"])["id"]
    centre = _api(county, "county")
    _go(centre, rid, "verify", {"verification": dict(VERIFIED, verification_result="unconfirmed")})
    refused = _go(centre, rid, "adopt", {"adoption": {"uses": ["handled"], "reward_level": "general"}}, status=422)
    assert "不实" in json.dumps(refused, ensure_ascii=False)
    _go(centre, rid, "reject", reason="经派出所核查，无聚赌情况")
    assert _get(centre, rid)["state"] == "not_adopted" and "adoption" not in _get(centre, rid)["data"]


@pytest.mark.parametrize("level, amount", [("general", 50), ("significant", 200), ("major", 500)])
def test_a_first_report_is_rewarded_by_its_tier(county, level, amount):
    roster = _roster(county, "chengguan", "community", DONGFENG)
    adoption = _adopted(county, roster["number"], level)["data"]["adoption"]
    assert adoption["reward_level"] == level and adoption["reward_amount"] == amount


def test_a_report_that_is_not_the_first_gets_no_reward(county):
    roster = _roster(county, "chengguan", "community", DONGFENG)
    adoption = _adopted(county, roster["number"], "major", first=False)["data"]["adoption"]
    assert adoption["reward_level"] == "none" and adoption["reward_amount"] == 0


def test_the_amounts_are_parameters(county, config_dir):
    params = config_dir / "rules" / "parameters.json"
    doc = json.loads(params.read_text(encoding="utf-8"))
    doc["parameters"]["officer_reward_general"]["value"] = 80
    params.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = county.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output
    roster = _roster(county, "chengguan", "community", DONGFENG)
    assert _adopted(county, roster["number"], "general")["data"]["adoption"]["reward_amount"] == 80


# -- the officers' year -----------------------------------------------------------------------------------------
def test_yearly_totals_count_only_that_years_adopted_reports(county):
    from server.records.coverage import area_coverage, officer_totals

    roster = _roster(county, "chengguan", "community", DONGFENG)
    idle = _roster(county, "chengguan", "community", DONGFENG)
    _adopted(county, roster["number"], "general")                                   # 2026: adopted, 50
    _adopted(county, roster["number"], "major")                                     # 2026: adopted, 500
    _adopted(county, roster["number"], "general", first=False)                      # 2026: adopted, 0
    _report(_api(county, "xinxiyuan"), roster["number"])                             # 2026: not yet verified
    _adopted(county, roster["number"], "major", reported_at="2025-12-31T23:30")     # 2025
    area = area_coverage(user_named("chengguan"), CHENGGUAN)
    rows = {o.number: o for o in officer_totals(user_named("chengguan"), area, 2026).officers}
    busy = rows[roster["number"]]
    assert (busy.reports, busy.adopted, busy.reward_total) == (4, 3, 550)
    assert (rows[idle["number"]].reports, rows[idle["number"]].adopted) == (0, 0)
    last = {o.number: o for o in officer_totals(user_named("chengguan"), area, 2025).officers}
    assert (last[roster["number"]].reports, last[roster["number"]].reward_total) == (1, 500)
    html = _web(county, "chengguan").get("/coverage/?year=2026").get_data(as_text=True)
    assert "信息员 2026 年度报送统计" in html and ">550<" in html
    # a leader may read the roster but not who filed which report: nothing is attributed to the officer
    totals = officer_totals(user_named("leader"), area_coverage(user_named("leader"), CHENGGUAN), 2026)
    assert totals.withheld == 4 and all(o.reports == 0 for o in totals.officers)


def test_a_reward_naming_an_unknown_parameter_is_refused(config_dir):
    from server.errors import ConfigInvalid
    from server.specs.loader import load_config

    path = config_dir / "rules" / "officer_reward.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["rules"]["reward_major"]["actions"][0]["value"] = {"$param": "officer_reward_huge"}
    doc["rules"]["reward_general"]["actions"][0]["value"] = {"$param": "satisfaction_formula"}  # a text
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir)
    found = {(e.pointer, e.message.split("（")[0]) for e in caught.value.errors if e.file == "rules/officer_reward.json"}
    assert found == {("/rules/reward_major/actions/0/value/$param", '参数 "officer_reward_huge" 不存在'),
                     ("/rules/reward_general/actions/0/value",
                      '字段 "/adoption/reward_amount" 的值应为数字，实际为 "satisfied_plus_basic"')}

"""年度考核汇总 (issue 10 item 7): per assessed unit and year, 综治先进 eligibility, 一票否决 and 责任追究.

The effects are made by the real rule actions (``server.rules.apply.perform``: mark_ineligible,
record_veto, record_accountability) on the shipped org tree (config/org: 3 街道, 14 镇, 20 县直单位),
then read back from the service, the page and the Excel export. Boundaries: a period across Dec 31
counts in both years, a 2025 veto not in 2026, a rule firing at 00:30 on Jan 1 China time counts in
the new year; scoping: county level sees every unit, a township its own row, an officer 403.
"""
from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from server.auth.service import create_user
from server.errors import NotAllowed
from server.extensions import db
from server.rules import year_end
from server.rules.apply import ActionRun, perform
from server.rules.models import Decision
from server.settings import PROJECT_ROOT
from tests.conftest import CONFIG_DIR, PASSWORD, login_session, user_named
from tests.test_no_english import english_words

CHENGGUAN, HEKOU, GA, PCS04 = "139901001000", "139901101000", "GA", "GA-PCS04"
AWARD = "综治工作先进单位"
USERS = [  # username, role, org code
    ("county", "county_staff", "139901000000"), ("admin", "county_admin", "139901000000"),
    ("leader", "leader", "139901000000"), ("chengguan", "township_staff", CHENGGUAN),
    ("chengguan_leader", "leader", CHENGGUAN), ("hekou", "township_staff", HEKOU),
    ("ga", "department_staff", GA), ("pcs04", "department_staff", PCS04),
    ("officer", "info_officer", "139901001001"),
]
ASSESSED = [u["code"] for u in json.loads((PROJECT_ROOT / "config/org/units.json").read_text(encoding="utf-8"))["units"]
            if u["kind"] in ("township", "subdistrict", "county_unit")]


@pytest.fixture
def county(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The test ledgers with the shipped org tree and its posts (党委书记, 所长 … with their holders)."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    shutil.copytree(PROJECT_ROOT / "config" / "org", config / "org")
    app = make_app(config_dir=config)
    with app.app_context():
        for username, role, org in USERS:
            create_user(username, PASSWORD, role=role, org_code=org, display_name=username)
        yield app


def fire(title: str, actions: list[dict[str, Any]], at: str = "2026-06-01 02:00:00", explain: str = "") -> None:
    """A rule firing at ``at`` (UTC): its decision stored and its actions performed as the rules service does."""
    with freeze_time(at):
        decision = Decision(ruleset="test", ruleset_version="1", rule="r", title=title, facts={}, actions=actions,
                            explanation=explain or f"{title}（规则说明）", outcome="applied")
        db.session.add(decision)
        db.session.flush()
        run = ActionRun(key=f"test:{decision.id}", record=None, data=None, user=None, today=date(2026, 6, 1),
                        calendar=None, params={}, source="rule:test.r",  # type: ignore[arg-type]
                        decision_id=decision.id, title=title)
        for index, action in enumerate(actions):
            perform(action, index, run)
        db.session.commit()


def ineligible(unit: str, start: str | None, until: str | None, at: str = "2026-06-01 02:00:00") -> None:
    fire("挂牌督办期间取消评先资格", [{"do": "mark_ineligible", "unit": unit, "award": AWARD, "from": start or "（未填）",
                                "until": until or "（未填）"}], at)


def veto_2025_for_hekou() -> None:
    """The overdue rule's actions: a 2025 veto and both responsible people, fired on 2026-01-15."""
    fire("挂牌督办整改期限届满仍未验收合格", [
        {"do": "record_veto", "unit": HEKOU, "year": "2025", "reason": "挂牌督办逾期未验收合格"},
        {"do": "record_accountability", "unit": HEKOU, "post": "party_secretary", "reason": "第一责任人：挂牌督办逾期未达标"},
        {"do": "record_accountability", "unit": PCS04, "post": "station_head", "reason": "直接责任人：挂牌督办逾期未达标"},
    ], at="2026-01-15 02:00:00", explain="河口镇的挂牌督办整改期限已过 5 天仍未验收合格，实行一票否决并追究责任")


def rows(username: str, year: int, today: str = "2026-06-01 02:00:00") -> dict[str, year_end.UnitYear]:
    with freeze_time(today):
        return {row.code: row for row in year_end.summary(user_named(username), year)}


def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def _sheet(response) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


# -- the service ------------------------------------------------------------------------------------
def test_every_assessed_unit_is_listed_in_tree_order_eligible_when_nothing_is_recorded(county):
    for username in ("county", "admin", "leader"):
        listed = list(rows(username, 2026).values())
        assert [r.code for r in listed] == ASSESSED and len(listed) == 37  # 3 街道 + 14 镇 + 20 县直单位
        assert all(r.eligible and not (r.periods or r.vetoes or r.accountability) for r in listed)
    first = listed[0]
    assert (first.name, first.kind_title) == ("城关街道", "街道")
    assert {r.kind_title for r in listed} == {"街道", "乡镇", "县直单位"}  # no village, no 派出所


@pytest.mark.parametrize("start, until, years", [
    ("2025-11-10", "2026-02-20", {2025, 2026}),    # across Dec 31: both years
    ("2025-03-01", "2025-12-31", {2025}),          # ends on Dec 31: not the next year
    ("2026-01-01", "2026-03-01", {2026}),          # starts on Jan 1: not the year before
    ("2025-12-31", None, {2025, 2026}),            # not delisted yet: up to today (2026-06-01), not 2027
])
def test_an_ineligibility_period_counts_in_every_year_it_overlaps(county, start, until, years):
    ineligible(CHENGGUAN, start, until)
    for year in (2024, 2025, 2026, 2027):
        listed = rows("county", year)
        row = listed[CHENGGUAN]
        assert row.eligible is (year not in years), year
        if year in years:
            [period] = row.periods
            assert period.text == f"{start} 至 {until or '今（尚未摘牌）'}：挂牌督办期间取消评先资格（{AWARD}）"
            assert period.detail == "挂牌督办期间取消评先资格（规则说明）"
        assert all(r.eligible for code, r in listed.items() if code != CHENGGUAN)


def test_a_period_without_a_start_counts_from_the_day_it_was_registered(county):
    ineligible(CHENGGUAN, None, "2026-03-01", at="2025-12-31 16:30:00")  # 2026-01-01 00:30 in China
    assert rows("county", 2025)[CHENGGUAN].eligible
    [period] = rows("county", 2026)[CHENGGUAN].periods
    assert period.text.startswith("2026-01-01（登记日） 至 2026-03-01：")


def test_a_veto_counts_in_its_year_with_the_people_held_to_account_for_it(county):
    veto_2025_for_hekou()
    listed = rows("county", 2025)
    hekou, ga = listed[HEKOU], listed[GA]
    assert not hekou.eligible
    assert [p.text for p in hekou.periods] == ["2025 年全年：受一票否决，不得评为综治工作先进单位"]
    assert [(v.text, v.detail) for v in hekou.vetoes] == [
        ("挂牌督办逾期未验收合格", "河口镇的挂牌督办整改期限已过 5 天仍未验收合格，实行一票否决并追究责任")]
    # fired in January 2026, yet listed with the 2025 veto it belongs to; the 所长 under 县公安局
    assert [a.text for a in hekou.accountability] == ["党委书记 高冬梅：第一责任人：挂牌督办逾期未达标"]
    assert [a.text for a in ga.accountability] == ["河口派出所 所长 胡燕：直接责任人：挂牌督办逾期未达标"]
    assert ga.eligible and not ga.vetoes  # the station's accountability is no veto of 县公安局
    later = rows("county", 2026)
    assert all(r.eligible and not (r.vetoes or r.accountability) for r in later.values())


def test_accountability_without_a_veto_counts_in_the_china_year_it_was_registered(county):
    fire("重点地区问题反弹", [{"do": "record_accountability", "unit": CHENGGUAN, "post": "party_secretary",
                          "reason": "第一责任人：问题反弹"}], at="2025-12-31 16:30:00")  # 2026-01-01 00:30 CST
    assert not rows("county", 2025)[CHENGGUAN].accountability
    row = rows("county", 2026)[CHENGGUAN]
    assert [a.text for a in row.accountability] == ["党委书记 高卫东：第一责任人：问题反弹"]
    assert row.eligible  # accountability alone does not take eligibility away


def test_each_user_sees_only_their_units_and_an_officer_none(county):
    veto_2025_for_hekou()
    ineligible(CHENGGUAN, "2025-05-01", "2025-09-30")
    assert list(rows("chengguan", 2025)) == [CHENGGUAN] == list(rows("chengguan_leader", 2025))
    assert not rows("chengguan", 2025)[CHENGGUAN].eligible
    [hekou] = rows("hekou", 2025).values()
    assert hekou.code == HEKOU and hekou.vetoes and hekou.accountability
    [ga] = rows("ga", 2025).values()
    assert ga.code == GA and [a.text[:5] for a in ga.accountability] == ["河口派出所"]
    assert rows("pcs04", 2025) == {}  # a police station is not assessed on its own
    with pytest.raises(NotAllowed) as exc:
        rows("officer", 2025)
    assert "信息员" in exc.value.message


# -- the page ---------------------------------------------------------------------------------------
def test_page_defaults_to_this_year_lists_every_unit_as_cards_in_chinese(county):
    veto_2025_for_hekou()
    with freeze_time("2026-06-01 02:00:00"):
        response = _client(county, "county").get("/year-end")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>2026 年度考核汇总 · " in html
    assert 'value="2026"' in html and 'href="/year-end/export.xlsx?year=2026"' in html
    for header in ("单位", "综治先进资格", "不具备资格期间及原因", "一票否决（原因）", "责任追究（对象/职务及原因）"):
        assert f"<th>{header}</th>" in html
    assert len(re.findall(r'<tr class="x-year-row"', html)) == 37
    assert html.count('data-label="综治先进资格"') == 37 and "x-ineligible" not in html  # 2026: all eligible
    # 390 px: the table's rows become cards of "label: value" lines (.record-list in app.css)
    assert 'class="table table-sm table-bordered record-list x-year-end"' in html
    assert "<script>" not in html and not re.search(r"\sstyle=", html)
    assert english_words(html) == []
    sidebar = html[html.index('<nav class="app-sidebar"'):html.index("</nav>")]
    link = '<a class="list-group-item list-group-item-action active" aria-current="page" href="/year-end">年度考核汇总</a>'
    assert link in sidebar


def test_page_of_a_past_year_shows_the_veto_and_the_township_only_its_own_row(county):
    veto_2025_for_hekou()
    html = _client(county, "hekou").get("/year-end?year=2025").get_data(as_text=True)
    assert re.findall(r'<tr class="x-year-row" data-unit="([^"]+)"', html) == [HEKOU]
    assert 'class="badge badge-danger x-ineligible">无<' in html
    assert "2025 年全年：受一票否决" in html and "挂牌督办逾期未验收合格" in html
    assert "党委书记 高冬梅：第一责任人" in html and "胡燕" not in html  # the 所长 is 县公安局's
    assert english_words(html) == []
    other = _client(county, "chengguan").get("/year-end?year=2025").get_data(as_text=True)
    assert re.findall(r'data-unit="([^"]+)"', other) == [CHENGGUAN] and "x-eligible" in other


def test_a_bad_year_is_refused_with_its_message_and_no_export_link(county):
    response = _client(county, "county").get("/year-end?year=20x6")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "年度应为 2000 至 2100 之间的整数" in html and 'value="20x6"' in html
    assert "x-year-row" not in html and "export.xlsx" not in html
    assert _client(county, "county").get("/year-end/export.xlsx?year=1999").status_code == 422


def test_officer_gets_a_chinese_403_and_no_menu_entry(county):
    officer = _client(county, "officer")
    for path in ("/year-end", "/year-end?year=2025", "/year-end/export.xlsx?year=2025", "/year-end?year=bad"):
        response = officer.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 403 and "无权操作" in html and "治安信息员" in html, path
    assert "年度考核汇总" not in officer.get("/").get_data(as_text=True)
    assert 'href="/year-end"' in _client(county, "chengguan").get("/").get_data(as_text=True)


# -- Excel ------------------------------------------------------------------------------------------
def test_export_lists_the_same_units_and_lines_with_formulas_neutralised(county):
    veto_2025_for_hekou()
    ineligible(CHENGGUAN, "2025-11-10", "2026-02-20")
    fire("=HYPERLINK(\"http://x\")", [{"do": "record_veto", "unit": "SF", "year": "2025", "reason": "=1+1"}])
    response = _client(county, "county").get("/year-end/export.xlsx?year=2025")
    assert "filename*=UTF-8''2025%E5%B9%B4%E5%BA%A6" in response.headers["Content-Disposition"]
    sheet = _sheet(response)
    assert sheet[0] == year_end.HEADER
    by_name = {row[0]: row for row in sheet[1:]}
    assert len(sheet) == 38 and [row[0] for row in sheet[1:4]] == ["城关街道", "东城街道", "西城街道"]
    assert by_name["城关街道"][1:3] == ("无", f"2025-11-10 至 2026-02-20：挂牌督办期间取消评先资格（{AWARD}）")
    assert by_name["河口镇"][1:] == ("无", "2025 年全年：受一票否决，不得评为综治工作先进单位", "挂牌督办逾期未验收合格",
                                  "党委书记 高冬梅：第一责任人：挂牌督办逾期未达标")
    assert by_name["县公安局"][1:] == ("有", None, None, "河口派出所 所长 胡燕：直接责任人：挂牌督办逾期未达标")
    assert by_name["县司法局"][3] == "'=1+1"
    assert by_name["东城街道"][1:] == ("有", None, None, None)
    hekou = _sheet(_client(county, "hekou").get("/year-end/export.xlsx?year=2025"))
    assert [row[0] for row in hekou] == ["单位", "河口镇"]
    earlier = _sheet(_client(county, "county").get("/year-end/export.xlsx?year=2024"))
    assert [row[1] for row in earlier[1:]] == ["有"] * 37

"""统计分析 (issue 11): every figure recounted here from the records, independently of the SQL that
counts it; the list behind every number has that many rows; a township never counts another's.

The recount (:func:`recount`) reads every record, route and transition into Python and applies the
figure's configuration by hand: the reader's scope (own subtree and what is routed there), the period
on the figure's date field, month field, creation time or state entered, its ``where`` and ``by``.
The server counts in SQL, grouped in the database; the two must agree for every count figure of the
shipped ``config/dashboard.json`` and every reader.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from openpyxl import load_workbook

from server.extensions import db
from server.org.models import OrgUnit
from server.records.models import Record, RecordRoute, RecordTransition
from server.settings import PROJECT_ROOT
from tests.conftest import login_session
from tests.test_flow_intake import PROBLEM, USERS, at, clients, config_copy, register  # noqa: F401 (fixtures)

CHENGGUAN, HEKOU = "139901001000", "139901101000"
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
CST = timezone(timedelta(hours=8))
CONFIG = json.loads((PROJECT_ROOT / "config/dashboard.json").read_text(encoding="utf-8"))
COUNT_FIGURES = [f for s in CONFIG["sections"] for f in s["figures"] if "count" in f]


def problem(source: str, received: str, division: str) -> dict[str, Any]:
    return {**PROBLEM, "info_source": source, "received_at": received, "location": {"division_code": division}}


def follow_up(satisfaction: str, day: str, original: str) -> dict[str, Any]:
    return {"item_type": "security_problem", "original_problem": original, "visitee": "李秀英", "method": "phone", "follow_up_date": day,
            "staff": "贾艳", "satisfaction": satisfaction,
            **({"dissatisfaction_reason": "夜间仍有聚集"} if satisfaction == "dissatisfied" else {})}


def cases(month: str, township: str, criminal: int, public_order: int) -> dict[str, Any]:
    return {"month": month, "township_code": township, "criminal_cases": criminal, "public_order_cases": public_order,
            "source": "police_system"}


@pytest.fixture
def county(clients):  # type: ignore[no-untyped-def]
    """Two townships' year: problems on both sides of the year's ends, follow-ups, case statistics."""
    hekou_village = clients.run(lambda: db.session.scalar(
        db.select(OrgUnit.code).where(OrgUnit.code.like("139901101%"), OrgUnit.kind == "village")))
    with at("2026-12-31"):
        for source, received in [("phone", "2025-12-31T23:59"), ("phone", "2026-01-01T00:00"),
                                 ("info_officer", "2026-06-30T10:00"), ("info_officer", "2026-12-31T23:59"),
                                 ("visit", "2026-03-01T08:00")]:
            ours = register(clients["chengguan"], "security_problem", problem(source, received, "139901001001"))["number"]
        for source, received in [("phone", "2026-05-05T09:00"), ("grid_worker", "2026-02-01T09:00")]:
            theirs = register(clients["hekou"], "security_problem", problem(source, received, hekou_village))["number"]
        for i, answer in enumerate(["satisfied"] * 6 + ["basically_satisfied"] * 3 + ["dissatisfied"]):
            register(clients["chengguan"], "follow_up", follow_up(answer, f"2026-0{1 + i % 9}-15", ours))
        register(clients["hekou"], "follow_up", follow_up("dissatisfied", "2026-04-01", theirs))
        register(clients["hekou"], "follow_up", follow_up("satisfied", "2025-04-01", theirs))
        for month, criminal, public_order in [("2025-03", 100, 100), ("2026-03", 79, 77)]:
            register(clients["county"], "case_statistics", cases(month, CHENGGUAN, criminal, public_order))
        register(clients["county"], "case_statistics", cases("2026-03", HEKOU, 5, 5))
        register(clients["county"], "case_statistics", cases("2025-11", HEKOU, 50, 30))
    return clients


def stats(client, **args) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/stats/dashboard", query_string={**YEAR, **args})
    assert response.status_code == 200, response.get_json()
    return {f["id"]: f for s in response.get_json()["sections"] for f in s["figures"]}


# -- the independent recount -------------------------------------------------------------------------------
def recount(clients, username: str, figure: dict[str, Any], start: date, end: date, unit: str | None = None) -> Counter:
    """What the figure should say, by key ("" for the total of a figure without breakdown)."""
    spec = figure["count"]

    def work() -> Counter:
        units = {u.id: u for u in db.session.scalars(db.select(OrgUnit))}
        by_code = {u.code: u for u in units.values()}
        routes: dict[int, set[int]] = {}
        for route in db.session.scalars(db.select(RecordRoute)):
            routes.setdefault(route.record_id, set()).add(route.org_unit_id)
        entered: dict[int, list[datetime]] = {}
        for t in db.session.scalars(db.select(RecordTransition)):
            entered.setdefault(t.record_id, []).append((t.to_state, t.at.replace(tzinfo=timezone.utc) if t.at.tzinfo is None else t.at))
        reader = next(u for u in USERS if u[0] == username)
        own = None if reader[2] == "139901000000" else by_code[reader[2]]
        chosen = by_code[unit] if unit else own

        def within(unit_id: int, top: OrgUnit) -> bool:
            u = units[unit_id]
            served = units.get(u.serves_id) if u.serves_id else None
            return u.path.startswith(top.path) or (served is not None and served.path.startswith(top.path))

        def counted(record: Record) -> bool:
            for top in [t for t in (own, chosen) if t is not None]:
                if not (within(record.org_unit_id, top) or any(within(r, top) for r in routes.get(record.id, ()))):
                    return False
            return True

        out: Counter = Counter()
        for record in db.session.scalars(db.select(Record).where(Record.form_id == spec["form"])):
            if not counted(record) or not in_period(record, spec, start, end, entered) or not matches(record, spec):
                continue
            out[key_of(record, spec, units)] += 1
        return out
    return clients.run(work)


def value_at(data: dict[str, Any], pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def in_period(record: Record, spec: dict[str, Any], start: date, end: date, entered: dict) -> bool:
    if spec.get("date") == "$created":
        created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=timezone.utc)
        return start <= created.astimezone(CST).date() <= end
    if "date" in spec:
        text = value_at(record.data, spec["date"])
        return bool(text) and start <= date.fromisoformat(text[:10]) <= end
    if "month" in spec:
        text = value_at(record.data, spec["month"])
        return bool(text) and start.strftime("%Y-%m") <= text <= end.strftime("%Y-%m")
    if "entered" in spec:
        return any(state == spec["entered"] and start <= moment.astimezone(CST).date() <= end
                   for state, moment in entered.get(record.id, []))
    return True


def matches(record: Record, spec: dict[str, Any]) -> bool:
    for condition in spec.get("where", []):
        if "state" in condition:
            if record.state not in condition["state"]:
                return False
        elif "in" in condition and value_at(record.data, condition["path"]) not in condition["in"]:
            return False
        elif "not_in" in condition and value_at(record.data, condition["path"]) in condition["not_in"]:
            return False
    return True


def key_of(record: Record, spec: dict[str, Any], units: dict[int, OrgUnit]) -> str:
    by = spec.get("by")
    if by is None:
        return ""
    if by == "$state":
        return record.state
    if by == "$township":
        unit = units[record.org_unit_id]
        while unit is not None and unit.kind not in ("township", "subdistrict"):
            unit = units.get(unit.serves_id or unit.parent_id) if (unit.serves_id or unit.parent_id) else None
        return unit.code if unit is not None else "-"
    value = value_at(record.data, by)
    return "" if value is None else ("true" if value is True else "false" if value is False else str(value))


def shown(figure: dict[str, Any]) -> Counter:
    if not figure["groups"]:
        return Counter({"": figure["total"]}) if figure["total"] else Counter()
    return Counter({g["key"]: g["value"] for g in figure["groups"]})


# -- the tests -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["county", "chengguan", "hekou", "pcs01", "leader"])
def test_every_count_figure_is_what_the_records_say(county, username) -> None:  # type: ignore[no-untyped-def]
    figures = stats(county[username])
    checked = 0
    for spec in COUNT_FIGURES:
        if spec["id"] not in figures:
            continue
        expected = recount(county, username, spec, date(2026, 1, 1), date(2026, 12, 31))
        assert shown(figures[spec["id"]]) == +expected, spec["id"]
        assert figures[spec["id"]]["total"] == sum(expected.values()), spec["id"]
        checked += 1
    assert checked >= 5


def test_the_seeded_figures_by_hand(county) -> None:  # type: ignore[no-untyped-def]
    figures = stats(county["county"])
    by_source = {g["key"]: g["value"] for g in figures["problems_by_source"]["groups"]}
    # 2025-12-31 23:59 is last year; 2026-01-01 00:00 and 2026-12-31 23:59 are this year
    assert by_source == {"phone": 2, "info_officer": 2, "visit": 1, "grid_worker": 1}
    assert {g["key"]: g["value"] for g in figures["problems_by_township"]["groups"]} == {CHENGGUAN: 4, HEKOU: 2}
    satisfaction = figures["follow_up_satisfaction"]
    assert satisfaction["total"] == 11 and satisfaction["rate"] == pytest.approx(81.82)
    chengguan = stats(county["chengguan"])["follow_up_satisfaction"]
    assert chengguan["total"] == 10 and chengguan["rate"] == 90.0  # 9 of 10: the boundary of the seed's 90 %


def test_case_statistics_year_on_year(county) -> None:  # type: ignore[no-untyped-def]
    figure = stats(county["county"], unit=CHENGGUAN)["case_statistics"]
    groups = {g["key"]: g for g in figure["groups"]}
    assert (groups["criminal_cases"]["value"], groups["criminal_cases"]["previous"], groups["criminal_cases"]["change"]) == (79, 100, -21.0)
    assert (groups["public_order_cases"]["value"], groups["public_order_cases"]["previous"], groups["public_order_cases"]["change"]) == (77, 100, -23.0)
    assert groups["police_incidents"]["value"] == 0 and groups["police_incidents"]["change"] is None
    whole = stats(county["county"])["case_statistics"]
    # 2026 is filed up to March: January–March is compared with January–March 2025 (not 2025-11)
    assert whole["total"] == 79 + 77 + 5 + 5 and whole["previous"] == 100 + 100
    assert "2026-01 至 2026-03" in whole["note"]
    spring = stats(county["county"], **{"from": "2026-03-01", "to": "2026-03-31"})["case_statistics"]
    assert (spring["total"], spring["previous"]) == (166, 200)
    with at("2026-12-31"):  # November filed: the comparison reaches 2025-11
        register(county["county"], "case_statistics", cases("2026-11", HEKOU, 1, 1))
    whole = stats(county["county"])["case_statistics"]
    assert whole["total"] == 168 and whole["previous"] == 100 + 100 + 50 + 30 and whole["groups"][0]["previous"] == 150


def test_a_township_never_counts_another(county) -> None:  # type: ignore[no-untyped-def]
    hekou = stats(county["hekou"])
    assert hekou["problems_by_source"]["total"] == 2
    assert "problems_by_township" not in hekou  # the by-township figures are for the county and leaders
    assert hekou["case_statistics"]["total"] == 10
    response = county["hekou"].get("/api/v1/stats/dashboard", query_string={"unit": CHENGGUAN})
    assert response.status_code == 404 and response.is_json
    # the lists behind hekou's numbers hold hekou's records only
    client = browser(county, 'hekou')
    page = client.get(hekou["problems_by_source"]["href"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ZA-139901101" in text and "ZA-139901001" not in text


def browser(clients, username: str):  # type: ignore[no-untyped-def]
    """A logged-in browser session of ``username``."""
    from server.auth.models import User

    client = clients.app.test_client()
    sid = clients.run(lambda: login_session(db.session.scalar(db.select(User).where(User.username == username))))
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = sid, True
    return client


@pytest.mark.parametrize("username", ["county", "chengguan", "leader"])
def test_every_number_leads_to_that_many_records(county, username) -> None:  # type: ignore[no-untyped-def]
    client = browser(county, username)
    figures = stats(county[username])
    checked = 0
    for figure in figures.values():
        if figure["kind"] not in ("count", "sum", "documents", "inbox"):
            continue
        if figure["kind"] == "sum":  # the rows summed, with the page's totals per field
            text = client.get(figure["href"]).get_data(as_text=True)
            sums = [float(v) for v in re.findall(r'class="x-drill-sum" data-value="([0-9.]+)"', text)]
            assert sums == [g["value"] for g in figure["groups"]], figure["id"]
            continue
        links = [(figure["href"], figure["total"])] + [(g["href"], g["value"]) for g in figure["groups"]]
        for href, value in links:
            page = client.get(href)
            assert page.status_code == 200, href
            total = int(re.search(r'class="x-drill-total">(\d+)<', page.get_data(as_text=True)).group(1))
            assert total == value, (figure["id"], href)
            checked += 1
    assert checked >= 15


def test_wrong_dates_are_named_and_api_errors_are_json(county) -> None:  # type: ignore[no-untyped-def]
    api = county["county"]
    for args, pointer in [({"from": "2026-13-01"}, "/from"), ({"to": "二〇二六"}, "/to"),
                          ({"from": "2026-05-01", "to": "2026-04-30"}, "/to"), ({"period": "decade"}, "/period"),
                          ({"from": "2026-01-01\x00"}, "/from"), ({"from": "1999-12-31"}, "/from")]:
        response = api.get("/api/v1/stats/dashboard", query_string=args)
        assert response.status_code == 422 and response.get_json()["errors"][0]["pointer"] == pointer, args
    assert api.get("/api/v1/stats/dashboard", query_string={"unit": "NOPE"}).status_code == 404
    client = browser(county, 'county')
    page = client.get("/dashboard/?from=2026-02-30")
    assert page.status_code == 422 and "2000 到 2100 年间的 YYYY-MM-DD" in page.get_data(as_text=True)
    assert 'value="2026-02-30"' in page.get_data(as_text=True)  # what was typed stays


def test_the_export_has_the_page_s_numbers(county) -> None:  # type: ignore[no-untyped-def]
    client = browser(county, 'county')
    response = client.get("/dashboard/export.xlsx", query_string=YEAR)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    figures = stats(county["county"])
    totals = {(r[1], r[2]): r[3] for r in rows}
    for figure in figures.values():
        assert totals[(figure["title"], "合计")] == figure["total"]
        for group in figure["groups"]:
            assert totals[(figure["title"], group["label"])] == group["value"]


def test_views_by_role(county) -> None:  # type: ignore[no-untyped-def]
    leader = browser(county, 'leader')
    home = leader.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/dashboard/")
    page = leader.get("/dashboard/", query_string=YEAR).get_data(as_text=True)
    assert "本页只供查阅" in page and "/new" not in page  # no 登记 buttons
    pcs01 = stats(county["pcs01"])
    assert "officer_reports" not in pcs01 and "problems_by_township" not in pcs01  # not its ledgers / not its view
    assert set(stats(county["county"])) >= {"problems_by_township", "officer_coverage", "case_statistics"}


def test_the_police_spreadsheet_feeds_the_year_on_year_figure(county) -> None:  # type: ignore[no-untyped-def]
    """The 派出所 imports its monthly counts from the spreadsheet the ledger exports (same columns); the
    dashboard's 同比 figure then counts them, and only for the township they are routed to."""
    from openpyxl import Workbook

    police = browser(county, "pcs01")
    exported = load_workbook(io.BytesIO(police.get("/forms/case_statistics/export.xlsx").data)).active
    header = [c.value for c in next(exported.iter_rows(min_row=1, max_row=1))]
    columns = {"统计月份": None, "乡镇（街道）": None, "刑事案件（起）": None, "治安案件（起）": None,
               "110警情（起）": None, "数据来源": None}
    assert set(columns) <= set(header)
    book = Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for month, criminal, public_order in [("2026-04", 7, 9), ("2026-05", 3, 1), ("2025-04", 10, 10)]:
        sheet.append([month, CHENGGUAN, criminal, public_order, 40, "派出所报表"])
    payload = io.BytesIO()
    book.save(payload)
    response = county["pcs01"].post("/api/v1/forms/case_statistics/import",
                                     data={"file": (io.BytesIO(payload.getvalue()), "2026年4-5月治安案件.xlsx")},
                                     content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["count"] == 3
    spring = {"from": "2026-04-01", "to": "2026-05-31"}
    figure = stats(county["chengguan"], **spring)["case_statistics"]
    groups = {g["key"]: g for g in figure["groups"]}
    assert (groups["criminal_cases"]["value"], groups["criminal_cases"]["previous"]) == (10, 10)
    assert (groups["public_order_cases"]["value"], groups["public_order_cases"]["previous"]) == (10, 10)
    assert groups["criminal_cases"]["change"] == 0.0
    assert stats(county["hekou"], **spring)["case_statistics"]["total"] == 0  # routed to 城关 only


def test_odd_arguments_of_the_list_behind_a_number(county) -> None:  # type: ignore[no-untyped-def]
    """Review findings: an odd page number, stray arguments copied into page links, a figure another view has."""
    client = browser(county, "county")
    for args in ({"page": "²"}, {"page": "9" * 5000}, {"figure_id": "x", "_scheme": "javascript", "_external": "1"}):
        response = client.get("/dashboard/figures/problems_by_source", query_string={**YEAR, **args})
        assert response.status_code == 200, args
        assert "javascript:" not in response.get_data(as_text=True)
    township = browser(county, "hekou")
    assert township.get("/dashboard/figures/problems_by_township?from=x").status_code == 404


def test_the_county_s_own_registrations_drill_down_too(county) -> None:  # type: ignore[no-untyped-def]
    """A matter registered by the county office counts under 县级及其他单位, and its line lists it."""
    with at("2026-12-31"):
        register(county["county"], "security_problem", problem("media", "2026-07-01T09:00", "139901001002"))
    figure = stats(county["county"])["problems_by_township"]
    other = next(g for g in figure["groups"] if g["key"] == "-")
    assert other["value"] == 1 and other["label"] == "县级及其他单位"
    page = browser(county, "county").get(other["href"]).get_data(as_text=True)
    assert 'class="x-drill-total">1<' in page and "县级及其他单位" in page

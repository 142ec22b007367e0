"""The year-end registers (一票否决, 评先资格取消, 责任追究): scope, links, filters, pages, export, API."""
from __future__ import annotations

import io
import itertools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import server.auth.service as auth_service
from server.errors import ValidationFailed
from server.extensions import db
from server.org.service import unit_by_code
from server.records.models import Record
from server.records.service import create_record
from server.rules import registers
from server.rules.models import Accountability, AwardIneligibility, Decision, Veto
from server.rules.registers import VETOES, Filters
from tests.conftest import login_session, user_named

GOOD = {"reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音扰民", "people": 3,
        "visitor": {"name": "王五"}, "steps": [{"what": "约谈摊主", "due": "2026-05-10"}]}
CHENGGUAN, HEKOU, POLICE, GA = "999901001000", "999901002000", "GA-PCS01", "GA"
_keys = itertools.count(1)
_start = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def _decision(record: Record | None, title: str) -> Decision:
    decision = Decision(ruleset="key_area", ruleset_version="v1", rule="relisted_within_watch", title=title,
                        record_id=record.id if record else None, facts={}, actions=[], outcome="applied",
                        explanation=f"{title}：摘牌后一年内再次列为重点地区")
    db.session.add(decision)
    db.session.flush()
    return decision


def _effect(model: type, unit: str, record: Record | None, title: str, **values: Any) -> Any:
    """One effect row made as a rule would, a second after the one before (so the order is known)."""
    n = next(_keys)
    decision = _decision(record, title)
    row = model(unit_id=unit_by_code(unit).id, record_id=record.id if record else None, decision_id=decision.id,
                source_key=f"test:{n}", created_at=_start + timedelta(seconds=n), **values)
    db.session.add(row)
    db.session.commit()
    return row


def _record(username: str) -> Record:
    return create_record("incident", dict(GOOD), user_named(username))


@pytest.fixture
def data(app):  # type: ignore[no-untyped-def]
    """Records of 城关镇 (a) and 河口镇 (b), and vetoes on either side of each scope line."""
    a, b = _record("clerk"), _record("clerk_b")
    vetoes = {
        "own": _effect(Veto, CHENGGUAN, a, "城关镇重新挂牌", year=2026, reason="城关镇重新挂牌"),
        "other": _effect(Veto, HEKOU, b, "河口镇重新挂牌", year=2026, reason="河口镇重新挂牌"),
        "police": _effect(Veto, POLICE, None, "派出所整治不力", year=2025, reason="派出所整治不力"),
        "via_record": _effect(Veto, GA, a, "县公安局配合不力", year=2026, reason="县公安局配合不力"),
        "foreign_record": _effect(Veto, CHENGGUAN, b, "跨镇事项", year=2026, reason="跨镇事项"),
    }
    return {"a": a, "b": b, "vetoes": vetoes}


def _ids(rows: list[registers.RegisterRow]) -> list[int]:
    return [r.id for r in rows]


def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def _api(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {auth_service.create_token(username, 'tests')}"
    return client


# -- the service: scope ---------------------------------------------------------------------------
def test_county_level_sees_every_row_newest_first_with_every_record(data):
    v = data["vetoes"]
    newest_first = [v[k].id for k in ("foreign_record", "via_record", "police", "other", "own")]
    for username in ("county", "admin", "leader"):
        rows = registers.vetoes(user_named(username))
        assert _ids(rows) == newest_first, username
        assert [r.record is None for r in rows] == [False, False, True, False, False]  # the police row has none
    own = registers.vetoes(user_named("county"))[-1]
    assert (own.unit.code, own.unit.name, own.values, own.reason) == (CHENGGUAN, "城关镇", {"year": 2026}, "城关镇重新挂牌")
    assert (own.record.id, own.record.number, own.record.form_id, own.record.form_title) == (
        data["a"].id, data["a"].number, "incident", "测试登记簿")
    assert (own.decision.title, own.decision.ruleset, own.decision.rule) == ("城关镇重新挂牌", "key_area", "relisted_within_watch")
    assert "摘牌后一年内再次列为重点地区" in own.decision.explanation


def test_township_sees_its_units_and_the_rows_of_records_it_may_see(data):
    v = data["vetoes"]
    for username in ("clerk", "leader_a"):
        rows = {r.id: r for r in registers.vetoes(user_named(username))}
        # its own unit, the police station serving it (subtree_ids), and 县公安局's row caused by its record
        assert set(rows) == {v["own"].id, v["police"].id, v["via_record"].id, v["foreign_record"].id}, username
        assert v["other"].id not in rows  # 河口镇's row about 河口镇's record
        assert rows[v["via_record"].id].record.id == data["a"].id
        # 城关镇's row caused by 河口镇's record: the row yes, the record (a link to a 404) no
        assert rows[v["foreign_record"].id].record is None
    other = {r.id: r for r in registers.vetoes(user_named("clerk_b"))}
    assert set(other) == {v["other"].id, v["foreign_record"].id}
    assert other[v["foreign_record"].id].record.id == data["b"].id  # 河口镇 may see its own record


def test_police_sees_only_its_own_unit(data):
    assert _ids(registers.vetoes(user_named("police"))) == [data["vetoes"]["police"].id]


def test_information_officer_and_unrelated_units_see_nothing(data):
    assert registers.vetoes(user_named("officer")) == []
    assert registers.vetoes(user_named("justice")) == []  # 县司法局: none of its units, none of its records
    clerk = user_named("clerk")
    clerk.is_enabled = False
    assert registers.vetoes(clerk) == [] and not registers.may_see_registers(clerk)


def test_filters_year_unit_and_record(data):
    v, county = data["vetoes"], user_named("county")
    assert _ids(registers.vetoes(county, year=2025)) == [v["police"].id]
    assert _ids(registers.vetoes(county, unit_code=CHENGGUAN)) == [v["foreign_record"].id, v["own"].id]
    assert _ids(registers.vetoes(county, year=2026, unit_code=POLICE)) == []
    assert _ids(registers.vetoes(county, record_id=data["a"].id)) == [v["via_record"].id, v["own"].id]
    # filters narrow the user's rows, never widen them
    assert _ids(registers.vetoes(user_named("clerk"), unit_code=HEKOU)) == []


@pytest.mark.parametrize("args, pointer", [({"year": "1999"}, "/year"), ({"year": "2101"}, "/year"),
                                           ({"year": "二〇二六"}, "/year"), ({"year": "2026.0"}, "/year"),
                                           ({"unit": "NOPE"}, "/unit"), ({"record_id": "-1"}, "/record_id")])
def test_bad_filters_are_refused_with_a_chinese_message(app, args, pointer):
    with pytest.raises(ValidationFailed) as exc:
        registers.parse_filters(VETOES, args)
    assert [e.pointer for e in exc.value.errors] == [pointer]
    assert re.search(r"[\u4e00-\u9fff]", exc.value.errors[0].message)
    assert registers.parse_filters(VETOES, {"year": " 2026 ", "unit": ""}) == Filters(year=2026)


def test_one_query_per_register_whatever_the_number_of_rows(data):
    clerk = user_named("clerk")

    def statements() -> tuple[int, int]:
        """(queries in all, queries reading the register) for listing the clerk's vetoes."""
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            registers.rows_for(VETOES, clerk, Filters())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]  # not BEGIN/SAVEPOINT
        return len(selects), len([s for s in selects if "vetoes" in s])

    before = statements()
    for _ in range(5):
        _effect(Veto, CHENGGUAN, data["a"], "再次挂牌", year=2026, reason="再次挂牌")
    assert statements() == before and before[1] == 1


def test_award_ineligibility_and_accountability_are_scoped_the_same_way(data):
    a, b = data["a"], data["b"]
    award = _effect(AwardIneligibility, CHENGGUAN, a, "挂牌期间取消评先资格", award="综治先进单位",
                    from_date=date(2026, 3, 1), until_date=None)
    _effect(AwardIneligibility, HEKOU, b, "挂牌期间取消评先资格", award="综治先进单位", from_date=None, until_date=None)
    duty = _effect(Accountability, CHENGGUAN, a, "追究第一责任人", post="党委书记", person="张三", reason="整治不力")
    _effect(Accountability, HEKOU, b, "追究第一责任人", post="党委书记", person="李四", reason="整治不力")
    clerk = user_named("clerk")
    rows = registers.award_ineligibility(clerk)
    assert _ids(rows) == [award.id]
    assert rows[0].values == {"award": "综治先进单位", "from_date": date(2026, 3, 1), "until_date": None}
    assert rows[0].reason is None  # its decision is its reason
    rows = registers.accountability(clerk)
    assert _ids(rows) == [duty.id] and rows[0].values == {"post": "党委书记", "person": "张三"}
    assert len(registers.accountability(user_named("county"))) == 2
    assert registers.award_ineligibility(user_named("officer")) == []
    assert registers.accountability(user_named("police")) == []


# -- pages ----------------------------------------------------------------------------------------
def _no_inline_code(html: str) -> None:
    assert "<script>" not in html  # CSP: no inline scripts
    assert not re.search(r"\sstyle=", html)  # CSP: no inline styles either


def test_veto_page_lists_the_clerks_rows_in_chinese_with_links(app, client, data):
    response = client.get("/registers/vetoes")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="zh-CN">' in html
    assert "<title>一票否决登记 · " in html
    for header in ("单位", "年度", "原因", "决定依据", "关联记录", "登记时间"):
        assert f">{header}</th>" in html
    assert "城关镇重新挂牌" in html and "县公安局配合不力" in html and "派出所整治不力" in html
    assert "河口镇重新挂牌" not in html
    assert "摘牌后一年内再次列为重点地区" in html  # the decision's explanation
    assert f'href="/records/{data["a"].id}">{data["a"].number}</a>' in html and "测试登记簿" in html
    assert f'href="/records/{data["b"].id}"' not in html  # 跨镇事项: no link to a record it may not see
    assert "2026-12-01 09:" in html  # China time
    # 390 px: the table (inside .table-responsive) gives way to one card per row; nothing is wider than the screen
    assert 'class="table-responsive d-none d-md-block"' in html and 'class="list-unstyled d-md-none' in html
    _no_inline_code(html)


def test_sidebar_offers_the_registers_except_to_information_officers(app, client, data):
    html = client.get("/registers/accountability").get_data(as_text=True)
    sidebar = html[html.index('<nav class="app-sidebar"'):html.index("</nav>")]
    assert "考核登记" in sidebar
    links = re.findall(r'<a class="([^"]+)"( aria-current="page")? href="(/registers/[^"]+)">([^<]+)</a>', sidebar)
    assert [(href, title, bool(current)) for _, current, href, title in links] == [
        ("/registers/vetoes", "一票否决登记", False),
        ("/registers/award-ineligibility", "评先资格取消登记", False),
        ("/registers/accountability", "责任追究登记", True)]
    officer = _client(app, "officer").get("/registers/vetoes")
    page = officer.get_data(as_text=True)
    assert officer.status_code == 200 and "暂无记录" in page and "考核登记" not in page
    assert "考核登记" not in _client(app, "officer").get("/").get_data(as_text=True)


def test_empty_registers_say_so(app, client):
    for path in ("/registers/vetoes", "/registers/award-ineligibility", "/registers/accountability"):
        html = client.get(path).get_data(as_text=True)
        assert "暂无记录" in html and "<table" not in html
        _no_inline_code(html)


def test_page_filters_and_a_bad_year(app, data):
    county = _client(app, "county")
    html = county.get(f"/registers/vetoes?year=2025&unit={POLICE}").get_data(as_text=True)
    assert "派出所整治不力" in html and "城关镇重新挂牌" not in html
    assert f'<option value="{POLICE}" selected>城关派出所</option>' in html
    assert f'href="/registers/vetoes/export.xlsx?year=2025&amp;unit={POLICE}"' in html
    bad = county.get("/registers/vetoes?year=20x6")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "年度应为 2000 至 2100 之间的整数" in text and 'value="20x6"' in text
    assert "城关镇重新挂牌" not in text and "暂无记录" not in text  # nothing listed rather than everything
    assert "export.xlsx" not in text  # no link that would export the unfiltered register
    assert county.get("/registers/vetoes/export.xlsx?year=1").status_code == 422
    assert county.get("/registers/other").status_code == 404


def _sheet(response) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    return list(book.active.iter_rows(values_only=True))


def test_export_has_chinese_headers_the_same_rows_and_neutralises_formulas(app, client, data):
    _effect(Veto, CHENGGUAN, None, "=HYPERLINK(\"http://x\")", year=2026, reason="=1+1")
    response = client.get("/registers/vetoes/export.xlsx")
    assert "filename*=UTF-8''%E4%B8%80%E7%A5%A8" in response.headers["Content-Disposition"]
    rows = _sheet(response)
    assert rows[0] == ("单位", "年度", "原因", "决定依据", "决定说明", "关联记录", "台账", "登记时间")
    assert rows[1][:4] == ("城关镇", 2026, "'=1+1", "'=HYPERLINK(\"http://x\")")
    reasons = [r[2] for r in rows[1:]]
    assert len(reasons) == 5 and "河口镇重新挂牌" not in reasons
    own = next(r for r in rows if r[2] == "城关镇重新挂牌")
    assert own[5:7] == (data["a"].number, "测试登记簿") and own[7].startswith("2026-12-01 09:")
    foreign = next(r for r in rows if r[2] == "跨镇事项")
    assert foreign[5:7] == (None, None)  # the record it may not see is not named
    assert [r[2] for r in _sheet(client.get("/registers/vetoes/export.xlsx?year=2025"))[1:]] == ["派出所整治不力"]


def test_award_export_has_its_own_columns(app, client, data):
    _effect(AwardIneligibility, CHENGGUAN, data["a"], "挂牌期间取消评先资格", award="综治先进单位",
            from_date=date(2026, 3, 1), until_date=None)
    rows = _sheet(client.get("/registers/award-ineligibility/export.xlsx"))
    assert rows[0] == ("单位", "奖项", "起始日期", "截止日期", "决定依据", "决定说明", "关联记录", "台账", "登记时间")
    assert rows[1][:4] == ("城关镇", "综治先进单位", datetime(2026, 3, 1), None)


# -- API ------------------------------------------------------------------------------------------
def test_api_lists_scoped_items_with_iso_dates_decision_and_record(app, api, data):
    v = data["vetoes"]
    body = api.get("/api/v1/vetoes").get_json()
    items = {i["id"]: i for i in body["items"]}
    assert set(items) == {v["own"].id, v["police"].id, v["via_record"].id, v["foreign_record"].id}
    own = items[v["own"].id]
    assert own["unit"] == {"code": CHENGGUAN, "name": "城关镇"} and own["year"] == 2026
    assert own["reason"] == "城关镇重新挂牌" and own["created_at"].startswith("2026-12-01T01:")
    assert own["decision"]["title"] == "城关镇重新挂牌" and own["decision"]["rule"] == "relisted_within_watch"
    assert own["record"] == {"id": data["a"].id, "number": data["a"].number, "form_id": "incident",
                             "links": {"self": f"/api/v1/records/{data['a'].id}"}}
    assert api.get(own["record"]["links"]["self"]).status_code == 200
    assert items[v["foreign_record"].id]["record"] is None and items[v["police"].id]["record"] is None
    filtered = api.get(f"/api/v1/vetoes?year=2025&unit={POLICE}").get_json()["items"]
    assert [i["id"] for i in filtered] == [v["police"].id]
    assert _api(app, "officer").get("/api/v1/vetoes").get_json() == {"items": []}
    assert len(_api(app, "county").get("/api/v1/vetoes").get_json()["items"]) == 5


def test_api_award_and_accountability(app, api, data):
    _effect(AwardIneligibility, CHENGGUAN, data["a"], "挂牌期间取消评先资格", award="综治先进单位",
            from_date=date(2026, 3, 1), until_date=date(2027, 2, 28))
    _effect(Accountability, HEKOU, data["b"], "追究第一责任人", post="党委书记", person="李四", reason="整治不力")
    [award] = api.get("/api/v1/award-ineligibility").get_json()["items"]
    assert (award["award"], award["from_date"], award["until_date"]) == ("综治先进单位", "2026-03-01", "2027-02-28")
    assert "reason" not in award and award["record"]["id"] == data["a"].id
    assert api.get("/api/v1/accountability").get_json() == {"items": []}  # 河口镇's
    [duty] = _api(app, "clerk_b").get("/api/v1/accountability").get_json()["items"]
    assert (duty["post"], duty["person"], duty["reason"]) == ("党委书记", "李四", "整治不力")


@pytest.mark.parametrize("query", ["year=1999", "year=2101", "year=abc", "year=2026.5"])
def test_api_bad_year_is_422_with_a_pointer(api, query):
    response = api.get(f"/api/v1/vetoes?{query}")
    assert response.status_code == 422 and response.is_json
    [error] = response.get_json()["errors"]
    assert error["pointer"] == "/year" and "2000" in error["message"] and "整数" in error["message"]


def test_every_api_error_is_json(app, api, anon):
    for response in (anon.get("/api/v1/vetoes"), anon.get("/api/v1/award-ineligibility"),
                     api.get("/api/v1/accountability?unit=NOPE"), api.get("/api/v1/vetoes?record_id=x"),
                     api.get("/api/v1/award-ineligibility?record_id=0"), api.get("/api/v1/vetoes?year=0")):
        assert response.status_code in (401, 422) and response.is_json, response.status_code
        body = response.get_json()
        assert body.get("message") or body.get("errors")
    # a web session is not an API credential
    assert _client(app, "county").get("/api/v1/vetoes").status_code == 401


def test_openapi_documents_the_registers(api):
    doc = api.get("/api/v1/openapi.json").get_json()
    for path in ("/vetoes", "/award-ineligibility", "/accountability"):
        operation = doc["paths"][path]["get"]
        assert {"422", "401"} <= set(operation["responses"]) and "unit" in [p["name"] for p in operation["parameters"]]
    assert "year" in [p["name"] for p in doc["paths"]["/vetoes"]["get"]["parameters"]]
    assert "RegisterRow" in doc["components"]["schemas"]

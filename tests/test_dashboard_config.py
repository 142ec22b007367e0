"""统计分析 configuration (``config/dashboard.json``): what ``config check`` says about a wrong figure.

Each case copies the shipped configuration, writes a ``dashboard.json`` with one broken figure (or
breaks the shipped one), loads it and checks the error: the file, the JSON pointer, the line and
column of the offending value in the written file, and the Chinese message with the names that help
(the unknown name and the ones that exist). Also: every error comes at once, a broken workflow, form
or document does not cascade into spurious dashboard errors, and without the file there is no page.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.errors import ConfigError, ConfigInvalid
from server.specs.loader import load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config"
FILE = "dashboard.json"
FIG = "/sections/0/figures/0"
CJK = re.compile(r"[\u4e00-\u9fff]")
KEY_AREA_STATES = ("acceptance_applied、accepted、closed、clue、consolidating、dismissed、extended、"
                   "extension_pending、identified、listed、rectifying")


# -- helpers ----------------------------------------------------------------------------------------------

def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED, target)
    return target


def _write_dashboard(config: Path, *figures: dict[str, Any]) -> str:
    """A dashboard of one section holding ``figures``; returns the text written (for positions)."""
    document = {"title": "统计分析", "sections": [{"title": "测试", "figures": list(figures)}]}
    text = json.dumps(document, ensure_ascii=False, indent=2)
    (config / FILE).write_text(text, encoding="utf-8")
    return text


def _errors(config: Path) -> list[ConfigError]:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config)
    return caught.value.errors


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _value_at(text: str, needle: str) -> tuple[int, int]:
    """Line and column of ``needle`` (the value's JSON text), which must occur once in ``text``."""
    assert text.count(needle) == 1, needle
    return _line_col(text, text.index(needle))


def _opening_at(text: str, bracket: str, inner: str) -> tuple[int, int]:
    """Line and column of the ``{`` or ``[`` opening the innermost object or array written before ``inner``."""
    assert text.count(inner) == 1, inner
    return _line_col(text, text.rindex(bracket, 0, text.index(inner)))


def _only_error(tmp_path: Path, *figures: dict[str, Any]) -> tuple[ConfigError, str]:
    config = _copy(tmp_path)
    text = _write_dashboard(config, *figures)
    errors = _errors(config)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0], text


def _count(form: str, **body: Any) -> dict[str, Any]:
    return {"id": "broken", "title": "有问题的统计项", "count": {"form": form, **body}}


# -- one broken figure, one precise error --------------------------------------------------------------------
# (name, figure, pointer below the figure, needle: the value's JSON text, or ("{" or "[", text after
#  the opening bracket) for an object or array, and the words the message must contain)

CASES: list[tuple[str, dict[str, Any], str, Any, list[str]]] = [
    ("unknown_form", _count("security_problems", date="/received_at"),
     "/count/form", '"security_problems"', ['没有表单 "security_problems"']),
    ("unknown_date_field", _count("security_problem", date="/received_on"),
     "/count/date", '"/received_on"', ['表单 "security_problem" 中没有字段 "/received_on"']),
    ("unknown_by_field", _count("security_problem", by="/info_sauce"),
     "/count/by", '"/info_sauce"', ['表单 "security_problem" 中没有字段 "/info_sauce"']),
    ("unknown_nested_by_field", _count("key_area", by="/identification/source"),
     "/count/by", '"/identification/source"', ['表单 "key_area" 中没有字段 "/identification/source"']),
    ("unknown_where_field", _count("security_problem", where=[{"path": "/category", "in": ["gang_clue"]}]),
     "/count/where/0/path", '"/category"', ['表单 "security_problem" 中没有字段 "/category"']),
    ("unknown_sum_field",
     {"id": "broken", "title": "案件", "sum": {"form": "case_statistics", "month": "/month",
                                              "fields": ["/criminal_cases", "/traffic_cases"]}},
     "/sum/fields/1", '"/traffic_cases"', ['表单 "case_statistics" 中没有字段 "/traffic_cases"']),
    ("unknown_sum_month_field",
     {"id": "broken", "title": "案件", "sum": {"form": "case_statistics", "month": "/report_month",
                                              "fields": ["/criminal_cases"]}},
     "/sum/month", '"/report_month"', ['表单 "case_statistics" 中没有字段 "/report_month"']),
    ("by_on_text_field", _count("security_problem", date="/received_at", by="/description"),
     "/count/by", '"/description"', ['字段 "/description"', "应为选项字段（oneOf）或布尔字段", "实际为字符串字段"]),
    ("by_on_multiple_choice", _count("key_area", by="/problems/categories"),
     "/count/by", '"/problems/categories"', ['字段 "/problems/categories"', "应为选项字段", "实际为数组字段"]),
    ("by_on_array_item", _count("key_area", by="/problems/categories/0"),
     "/count/by", '"/problems/categories/0"', ['字段 "/problems/categories/0"', "数组", "普通字段"]),
    ("by_without_dollar", _count("key_area", by="state"),
     "/count/by", '"state"', ["应为以 / 开头的选项字段指针", '"$state"、"$township"', '实际为 "state"']),
    ("date_on_choice_field", _count("security_problem", date="/info_source"),
     "/count/date", '"/info_source"', ['字段 "/info_source" 应为日期字段', "实际为选项字段"]),
    ("date_on_text_field", _count("follow_up", date="/staff"),
     "/count/date", '"/staff"', ['字段 "/staff" 应为日期字段', "实际为字符串字段"]),
    ("date_without_slash", _count("security_problem", date="received_at"),
     "/count/date", '"received_at"', ["应为以 / 开头的日期字段指针", '"$created"', '实际为 "received_at"']),
    ("month_on_date_field", _count("security_problem", month="/received_at"),
     "/count/month", '"/received_at"', ['字段 "/received_at"', "月份 YYYY-MM", "实际为日期时间字段"]),
    ("rate_not_a_choice", _count("follow_up", date="/follow_up_date", by="/satisfaction",
                                 rate=["satisfied", "very_satisfied"]),
     "/count/rate/1", '"very_satisfied"',
     ['"very_satisfied" 不是 "/satisfaction" 的取值', '"satisfied"、"basically_satisfied"、"dissatisfied"']),
    ("rate_not_a_state", _count("key_area", by="$state", rate=["listed", "delisted"]),
     "/count/rate/1", '"delisted"',
     ['"delisted" 不是 "$state" 的取值', '"acceptance_applied"', '"rectifying"']),  # the whole list, not cut short
    ("rate_without_by", _count("follow_up", date="/follow_up_date", rate=["satisfied"]),
     "/count/rate", ("[", '"satisfied"'), ["rate 需要按选项字段或 $state 分组（by）"]),
    ("rate_by_township", _count("follow_up", date="/follow_up_date", by="$township", rate=["satisfied"]),
     "/count/rate", ("[", '"satisfied"'), ["rate 需要按选项字段或 $state 分组（by）"]),
    ("entered_unknown_state", _count("key_area", entered="delisted"),
     "/count/entered", '"delisted"', [f'表单 "key_area" 的流程没有状态 "delisted"（现有：{KEY_AREA_STATES}）']),
    ("entered_without_workflow", _count("follow_up", entered="closed"),
     "/count/entered", '"closed"', ['表单 "follow_up" 没有流程，没有状态 "closed"']),
    ("by_state_without_workflow", _count("follow_up", date="/follow_up_date", by="$state"),
     "/count/by", '"$state"', ['表单 "follow_up" 没有流程，不能按 $state 分组']),
    ("where_state_without_workflow", _count("follow_up", where=[{"state": ["archived"]}]),
     "/count/where/0/state/0", '"archived"', ['表单 "follow_up" 没有流程，没有状态 "archived"']),
    ("where_unknown_state", _count("key_area", where=[{"state": ["listed", "rectified"]}]),
     "/count/where/0/state/1", '"rectified"', [f'表单 "key_area" 的流程没有状态 "rectified"（现有：{KEY_AREA_STATES}）']),
    ("date_and_entered", _count("key_area", date="$created", entered="listed"),
     "/count", ("{", '"form": "key_area"'), ["date、month、entered 只能选一个"]),
    ("where_in_and_not_in", _count("follow_up", where=[{"path": "/method", "in": ["phone"], "not_in": ["symposium"]}]),
     "/count/where/0", ("{", '"path": "/method"'), ["条件应写 path 与 in（或 not_in）之一，或只写 state"]),
    ("where_neither_in_nor_not_in", _count("follow_up", where=[{"path": "/method"}]),
     "/count/where/0", ("{", '"path": "/method"'), ["条件应写 path 与 in（或 not_in）之一，或只写 state"]),
    ("where_empty_condition", _count("follow_up", where=[{}]),
     "/count/where/0", "{}", ["条件应写 path 与 in（或 not_in）之一，或只写 state"]),
    ("where_state_and_path", _count("key_area", where=[{"state": ["listed"], "path": "/area_type"}]),
     "/count/where/0", ("{", '"state": ['), ["按状态的条件只写 state"]),
    ("where_value_not_a_choice", _count("follow_up", where=[{"path": "/method", "not_in": ["phone", "email"]}]),
     "/count/where/0/not_in/1", '"email"', ['"email" 不是 "/method" 的取值', '"phone"、"home_visit"、"symposium"']),
    ("where_value_not_a_boolean", _count("security_problem", where=[{"path": "/in_key_area", "in": ["yes"]}]),
     "/count/where/0/in/0", '"yes"', ['"yes" 不是 "/in_key_area" 的取值', "true、false"]),
    ("where_value_wrong_type", _count("case_statistics", where=[{"path": "/criminal_cases", "in": ["many"]}]),
     "/count/where/0/in/0", '"many"', ['"many" 与字段 "/criminal_cases" 的类型（整数字段）不符']),
    ("where_on_object", _count("security_problem", where=[{"path": "/reporter", "in": ["x"]}]),
     "/count/where/0/path", '"/reporter"', ['字段 "/reporter"', "实际为对象字段"]),
    ("two_kinds", {"id": "broken", "title": "两种", "inbox": {}, "coverage": {}},
     "", ("{", '"id": "broken"'), ["每个统计项应有且只有一种统计方式", '实际为 ["inbox", "coverage"]']),
    ("no_kind", {"id": "broken", "title": "没有统计方式"},
     "", ("{", '"id": "broken"'), ["每个统计项应有且只有一种统计方式", "count、sum、inbox、documents、coverage、year_end", "实际为 无"]),
    ("no_kind_with_note_and_views", {"id": "broken", "title": "没有", "note": "说明", "views": ["county"]},
     "", ("{", '"id": "broken"'), ["每个统计项应有且只有一种统计方式", "实际为 无"]),
    ("kinds_beside_note_and_views", {"id": "broken", "title": "多", "note": "说明", "views": ["county"], "inbox": {},
                                     "count": {"form": "key_area"}},
     "", ("{", '"id": "broken"'), ["每个统计项应有且只有一种统计方式", '实际为 ["count", "inbox"]']),
    ("unknown_document", {"id": "broken", "title": "文书", "documents": {"document": "recommendation"}},
     "/documents/document", '"recommendation"',
     ['没有文书 "recommendation"', "recommendation_letter", "acceptance_report", "veto_decision"]),
    ("sum_on_text_field",
     {"id": "broken", "title": "案件", "sum": {"form": "case_statistics", "month": "/month", "fields": ["/remarks"]}},
     "/sum/fields/0", '"/remarks"', ['字段 "/remarks" 应为整数或数字字段', "实际为字符串字段"]),
    ("sum_on_choice_field",
     {"id": "broken", "title": "案件", "sum": {"form": "case_statistics", "month": "/month", "fields": ["/source"]}},
     "/sum/fields/0", '"/source"', ['字段 "/source" 应为整数或数字字段', "实际为选项字段"]),
    ("sum_month_on_number",
     {"id": "broken", "title": "案件", "sum": {"form": "case_statistics", "month": "/criminal_cases",
                                              "fields": ["/police_incidents"]}},
     "/sum/month", '"/criminal_cases"', ['字段 "/criminal_cases"', "统计月份 YYYY-MM", "实际为整数字段"]),
    ("unknown_view", {"id": "broken", "title": "视图", "views": ["county", "mayor"], "inbox": {}},
     "/views/1", '"mayor"', ['应为 "county"、"township"、"department"、"leader" 之一，实际为 "mayor"']),
    ("unknown_count_key", _count("key_area", group_by="/area_type"),
     "/count/group_by", '"/area_type"', ['不允许的键 "group_by"', "form、date、month、entered、where、by、rate"]),
    ("misspelt_kind", {"id": "broken", "title": "拼错", "cuont": {"form": "key_area"}},
     "/cuont", ("{", '"form": "key_area"'), ['不允许的键 "cuont"']),
    ("bad_id", {"id": "Broken-1", "title": "编号", "inbox": {}},
     "/id", '"Broken-1"', ["应匹配", '实际为 "Broken-1"']),
]


@pytest.mark.parametrize("name, figure, pointer, needle, words", CASES, ids=[c[0] for c in CASES])
def test_one_broken_figure_one_precise_error(tmp_path: Path, name: str, figure: dict[str, Any], pointer: str,
                                             needle: Any, words: list[str]) -> None:
    config = _copy(tmp_path)
    text = _write_dashboard(config, figure)
    errors = _errors(config)
    if name == "misspelt_kind":  # the unknown key, and that the figure has no kind left
        assert [e.pointer for e in errors] == [FIG, FIG + "/cuont"]
        error = errors[1]
    else:
        assert len(errors) == 1, [str(e) for e in errors]
        error = errors[0]
    assert (error.file, error.pointer) == (FILE, FIG + pointer)
    where = _opening_at(text, *needle) if isinstance(needle, tuple) else _value_at(text, needle)
    assert (error.line, error.column) == where, str(error)
    for word in words:
        assert word in error.message, (word, str(error))
    assert CJK.search(error.message)
    assert "JSON Schema" not in error.message and "properties" not in error.message  # no jsonschema English


def test_duplicate_figure_id_points_at_the_second_and_names_the_first(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    text = _write_dashboard(config, {"id": "open_matters", "title": "待办", "inbox": {}},
                            {"id": "officer_coverage", "title": "信息员", "coverage": {}},
                            {"id": "open_matters", "title": "待办（重复）", "inbox": {}})
    [error] = _errors(config)
    assert (error.file, error.pointer) == (FILE, "/sections/0/figures/2/id")
    second = text.index('"open_matters"', text.index('"open_matters"') + 1)
    assert (error.line, error.column) == _line_col(text, second)
    assert error.message == '统计项 id "open_matters" 与 /sections/0/figures/0/id 重复'


def test_duplicate_id_across_sections(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    document = json.loads((SHIPPED / FILE).read_text(encoding="utf-8"))
    document["sections"][5]["figures"].append({"id": "areas_listed", "title": "又一个", "inbox": {}})
    (config / FILE).write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    [error] = _errors(config)
    assert error.pointer == f"/sections/5/figures/{len(document['sections'][5]['figures']) - 1}/id"
    assert '"areas_listed"' in error.message and "/sections/1/figures/2/id" in error.message


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    text = (SHIPPED / FILE).read_text(encoding="utf-8")
    first = '"by": "/info_source"}},'
    assert text.count(first) == 1
    broken = text.replace(first, first[:-1])  # the comma between the first two figures is gone
    (config / FILE).write_text(broken, encoding="utf-8")
    [error] = _errors(config)
    assert (error.file, error.pointer) == (FILE, "")
    assert (error.line, error.column) == _value_at(broken, '{"id": "visits_by_source"')
    assert error.message == 'JSON 语法错误：此处应为逗号 ","，实际为 "{"'


def test_repeated_key_is_reported(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    text = ('{"title": "统计分析", "sections": [{"title": "测试", "figures": [\n'
            '  {"id": "areas", "title": "重点地区", "count": {"form": "key_area", "by": "$state", "by": "$township"}}\n'
            ']}]}\n')
    (config / FILE).write_text(text, encoding="utf-8")
    [error] = _errors(config)
    assert error.pointer == FIG + "/count/by" and error.line == 2
    assert '键 "by" 重复出现' in error.message


def test_not_an_object_and_missing_sections(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    (config / FILE).write_text('{"title": "统计分析"}', encoding="utf-8")
    [error] = _errors(config)
    assert (error.file, error.pointer, error.message) == (FILE, "", '缺少必需的键 "sections"')
    (config / FILE).write_text('[]', encoding="utf-8")
    [error] = _errors(config)
    assert error.file == FILE and "对象" in error.message


# -- all at once, and no cascades -------------------------------------------------------------------------------

def _shipped_with(tmp_path: Path, change) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    config = _copy(tmp_path)
    document = json.loads((SHIPPED / FILE).read_text(encoding="utf-8"))
    change({f["id"]: f for s in document["sections"] for f in s["figures"]})
    text = json.dumps(document, ensure_ascii=False, indent=2)
    (config / FILE).write_text(text, encoding="utf-8")
    return config, text


def test_two_broken_figures_give_two_errors_at_once(tmp_path: Path) -> None:
    def change(figures: dict[str, Any]) -> None:
        figures["problems_by_source"]["count"]["by"] = "/info_sauce"
        figures["follow_up_satisfaction"]["count"]["rate"] = ["satisfied", "quite_satisfied"]

    config, text = _shipped_with(tmp_path, change)
    errors = _errors(config)
    assert [(e.file, e.pointer) for e in errors] == [
        (FILE, "/sections/0/figures/0/count/by"), (FILE, "/sections/4/figures/0/count/rate/1")]
    assert [(e.line, e.column) for e in errors] == [_value_at(text, '"/info_sauce"'), _value_at(text, '"quite_satisfied"')]
    assert '没有字段 "/info_sauce"' in errors[0].message
    assert '"quite_satisfied" 不是 "/satisfaction" 的取值' in errors[1].message


def test_dashboard_errors_come_with_errors_of_other_files(tmp_path: Path) -> None:
    config, _ = _shipped_with(tmp_path, lambda f: f["areas_listed"]["count"].update(form="key_areas"))
    (config / "forms" / "follow_up.json").write_text("{", encoding="utf-8")
    errors = _errors(config)
    assert [(e.file, e.pointer) for e in errors] == [
        (FILE, "/sections/1/figures/2/count/form"), ("forms/follow_up.json", "")]


def _break_json(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("}")], encoding="utf-8")


@pytest.mark.parametrize("broken", ["workflows/key_area.json", "forms/follow_up.json", "forms/key_area.json",
                                    "documents/recommendation_letter/document.json"])
def test_a_broken_file_does_not_cascade_into_the_dashboard(tmp_path: Path, broken: str) -> None:
    """The shipped dashboard names key_area's states, follow_up's fields and the recommendation letter:
    with one of those files broken, its own error is reported and the dashboard stays quiet."""
    config = _copy(tmp_path)
    _break_json(config / broken)
    errors = _errors(config)
    assert broken in {e.file for e in errors}
    assert [str(e) for e in errors if e.file == FILE] == []


def test_a_wrong_workflow_does_not_cascade_but_other_dashboard_errors_still_show(tmp_path: Path) -> None:
    """A workflow with a value error (not only a syntax error) also silences the state checks, and only them."""
    config, text = _shipped_with(tmp_path, lambda f: (f["areas_listed"]["count"].update(entered="delisted"),
                                                      f["visits_by_source"]["count"].update(by="/sauce")))
    workflow = json.loads((config / "workflows" / "key_area.json").read_text(encoding="utf-8"))
    workflow["initial"] = "nowhere"
    (config / "workflows" / "key_area.json").write_text(json.dumps(workflow, ensure_ascii=False), encoding="utf-8")
    errors = _errors(config)
    assert [e.pointer for e in errors if e.file == FILE] == ["/sections/0/figures/1/count/by"]
    assert any(e.file == "workflows/key_area.json" and e.pointer == "/initial" for e in errors)


# -- the shipped file, and no file -----------------------------------------------------------------------------

def test_shipped_dashboard_loads() -> None:
    dashboard = load_config(SHIPPED).dashboard
    assert dashboard is not None and dashboard["title"] == "统计分析"
    ids = [f["id"] for s in dashboard["sections"] for f in s["figures"]]
    assert len(ids) == len(set(ids)) >= 15


def test_without_dashboard_json_the_configuration_loads(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    (config / FILE).unlink()
    loaded = load_config(config)
    assert loaded.dashboard is None
    assert set(loaded.forms) == {p.stem for p in (SHIPPED / "forms").glob("*.json")}


# -- the web app without a dashboard ------------------------------------------------------------------------------

def _browsers(make_app, config: Path):  # type: ignore[no-untyped-def]
    """Logged-in browser clients of a county staff member and a county leader on ``config``."""
    from server.auth.service import create_user
    from tests.conftest import login_session, user_named

    app = make_app(config_dir=config)
    clients = {}
    with app.app_context():
        for name, role in [("county", "county_staff"), ("leader", "leader")]:
            create_user(name, "Jiangbei-qiao-88", role=role, org_code="139901000000", display_name=name)
            sid = login_session(user_named(name))
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"], session["_fresh"] = sid, True
            clients[name] = client
    return app, clients


def test_without_dashboard_there_is_no_page_and_no_menu_link(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = _copy(tmp_path)
    (config / FILE).unlink()
    app, clients = _browsers(make_app, config)
    with app.app_context():
        county, leader = clients["county"], clients["leader"]
        assert county.get("/dashboard/").status_code == 404
        assert county.get("/dashboard/export.xlsx").status_code == 404
        assert county.get("/dashboard/figures/open_matters").status_code == 404
        home = county.get("/")
        assert home.status_code == 200
        assert "统计分析" not in home.get_data(as_text=True) and "x-nav-dashboard" not in home.get_data(as_text=True)
        ledger = county.get("/forms/security_problem/")
        assert ledger.status_code == 200 and "x-nav-dashboard" not in ledger.get_data(as_text=True)
        # a leader, who otherwise starts on the dashboard, gets the ledgers instead of a redirect to a 404
        start = leader.get("/")
        assert start.status_code == 200 and "x-nav-dashboard" not in start.get_data(as_text=True)
        assert leader.get("/dashboard/").status_code == 404


def test_with_dashboard_the_menu_links_it(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same clients on the shipped configuration: the counterpart of the test above."""
    app, clients = _browsers(make_app, _copy(tmp_path))
    with app.app_context():
        county, leader = clients["county"], clients["leader"]
        home = county.get("/").get_data(as_text=True)
        assert "x-nav-dashboard" in home and ">统计分析</a>" in home
        assert county.get("/dashboard/").status_code == 200
        start = leader.get("/")
        assert start.status_code == 302 and start.headers["Location"].endswith("/dashboard/")


@pytest.mark.parametrize(("form", "pointer", "words"), [
    ("officer_report", "/officer", "要求保密"),
    ("security_problem", "/reporter/name", "要求保密"),
    ("visit_register", "/visitor/id_number", "敏感信息"),
])
def test_protected_fields_are_refused(tmp_path, form, pointer, words) -> None:  # type: ignore[no-untyped-def]
    """A breakdown by a 要求保密 or sensitive field would tell its values to every reader of the dashboard."""
    import json as _json
    import shutil as _shutil

    from server.errors import ConfigInvalid
    from server.settings import PROJECT_ROOT
    from server.specs.loader import load_config

    config = tmp_path / "config"
    _shutil.copytree(PROJECT_ROOT / "config", config)
    figure = {"id": "leak", "title": "泄露", "count": {"form": form, "by": pointer}}
    (config / "dashboard.json").write_text(_json.dumps({"title": "统计分析", "sections": [
        {"title": "一", "figures": [figure]}]}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config)
    errors = [e for e in caught.value.errors if e.file == "dashboard.json"]
    assert len(errors) == 1 and errors[0].pointer == "/sections/0/figures/0/count/by"
    assert words in errors[0].message and pointer in errors[0].message

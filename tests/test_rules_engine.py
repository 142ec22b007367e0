"""server.rules: condition validation, fact normalisation and the durable_rules wrapper."""
from __future__ import annotations

import datetime
import math
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import durable_rules_engine
import pytest

from server.rules import engine as engine_module
from server.rules.conditions import (
    condition_attributes,
    condition_params,
    condition_problems,
    condition_schema_problems,
    condition_size,
    ruleset_problems,
    substitute_params,
)
from server.rules.engine import EngineError, Evaluation, PolicyEngine, RuleCompileError
from server.rules.normalise import FactError, check_fact, normalise_fact

ROOT = Path(__file__).resolve().parents[1]

ACCEPTED = {"$and": [{"acceptance_held": True},
                     {"$gte": {"satisfaction_rate": {"$param": "satisfaction_threshold"}}}]}


def one(condition, pointer="/rules/r/if", **kw):
    problems = condition_problems(condition, pointer, **kw)
    assert len(problems) == 1, problems
    return problems[0]


# ---------------------------------------------------------------------------------------------------
# conditions

def test_valid_conditions_have_no_problems():
    for condition in [
        {"acceptance_held": True},
        {"area.type": "township"},
        {"$gte": {"satisfaction_rate": 90}},
        {"$lt": {"score": 59.5}},
        {"$neq": {"status": "closed"}},
        {"$lte": {"date": "2024-05-01"}},
        {"$ex": {"listed": 1}},
        {"$nex": {"listed": 1}},
        {"$or": [{"a": 1}, {"$and": [{"b": False}, {"$gt": {"c": -3}}]}]},
        ACCEPTED,
    ]:
        assert condition_problems(condition, "/rules/r/if") == [], condition


def test_unknown_operator_has_pointer_and_lists_the_operators():
    pointer, message = one({"$and": [{"a": 1}, {"$like": {"name": "x%"}}]}, "/rules/accepted/if")
    assert pointer == "/rules/accepted/if/$and/1/$like"
    assert '未知的运算符 "$like"' in message
    assert "可用：$and、$or、$lt、$lte、$gt、$gte、$neq、$ex、$nex" in message


def test_operator_typo_suggests_the_right_one():
    assert '是否想写 "$lte"' in one({"$le": {"a": 1}})[1]
    assert '{"属性名": 值}' in one({"$eq": {"a": 1}})[1]


@pytest.mark.parametrize("condition, pointer, fragment", [
    ({"$and": {"a": 1}}, "/rules/r/if/$and", '"$and" 的值应为非空的条件列表，实际为 对象'),
    ({"$or": []}, "/rules/r/if/$or", '"$or" 的值应为非空的条件列表，实际为空列表'),
    ({"$and": [{"a": 1}, "b"]}, "/rules/r/if/$and/1", '应为一个条件对象'),
    ({"$gte": 90}, "/rules/r/if/$gte", '"$gte" 的值应为 {"属性名": 值}，实际为 整数 90'),
    ({"$gte": {"a": 1, "b": 2}}, "/rules/r/if/$gte", "恰好一个属性"),
    ({"$gte": {}}, "/rules/r/if/$gte", "空对象"),
    ({"$gte": {"a": [90]}}, "/rules/r/if/$gte/a", "实际为 列表（1 项）"),
    ({"a": {"b": 1}}, "/rules/r/if/a", "实际为 对象（键：b）"),
    ({"$gte": {"a": True}}, "/rules/r/if/$gte/a", '"$gte" 只能比较数字或字符串，实际为 布尔值 true'),
    ({"a": None}, "/rules/r/if/a", '{"$nex": {"a": 1}}'),
    ({"$lt": {"a": math.nan}}, "/rules/r/if/$lt/a", "应为有限数，实际为 NaN"),
    ({"$lt": {"a": math.inf}}, "/rules/r/if/$lt/a", "应为有限数"),
    ({"$lt": {"a": 1e-5}}, "/rules/r/if/$lt/a", "科学计数法"),
    ({"$lt": {"a": 2**60}}, "/rules/r/if/$lt/a", "超出范围"),
    ({"a": "x" * 9000}, "/rules/r/if/a", "字符串太长"),
    ({"$ex": {"a": True}}, "/rules/r/if/$ex/a", '值应为 1，实际为 布尔值 true'),
    ({"$nex": {"a": 0}}, "/rules/r/if/$nex/a", '{"$nex": {"a": 1}}'),
    ({"$ex": "a"}, "/rules/r/if/$ex", '"$ex" 的值应为 {"属性名": 1}'),
    ({"a-b": 1}, "/rules/r/if/a-b", '属性名 "a-b" 不合法'),
    ({"$gte": {"1a": 1}}, "/rules/r/if/$gte/1a", "不合法"),
    ({"area..type": 1}, "/rules/r/if/area..type", "不合法"),
    ({"sid": "x"}, "/rules/r/if/sid", "保留"),
    ({"$nex": {"id": 1}}, "/rules/r/if/$nex/id", "保留"),
    ({"_t": "fact"}, "/rules/r/if/_t", "保留"),
    ({"a": 1, "b": 2}, "/rules/r/if", '实际有 2 个（"a"、"b"）'),
    ({}, "/rules/r/if", "条件对象为空"),
    ("acceptance_held", "/rules/r/if", '应为一个条件对象'),
    ({"$param": "x"}, "/rules/r/if/$param", "只能用作比较的值"),
    ({"$gte": {"a": {"$param": "1x"}}}, "/rules/r/if/$gte/a/$param", "参数名"),
    ({"$gte": {"a": {"$param": "t", "x": 1}}}, "/rules/r/if/$gte/a", "实际为 对象"),
    ({"a/b": 1}, "/rules/r/if/a~1b", "不合法"),
])
def test_each_broken_condition_gives_its_pointer_and_message(condition, pointer, fragment):
    got_pointer, message = one(condition)
    assert got_pointer == pointer
    assert fragment in message
    assert "实际" in message or "应" in message or "请" in message  # says what was expected/found


def test_several_problems_are_all_reported():
    problems = condition_problems({"$or": [{"$like": {"a": 1}}, {"b": [1]}, {"c": 1}]}, "/rules/r/if")
    assert [p for p, _ in problems] == ["/rules/r/if/$or/0/$like", "/rules/r/if/$or/1/b"]


def test_nesting_is_bounded():
    condition = {"a": 1}
    for _ in range(40):
        condition = {"$and": [condition]}
    pointer, message = one(condition)
    assert "嵌套过深" in message


def test_params_allowed_until_compile():
    assert condition_problems(ACCEPTED, "/rules/accepted/if") == []
    pointer, message = one(ACCEPTED, "/rules/accepted/if", allow_params=False)
    assert pointer == "/rules/accepted/if/$and/1/$gte/satisfaction_rate/$param"
    assert '参数 "satisfaction_threshold" 尚未代入' in message


def test_attributes_params_and_substitution():
    condition = {"$or": [ACCEPTED, {"$nex": {"listed": 1}}, {"area.type": "township"},
                         {"$lt": {"days": {"$param": "window"}}}]}
    assert condition_attributes(condition) == {"acceptance_held", "satisfaction_rate", "listed", "area.type", "days"}
    assert condition_params(condition) == {"satisfaction_threshold", "window"}
    substituted = substitute_params(condition, {"satisfaction_threshold": 85, "window": 365})
    assert substituted["$or"][0] == {"$and": [{"acceptance_held": True}, {"$gte": {"satisfaction_rate": 85}}]}
    assert substituted["$or"][3] == {"$lt": {"days": 365}}
    assert condition_params(substituted) == set()
    assert condition_params(condition) == {"satisfaction_threshold", "window"}  # input untouched
    with pytest.raises(KeyError, match="window"):
        substitute_params(condition, {"satisfaction_threshold": 85})


def test_condition_size_is_the_normal_form():
    assert condition_size({"a": 1}) == (1, 1)
    assert condition_size({"$or": [{"a": 1}, {"b": 1}]}) == (2, 2)
    # (a|b) & (c|d|e) & f  ->  6 branches of 3 terms
    assert condition_size({"$and": [{"$or": [{"a": 1}, {"b": 1}]},
                                    {"$or": [{"c": 1}, {"d": 1}, {"e": 1}]}, {"f": 1}]}) == (6, 18)


def test_ruleset_problems_checks_rules_and_engine_limits():
    assert ruleset_problems({"accepted": ACCEPTED, "other": {"a": 1}}) == []
    assert ruleset_problems({"accepted": ACCEPTED}, allow_params=False)[0][0] == \
        "/rules/accepted/if/$and/1/$gte/satisfaction_rate/$param"
    assert ruleset_problems({"r/1": {"$foo": 1}}) == [("/rules/r~11/if/$foo", ruleset_problems({"r/1": {"$foo": 1}})[0][1])]
    assert ruleset_problems({}) == [("/rules", "没有规则：应至少有一条规则，实际为空对象 {}")]
    wide = {f"r{i}": {"$or": [{"a": i}, {"b": i}]} for i in range(25)}  # 50 branches
    (pointer, message), = ruleset_problems(wide)
    assert pointer == "/rules" and "50 个分支" in message and "最多支持 48 个" in message
    assert ruleset_problems(dict(list(wide.items())[:24])) == []


def test_condition_against_schema():
    schema = {"properties": {"satisfaction_rate": {"type": "number"}, "held": {"type": "boolean"},
                             "town": {"type": ["string", "null"]}}}
    problems = condition_schema_problems(
        {"$and": [{"$gte": {"satisfaction_rate": "90"}}, {"held": 1}, {"town": "x"}, {"$ex": {"unit": 1}}]},
        schema, "/rules/r/if")
    assert [p for p, _ in problems] == ["/rules/r/if/$and/0/$gte/satisfaction_rate", "/rules/r/if/$and/1/held",
                                        "/rules/r/if/$and/3/$ex/unit"]
    assert '不能与 字符串 "90" 比较' in problems[0][1]
    assert '事实中没有属性 "unit"' in problems[2][1]


# ---------------------------------------------------------------------------------------------------
# normalise

SCHEMA = {
    "type": "object",
    "properties": {
        "satisfaction_rate": {"type": "number"},
        "days": {"type": "integer"},
        "acceptance_held": {"type": "boolean"},
        "town": {"type": "string"},
        "score": {"type": ["number", "null"]},
        "area.type": {"type": "string"},
    },
    "required": ["acceptance_held"],
}


def test_normalise_coerces_clean_values():
    fact = normalise_fact(SCHEMA, {
        "satisfaction_rate": "89.99", "days": "365", "acceptance_held": "true", "town": "城关镇",
        "score": None, "area.type": "township",
    })
    assert fact == {"satisfaction_rate": 89.99, "days": 365, "acceptance_held": True, "town": "城关镇",
                    "area.type": "township"}
    assert normalise_fact(SCHEMA, {"acceptance_held": "false", "satisfaction_rate": "90"}) == \
        {"acceptance_held": False, "satisfaction_rate": 90}
    assert normalise_fact(SCHEMA, {"acceptance_held": True, "satisfaction_rate": Decimal("89.99"),
                                   "days": 30.0, "score": 0}) == \
        {"acceptance_held": True, "satisfaction_rate": 89.99, "days": 30, "score": 0}
    assert type(normalise_fact(SCHEMA, {"acceptance_held": True, "days": Decimal("7")})["days"]) is int
    assert normalise_fact(SCHEMA, {"acceptance_held": True, "town": None}) == {"acceptance_held": True}


@pytest.mark.parametrize("attr, value, fragment", [
    ("satisfaction_rate", " 85", "应为数字，实际为 字符串 \" 85\""),
    ("satisfaction_rate", "085", "前导零"),
    ("satisfaction_rate", "+85", "应为数字"),
    ("satisfaction_rate", "1e3", "科学计数法"),
    ("satisfaction_rate", "八十五", "应为数字"),
    ("satisfaction_rate", True, "应为数字，实际为 布尔值 true"),
    ("satisfaction_rate", math.nan, "应为有限数，实际为 NaN"),
    ("satisfaction_rate", -math.inf, "应为有限数"),
    ("satisfaction_rate", Decimal("NaN"), "应为有限数"),
    ("satisfaction_rate", 0.00001, "绝对值太小"),
    ("satisfaction_rate", 1e300, "超出范围"),
    ("days", "8.5", "应为整数，实际为 字符串 \"8.5\""),
    ("days", 8.5, "有小数部分"),
    ("days", 2**60, "超出范围"),
    ("acceptance_held", 1, "应为布尔值（true/false），实际为 整数 1"),
    ("acceptance_held", "True", "应为布尔值"),
    ("acceptance_held", "yes", "应为布尔值"),
    ("town", 85, "应为字符串，实际为 整数 85"),
    ("town", "x" * 9000, "字符串太长"),
    ("town", {"name": "x"}, "事实必须是扁平的"),
    ("town", ["a"], "事实必须是扁平的"),
    ("town", datetime.date(2024, 5, 1), "不是 JSON 值"),
    ("unknown", 1, '未声明的属性 "unknown"'),
    ("sid", "x", "保留"),
    ("id", 1, "保留"),
    ("_t", "fact", "保留"),
])
def test_normalise_refuses(attr, value, fragment):
    fact = {"acceptance_held": True} if attr != "acceptance_held" else {}
    fact[attr] = value
    with pytest.raises(FactError) as info:
        normalise_fact(SCHEMA, fact)
    assert info.value.problems[0][0] == "/" + attr
    assert fragment in info.value.problems[0][1]


def test_normalise_reports_every_problem_and_required():
    with pytest.raises(FactError) as info:
        normalise_fact(SCHEMA, {"satisfaction_rate": "high", "days": "x"})
    assert [p for p, _ in info.value.problems] == ["/satisfaction_rate", "/days", "/acceptance_held"]
    assert '缺少必填属性 "acceptance_held"' in info.value.problems[2][1]
    with pytest.raises(FactError, match="必填属性不能为 null"):
        normalise_fact(SCHEMA, {"acceptance_held": None})


def test_normalise_refuses_shape():
    with pytest.raises(FactError, match="事实应为对象"):
        normalise_fact(SCHEMA, [("acceptance_held", True)])
    wide = {"type": "object", "properties": {f"a{i}": {"type": "integer"} for i in range(300)}}
    with pytest.raises(FactError, match="最多 200 个"):
        normalise_fact(wide, {f"a{i}": i for i in range(201)})
    assert len(normalise_fact(wide, {f"a{i}": i for i in range(200)})) == 200
    with pytest.raises(ValueError, match="must have a type"):
        normalise_fact({"properties": {"x": {"type": "object"}}}, {"x": {}})


def test_check_fact():
    check_fact({"a": 1, "b": 1.5, "c": "x", "d": True, "area.type": "t"})
    for bad in [{"sid": "x"}, {"a": None}, {"a": [1]}, {"a": math.nan}, {"a": 1e-7}, {"a-b": 1}, "x"]:
        with pytest.raises(FactError):
            check_fact(bad)


# ---------------------------------------------------------------------------------------------------
# engine

@pytest.fixture
def engine():
    eng = PolicyEngine()
    yield eng
    eng.close()


def test_equality_comparisons_and_combinations(engine):
    engine.load("p", {
        "eq_bool": {"acceptance_held": True},
        "eq_str": {"town": "城关镇"},
        "eq_dotted": {"area.type": "township"},
        "lt": {"$lt": {"score": 60}},
        "lte": {"$lte": {"score": 60}},
        "gt": {"$gt": {"score": 60}},
        "gte": {"$gte": {"score": 60}},
        "neq": {"$neq": {"town": "城关镇"}},
        "and": {"$and": [{"acceptance_held": True}, {"$gte": {"score": 60}}]},
        "or": {"$or": [{"$lt": {"score": 60}}, {"$gte": {"complaints": 3}}]},
        "ex": {"$ex": {"complaints": 1}},
        "nex": {"$nex": {"complaints": 1}},
    }, "v1")
    ev = lambda fact: engine.evaluate("p", fact).fired  # noqa: E731
    assert ev({"acceptance_held": True, "score": 60, "town": "城关镇"}) == \
        ["eq_bool", "eq_str", "lte", "gte", "and", "nex"]
    assert ev({"score": 59.5, "town": "x", "area.type": "township"}) == \
        ["eq_dotted", "lt", "lte", "neq", "or", "nex"]
    assert ev({"score": 61, "acceptance_held": False, "complaints": 0}) == ["gt", "gte", "ex"]
    # both $or branches true: the rule is reported once
    assert ev({"score": 10, "complaints": 5}) == ["lt", "lte", "or", "ex"]
    # a missing attribute makes comparisons (even $neq) false
    assert ev({}) == ["nex"]


def test_no_rule_fires(engine):
    engine.load("p", {"a": {"x": 1}, "b": {"$gte": {"y": 5}}}, "v1")
    for _ in range(50):
        assert engine.evaluate("p", {"x": 2, "y": 1}) == Evaluation("v1", [])


def test_no_rule_fires_first_in_a_fresh_process():
    """durable 2.0.28 segfaults on delete_state after a session where no rule fired (first ruleset of a
    fresh process); the wrapper's catch-all rule prevents it. Run where it would crash: a new process."""
    script = textwrap.dedent("""
        from server.rules.engine import PolicyEngine
        engine = PolicyEngine()
        engine.load("p", {"r": {"$gte": {"a": 90}}}, "v1")
        results = [engine.evaluate("p", {"a": 3}).fired for _ in range(20)] + [engine.evaluate("p", {"a": 95}).fired]
        print(results[0], results[-1])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] ['r']"


def test_nex_does_not_loop(engine):
    engine.load("p", {"unlisted": {"$nex": {"listed": 1}}, "other": {"$or": [{"$nex": {"a": 1}}, {"$nex": {"b": 1}}]}}, "v1")
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=engine.evaluate("p", {"x": 1})), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "$nex evaluation did not finish"
    assert result["r"].fired == ["unlisted", "other"]


def test_params_substituted_and_threshold_boundary(engine):
    rules = {"accepted": ACCEPTED,
             "extension": {"$and": [{"acceptance_held": True},
                                    {"$lt": {"satisfaction_rate": {"$param": "satisfaction_threshold"}}}]}}
    with pytest.raises(RuleCompileError, match="尚未代入"):
        engine.load("acceptance", rules, "v1")
    engine.load("acceptance", {k: substitute_params(v, {"satisfaction_threshold": 90}) for k, v in rules.items()}, "v1")

    def decide(rate):
        fact = normalise_fact(SCHEMA, {"acceptance_held": "true", "satisfaction_rate": rate})
        return engine.evaluate("acceptance", fact).fired

    assert decide("89.99") == ["extension"]
    assert decide(89.99) == ["extension"]
    assert decide("90.00") == ["accepted"]
    assert decide(90.0) == ["accepted"]
    assert decide(90) == ["accepted"]
    assert decide("100") == ["accepted"]   # as a number: the engine would compare the string "100" < 90
    engine.load("acceptance", {k: substitute_params(v, {"satisfaction_threshold": 85}) for k, v in rules.items()}, "v2")
    assert decide("89.99") == ["accepted"]
    assert decide("84.99") == ["extension"]


def test_reload_swaps_version_and_frees_the_old_ruleset(engine):
    engine.load("p", {"r": {"$gte": {"a": 90}}}, "v1")
    old = engine._active["p"]
    assert engine.evaluate("p", {"a": 89}).fired == []
    engine.load("p", {"r": {"$gte": {"a": 85}}}, "v2")
    assert engine.loaded() == {"p": "v2"}
    assert engine.evaluate("p", {"a": 89}) == Evaluation("v2", ["r"])
    assert engine.live_rulesets() == [engine._active["p"].durable_name] != [old.durable_name]
    with pytest.raises(durable_rules_engine.error, match="error code: 111"):  # the C ruleset is gone
        durable_rules_engine.get_state(old.ruleset._handle, "x")


def test_failed_compile_keeps_the_old_version(engine, monkeypatch):
    engine.load("p", {"r": {"$gte": {"a": 90}}}, "v1")
    with pytest.raises(RuleCompileError) as info:
        engine.load("p", {"r": {"$and": [{"a": 1}, {"$like": {"b": "x"}}]}, "s": {"c": []}}, "v2")
    assert [p for p, _ in info.value.problems] == ["/rules/r/if/$and/1/$like", "/rules/s/if/c"]
    assert engine.loaded() == {"p": "v1"}
    assert engine.evaluate("p", {"a": 95}) == Evaluation("v1", ["r"])

    # an error of the C compiler itself is mapped to a readable message, old version still active
    def refuse(name, definition):
        raise durable_rules_engine.error("Could not create ruleset, error code: 202")

    monkeypatch.setattr(durable_rules_engine, "create_ruleset", refuse)
    with pytest.raises(RuleCompileError) as info:
        engine.load("p", {"r": {"$gte": {"a": 85}}}, "v3")
    assert info.value.problems == [("/rules", "规则引擎拒绝编译这组规则（错误码 202：无法解析字符串（通常是不认识的运算符或键名））")]
    monkeypatch.undo()
    assert engine.loaded() == {"p": "v1"}
    assert engine.evaluate("p", {"a": 89}) == Evaluation("v1", [])
    assert len(engine.live_rulesets()) == 1


def test_load_refuses_bad_input(engine):
    for name, rules, fragment in [
        ("p", {}, "没有规则"),
        ("p", [], "应为对象"),
        ("p", {"r": {"a": 1}, 5: {"a": 1}}, "规则 id"),
        ("p$state", {"r": {"a": 1}}, "规则集名称"),
        ("p", {"": {"a": 1}}, "规则 id"),
        ("p", {f"r{i}": {"a": i} for i in range(engine_module.MAX_RULES + 1)}, "规则太多"),
        ("p", {"r": {"$and": [{"$or": [{f"a{i}": 1} for i in range(7)]}, {"$or": [{f"b{i}": 1} for i in range(7)]}]}},
         "49 个分支"),
    ]:
        with pytest.raises(RuleCompileError, match=fragment):
            engine.load(name, rules, "v1")
    with pytest.raises(RuleCompileError, match="版本"):
        engine.load("p", {"r": {"a": 1}}, "")
    assert engine.loaded() == {} and engine.live_rulesets() == []


def test_unknown_ruleset_and_unload(engine):
    with pytest.raises(KeyError):
        engine.evaluate("missing", {"a": 1})
    engine.load("p", {"r": {"a": 1}}, "v1")
    engine.load("q", {"r": {"a": 2}}, "w1")
    assert engine.loaded() == {"p": "v1", "q": "w1"}
    engine.unload("p")
    assert engine.loaded() == {"q": "w1"} and len(engine.live_rulesets()) == 1
    with pytest.raises(KeyError):
        engine.evaluate("p", {"a": 1})
    with pytest.raises(KeyError):
        engine.unload("p")


def test_fact_must_be_normalised(engine):
    engine.load("p", {"r": {"a": 1}}, "v1")
    for bad in [{"sid": "x", "a": 1}, {"id": 1}, {"_t": "other"}, {"a": [1]}, {"a": None}, {"a": math.inf}]:
        with pytest.raises(FactError):
            engine.evaluate("p", bad)
    assert engine.evaluate("p", {"a": 1}).fired == ["r"]


def test_engine_error_quarantines_and_recompiles(engine, monkeypatch):
    engine.load("p", {"r": {"a": 1}}, "v1")
    before = engine.live_rulesets()

    def fail(handle, message):
        raise durable_rules_engine.error("Could not assert fact, error code: 303")

    monkeypatch.setattr(durable_rules_engine, "assert_fact", fail)
    with pytest.raises(EngineError) as info:
        engine.evaluate("p", {"a": 1})
    assert info.value.code == 303 and "错误码 303" in str(info.value)
    monkeypatch.undo()
    assert engine.loaded() == {"p": "v1"}
    assert len(engine.live_rulesets()) == 1 and engine.live_rulesets() != before
    assert engine.evaluate("p", {"a": 1}) == Evaluation("v1", ["r"])


def test_no_background_threads(engine):
    threads = threading.active_count()
    other = PolicyEngine()
    other.load("p", {"r": {"a": 1}}, "v1")
    engine.load("p", {"r": {"a": 1}}, "v1")
    for _ in range(10):
        other.evaluate("p", {"a": 1})
    assert threading.active_count() == threads
    other.close()

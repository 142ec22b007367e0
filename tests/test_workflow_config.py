"""Workflow, fact and rule configuration: the invalid cases, the shipped configuration, and the checks
that are awkward to state as an ``expected.txt`` (positions, cross-file references that only show on
an otherwise valid configuration, defects found while writing them, now fixed).

The exact messages of ``configs/invalid/{workflow_errors,facts_errors,rule_unit_code}`` are compared by
``tests/test_specs.py::test_invalid_config_reports_exactly``, which picks up every case folder.
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
INVALID = Path(__file__).parent / "configs" / "invalid"
WORKFLOW_CASES = ("workflow_errors", "facts_errors", "rule_unit_code")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _errors(directory: Path) -> list[ConfigError]:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(directory)
    return caught.value.errors


def _write(directory: Path, files: dict[str, Any]) -> Path:
    for name, document in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return directory


# --- the invalid cases ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_case_folder_exists_with_expected_lines(case: str) -> None:
    directory = INVALID / case
    assert (directory / "forms").is_dir()
    lines = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert lines and all(line.strip() for line in lines)
    assert [str(e) for e in _errors(directory)] == lines


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_case_messages_are_chinese_and_positioned(case: str) -> None:
    for error in _errors(INVALID / case):
        assert CJK.search(error.message), error
        assert error.line >= 1 and error.column >= 1
        if error.pointer:  # a value inside the file: never the file's first character
            assert error.line > 1, error


def test_every_workflow_error_points_into_the_file() -> None:
    errors = _errors(INVALID / "workflow_errors")
    roots = [e for e in errors if e.line == 1]
    # only "no form uses this workflow" is about the file as a whole
    assert [(e.file, e.pointer, e.column) for e in roots] == [("workflows/unused_flow.json", "", 1)]
    assert all(e.line > 1 for e in errors if e not in roots)


def test_workflow_errors_cover_every_file_and_come_at_once() -> None:
    errors = _errors(INVALID / "workflow_errors")
    assert {e.file for e in errors} == {
        "forms/orphan.json", "workflows/graph_flow.json", "workflows/main_flow.json",
        "workflows/plain_flow.json", "workflows/unused_flow.json"}
    main = [e for e in errors if e.file == "workflows/main_flow.json"]
    assert len(main) >= 25
    assert [(e.line, e.column) for e in main] == sorted((e.line, e.column) for e in main)


def test_graph_errors_name_state_and_title() -> None:
    by_pointer = {e.pointer: e.message for e in _errors(INVALID / "workflow_errors")
                  if e.file == "workflows/graph_flow.json"}
    assert by_pointer == {
        "/states/stuck": '未办结的状态 "stuck"（搁置）没有任何出路：请加流转，或标为 "open": false',
        "/states/island": '状态 "island"（孤岛）从初始状态无法到达',
    }


def test_rule_unit_code_names_the_misspelt_code_only() -> None:
    errors = _errors(INVALID / "rule_unit_code")
    codes = [e for e in errors if e.pointer.endswith("/unit") or e.pointer.endswith("/assignee")]
    assert [(e.pointer, e.message) for e in codes] == [
        ("/rules/public_order/actions/0/unit", '单位代码 "GA-PCS99" 不存在于组织机构配置（config/org/units.json）中')]
    assert {e.pointer for e in errors if "due_working_days" in e.pointer} == {
        "/rules/public_order/actions/1/due_working_days", "/rules/public_order/actions/2/due_working_days"}


# --- the shipped configuration -------------------------------------------------------------------------

def test_shipped_config_loads_without_errors() -> None:
    config = load_config(SHIPPED)
    assert isinstance(config.warnings, list) and all(isinstance(w, str) and CJK.search(w) for w in config.warnings)
    assert set(config.workflows) == {p.stem for p in (SHIPPED / "workflows").glob("*.json")}
    for workflow_id, workflow in config.workflows.items():
        assert config.forms[workflow.form].schema["x-form"]["workflow"] == workflow_id
        assert workflow.initial in workflow.states
        assert workflow.digest


def test_shipped_workflows_reach_every_state() -> None:
    from server.workflow.machine import reachable

    for workflow in load_config(SHIPPED).workflows.values():
        assert reachable(workflow) == set(workflow.states), workflow.id


def _shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_shipped_fact_counting_an_unknown_transition(tmp_path: Path) -> None:
    config = _shipped_copy(tmp_path)
    facts = config / "facts" / "security_problem.json"
    _edit(facts, '"send_backs": {"transitions": "send_back"}', '"send_backs": {"transitions": "send_bak"}')
    errors = _errors(config)
    line = next(n for n, text in enumerate(facts.read_text(encoding="utf-8").splitlines(), 1) if "send_bak" in text)
    assert len(errors) == 1
    error, = errors
    assert (error.file, error.pointer, error.line) == ("facts/security_problem.json", "/attributes/send_backs/transitions", line)
    assert error.message.startswith('流转 "send_bak" 不存在（现有流转：verify、route、')


def test_shipped_rule_with_a_misspelt_unit_code_is_reported(tmp_path: Path) -> None:
    config = _shipped_copy(tmp_path)
    _edit(config / "rules" / "responsibility.json", '"unit": "JY",', '"unit": "JY1",')
    errors = [e for e in _errors(config) if e.file == "rules/responsibility.json"]
    assert [e.message for e in errors] == ['单位代码 "JY1" 不存在于组织机构配置（config/org/units.json）中']
    assert errors[0].pointer.endswith("/unit") and errors[0].line > 1


def test_shipped_rule_with_a_misspelt_unit_code_is_the_only_error(tmp_path: Path) -> None:
    config = _shipped_copy(tmp_path)
    _edit(config / "rules" / "responsibility.json", '"unit": "JY",', '"unit": "JY1",')
    assert [e.file for e in _errors(config)] == ["rules/responsibility.json"]


# --- a minimal configuration built per test ---------------------------------------------------------------

FORM = {"type": "object", "title": "登记", "x-form": {"workflow": "flow"},
        "properties": {"name": {"type": "string", "title": "名称"},
                       "due_on": {"type": "string", "format": "date", "title": "到期日"}}}
PARAMETERS = {"parameters": {"limit": {"title": "上限", "value": 3}}}


def _flow(**extra: Any) -> dict[str, Any]:
    return {"title": "流程", "facts": "item", "initial": "open",
            "states": {"open": {"title": "待办"}, "closed": {"title": "已办", "open": False}},
            "transitions": {"close": {"label": "办结", "from": "open", "to": "closed",
                                      "roles": [{"role": "county_staff"}],
                                      "guard": {"if": {"$lte": {"closes": {"$param": "limit"}}}, "explain": "次数过多"}}},
            **extra}


def _minimal(tmp_path: Path, facts: dict[str, Any], flow: dict[str, Any] | None = None,
             more: dict[str, Any] | None = None) -> Path:
    files = {"forms/item.json": FORM, "rules/parameters.json": PARAMETERS, "facts/item.json": facts,
             "workflows/flow.json": flow or _flow(), **(more or {})}
    return _write(tmp_path / "config", files)


GOOD_FACTS = {"title": "登记", "form": "item", "attributes": {"closes": {"transitions": "close"}}}


def test_minimal_workflow_config_loads(tmp_path: Path) -> None:
    config = load_config(_minimal(tmp_path, GOOD_FACTS))
    assert list(config.workflows) == ["flow"] and config.rules.facts["item"].types == {"closes": "integer"}


def test_fact_transitions_must_name_a_transition_of_the_forms_workflow(tmp_path: Path) -> None:
    facts = {"title": "登记", "form": "item", "attributes": {"closes": {"transitions": "clos"}}}
    assert [str(e) for e in _errors(_minimal(tmp_path, facts))] == [
        'facts/item.json:6:22: /attributes/closes/transitions: 流转 "clos" 不存在（现有流转：close）']


def test_fact_transitions_on_a_form_without_workflow(tmp_path: Path) -> None:
    other = {"type": "object", "title": "其他", "properties": {"name": {"type": "string", "title": "名称"}}}
    facts = {"title": "其他", "form": "other", "attributes": {"closes": {"transitions": "close"}}}
    errors = _errors(_minimal(tmp_path, GOOD_FACTS, more={"forms/other.json": other, "facts/other.json": facts}))
    assert [(e.file, e.pointer, e.message) for e in errors] == [
        ("facts/other.json", "/attributes/closes/transitions", '流转 "close" 不存在（该表单没有流程）')]


# --- defects found while writing these tests (fixed) --------------------------------------------------------

def test_broken_unrelated_facts_file_does_not_cascade_into_workflows(tmp_path: Path) -> None:
    broken = {"title": "其他", "form": "item", "attributes": {"x": {"bogus": 1}}}
    errors = _errors(_minimal(tmp_path, GOOD_FACTS, more={"facts/other.json": broken}))
    assert {e.file for e in errors} == {"facts/other.json"}


def test_unknown_fact_transition_is_reported_with_other_fact_errors(tmp_path: Path) -> None:
    facts = {"title": "登记", "form": "item",
             "attributes": {"closes": {"transitions": "clos"}, "bad": {"field": "/nickname"}}}
    pointers = {e.pointer for e in _errors(_minimal(tmp_path, facts))}
    assert "/attributes/closes/transitions" in pointers


def test_broken_workflow_does_not_cascade_into_fact_transitions(tmp_path: Path) -> None:
    flow = _flow()
    flow["transitions"]["close"]["roles"] = [{"role": "mayor"}]
    assert {e.file for e in _errors(_minimal(tmp_path, GOOD_FACTS, flow))} == {"workflows/flow.json"}


def test_ratio_with_one_operand_says_two_are_needed(tmp_path: Path) -> None:
    facts = {"title": "登记", "form": "item", "attributes": {"a": {"value": 1}, "r": {"ratio": ["a"]}}}
    errors = [e for e in _errors(_minimal(tmp_path, facts)) if e.file == "facts/item.json"]
    assert [e.message for e in errors] == ["ratio 应恰好有两个运算对象，实际为 1 个"]


def _broken_transition_label(flow: dict[str, Any]) -> None:
    del flow["transitions"]["close"]["label"]


def _broken_timer_due(flow: dict[str, Any]) -> None:
    flow["timers"] = {"t": {"title": "时限", "runs_in": ["open"], "due": {"working_days": 3, "months": 1}}}


def _broken_runs_in(flow: dict[str, Any]) -> None:
    flow["timers"] = {"t": {"title": "时限", "runs_in": [{"state": "open"}], "due": {"working_days": 3}}}


def _broken_action_do(flow: dict[str, Any]) -> None:
    flow["transitions"]["close"]["actions"] = [{"do": ["notify"], "unit": "{owner_code}", "message": "x"}]


def _broken_timer_name(flow: dict[str, Any]) -> None:
    flow["transitions"]["close"]["actions"] = [{"do": "start_timer", "timer": ["t"]}]


@pytest.mark.parametrize("breaks", [_broken_transition_label, _broken_timer_due, _broken_runs_in,
                                    _broken_action_do, _broken_timer_name])
def test_malformed_workflow_is_reported_not_a_crash(tmp_path: Path, breaks) -> None:
    flow = _flow()
    breaks(flow)
    errors = _errors(_minimal(tmp_path, GOOD_FACTS, flow))
    assert errors and {e.file for e in errors} == {"workflows/flow.json"}


def test_amounts_and_state_ids_are_bounded(tmp_path: Path) -> None:
    """A deadline of 100,000 months cannot be a date; a state id longer than its column cannot be stored."""
    flow = _flow(timers={"t": {"title": "期限", "runs_in": ["open"], "due": {"months": 100000}}})
    flow["states"]["a" * 33] = {"title": "太长", "open": False}
    errors = [(e.pointer, e.message) for e in _errors(_minimal(tmp_path, GOOD_FACTS, flow))]
    assert ("/timers/t/due/months", "应不大于 3650，实际为 100000") in errors
    assert ("/states", f'应匹配 ^[a-z][a-z0-9_]{{0,31}}$，实际为 "{"a" * 33}"') in errors

"""The pure workflow engine: ``server.workflow.machine`` and ``server.workflow.deadlines``.

No app, no database, no configuration folder: small definitions are built with ``build_workflow``
from dicts shaped like ``config/workflows/<id>.json``. Dates use the real Chinese calendar
(``WorkCalendar()``, package data) around 国庆 2026: 10-01..10-07 off, Sat 10-10 and Sun 09-20 are
调休 working days, Fri 09-25 is 中秋.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from server.workflow.calendar import WorkCalendar
from server.workflow.deadlines import (
    AmountError, after_pause, due_date, pending_steps, resolve, schedule, step_day,
)
from server.workflow.definition import EXPIRY_STEP, Amount, Grant, Workflow, build_workflow
from server.workflow.machine import (
    Actor, Refusal, TimerChanges, available, grant_admits, may_press, reachable, refusal, target, timer_changes,
)

CAL = WorkCalendar()

OWNER_GRANTS = [{"role": "township_staff", "levels": ["township", "subdistrict"], "unit": "owner"},
                {"role": "county_staff"}]
ASSIGNEE_GRANTS = [{"role": "department_staff", "unit": "assignee"}, {"role": "county_staff"}]


def intake(**timers: Any) -> Workflow:
    """A small intake procedure: register → handle → report → follow up → archive."""
    doc = {
        "title": "办理",
        "facts": "case",
        "assignee": "/handling_unit",
        "initial": "registered",
        "states": {
            "registered": {"title": "待分流", "waits_on": "owner"},
            "handling": {"title": "办理中", "waits_on": "assignee"},
            "reported": {"title": "待审核", "waits_on": "owner"},
            "follow_up": {"title": "待回访", "waits_on": "owner"},
            "archived": {"title": "已归档", "open": False},
        },
        "transitions": {
            "route": {"label": "分流", "from": "registered", "to": "handling", "roles": OWNER_GRANTS,
                      "dialog": ["/handling_unit"], "requires": ["/handling_unit"]},
            "reassign": {"label": "改派", "from": "handling", "to": "handling", "roles": OWNER_GRANTS},
            "report": {"label": "报告结果", "from": "handling", "to": "reported", "roles": ASSIGNEE_GRANTS,
                       "requires": ["/result", "/steps/-/done_on"]},
            "approve": {"label": "审核办结", "from": "reported", "to": "follow_up", "roles": OWNER_GRANTS,
                        "guard": {"if": {"has_result": True}, "explain": "须先报告办理结果"}},
            "return_redo": {"label": "退回重办", "from": "reported", "to": "handling", "roles": OWNER_GRANTS},
            "visit": {"label": "回访", "from": "follow_up",
                      "to": [{"if": {"satisfaction": "dissatisfied"}, "state": "handling"}, {"state": "archived"}],
                      "roles": OWNER_GRANTS},
            "note": {"label": "备注", "from": ["registered", "handling"], "to": "registered",
                     "roles": [{"role": "county_staff", "levels": ["county"]}], "guard": {"if": {"x": 1}, "explain": ""}},
        },
        "timers": timers or {
            "handling": {"title": "办理时限", "runs_in": ["handling"], "paused_in": ["reported"],
                         "due": {"working_days": 10}},
            "follow_up": {"title": "回访时限", "runs_in": ["follow_up"], "due": {"working_days": 1}},
        },
    }
    return build_workflow("intake", "case", doc, "digest")


WF = intake()
T = WF.transitions

COUNTY = Actor(role="county_staff", level="county")
TOWNSHIP_OWNER = Actor(role="township_staff", level="township", is_owner=True)
TOWNSHIP_OTHER = Actor(role="township_staff", level="township")
VILLAGE_OWNER = Actor(role="township_staff", level="village", is_owner=True)
DEPT_ASSIGNEE = Actor(role="department_staff", level="county_unit", is_assignee=True)
DEPT_OTHER = Actor(role="department_staff", level="county_unit")
LEADER = Actor(role="leader", level="county", read_only=True)
READ_ONLY_COUNTY = Actor(role="county_staff", level="county", read_only=True)


# --- grants ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("grant", "actor", "admitted"), [
    (Grant("county_staff"), COUNTY, True),
    (Grant("county_staff"), TOWNSHIP_OWNER, False),                                  # other role
    (Grant("township_staff", levels=("township", "subdistrict")), TOWNSHIP_OTHER, True),
    (Grant("township_staff", levels=("township", "subdistrict")), VILLAGE_OWNER, False),  # level
    (Grant("township_staff", unit="owner"), TOWNSHIP_OWNER, True),
    (Grant("township_staff", unit="owner"), TOWNSHIP_OTHER, False),                  # not the owning unit
    (Grant("township_staff", levels=("township",), unit="owner"), VILLAGE_OWNER, False),  # owner, wrong level
    (Grant("department_staff", unit="assignee"), DEPT_ASSIGNEE, True),
    (Grant("department_staff", unit="assignee"), DEPT_OTHER, False),
    (Grant("department_staff", unit="assignee"), Actor("department_staff", "county_unit", is_owner=True), False),
    (Grant("township_staff", unit="owner"), Actor("township_staff", "township", is_assignee=True), False),
])
def test_grant_admits_by_role_level_and_unit(grant: Grant, actor: Actor, admitted: bool) -> None:
    assert grant_admits(grant, actor) is admitted


def test_read_only_actors_never_press_even_with_a_matching_grant() -> None:
    assert grant_admits(Grant("county_staff"), READ_ONLY_COUNTY)  # the grant itself would admit
    assert not may_press(T["route"], READ_ONLY_COUNTY)
    assert not any(may_press(t, LEADER) for t in T.values())


def test_may_press_needs_one_admitting_grant() -> None:
    assert may_press(T["route"], COUNTY) and may_press(T["route"], TOWNSHIP_OWNER)
    assert not may_press(T["route"], TOWNSHIP_OTHER)
    assert may_press(T["report"], DEPT_ASSIGNEE) and not may_press(T["report"], DEPT_OTHER)
    assert not may_press(T["report"], TOWNSHIP_OWNER)


# --- refusals ---------------------------------------------------------------------------------------

def test_refusal_state_names_the_states_by_title() -> None:
    found = refusal(WF, "registered", T["report"], DEPT_ASSIGNEE, {}, set())
    assert found == Refusal("state", "“报告结果”只能在“办理中”状态下办理，当前状态为“待分流”")
    several = refusal(WF, "archived", T["note"], COUNTY, {}, set())
    assert several is not None and several.message == "“备注”只能在“待分流、办理中”状态下办理，当前状态为“已归档”"


def test_state_is_checked_before_role() -> None:
    found = refusal(WF, "archived", T["route"], LEADER, {}, set())
    assert found is not None and found.code == "state"


@pytest.mark.parametrize(("transition", "actor", "message"), [
    ("route", LEADER, "您的角色只能查看，不能办理"),
    ("route", READ_ONLY_COUNTY, "您的角色只能查看，不能办理"),
    ("route", DEPT_ASSIGNEE, "您的角色无权办理“分流”"),
    ("route", TOWNSHIP_OTHER, "“分流”须由受理（登记）单位办理，您所在单位不是本事项的受理单位"),
    ("route", VILLAGE_OWNER, "“分流”不能由您所在层级的单位办理"),
    ("report", DEPT_OTHER, "“报告结果”须由承办单位办理，您所在单位不是本事项的承办单位"),
    ("note", Actor("county_staff", "county_unit"), "“备注”不能由您所在层级的单位办理"),
])
def test_refusal_role_messages(transition: str, actor: Actor, message: str) -> None:
    source = T[transition].sources[0]
    assert refusal(WF, source, T[transition], actor, {}, set()) == Refusal("role", message)


def test_refusal_field_gives_the_pointer_of_the_first_empty_field() -> None:
    t = T["report"]
    for data in ({}, {"result": ""}, {"result": []}, {"result": {}}, {"result": None}):
        assert refusal(WF, "handling", t, DEPT_ASSIGNEE, data, set()) == Refusal(
            "field", "办理“报告结果”前须填写此项", "/result")
    # "-" is the last row of a list
    rows = {"result": "已整改", "steps": [{"done_on": "2026-09-01"}, {"done_on": ""}]}
    assert refusal(WF, "handling", t, DEPT_ASSIGNEE, rows, set()) == Refusal(
        "field", "办理“报告结果”前须填写此项", "/steps/-/done_on")
    rows["steps"].append({"done_on": "2026-09-02"})
    assert refusal(WF, "handling", t, DEPT_ASSIGNEE, rows, set()) is None
    # 0 and false are values, not blanks
    zero = build_workflow("z", "f", {"title": "z", "initial": "a", "states": {"a": {"title": "甲"}},
                                     "transitions": {"t": {"label": "办", "from": "a", "to": "a", "roles": [
                                         {"role": "county_staff"}], "requires": ["/n", "/b"]}}}, "")
    assert refusal(zero, "a", zero.transitions["t"], COUNTY, {"n": 0, "b": False}, set()) is None


def test_refusal_field_check_can_be_skipped_for_the_dialog() -> None:
    assert refusal(WF, "handling", T["report"], DEPT_ASSIGNEE, {}, set(), check_fields=False) is None


def test_refusal_guard_uses_the_passed_condition_ids() -> None:
    t = T["approve"]
    assert WF.conditions()["guard:approve"] == {"has_result": True}
    assert refusal(WF, "reported", t, COUNTY, {}, set()) == Refusal("guard", "须先报告办理结果")
    assert refusal(WF, "reported", t, COUNTY, {}, {"to:visit:0"}) == Refusal("guard", "须先报告办理结果")
    assert refusal(WF, "reported", t, COUNTY, {}, {"guard:approve"}) is None


def test_refusal_guard_without_explanation_falls_back_to_the_label() -> None:
    assert refusal(WF, "handling", T["note"], COUNTY, {}, set()) == Refusal("guard", "不满足“备注”的条件")


def test_fields_are_refused_before_the_guard() -> None:
    doc = {"title": "w", "initial": "a", "states": {"a": {"title": "甲"}, "b": {"title": "乙", "open": False}},
           "transitions": {"t": {"label": "办结", "from": "a", "to": "b", "roles": [{"role": "county_staff"}],
                                 "requires": ["/x"], "guard": {"if": {"ok": True}, "explain": "条件不满足"}}}}
    wf = build_workflow("w", "f", doc, "")
    assert refusal(wf, "a", wf.transitions["t"], COUNTY, {}, set()).code == "field"
    assert refusal(wf, "a", wf.transitions["t"], COUNTY, {"x": 1}, set()).code == "guard"


# --- available ----------------------------------------------------------------------------------------

def _ids(found: list) -> list[str]:
    return [t.id for t, _ in found]


def test_available_lists_only_what_the_actor_may_press_here() -> None:
    assert _ids(available(WF, "registered", TOWNSHIP_OWNER, {}, set())) == ["route"]
    assert _ids(available(WF, "registered", COUNTY, {}, set())) == ["route", "note"]
    assert _ids(available(WF, "handling", DEPT_ASSIGNEE, {}, set())) == ["report"]
    assert _ids(available(WF, "handling", DEPT_OTHER, {}, set())) == []
    assert _ids(available(WF, "handling", TOWNSHIP_OWNER, {}, set())) == ["reassign"]
    assert available(WF, "handling", LEADER, {}, set()) == []
    assert available(WF, "archived", COUNTY, {}, set()) == []
    assert available(WF, None, COUNTY, {}, set()) == []


def test_available_keeps_buttons_with_missing_fields_enabled_but_not_failed_guards() -> None:
    route, = available(WF, "registered", TOWNSHIP_OWNER, {}, set())
    assert route == (T["route"], None)  # /handling_unit is asked for in the dialog
    approve, redo = available(WF, "reported", COUNTY, {}, set())
    assert approve == (T["approve"], Refusal("guard", "须先报告办理结果"))
    assert redo == (T["return_redo"], None)
    assert available(WF, "reported", COUNTY, {}, {"guard:approve"})[0] == (T["approve"], None)


# --- targets ------------------------------------------------------------------------------------------

def test_conditional_targets_take_the_first_that_holds() -> None:
    visit = T["visit"]
    assert [t.state for t in visit.targets] == ["handling", "archived"]
    assert WF.conditions()["to:visit:0"] == {"satisfaction": "dissatisfied"}
    assert target(visit, set()) == "archived"
    assert target(visit, {"to:visit:0"}) == "handling"
    assert target(visit, {"to:other:0", "guard:visit"}) == "archived"  # ids of other conditions do not count
    assert target(T["route"], set()) == "handling"


def test_first_of_several_holding_conditions_wins() -> None:
    doc = {"title": "w", "initial": "a",
           "states": {"a": {"title": "甲"}, "b": {"title": "乙"}, "c": {"title": "丙"}, "d": {"title": "丁"}},
           "transitions": {"t": {"label": "分", "from": "a", "roles": [{"role": "county_staff"}],
                                 "to": [{"if": {"x": 1}, "state": "b"}, {"if": {"y": 1}, "state": "c"}, {"state": "d"}]}}}
    t = build_workflow("w", "f", doc, "").transitions["t"]
    assert target(t, {"to:t:0", "to:t:1"}) == "b"
    assert target(t, {"to:t:1"}) == "c"
    assert target(t, set()) == "d"


# --- timers -------------------------------------------------------------------------------------------

def test_timer_changes_start_on_entering_a_running_state() -> None:
    assert timer_changes(WF, "registered", "handling") == TimerChanges(start=("handling",))
    assert timer_changes(WF, "reported", "follow_up", running=(), paused=()) == TimerChanges(start=("follow_up",))


def test_timer_changes_pause_and_resume() -> None:
    assert timer_changes(WF, "handling", "reported", running={"handling"}) == TimerChanges(pause=("handling",))
    assert timer_changes(WF, "reported", "handling", paused={"handling"}) == TimerChanges(resume=("handling",))
    # a paused_in state does not start a timer that never ran
    assert timer_changes(WF, "registered", "reported") == TimerChanges()


def test_timer_changes_stop_anywhere_else() -> None:
    assert timer_changes(WF, "reported", "follow_up", paused={"handling"}) == TimerChanges(
        start=("follow_up",), stop=("handling",))
    assert timer_changes(WF, "handling", "registered", running={"handling"}) == TimerChanges(stop=("handling",))
    assert timer_changes(WF, "follow_up", "archived", running={"follow_up"}) == TimerChanges(stop=("follow_up",))


def test_self_loop_keeps_a_running_timer_and_its_deadline() -> None:
    assert target(T["reassign"], set()) == "handling"
    assert timer_changes(WF, "handling", "handling", running={"handling"}) == TimerChanges()


def test_timer_running_in_several_states_carries_on_between_them() -> None:
    wf = intake(handling={"title": "办理时限", "runs_in": ["handling", "reported"], "due": {"working_days": 5}})
    assert timer_changes(wf, "handling", "reported", running={"handling"}) == TimerChanges()
    assert timer_changes(wf, "reported", "follow_up", running={"handling"}) == TimerChanges(stop=("handling",))


# --- reachable ----------------------------------------------------------------------------------------

def _escalation(step_transition_from: str) -> Workflow:
    doc = {"title": "w", "initial": "open",
           "states": {"open": {"title": "待办"}, "handling": {"title": "办理中"},
                      "escalated": {"title": "已督办", "open": False}, "done": {"title": "已办", "open": False},
                      "parked": {"title": "搁置"}},
           "transitions": {
               "start": {"label": "开始", "from": "open", "to": "handling", "roles": [{"role": "county_staff"}]},
               "finish": {"label": "办结", "from": "handling", "to": "done", "roles": [{"role": "county_staff"}]},
               "escalate": {"label": "督办", "from": step_transition_from, "to": "escalated",
                            "roles": [{"role": "county_staff"}]}},
           "timers": {"limit": {"title": "时限", "runs_in": ["handling"], "due": {"working_days": 3},
                                "steps": [{"id": "escalate", "title": "逾期督办", "after": {"working_days": 1},
                                           "transition": "escalate"}]}}}
    return build_workflow("w", "f", doc, "")


def test_reachable_follows_transitions_and_timer_steps() -> None:
    assert reachable(WF) == set(WF.states)
    wf = _escalation("handling")
    assert reachable(wf) == {"open", "handling", "done", "escalated"}  # parked has no way in


def test_reachable_from_the_initial_state_only() -> None:
    wf = build_workflow("w", "f", {"title": "w", "initial": "b", "states": {"a": {"title": "甲"}, "b": {"title": "乙"}},
                                   "transitions": {"t": {"label": "x", "from": "a", "to": "b",
                                                         "roles": [{"role": "county_staff"}]}}}, "")
    assert reachable(wf) == {"b"}


def test_step_transition_not_takeable_from_the_running_state_reaches_nothing() -> None:
    wf = _escalation("parked")  # the step names a transition that only leaves 'parked'
    assert "escalated" not in reachable(wf)


# --- deadlines: amounts and due dates --------------------------------------------------------------------

def _timer(due: dict[str, Any], *steps: dict[str, Any], on_expiry: dict[str, Any] | None = None):
    timer = {"title": "时限", "runs_in": ["handling"], "due": due, "steps": list(steps)}
    if on_expiry is not None:
        timer["on_expiry"] = on_expiry
    return intake(t=timer).timers["t"]


@pytest.mark.parametrize(("base", "days", "due"), [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),    # over the National Day holiday
    (date(2026, 9, 29), 1, date(2026, 9, 30)),
    (date(2026, 10, 9), 1, date(2026, 10, 10)),   # Saturday 10-10 is a 调休 working day
    (date(2026, 10, 9), 2, date(2026, 10, 12)),   # Sunday 10-11 is not
    (date(2026, 9, 18), 1, date(2026, 9, 20)),    # Sunday 09-20 is a 调休 working day
    (date(2026, 9, 24), 1, date(2026, 9, 28)),    # 中秋 Friday 09-25 and the weekend
    (date(2026, 9, 28), 5, date(2026, 10, 10)),   # 09-29, 09-30, 10-08, 10-09, 10-10
    (date(2026, 10, 3), 1, date(2026, 10, 8)),    # from a holiday: the next working day
    (date(2026, 10, 3), 0, date(2026, 10, 3)),    # 0 keeps the day, even a holiday
])
def test_due_date_in_working_days(base: date, days: int, due: date) -> None:
    assert due_date(_timer({"working_days": days}), base, {}, {}, CAL) == due


def test_due_date_in_calendar_days_and_months() -> None:
    assert due_date(_timer({"calendar_days": 3}), date(2026, 9, 30), {}, {}, CAL) == date(2026, 10, 3)
    assert due_date(_timer({"calendar_days": 15}), date(2026, 9, 20), {}, {}, CAL) == date(2026, 10, 5)
    assert due_date(_timer({"months": 1}), date(2026, 1, 31), {}, {}, CAL) == date(2026, 2, 28)
    assert due_date(_timer({"months": 12}), date(2026, 10, 1), {}, {}, CAL) == date(2027, 10, 1)
    assert due_date(_timer({"months": 1}), date(2028, 1, 31), {}, {}, CAL) == date(2028, 2, 29)


def test_due_date_from_a_parameter_or_a_fact() -> None:
    by_param = _timer({"working_days": {"$param": "handling_days"}})
    assert due_date(by_param, date(2026, 9, 28), {"handling_days": 5}, {}, CAL) == date(2026, 10, 10)
    assert due_date(by_param, date(2026, 9, 28), {"handling_days": 6}, {}, CAL) == date(2026, 10, 12)
    by_fact = _timer({"calendar_days": {"$fact": "extension_days"}})
    assert due_date(by_fact, date(2026, 9, 28), {}, {"extension_days": 4}, CAL) == date(2026, 10, 2)
    assert due_date(_timer({"months": {"$param": "watch_months"}}), date(2026, 3, 31), {"watch_months": 12}, {},
                    CAL) == date(2027, 3, 31)


def test_resolve_signs_and_whole_numbers() -> None:
    assert resolve(Amount("working_days", 3, sign=-1), {}, {}) == -3
    assert resolve(Amount("working_days", {"$param": "p"}), {"p": 2.0}, {}) == 2
    assert resolve(Amount("working_days", {"$fact": "n"}, sign=-1), {}, {"n": 4}) == -4


@pytest.mark.parametrize(("amount", "params", "fact"), [
    (Amount("working_days", {"$fact": "extension_days"}), {}, {}),             # missing attribute
    (Amount("working_days", {"$fact": "extension_days"}), {}, {"extension_days": None}),
    (Amount("working_days", {"$fact": "extension_days"}), {}, {"extension_days": "3"}),
    (Amount("working_days", {"$fact": "flag"}), {}, {"flag": True}),            # booleans are not numbers
    (Amount("working_days", {"$param": "p"}), {}, {}),                          # missing parameter
    (Amount("working_days", {"$param": "p"}), {"p": 2.5}, {}),                  # not whole
])
def test_unresolvable_amounts_raise_amount_error(amount: Amount, params: dict, fact: dict) -> None:
    with pytest.raises(AmountError):
        resolve(amount, params, fact)


def test_due_date_with_a_missing_fact_raises_amount_error() -> None:
    timer = _timer({"working_days": {"$fact": "extension_days"}})
    with pytest.raises(AmountError, match="无法确定"):
        due_date(timer, date(2026, 9, 28), {}, {"other": 1}, CAL)


# --- deadlines: escalation steps ------------------------------------------------------------------------

LADDER = _timer(
    {"working_days": 10},
    {"id": "chase", "title": "催办", "before": {"working_days": 2}},
    {"id": "remind", "title": "到期提醒", "at": "due"},
    {"id": "supervise", "title": "督办", "after": {"working_days": 1}},
    {"id": "circular", "title": "通报", "after": {"working_days": {"$param": "circular_days"}}},
    on_expiry={"title": "逾期", "actions": []},
)
DUE = date(2026, 10, 9)  # a Friday just after the holiday
PARAMS = {"circular_days": 3}


def test_step_offsets_before_at_and_after() -> None:
    days = {step.id: step_day(step, DUE, PARAMS, {}, CAL) for step in LADDER.steps}
    assert days == {
        "chase": date(2026, 9, 30),      # 2 working days before: 10-08, 09-30
        "remind": DUE,                   # at: due
        "supervise": date(2026, 10, 10),  # Saturday 10-10 is worked
        "circular": date(2026, 10, 13),  # 10-10, 10-12, 10-13
        EXPIRY_STEP: date(2026, 10, 10),  # on_expiry: the calendar day after the due date
    }


def test_before_three_working_days_counts_back_from_the_day_before() -> None:
    step = _timer({"working_days": 5}, {"id": "chase", "title": "催办", "before": {"working_days": 3}}).steps[0]
    assert step.offset == Amount("working_days", 3, sign=-1)
    assert step_day(step, DUE, {}, {}, CAL) == date(2026, 9, 29)  # 10-08, 09-30, 09-29


def test_at_due_on_a_day_off_stays_on_that_day() -> None:
    step = _timer({"calendar_days": 3}, {"id": "remind", "title": "提醒", "at": "due"}).steps[0]
    assert step_day(step, date(2026, 10, 3), {}, {}, CAL) == date(2026, 10, 3)


def test_schedule_orders_steps_by_day_and_keeps_file_order_on_ties() -> None:
    order = [(step.id, day) for step, day in schedule(LADDER, DUE, PARAMS, {}, CAL)]
    assert order == [("chase", date(2026, 9, 30)), ("remind", DUE), ("supervise", date(2026, 10, 10)),
                     (EXPIRY_STEP, date(2026, 10, 10)), ("circular", date(2026, 10, 13))]


def _pending(fired: set[str], today: date) -> tuple[list[str], date | None]:
    steps, next_day = pending_steps(LADDER, DUE, fired, today, PARAMS, {}, CAL)
    return [s.id for s in steps], next_day


def test_pending_steps_fire_each_step_once() -> None:
    fired: set[str] = set()
    seen = []
    for today in (date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 9),
                  date(2026, 10, 10), date(2026, 10, 11), date(2026, 10, 13), date(2026, 10, 20)):
        due_now, next_day = _pending(fired, today)
        seen.append((today, due_now, next_day))
        fired |= set(due_now)
    assert seen == [
        (date(2026, 9, 29), [], date(2026, 9, 30)),
        (date(2026, 9, 30), ["chase"], DUE),
        (date(2026, 10, 1), [], DUE),
        (date(2026, 10, 9), ["remind"], date(2026, 10, 10)),
        (date(2026, 10, 10), ["supervise", EXPIRY_STEP], date(2026, 10, 13)),
        (date(2026, 10, 11), [], date(2026, 10, 13)),
        (date(2026, 10, 13), ["circular"], None),
        (date(2026, 10, 20), [], None),
    ]


def test_pending_steps_catch_up_after_a_missed_tick() -> None:
    assert _pending(set(), date(2026, 10, 12)) == (["chase", "remind", "supervise", EXPIRY_STEP], date(2026, 10, 13))
    assert _pending({"chase", "supervise"}, date(2026, 10, 12)) == (["remind", EXPIRY_STEP], date(2026, 10, 13))
    assert _pending({"chase", "remind", "supervise", EXPIRY_STEP, "circular"}, date(2027, 1, 1)) == ([], None)


def test_pending_steps_with_a_missing_parameter_raise_amount_error() -> None:
    with pytest.raises(AmountError):
        pending_steps(LADDER, DUE, set(), DUE, {}, {}, CAL)


# --- deadlines: pauses -------------------------------------------------------------------------------

WORKING = _timer({"working_days": 10})
CALENDAR = _timer({"calendar_days": 30})
MONTHS = _timer({"months": 1})


@pytest.mark.parametrize(("paused_on", "resumed_on", "due", "expected"), [
    (date(2026, 9, 14), date(2026, 9, 16), date(2026, 9, 30), date(2026, 10, 9)),  # Tue+Wed back: 10-08, 10-09
    (date(2026, 9, 11), date(2026, 9, 13), date(2026, 9, 30), date(2026, 9, 30)),  # Fri → Sun: nothing back
    (date(2026, 9, 12), date(2026, 9, 13), date(2026, 9, 30), date(2026, 9, 30)),  # Sat → Sun: nothing back
    (date(2026, 9, 18), date(2026, 9, 20), date(2026, 9, 30), date(2026, 10, 8)),  # Sun 09-20 is worked: 1 back
    (date(2026, 9, 30), date(2026, 10, 7), date(2026, 10, 9), date(2026, 10, 9)),  # over the holiday: nothing
    (date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)),  # 10-08 back → Sat 10-10
    (date(2026, 9, 16), date(2026, 9, 16), date(2026, 9, 30), date(2026, 9, 30)),  # same day
    (date(2026, 9, 16), date(2026, 9, 15), date(2026, 9, 30), date(2026, 9, 30)),  # resumed "before": nothing
])
def test_after_pause_gives_back_working_days(paused_on: date, resumed_on: date, due: date, expected: date) -> None:
    assert after_pause(WORKING, due, paused_on, resumed_on, CAL) == expected


def test_after_pause_gives_back_calendar_days_for_other_units() -> None:
    assert after_pause(CALENDAR, date(2026, 10, 9), date(2026, 9, 30), date(2026, 10, 8), CAL) == date(2026, 10, 17)
    assert after_pause(MONTHS, date(2026, 10, 31), date(2026, 10, 1), date(2026, 10, 3), CAL) == date(2026, 11, 2)


def test_a_guard_over_dialog_fields_does_not_disable_the_button() -> None:
    """回访 reads the satisfaction its dialog asks for: judged when the dialog is submitted, not before."""
    doc = dict(WF.document)
    doc["transitions"] = dict(doc["transitions"])
    doc["transitions"]["visit"] = dict(doc["transitions"]["visit"], dialog=["/satisfaction"],
                                       guard={"if": {"ok": True}, "explain": "不满意须写原因"})
    wf = build_workflow("intake", "case", doc, "digest")
    (visit, why), = available(wf, "follow_up", TOWNSHIP_OWNER, {}, set())
    assert visit.id == "visit" and why is None
    (approve, why), = [(t, r) for t, r in available(WF, "reported", TOWNSHIP_OWNER, {}, set()) if t.id == "approve"]
    assert why == Refusal("guard", "须先报告办理结果")  # no dialog: the button says why it is disabled
    assert refusal(wf, "follow_up", visit, TOWNSHIP_OWNER, {}, set()).message == "不满意须写原因"

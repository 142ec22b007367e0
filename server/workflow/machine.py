"""The state machine, pure: which transitions a person may take, where they lead, which timers change.

Given a definition, the record's state and data, who acts (:class:`Actor`, worked out by the service
from the user and the record) and which of the workflow's conditions hold for the record's fact
(evaluated by the policy engine), these functions answer without Flask or a database. Refusals
carry their reason in Chinese and, for a missing field, its JSON pointer.

Library choice: python-statemachine and transitions model a machine bound to one object in memory,
with callbacks. Here a definition is versioned configuration checked before it is published, the
question is asked per request for a stored record and a given user, and the answer must explain
refusals; the few lines below answer it directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from server.forms.pointers import get_path
from server.workflow.definition import Grant, Transition, Workflow


@dataclass(frozen=True)
class Actor:
    role: str
    level: str                 # the kind of the user's unit ("county" without one)
    is_owner: bool = False     # the user's unit registered the matter (or is above it)
    is_assignee: bool = False  # the user's unit is the one the matter is assigned to
    read_only: bool = False    # leaders: never act


@dataclass(frozen=True)
class Refusal:
    """Why a transition may not be taken now. ``code``: state | role | field | guard."""

    code: str
    message: str
    pointer: str | None = None


def grant_admits(grant: Grant, actor: Actor) -> bool:
    if grant.role != actor.role or (grant.levels is not None and actor.level not in grant.levels):
        return False
    if grant.unit == "owner":
        return actor.is_owner
    if grant.unit == "assignee":
        return actor.is_assignee
    return True


def may_press(transition: Transition, actor: Actor) -> bool:
    """The role (and level, and unit relation) test alone: whether the user sees the button."""
    return not actor.read_only and any(grant_admits(g, actor) for g in transition.grants)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def refusal(workflow: Workflow, state: str | None, transition: Transition, actor: Actor, data: Mapping[str, Any],
            passed: set[str], *, check_fields: bool = True, check_guard: bool = True) -> Refusal | None:
    """Why ``transition`` may not be taken from ``state`` by ``actor`` with ``data``, or None.

    ``passed`` holds the ids of the workflow's conditions that hold (see ``Workflow.conditions``).
    With ``check_fields`` False the required fields are not checked (the button stays enabled: the
    dialog asks for them)."""
    if state not in transition.sources:
        where = "、".join(workflow.state_title(s) for s in transition.sources)
        return Refusal("state", f"“{transition.label}”只能在“{where}”状态下办理，当前状态为“{workflow.state_title(state)}”")
    if not may_press(transition, actor):
        return Refusal("role", _role_message(transition, actor))
    if check_fields:
        for pointer in transition.requires:
            if _empty(get_path(data, pointer, dash_is_last=True)):
                return Refusal("field", f"办理“{transition.label}”前须填写此项", pointer)
    if check_guard and transition.guard is not None and f"guard:{transition.id}" not in passed:
        return Refusal("guard", transition.guard_explain or f"不满足“{transition.label}”的条件")
    return None


def _role_message(transition: Transition, actor: Actor) -> str:
    if actor.read_only:
        return "您的角色只能查看，不能办理"
    same_role = [g for g in transition.grants if g.role == actor.role]
    if any(g.unit == "assignee" for g in same_role) and not actor.is_assignee:
        return f"“{transition.label}”须由承办单位办理，您所在单位不是本事项的承办单位"
    if any(g.unit == "owner" for g in same_role) and not actor.is_owner:
        return f"“{transition.label}”须由受理（登记）单位办理，您所在单位不是本事项的受理单位"
    if same_role:
        return f"“{transition.label}”不能由您所在层级的单位办理"
    return f"您的角色无权办理“{transition.label}”"


def available(workflow: Workflow, state: str | None, actor: Actor, data: Mapping[str, Any],
              passed: set[str]) -> list[tuple[Transition, Refusal | None]]:
    """The transitions from ``state`` this actor may press, each with why it cannot go ahead yet (a
    guard) or None. Fields still missing are asked for in the dialog, and a transition with a dialog
    is judged on what is typed there (回访 reads the satisfaction it asks for), so neither disables
    the button: the guard answers when the dialog is submitted."""
    found = []
    for transition in workflow.transitions.values():
        if state in transition.sources and may_press(transition, actor):
            found.append((transition, refusal(workflow, state, transition, actor, data, passed, check_fields=False,
                                              check_guard=not transition.dialog)))
    return found


def target(transition: Transition, passed: set[str]) -> str:
    """The state a transition leads to: the first target whose condition holds."""
    for index, candidate in enumerate(transition.targets):
        if candidate.condition is None or f"to:{transition.id}:{index}" in passed:
            return candidate.state
    return transition.targets[-1].state


@dataclass(frozen=True)
class TimerChanges:
    start: tuple[str, ...] = ()
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()


def timer_changes(workflow: Workflow, old: str | None, new: str, running: Iterable[str] = (),
                  paused: Iterable[str] = ()) -> TimerChanges:
    """What a move from ``old`` to ``new`` does to the timers, given which run and which are paused.

    A timer runs while the record is in one of its ``runs_in`` states, is paused in its ``paused_in``
    states (and resumes on coming back), and stops anywhere else. It starts on entering a ``runs_in``
    state when it is neither running nor paused; a transition that stays in its state enters nothing, so a
    timer an action stopped there (the 整治方案 submitted) stays stopped."""
    running, paused = set(running), set(paused)
    start, pause, resume, stop = [], [], [], []
    for timer in workflow.timers.values():
        if new in timer.runs_in:
            if timer.id in paused:
                resume.append(timer.id)
            elif timer.id not in running and old != new:  # staying put (报送进展) restarts no stopped timer
                start.append(timer.id)
        elif new in timer.paused_in:
            if timer.id in running:
                pause.append(timer.id)
        elif timer.id in running or timer.id in paused:
            stop.append(timer.id)
    return TimerChanges(tuple(start), tuple(pause), tuple(resume), tuple(stop))


def reachable(workflow: Workflow) -> set[str]:
    """States reachable from the initial one. A timer step takes a transition only from that
    transition's own sources, so the transitions' edges are all there is."""
    edges: dict[str, set[str]] = {}
    for transition in workflow.transitions.values():
        for source in transition.sources:
            edges.setdefault(source, set()).update(t.state for t in transition.targets)
    seen, todo = {workflow.initial}, [workflow.initial]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen

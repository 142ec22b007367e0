"""A workflow definition (``config/workflows/<id>.json``) as immutable Python values.

Built by ``server.specs.workflows_loader`` from a file that ``config check`` accepted, and again from
the published JSON by every process. Nothing here touches Flask or the database; amounts may still
be ``{"$param": …}`` or ``{"$fact": …}`` and are resolved when a deadline is computed, so a
parameter change applies to the next deadline without re-reading the workflow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

#: How a timer's length or a step's offset is counted.
UNITS = {"working_days": "个工作日", "calendar_days": "天", "months": "个月"}
#: Whom a state waits on: the registering unit, the unit the matter is assigned to, the county office.
WAITS_ON = ("owner", "assignee", "county")
#: Which users a grant admits beyond role and level: those of the owning or the assigned unit.
GRANT_UNITS = ("owner", "assignee")
REASON_MODES = ("none", "optional", "required")
EXPIRY_STEP = "expiry"


@dataclass(frozen=True)
class Grant:
    role: str
    levels: tuple[str, ...] | None = None
    unit: str | None = None


@dataclass(frozen=True)
class State:
    id: str
    title: str
    open: bool
    waits_on: str | None = None


@dataclass(frozen=True)
class Target:
    """Where a transition leads: the first target whose condition holds (None = always)."""

    state: str
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class Transition:
    id: str
    label: str
    sources: tuple[str, ...]
    targets: tuple[Target, ...]
    grants: tuple[Grant, ...]
    requires: tuple[str, ...] = ()
    dialog: tuple[str, ...] = ()
    guard: dict[str, Any] | None = None
    guard_explain: str = ""
    reason: str = "optional"
    actions: tuple[dict[str, Any], ...] = ()
    style: str = "primary"


@dataclass(frozen=True)
class Amount:
    """``sign × value`` units; ``value`` is an int, ``{"$param": name}`` or ``{"$fact": attribute}``."""

    unit: str
    value: Any
    sign: int = 1


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    offset: Amount
    actions: tuple[dict[str, Any], ...] = ()
    transition: str | None = None


@dataclass(frozen=True)
class Timer:
    id: str
    title: str
    runs_in: tuple[str, ...]
    due: Amount
    start_from: str = "entered"           # "entered" or a JSON pointer to a date field
    paused_in: tuple[str, ...] = ()
    write_due: str | None = None
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class AgendaList:
    """Records of another workflow form a matter of this one takes up while open (a 联席会议's agenda:
    the key areas in ``states`` whose ``field`` is filled, such as 提请挂牌督办)."""

    title: str
    form: str
    states: tuple[str, ...]
    field: str


@dataclass(frozen=True)
class Workflow:
    id: str
    title: str
    form: str
    initial: str
    states: Mapping[str, State]
    transitions: Mapping[str, Transition]
    timers: Mapping[str, Timer] = field(default_factory=dict)
    facts: str | None = None
    assignee: str | None = None
    digest: str = ""
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)
    agenda: tuple[AgendaList, ...] = ()

    def state(self, state_id: str | None) -> State | None:
        return self.states.get(state_id) if state_id else None

    def state_title(self, state_id: str | None) -> str:
        state = self.state(state_id)
        return state.title if state else (state_id or "")

    def conditions(self) -> dict[str, dict[str, Any]]:
        """Every condition of the workflow by a stable id (``guard:<transition>``, ``to:<transition>:<n>``),
        compiled together into one ruleset so one evaluation answers them all."""
        found: dict[str, dict[str, Any]] = {}
        for transition in self.transitions.values():
            if transition.guard is not None:
                found[f"guard:{transition.id}"] = transition.guard
            for index, target in enumerate(transition.targets):
                if target.condition is not None:
                    found[f"to:{transition.id}:{index}"] = target.condition
        return found


def _amount(doc: Mapping[str, Any], sign: int = 1) -> Amount:
    (unit, value), = ((k, v) for k, v in doc.items() if k in UNITS)
    return Amount(unit=unit, value=value, sign=sign)


def _grant(doc: Mapping[str, Any]) -> Grant:
    levels = doc.get("levels")
    return Grant(role=doc["role"], levels=tuple(levels) if levels else None, unit=doc.get("unit"))


def _targets(to: Any) -> tuple[Target, ...]:
    if isinstance(to, str):
        return (Target(state=to),)
    return tuple(Target(state=t["state"], condition=t.get("if")) for t in to)


def _step(doc: Mapping[str, Any]) -> Step:
    if "before" in doc:
        offset = _amount(doc["before"], -1)
    elif "after" in doc:
        offset = _amount(doc["after"], 1)
    else:
        offset = Amount(unit="calendar_days", value=0)
    return Step(id=doc["id"], title=doc["title"], offset=offset, actions=tuple(doc.get("actions", ())),
                transition=doc.get("transition"))


def _timer(timer_id: str, doc: Mapping[str, Any]) -> Timer:
    steps = [_step(s) for s in doc.get("steps", ())]
    expiry = doc.get("on_expiry")
    if expiry:  # the day after the due date: the matter is overdue
        steps.append(Step(id=EXPIRY_STEP, title=expiry.get("title", "逾期"), offset=Amount("calendar_days", 1),
                          actions=tuple(expiry.get("actions", ())), transition=expiry.get("transition")))
    return Timer(id=timer_id, title=doc["title"], runs_in=tuple(doc["runs_in"]), due=_amount(doc["due"]),
                 start_from=doc.get("from", "entered"), paused_in=tuple(doc.get("paused_in", ())),
                 write_due=doc.get("write_due"), steps=tuple(steps))


def build_workflow(workflow_id: str, form: str, doc: Mapping[str, Any], digest: str) -> Workflow:
    """The definition of a checked workflow document."""
    states = {sid: State(id=sid, title=s["title"], open=s.get("open", True), waits_on=s.get("waits_on"))
              for sid, s in doc["states"].items()}
    transitions = {}
    for tid, t in doc["transitions"].items():
        guard = t.get("guard")
        transitions[tid] = Transition(
            id=tid, label=t["label"], sources=tuple([t["from"]] if isinstance(t["from"], str) else t["from"]),
            targets=_targets(t["to"]), grants=tuple(_grant(g) for g in t.get("roles", ())),
            requires=tuple(t.get("requires", ())), dialog=tuple(t.get("dialog", ())),
            guard=guard["if"] if guard else None, guard_explain=guard.get("explain", "") if guard else "",
            reason=t.get("reason", "optional"), actions=tuple(t.get("actions", ())), style=t.get("style", "primary"))
    timers = {tid: _timer(tid, t) for tid, t in doc.get("timers", {}).items()}
    agenda = tuple(AgendaList(title=a["title"], form=a["form"], states=tuple(a["states"]), field=a["field"])
                   for a in doc.get("agenda", ()))
    return Workflow(id=workflow_id, title=doc["title"], form=form, initial=doc["initial"], states=states,
                    transitions=transitions, timers=timers, facts=doc.get("facts"), assignee=doc.get("assignee"),
                    digest=digest, document=doc, agenda=agenda)

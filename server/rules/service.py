"""Running policy: evaluate the rulesets an event concerns, then apply what fired in one transaction.

Evaluation is pure (a fact in, rule ids out, no I/O inside the engine); everything with effects
happens afterwards in ``apply``. A decision stays in force while its rule keeps firing with the same
actions, so a daily ruleset does not store the same decision every day; when the rule stops firing
the decision is lifted and the notices it raised are withdrawn. A failure while applying rolls every
effect of that evaluation back and is itself stored as a failed decision: nothing is half-applied,
nothing fails silently.
"""
from __future__ import annotations

import copy
import logging
import string
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.audit import POLICY_NOTICE_START
from server.auth.models import User
from server.db import write_transaction
from server.errors import Conflict, ValidationFailed
from server.events import RECORD_SAVED, publish, subscribe
from server.extensions import db
from server.forms import build_form
from server.forms.display import describe_change
from server.inbox import service as inbox
from server.org.models import OrgUnit
from server.org.service import unit_by_id
from server.records import confidential
from server.records.models import Record, RecordTransition
from server.rules.apply import ActionFailed, ActionRun, overwrite_undone, perform, render, resolve
from server.rules.conditions import condition_attributes, substitute_params
from server.rules.engine import ENGINE
from server.rules.facts import FactContext, Subject, build_fact
from server.rules.lookups import lookup
from server.rules.models import Decision
from server.rules.normalise import normalise_fact
from server.specs.model import FactsSpec, RulesetSpec, RulesSpec
from server.timeutil import CST, as_aware, local_today, utcnow
from server.workflow.calendar import WorkCalendar

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """One evaluation of one ruleset for one subject: the fact and the rules that fired."""

    ruleset: RulesetSpec
    version: str
    fact: dict[str, Any]
    subject: str
    fired: list[str] = field(default_factory=list)
    record_version: int | None = None  # the record version the fact was taken from


_GENERATIONS: list[str] = []  # tags of the rule versions kept compiled: the live one and the one before


def engine_name(rules: RulesSpec, ruleset_id: str) -> str:
    return f"{ruleset_id}.{rules.tag}"


def compile_rules(rules: RulesSpec, version: str) -> None:
    """Compile every ruleset of ``rules`` beside what is loaded (parameters substituted).

    The previous version stays compiled until the next reload, so a request that still holds it
    finishes on its own rules; older versions (and workflow conditions compiled with them) are freed.
    """
    values = rules.values
    loaded = ENGINE.loaded()
    for ruleset in rules.rulesets.values():
        name = engine_name(rules, ruleset.id)
        if name not in loaded:
            conditions = {rule_id: substitute_params(rule["if"], values) for rule_id, rule in ruleset.rules.items()}
            ENGINE.load(name, conditions, version)
    if rules.tag in _GENERATIONS:
        _GENERATIONS.remove(rules.tag)
    _GENERATIONS.append(rules.tag)
    del _GENERATIONS[:-2]
    for name in loaded:
        tag = name.rsplit("__", 1)[1] if name.startswith("wf__") else name.rsplit(".", 1)[1] if "." in name else None
        if tag is not None and tag not in _GENERATIONS:
            ENGINE.unload(name)


def passed_conditions(rules: RulesSpec, key: str, conditions: dict[str, Any], fact: dict[str, Any]) -> set[str]:
    """Which of ``conditions`` (id -> condition, ``$param`` allowed) hold for ``fact`` (normalised).

    Workflow guards use this: compiled once per workflow version and parameter set, evaluated by the
    same engine and with the same semantics as the rules."""
    if not conditions:
        return set()
    name = f"wf__{key}__{rules.tag}"
    if name not in ENGINE.loaded():
        values = rules.values
        ENGINE.load(name, {cid: substitute_params(c, values) for cid, c in conditions.items()}, key)
    return set(ENGINE.evaluate(name, fact).fired)


# -- facts ----------------------------------------------------------------------------------------
def today() -> date:
    return local_today()


def live_rules() -> RulesSpec | None:
    return current_app.extensions["registry"].live.rules


def live_calendar() -> WorkCalendar:
    return current_app.extensions["registry"].live.calendar


def context(rules: RulesSpec, on: date | None = None) -> FactContext:
    """A fact context for one evaluation or one batch (a tick): lookups aggregate once per batch."""
    return FactContext(today=on or today(), parameters=rules.values, calendar=live_calendar())


def record_subject(record: Record, spec: FactsSpec, data: Any = None) -> Subject:
    unit = unit_by_id(record.org_unit_id)
    properties = {
        "number": record.number, "state": record.state if record.workflow_id else None,
        "unit_code": unit.code if unit else None, "unit_kind": unit.kind if unit else None,
        "unit_name": unit.name if unit else None,
        "created_date": as_aware(record.created_at).astimezone(CST).date().isoformat() if record.created_at else None,
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "state_date": as_aware(record.state_since).astimezone(CST).date().isoformat() if record.state_since else None,
    }
    transitions: dict[str, int] = {}
    if record.id is not None and any("transitions" in d for d in spec.attributes.values()):
        transitions = dict(db.session.execute(
            select(RecordTransition.transition, func.count()).where(RecordTransition.record_id == record.id)
            .group_by(RecordTransition.transition)).all())
    return Subject(data=record.data if data is None else data, properties=properties, record=record, unit=unit,
                   transitions=transitions)


def record_fact(rules: RulesSpec, facts_id: str, record: Record, ctx: FactContext | None = None,
                data: Any = None) -> dict[str, Any]:
    """The normalised fact of ``record`` per the declaration ``facts_id`` (``data``: the record's
    data as it would be after a change, e.g. a transition's dialog)."""
    spec = rules.facts[facts_id]
    fact = build_fact(spec, record_subject(record, spec, data), ctx or context(rules), lookup)
    return normalise_fact(spec.schema, fact)


def unit_facts(rules: RulesSpec, spec: FactsSpec, ctx: FactContext) -> Iterator[tuple[OrgUnit, dict[str, Any]]]:
    """One normalised fact per active org unit of the kinds the declaration is about."""
    codes = dict(db.session.execute(select(OrgUnit.id, OrgUnit.code)).all())
    townships = {u.id: u.code for u in db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("township", "subdistrict"))))}
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.is_active.is_(True), OrgUnit.kind.in_(list(spec.unit_kinds)))
                               .order_by(OrgUnit.id))
    for unit in list(units):
        township = townships.get(unit.parent_id or -1) or townships.get(unit.serves_id or -1)
        subject = Subject(data={}, unit=unit, properties={"code": unit.code, "name": unit.name, "kind": unit.kind,
                                                          "township": township, "parent": codes.get(unit.parent_id)})
        yield unit, normalise_fact(spec.schema, build_fact(spec, subject, ctx, lookup))


def unit_subject_key(spec: FactsSpec, unit: OrgUnit, fact: dict[str, Any]) -> str:
    """What a unit decision is about: the unit, and the key attributes (the report month)."""
    return ":".join(["unit", unit.code] + [str(fact.get(k)) for k in spec.key])


# -- evaluating and applying -----------------------------------------------------------------------
def evaluate(rules: RulesSpec, ruleset: RulesetSpec, record: Record, ctx: FactContext | None = None) -> Outcome:
    fact = record_fact(rules, ruleset.facts, record, ctx)
    result = ENGINE.evaluate(engine_name(rules, ruleset.id), fact)
    return Outcome(ruleset=ruleset, version=result.version, fact=fact, subject=f"record:{record.id}",
                   fired=list(result.fired), record_version=record.version)


def rulesets_for(rules: RulesSpec | None, event: str, form_id: str | None) -> list[RulesetSpec]:
    if rules is None:
        return []
    return [r for r in rules.rulesets.values() if r.event == event and (r.form is None or r.form == form_id)]


def on_record_saved(record: Record, user: User | None, **_: Any) -> list[Decision]:
    """Run the record_saved rulesets of the record's form and apply what they decide, together."""
    rules = live_rules()
    outcomes = [evaluate(rules, ruleset, record) for ruleset in rulesets_for(rules, "record_saved", record.form_id)]
    return apply_outcomes(rules, outcomes, record, user)


def subscribe_events() -> None:
    subscribe(RECORD_SAVED, on_record_saved)


@dataclass
class _Plan:
    outcome: Outcome
    pending: list[tuple[str, Decision | None]]
    lifted: list[Decision]


def apply_outcomes(rules: RulesSpec, outcomes: list[Outcome], record: Record | None, user: User | None,
                   ctx: FactContext | None = None) -> list[Decision]:
    """Bring the decisions in force for one subject in line with what fired, in one transaction."""
    plans = []
    for outcome in outcomes:
        in_force = {d.rule: d for d in db.session.scalars(select(Decision).where(
            Decision.ruleset == outcome.ruleset.id, Decision.subject == outcome.subject, Decision.lifted_at.is_(None),
            Decision.outcome == "applied"))}
        pending = [(rule_id, in_force.get(rule_id)) for rule_id in outcome.fired
                   if _is_new(outcome, rule_id, in_force.get(rule_id))
                   or overwrite_undone(in_force[rule_id].actions if rule_id in in_force else (), record, rules.values)]
        lifted = [d for rule_id, d in in_force.items() if rule_id not in outcome.fired]
        if pending or lifted:
            plans.append(_Plan(outcome, pending, lifted))
    if not plans:
        return []
    ctx = ctx or context(rules)
    try:
        with write_transaction():
            decisions, created = _apply(rules, plans, record, user, ctx)
    except Conflict:  # saved again since these facts were taken: that save runs the rules on its own data
        db.session.rollback()
        return []
    except IntegrityError as exc:
        db.session.rollback()
        if "rule_decisions" in str(exc.orig):  # another tick stored the same decision a moment ago: done
            return []
        log.exception("规则决定执行失败")
        with write_transaction():
            return [_decision(rules, plan.outcome, rule_id, record, user, "failed", f"数据冲突：{exc.orig}")
                    for plan in plans for rule_id, _ in plan.pending]
    except Exception as exc:  # noqa: BLE001 - any failure is stored as such; nothing half-applied
        db.session.rollback()
        if not isinstance(exc, ActionFailed):
            log.exception("规则决定执行失败")
        with write_transaction():
            return [_decision(rules, plan.outcome, rule_id, record, user, "failed", str(exc) or type(exc).__name__)
                    for plan in plans for rule_id, _ in plan.pending]
    for created_record in created:
        publish(RECORD_SAVED, record=created_record, user=user, created=True)
    return decisions


def _apply(rules: RulesSpec, plans: list[_Plan], record: Record | None, user: User | None,
           ctx: FactContext) -> tuple[list[Decision], list[Record]]:
    from server.records.service import locked_record, validate_data, write_data

    versions = {p.outcome.record_version for p in plans} - {None}
    fresh = locked_record(record.id, versions.pop() if len(versions) == 1 else None) if record is not None else None
    now = utcnow()
    lifted = [d for plan in plans for d in plan.lifted]
    for decision in lifted + [current for plan in plans for _, current in plan.pending if current is not None]:
        decision.lifted_at = now
    inbox.withdraw_for_decisions(d.id for d in lifted)
    db.session.flush()
    data = copy.deepcopy(fresh.data) if fresh is not None else None
    decisions, created, overwrites = [], [], []
    for plan in plans:
        outcome = plan.outcome
        for rule_id, _ in plan.pending:
            decision = _decision(rules, outcome, rule_id, fresh, user, "applied")
            run = ActionRun(key=f"{outcome.ruleset.id}:{rule_id}:{_effect_subject(outcome, fresh)}", record=fresh, data=data,
                            user=user, today=ctx.today, calendar=ctx.calendar, params=ctx.parameters,
                            source=f"rule:{outcome.ruleset.id}.{rule_id}", decision_id=decision.id, title=decision.title)
            for index, action in enumerate(decision.actions):
                perform(action, index, run)
            created += run.created
            overwrites += run.overwrites
            decisions.append(decision)
    if fresh is not None and data != fresh.data:
        try:
            validate_data(fresh, data)
        except ValidationFailed as exc:
            raise ActionFailed("；".join(f"{e.pointer} {e.message}" for e in exc.errors)) from exc
        # Made by policy, not by the person whose save set the rules off: no user, the rules named.
        write_data(fresh, data, None, "rule_update", detail=policy_detail(rules, fresh, decisions, overwrites))
    return decisions, created


def policy_detail(rules: RulesSpec, record: Record, decisions: list[Decision], overwrites: list[tuple[str, str, Any, Any]]) -> str:
    """The audit detail of a change made by policy: the rulesets and rules that made it (first line),
    then one line per value a rule replaced — "规则『…』已将 牵头单位 由 X 改为 Y" — which the record
    page shows the person who saved and the history keeps."""
    from server.records.service import registry

    names: dict[str, list[str]] = {}
    for decision in decisions:
        ruleset = rules.rulesets.get(decision.ruleset)
        names.setdefault(ruleset.title if ruleset else decision.ruleset, []).append(f"『{decision.title}』")
    lines = ["；".join(f"规则集『{ruleset}』规则{'、'.join(titles)}" for ruleset, titles in names.items())]
    model = build_form(registry().form(record.form_id))
    for title, pointer, old, new in overwrites:
        label, old_text = describe_change(model, pointer, old)
        lines.append(f"{POLICY_NOTICE_START}{title}』已将 {label} 由 {old_text} 改为 {describe_change(model, pointer, new)[1]}")
    return "\n".join(lines)


def _effect_subject(outcome: Outcome, record: Record | None) -> str:
    """The middle of an effect's key: the record id (the key format effects were first stored with,
    so an upgraded database finds its rows), or the unit subject."""
    return str(record.id) if record is not None else outcome.subject


def _decision(rules: RulesSpec, outcome: Outcome, rule_id: str, record: Record | None, user: User | None,
              status: str, error: str = "") -> Decision:
    rule = outcome.ruleset.rules[rule_id]
    decision = Decision(ruleset=outcome.ruleset.id, ruleset_version=outcome.version, rule=rule_id,
                        title=rule["title"], record_id=record.id if record else None, facts=outcome.fact,
                        actions=[resolve(a, outcome.fact) for a in rule["actions"]],
                        explanation=render(rule["explain"], outcome.fact, rules.values), outcome=status, error=error,
                        user_id=user.id if user else None, subject=outcome.subject)
    db.session.add(decision)
    db.session.flush()
    return decision


def _is_new(outcome: Outcome, rule_id: str, current: Decision | None) -> bool:
    """Whether a firing must be stored: nothing in force, or other actions (another unit, year, due
    date ...). On a save, a change of what the rule looks at also re-explains the decision; the daily
    tick does not store the same decision again because a day passed."""
    if current is None:
        return True
    rule = outcome.ruleset.rules[rule_id]
    if current.actions != [resolve(a, outcome.fact) for a in rule["actions"]]:
        return True
    if outcome.ruleset.event == "daily":
        return False
    names = _relevant_attributes(rule)
    return {k: current.facts.get(k) for k in names} != {k: outcome.fact.get(k) for k in names}


def _relevant_attributes(rule: dict[str, Any]) -> set[str]:
    names = set(condition_attributes(rule["if"]))
    texts = [rule["explain"]] + [v for a in rule["actions"] for v in a.values() if isinstance(v, str)]
    for text in texts:
        names |= {n for _, n, _, _ in string.Formatter().parse(text) if n and not n.startswith("param.")}
    return names


def ruleset_titles() -> dict[str, str]:
    """Ruleset id -> its title from configuration: pages name rulesets in Chinese (the id on hover)."""
    rules = live_rules()
    return {ruleset_id: spec.title for ruleset_id, spec in rules.rulesets.items()} if rules else {}


def decisions_for(record: Record, reader: User | None = None) -> list[Any]:
    """The decisions about a record ("为什么"). With ``reader``, as that person may read them: values of the
    record hidden from them (要求保密) are scrubbed from the facts, explanations and actions, which quote
    record values (a fact such as the 回访对象 is the reporter's name)."""
    rows = list(db.session.scalars(select(Decision).where(Decision.record_id == record.id).order_by(Decision.id)))
    return rows if reader is None else confidential.scrubbed_rows(rows, record, reader)


def run_daily(on: date | None = None) -> list[Decision]:
    """The daily rulesets over every record of their form, or every unit of their kinds."""
    rules = live_rules()
    applied: list[Decision] = []
    for ruleset in rulesets_for(rules, "daily", None):
        spec = rules.facts[ruleset.facts]
        ctx = context(rules, on)
        for record, outcome in _daily_outcomes(rules, ruleset, spec, ctx, failures=applied):
            applied += apply_outcomes(rules, [outcome], record, None, ctx)
    return applied


def _daily_outcomes(rules: RulesSpec, ruleset: RulesetSpec, spec: FactsSpec, ctx: FactContext,
                    engine: str | None = None, failures: list[Decision] | None = None
                    ) -> Iterator[tuple[Record | None, Outcome]]:
    """One outcome per subject. A record whose fact cannot be built is skipped with a failed decision
    stored (``failures`` given) or left out (simulation): the others are still decided."""
    engine = engine or engine_name(rules, ruleset.id)
    if spec.subject == "org_unit":
        for unit, fact in unit_facts(rules, spec, ctx):
            result = ENGINE.evaluate(engine, fact)
            yield None, Outcome(ruleset=ruleset, version=result.version, fact=fact,
                                subject=unit_subject_key(spec, unit, fact), fired=list(result.fired))
        return
    ids = list(db.session.scalars(select(Record.id).where(Record.form_id == spec.form).order_by(Record.id)))
    for record_id in ids:
        record = db.session.get(Record, record_id)
        try:
            fact = record_fact(rules, ruleset.facts, record, ctx)
        except Exception as exc:  # noqa: BLE001 - one record's bad data must not stop the others
            log.exception("无法构建事实：%s", record.number)
            if failures is not None:
                failures.append(_fact_failure(ruleset, record, exc))
            continue
        result = ENGINE.evaluate(engine, fact)
        yield record, Outcome(ruleset=ruleset, version=result.version, fact=fact, subject=f"record:{record.id}",
                              fired=list(result.fired), record_version=record.version)


def _fact_failure(ruleset: RulesetSpec, record: Record, exc: Exception) -> Decision:
    with write_transaction():
        decision = Decision(ruleset=ruleset.id, ruleset_version="", rule="", title="无法判断：记录的数据不符合事实声明",
                            record_id=record.id, facts={}, actions=[], explanation="", outcome="failed",
                            error=str(exc) or type(exc).__name__)
        db.session.add(decision)
    return decision


# -- simulation (nothing is stored) ------------------------------------------------------------------
def simulate(rules: RulesSpec, ruleset: RulesetSpec, fact: dict[str, Any]) -> list[dict[str, Any]]:
    """What the ruleset would decide for ``fact`` (normalised first)."""
    fact = normalise_fact(rules.facts[ruleset.facts].schema, fact)
    result = ENGINE.evaluate(engine_name(rules, ruleset.id), fact)
    return [decision_view(rules, ruleset, rule_id, fact) for rule_id in result.fired]


def decision_view(rules: RulesSpec, ruleset: RulesetSpec, rule_id: str, fact: dict[str, Any]) -> dict[str, Any]:
    rule = ruleset.rules[rule_id]
    return {"ruleset": ruleset.id, "rule": rule_id, "title": rule["title"],
            "explanation": render(rule["explain"], fact, rules.values),
            "actions": [resolve(a, fact) for a in rule["actions"]], "facts": fact}


@dataclass
class Change:
    subject: str                # a record number, or a unit (and period)
    ruleset: str
    before: list[str]
    after: list[str]
    record: Record | None = None


def compare_draft(draft: RulesSpec, on: date | None = None) -> list[Change]:
    """Which decisions a draft configuration would change, subject by subject, on date ``on``:
    rulesets on saves and daily ones, over records and over org units alike. The draft is compiled
    beside the live rulesets under names of its own, evaluated, and unloaded again."""
    live = live_rules() or RulesSpec()
    run = uuid.uuid4().hex[:12]  # two simulations at once (two administrators) load their drafts side by side
    names = {r: f"draft_{run}__{r}" for r in draft.rulesets}
    for ruleset in draft.rulesets.values():
        ENGINE.load(names[ruleset.id], {i: substitute_params(r["if"], draft.values) for i, r in ruleset.rules.items()},
                    "draft")
    try:
        changes: list[Change] = []
        for ruleset_id in sorted(set(draft.rulesets) | set(live.rulesets)):
            before = _firings(live, ruleset_id, engine_name(live, ruleset_id), on)
            after = _firings(draft, ruleset_id, names.get(ruleset_id, ""), on)
            for subject in sorted(set(before) | set(after), key=lambda s: (before.get(s) or after.get(s))[0]):
                b, a = before.get(subject, ("", [], None)), after.get(subject, ("", [], None))
                if b[1] != a[1]:
                    changes.append(Change(subject=b[0] or a[0], ruleset=ruleset_id, before=b[1], after=a[1],
                                          record=b[2] or a[2]))
        return changes
    finally:
        for name in names.values():
            ENGINE.unload(name)


def _firings(rules: RulesSpec, ruleset_id: str, engine: str, on: date | None
             ) -> dict[str, tuple[str, list[str], Record | None]]:
    """subject -> (label, rules fired, record) for every subject of one ruleset of ``rules``."""
    ruleset = rules.rulesets.get(ruleset_id)
    if ruleset is None:
        return {}
    spec = rules.facts[ruleset.facts]
    ctx = FactContext(today=on or today(), parameters=rules.values, calendar=live_calendar())
    found: dict[str, tuple[str, list[str], Record | None]] = {}
    if ruleset.event == "daily":
        for record, outcome in _daily_outcomes(rules, ruleset, spec, ctx, engine):
            label = record.number if record is not None else outcome.subject.split(":", 1)[1]
            found[outcome.subject] = (label, outcome.fired, record)
        return found
    for record in db.session.scalars(select(Record).where(Record.form_id == ruleset.form).order_by(Record.id)):
        fact = record_fact(rules, ruleset.facts, record, ctx)
        found[f"record:{record.id}"] = (record.number, list(ENGINE.evaluate(engine, fact).fired), record)
    return found

"""Running policy: evaluate the rulesets an event concerns, then apply what fired in one transaction.

Evaluation is pure (a fact in, rule ids out, no I/O inside the engine); everything with effects
happens afterwards in ``apply``. A failure while applying rolls every effect of that evaluation back
and is itself stored as a failed decision, so nothing is half-applied and nothing fails silently.
"""
from __future__ import annotations

import copy
import logging
import string
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select

from server.auth.models import User
from server.db import write_transaction
from server.extensions import db
from server.org.models import OrgUnit
from server.records.models import Record
from server.rules.apply import ActionFailed, perform, render, resolve
from server.rules.conditions import condition_attributes, substitute_params
from server.rules.engine import ENGINE
from server.rules.facts import PROVIDERS, AreaUnits, FactContext
from server.rules.models import Decision
from server.rules.normalise import normalise_fact
from server.specs.model import RulesetSpec, RulesSpec
from server.timeutil import CST, utcnow

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """One evaluation of one ruleset against one record: the fact and the rules that fired."""

    ruleset: RulesetSpec
    version: str
    fact: dict[str, Any]
    fired: list[str] = field(default_factory=list)
    record_version: int | None = None  # the record version the fact was taken from


_GENERATIONS: list[str] = []  # tags of the rule versions kept compiled: the live one and the one before


def engine_name(rules: RulesSpec, ruleset_id: str) -> str:
    return f"{ruleset_id}.{rules.tag}"


def compile_rules(rules: RulesSpec, version: str) -> None:
    """Compile every ruleset of ``rules`` beside what is loaded (parameters substituted).

    The previous version stays compiled until the next reload, so a request that still holds it
    finishes on its own rules; older versions are freed.
    """
    values = {name: p.value for name, p in rules.parameters.items()}
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
        if "." in name and name.rsplit(".", 1)[1] not in _GENERATIONS:
            ENGINE.unload(name)


def today() -> date:
    return utcnow().astimezone(CST).date()


def evaluate(rules: RulesSpec, ruleset: RulesetSpec, record: Record, on: date | None = None) -> Outcome:
    fact = normalise_fact(PROVIDERS[ruleset.facts].schema, record_fact(rules, ruleset, record, on))
    result = ENGINE.evaluate(engine_name(rules, ruleset.id), fact)
    return Outcome(ruleset=ruleset, version=result.version, fact=fact, fired=list(result.fired),
                   record_version=record.version)


def area_units(code: str | None, fallback: Any, record: Record, params: dict[str, Any]) -> AreaUnits:
    """The township (or unit) a matter belongs to, the offices serving it, and for a key area the
    days since an earlier area of that township with a shared problem was delisted (relisting)."""
    from server.org.service import unit_by_code

    unit = None
    if isinstance(code, str) and len(code) == 12 and code.isdigit():
        unit = unit_by_code(code) or unit_by_code(code[:9] + "000")
    unit = unit or fallback
    if unit is not None and unit.kind in ("village", "community") and unit.parent_id:
        unit = db.session.get(OrgUnit, unit.parent_id)
    if unit is None:
        return AreaUnits()
    serving = list(db.session.scalars(select(OrgUnit).where(OrgUnit.serves_id == unit.id, OrgUnit.is_active.is_(True))))
    police = next((u.code for u in serving if u.kind == "police_station"), "")
    justice_parent = unit_by_code(str(params.get("justice_bureau_code", "")))
    justice = next((u.code for u in serving if justice_parent is not None and u.parent_id == justice_parent.id), "")
    return AreaUnits(code=unit.code, name=unit.name, kind=unit.kind, police_station=police, justice_office=justice,
                     previous_delisting_days=_relisting_days(record, unit.code) if record.form_id == "key_area" else None)


def _relisting_days(record: Record, township_code: str) -> int | None:
    """Days between this listing and the latest earlier delisting, in the same township, of a key area
    that shared one of its problem categories (None when there was none)."""
    listed = (record.data.get("listing") or {}).get("listed_date")
    categories = set((record.data.get("problems") or {}).get("categories") or [])
    if not listed:
        return None
    best = None
    others = db.session.scalars(select(Record).where(Record.form_id == "key_area", Record.id != record.id))
    for other in others:
        data = other.data
        delisted = (data.get("delisting") or {}).get("delisted_date")
        shared = categories & set((data.get("problems") or {}).get("categories") or [])
        if data.get("township_code") != township_code or not delisted or not shared or delisted > listed:
            continue
        days = (date.fromisoformat(listed) - date.fromisoformat(delisted)).days
        best = days if best is None else min(best, days)
    return best


def record_unit(record: Record) -> OrgUnit | None:
    return db.session.get(OrgUnit, record.org_unit_id)


def rulesets_for(rules: RulesSpec | None, event: str, form_id: str | None) -> list[RulesetSpec]:
    if rules is None:
        return []
    return [r for r in rules.rulesets.values() if r.event == event and (r.form is None or r.form == form_id)]


def on_record_saved(record: Record, user: User | None) -> list[Decision]:
    """Run the record_saved rulesets of the record's form and apply what they decide."""
    rules = current_app.extensions["registry"].live.rules
    outcomes = [evaluate(rules, r, record) for r in rulesets_for(rules, "record_saved", record.form_id)]
    return apply_outcomes(rules, record, outcomes, user)


def apply_outcomes(rules: RulesSpec, record: Record | None, outcomes: list[Outcome],
                   user: User | None) -> list[Decision]:
    """Apply what fired (``record`` is None for facts about org units) in one transaction."""
    params = {n: p.value for n, p in rules.parameters.items()}
    pending = [(o, rule_id) for o in outcomes for rule_id in o.fired if _is_new(o, rule_id, record)]
    if not pending:
        return []
    try:
        with write_transaction():
            return _apply(record, pending, params, user)
    except Exception as exc:  # noqa: BLE001 - any failure is stored as such; nothing half-applied
        if not isinstance(exc, ActionFailed):
            log.exception("规则决定执行失败")
        with write_transaction():
            return [_decision(o, rule_id, record, params, user, "failed", str(exc) or type(exc).__name__)
                    for o, rule_id in pending]


def _apply(record: Record, pending: list[tuple[Outcome, str]], params: dict[str, Any],
           user: User | None) -> list[Decision]:
    from server.records.service import save_rule_changes

    fresh = (db.session.get(Record, record.id, populate_existing=True, with_for_update=True)
             if record is not None else None)
    if fresh is not None and any(o.record_version not in (None, fresh.version) for o, _ in pending):
        return []  # saved again since these facts were taken: that save runs the rules on its own data
    data = copy.deepcopy(fresh.data) if fresh is not None else None
    decisions = []
    for outcome, rule_id in pending:
        decision = _decision(outcome, rule_id, fresh, params, user, "applied")
        for index, action in enumerate(decision.actions):
            key = f"{outcome.ruleset.id}:{rule_id}:{_subject(fresh, outcome)}:{index}"
            perform(action, key, decision, data, today())
        decisions.append(decision)
    if fresh is not None and data != fresh.data:
        save_rule_changes(fresh, data, user, [d.id for d in decisions])
    return decisions


def _subject(record: Record | None, outcome: Outcome) -> str:
    """What an effect is about: the record, or the unit (and the month, for monthly matters)."""
    if record is not None:
        return str(record.id)
    return ":".join(str(p) for p in ("unit", outcome.fact.get("unit_code"), outcome.fact.get("report_month")) if p)


def _decision(outcome: Outcome, rule_id: str, record: Record | None, params: dict[str, Any], user: User | None,
              status: str, error: str = "") -> Decision:
    rule = outcome.ruleset.rules[rule_id]
    decision = Decision(ruleset=outcome.ruleset.id, ruleset_version=outcome.version, rule=rule_id,
                        title=rule["title"], record_id=record.id if record else None, facts=outcome.fact,
                        actions=[resolve(a, outcome.fact) for a in rule["actions"]],
                        explanation=render(rule["explain"], outcome.fact, params), outcome=status, error=error,
                        user_id=user.id if user else None)
    db.session.add(decision)
    db.session.flush()
    return decision


def _is_new(outcome: Outcome, rule_id: str, record: Record | None) -> bool:
    """Skip a firing that repeats the last applied one: same rule, same record, and the same values of
    the attributes the rule looks at (its condition and explanation). Other attributes, such as a
    field this very rule set, do not make a firing new."""
    same = (Decision.record_id == record.id if record is not None else
            (Decision.record_id.is_(None)) & (Decision.facts["unit_code"].as_string() == outcome.fact.get("unit_code")))
    last = db.session.scalar(select(Decision).where(
        Decision.ruleset == outcome.ruleset.id, Decision.rule == rule_id, same,
        Decision.outcome == "applied").order_by(Decision.id.desc()).limit(1))
    if last is None:
        return True
    names = _relevant_attributes(outcome.ruleset.rules[rule_id])
    return {k: last.facts.get(k) for k in names} != {k: outcome.fact.get(k) for k in names}


def _relevant_attributes(rule: dict[str, Any]) -> set[str]:
    names = set(condition_attributes(rule["if"]))
    texts = [rule["explain"]] + [v for a in rule["actions"] for v in a.values() if isinstance(v, str)]
    for text in texts:
        names |= {n for _, n, _, _ in string.Formatter().parse(text) if n and not n.startswith("param.")}
    return names


def decisions_for(record: Record) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.record_id == record.id).order_by(Decision.id)))


def simulate(rules: RulesSpec, ruleset: RulesetSpec, fact: dict[str, Any]) -> list[dict[str, Any]]:
    """What the ruleset would decide for ``fact`` (normalised first); nothing is stored."""
    provider = PROVIDERS[ruleset.facts]
    fact = normalise_fact(provider.schema, fact)
    params = {n: p.value for n, p in rules.parameters.items()}
    result = ENGINE.evaluate(engine_name(rules, ruleset.id), fact)
    return [decision_view(ruleset, rule_id, fact, params) for rule_id in result.fired]


def decision_view(ruleset: RulesetSpec, rule_id: str, fact: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    rule = ruleset.rules[rule_id]
    return {"ruleset": ruleset.id, "rule": rule_id, "title": rule["title"],
            "explanation": render(rule["explain"], fact, params),
            "actions": [resolve(a, fact) for a in rule["actions"]], "facts": fact}


def record_fact(rules: RulesSpec, ruleset: RulesetSpec, record: Record, on: date | None = None) -> dict[str, Any]:
    """The raw fact of ``record`` for ``ruleset`` (normalise before evaluating)."""
    provider = PROVIDERS[ruleset.facts]
    unit = record_unit(record)
    params = {n: p.value for n, p in rules.parameters.items()}
    ctx = FactContext(today=on or today(), parameters=params, unit_code=unit.code if unit else "",
                      unit_kind=unit.kind if unit else "", area=area_units(provider.area_code(record.data), unit, record, params))
    return provider.build(record.data, ctx)


def run_daily(on: date | None = None) -> list[Decision]:
    """The daily tick: evaluate every ``daily`` ruleset over the records of its form, apply decisions."""
    rules = current_app.extensions["registry"].live.rules
    applied: list[Decision] = []
    for ruleset in rulesets_for(rules, "daily", None):
        provider = PROVIDERS[ruleset.facts]
        if provider.subject == "org_unit":
            for fact in unit_facts(rules, ruleset, on):
                result = ENGINE.evaluate(engine_name(rules, ruleset.id), fact)
                outcome = Outcome(ruleset=ruleset, version=result.version, fact=fact, fired=list(result.fired))
                applied += apply_outcomes(rules, None, [outcome], None)
            continue
        for record in list(db.session.scalars(select(Record).where(Record.form_id == provider.form).order_by(Record.id))):
            applied += apply_outcomes(rules, record, [evaluate(rules, ruleset, record, on)], None)
    return applied


def unit_facts(rules: RulesSpec, ruleset: RulesetSpec, on: date | None = None) -> list[dict[str, Any]]:
    """One normalised fact per active org unit of the kinds the provider is about."""
    provider = PROVIDERS[ruleset.facts]
    params = {n: p.value for n, p in rules.parameters.items()}
    inputs = {"officers": officer_counts() if provider.name == "officer_coverage" else {},
              "reported_months": reported_months() if provider.name == "monthly_report" else {}}
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.is_active.is_(True),
                                                     OrgUnit.kind.in_(list(provider.unit_kinds))).order_by(OrgUnit.id))
    parents = {u.id: u.code for u in db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("township", "subdistrict"))))}
    facts = []
    for unit in units:
        ctx = FactContext(today=on or today(), parameters=params, unit_code=unit.code, unit_kind=unit.kind)
        data = {"unit": {"code": unit.code, "name": unit.name, "kind": unit.kind,
                         "township": parents.get(unit.parent_id or -1) or parents.get(unit.serves_id or -1)},
                "officers": inputs["officers"].get(unit.code, 0), "reported_months": inputs["reported_months"]}
        facts.append(normalise_fact(provider.schema, provider.build(data, ctx)))
    return facts


def reported_months() -> dict[str, set[str]]:
    """Months each county unit has filed its monthly inspection report for (县直部门月度检查报告)."""
    months: dict[str, set[str]] = {}
    for data in db.session.scalars(select(Record.data).where(Record.form_id == "monthly_inspection")):
        if data.get("inspecting_unit") and data.get("report_month"):
            months.setdefault(data["inspecting_unit"], set()).add(data["report_month"])
    return months


def officer_counts() -> dict[str, int]:
    """Active information officers per unit code, from the 信息员花名册 records."""
    counts: dict[str, int] = {}
    for data in db.session.scalars(select(Record.data).where(Record.form_id == "officer_roster")):
        if data.get("status") != "active":
            continue
        code = data.get("village_code") or data.get("community_code") or data.get("unit_code")
        if code:
            counts[code] = counts.get(code, 0) + 1
    return counts


@dataclass
class Change:
    record: Record
    ruleset: str
    before: list[str]
    after: list[str]


def compare_draft(draft: RulesSpec) -> list[Change]:
    """Which decisions a draft configuration would change, record by record (nothing is stored).

    The draft is compiled beside the live rulesets under other names, evaluated against every record
    its rulesets concern, and unloaded again.
    """
    live = current_app.extensions["registry"].live.rules or RulesSpec()
    names = {r: f"draft__{r}" for r in draft.rulesets}
    values = {n: p.value for n, p in draft.parameters.items()}
    for ruleset in draft.rulesets.values():
        ENGINE.load(names[ruleset.id], {i: substitute_params(r["if"], values) for i, r in ruleset.rules.items()}, "draft")
    try:
        return [change for ruleset_id in sorted(set(draft.rulesets) | set(live.rulesets))
                for change in _compare_ruleset(live, draft, ruleset_id, names)]
    finally:
        for name in names.values():
            ENGINE.unload(name)


def _compare_ruleset(live: RulesSpec, draft: RulesSpec, ruleset_id: str, names: dict[str, str]) -> list[Change]:
    spec = draft.rulesets.get(ruleset_id) or live.rulesets[ruleset_id]
    form_id = spec.form or PROVIDERS[spec.facts].form
    changes = []
    for record in db.session.scalars(select(Record).where(Record.form_id == form_id).order_by(Record.id)):
        before = _fired(live, ruleset_id, engine_name(live, ruleset_id), record)
        after = _fired(draft, ruleset_id, names.get(ruleset_id, ""), record)
        if before != after:
            changes.append(Change(record=record, ruleset=ruleset_id, before=before, after=after))
    return changes


def _fired(rules: RulesSpec, ruleset_id: str, engine_name: str, record: Record) -> list[str]:
    ruleset = rules.rulesets.get(ruleset_id)
    if ruleset is None:
        return []
    fact = normalise_fact(PROVIDERS[ruleset.facts].schema, record_fact(rules, ruleset, record))
    return list(ENGINE.evaluate(engine_name, fact).fired)

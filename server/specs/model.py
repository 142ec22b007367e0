"""The in-memory shape of loaded configuration (immutable, shared by all requests of a process)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


def canonical_digest(document: Any) -> str:
    """SHA-256 of a document's canonical JSON: the content part of a form version."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FormSpec:
    """One form: its id (file stem), title, whole schema document and content digest.

    ``version`` is the published sequence number (0 until the registry has published it).
    """

    id: str
    title: str
    schema: dict[str, Any]
    digest: str
    path: str | None = None
    version: int = 0
    org_digest: str = ""  # the org tree its x-ui.org fields were expanded with (see server.org.fields)

    @property
    def model_key(self) -> str:
        """What a compiled model depends on: the published content and the org units offered."""
        return f"{self.digest}:{self.org_digest}" if self.org_digest else self.digest

    @property
    def menu_order(self) -> int:
        return int(self.schema.get("x-form", {}).get("menu_order", 1000))


@dataclass(frozen=True)
class OrgUnitSpec:
    """One org unit as configured: ``code`` is the 12-digit division code where one applies."""

    code: str
    name: str
    kind: str
    parent: str | None = None
    serves: str | None = None
    posts: dict[str, str] = field(default_factory=dict)  # post id -> holder's name
    phone: str | None = None  # 联系电话, e.g. for the 附注 of a 请示


@dataclass(frozen=True)
class OrgSpec:
    """The org tree of ``config/org/``: the post vocabulary and every unit, parents first."""

    posts: dict[str, str] = field(default_factory=dict)  # post id -> Chinese title
    units: tuple[OrgUnitSpec, ...] = ()

    @property
    def digest(self) -> str:
        # a unit without a phone digests as it did before units had phones
        units = [{k: v for k, v in u.__dict__.items() if not (k == "phone" and v is None)} for u in self.units]
        return canonical_digest({"posts": self.posts, "units": units})


@dataclass(frozen=True)
class ParameterSpec:
    """One policy number (or choice) of ``config/rules/parameters.json``."""

    name: str
    title: str
    value: Any
    unit: str = ""


@dataclass(frozen=True)
class FactsSpec:
    """One fact declaration of ``config/facts/<id>.json``: how a record (or an org unit) becomes the
    flat, typed fact that rulesets and workflow guards see. ``types`` is each attribute's JSON type,
    worked out by ``config check`` from the forms and the operators."""

    id: str
    title: str
    subject: str                       # "record" | "org_unit"
    form: str | None
    unit_kinds: tuple[str, ...]
    attributes: dict[str, Any]         # attribute -> definition, in file order (later ones may use earlier)
    types: dict[str, str]
    key: tuple[str, ...] = ()          # attributes that, with the unit, identify an org-unit subject
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON Schema facts are normalised against (every attribute may be missing: null)."""
        return {"type": "object", "properties": {n: {"type": [t, "null"]} for n, t in self.types.items()}}

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document, "types": self.types}

    @classmethod
    def from_json(cls, facts_id: str, doc: dict[str, Any]) -> "FactsSpec":
        d = doc["document"]
        return cls(id=facts_id, title=d["title"], subject=d.get("subject", "record"), form=d.get("form"),
                   unit_kinds=tuple(d.get("unit_kinds", ())), attributes=d["attributes"], types=doc["types"],
                   key=tuple(d.get("key", ())), document=d)


@dataclass(frozen=True)
class RulesetSpec:
    """One ruleset file: when it runs, which fact provider feeds it, its rules as written."""

    id: str
    title: str
    event: str
    form: str | None
    facts: str
    rules: dict[str, Any]
    document: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RulesSpec:
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    rulesets: dict[str, RulesetSpec] = field(default_factory=dict)
    facts: dict[str, FactsSpec] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, Any]:
        """Parameter name -> value."""
        return {name: p.value for name, p in self.parameters.items()}

    @cached_property
    def tag(self) -> str:
        """Content tag: rulesets are compiled under ``<id>.<tag>``, so a request keeps evaluating the
        version whose rule texts it holds while a reload compiles the next one beside it."""
        return self.digest[:12]

    def to_json(self) -> dict[str, Any]:
        """What is published to the database for the other processes."""
        return {"parameters": {n: {"title": p.title, "value": p.value, "unit": p.unit}
                               for n, p in self.parameters.items()},
                "rulesets": {i: r.document for i, r in self.rulesets.items()},
                "facts": {i: f.to_json() for i, f in self.facts.items()}}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "RulesSpec":
        parameters = {n: ParameterSpec(name=n, title=p["title"], value=p["value"], unit=p.get("unit", ""))
                      for n, p in doc["parameters"].items()}
        rulesets = {i: RulesetSpec(id=i, title=d["title"], event=d["when"]["event"], form=d["when"].get("form"),
                                   facts=d["facts"], rules=d["rules"], document=d)
                    for i, d in doc["rulesets"].items()}
        facts = {i: FactsSpec.from_json(i, f) for i, f in doc.get("facts", {}).items()}
        return cls(parameters=parameters, rulesets=rulesets, facts=facts)

    @property
    def digest(self) -> str:
        return canonical_digest({"parameters": {n: p.value for n, p in sorted(self.parameters.items())},
                                 "rulesets": {i: r.document for i, r in sorted(self.rulesets.items())},
                                 "facts": {i: f.document for i, f in sorted(self.facts.items())}})


@dataclass(frozen=True)
class DocumentSpec:
    """One official document of ``config/documents/<id>/``: its definition and its template source."""

    id: str
    title: str
    document: dict[str, Any]
    template: str
    digest: str

    @property
    def form(self) -> str | None:
        """The form whose records it is made from (None for a statistics document)."""
        return self.document["source"].get("form")

    @property
    def states(self) -> tuple[str, ...]:
        """The workflow states of the source record in which the document applies (empty: any)."""
        return tuple(self.document.get("states", ()))

    def applies_in(self, state: str | None) -> bool:
        return not self.states or state in self.states

    @property
    def is_statistics(self) -> bool:
        return "statistics" in self.document["source"]

    @property
    def version(self) -> str:
        """What an issued document records as its template version."""
        return self.digest[:16]

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document, "template": self.template}

    @classmethod
    def from_json(cls, doc_id: str, doc: dict[str, Any]) -> "DocumentSpec":
        return cls(id=doc_id, title=doc["document"]["title"], document=doc["document"], template=doc["template"],
                   digest=canonical_digest(doc))


@dataclass(frozen=True)
class ConfigSet:
    """Everything loaded from one configuration directory. ``org`` is None when there is no ``org/``.

    ``workflows`` are definitions (``server.workflow.definition.Workflow``); ``calendar`` the per-year
    overrides of ``config/calendar/`` (year -> ``YearDays``); ``warnings`` what ``config check``
    reports without refusing (a calendar that runs out before the deadlines it must count)."""

    forms: dict[str, FormSpec] = field(default_factory=dict)
    org: OrgSpec | None = None
    rules: "RulesSpec | None" = None
    documents: dict[str, DocumentSpec] = field(default_factory=dict)
    workflows: dict[str, Any] = field(default_factory=dict)
    calendar: dict[int, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def calendar_json(self) -> dict[str, Any]:
        return {str(year): {"holidays": sorted(d.isoformat() for d in days.holidays),
                            "workdays": sorted(d.isoformat() for d in days.workdays)}
                for year, days in sorted(self.calendar.items())}

    @property
    def digest(self) -> str:
        org = self.org.digest if self.org is not None else ""
        rules = self.rules.digest if self.rules is not None else ""
        return canonical_digest({"forms": {fid: f.digest for fid, f in sorted(self.forms.items())}, "org": org,
                                 "rules": rules, "documents": {d: s.digest for d, s in sorted(self.documents.items())},
                                 "workflows": {w: s.digest for w, s in sorted(self.workflows.items())},
                                 "calendar": self.calendar_json, "dashboard": self.dashboard})

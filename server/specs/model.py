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


@dataclass(frozen=True)
class OrgSpec:
    """The org tree of ``config/org/``: the post vocabulary and every unit, parents first."""

    posts: dict[str, str] = field(default_factory=dict)  # post id -> Chinese title
    units: tuple[OrgUnitSpec, ...] = ()

    @property
    def digest(self) -> str:
        return canonical_digest({"posts": self.posts, "units": [u.__dict__ for u in self.units]})


@dataclass(frozen=True)
class ParameterSpec:
    """One policy number (or choice) of ``config/rules/parameters.json``."""

    name: str
    title: str
    value: Any
    unit: str = ""


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

    @cached_property
    def tag(self) -> str:
        """Content tag: rulesets are compiled under ``<id>.<tag>``, so a request keeps evaluating the
        version whose rule texts it holds while a reload compiles the next one beside it."""
        return self.digest[:12]

    def to_json(self) -> dict[str, Any]:
        """What is published to the database for the other processes."""
        return {"parameters": {n: {"title": p.title, "value": p.value, "unit": p.unit}
                               for n, p in self.parameters.items()},
                "rulesets": {i: r.document for i, r in self.rulesets.items()}}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "RulesSpec":
        parameters = {n: ParameterSpec(name=n, title=p["title"], value=p["value"], unit=p.get("unit", ""))
                      for n, p in doc["parameters"].items()}
        rulesets = {i: RulesetSpec(id=i, title=d["title"], event=d["when"]["event"], form=d["when"].get("form"),
                                   facts=d["facts"], rules=d["rules"], document=d)
                    for i, d in doc["rulesets"].items()}
        return cls(parameters=parameters, rulesets=rulesets)

    @property
    def digest(self) -> str:
        return canonical_digest({"parameters": {n: p.value for n, p in sorted(self.parameters.items())},
                                 "rulesets": {i: r.document for i, r in sorted(self.rulesets.items())}})


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
    """Everything loaded from one configuration directory. ``org`` is None when there is no ``org/``."""

    forms: dict[str, FormSpec] = field(default_factory=dict)
    org: OrgSpec | None = None
    rules: "RulesSpec | None" = None
    documents: dict[str, DocumentSpec] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        org = self.org.digest if self.org is not None else ""
        rules = self.rules.digest if self.rules is not None else ""
        return canonical_digest({"forms": {fid: f.digest for fid, f in sorted(self.forms.items())}, "org": org,
                                 "rules": rules, "documents": {d: s.digest for d, s in sorted(self.documents.items())}})

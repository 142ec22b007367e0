"""The in-memory shape of loaded configuration (immutable, shared by all requests of a process)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
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

    @property
    def menu_order(self) -> int:
        return int(self.schema.get("x-form", {}).get("menu_order", 1000))


@dataclass(frozen=True)
class ConfigSet:
    """Everything loaded from one configuration directory."""

    forms: dict[str, FormSpec] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return canonical_digest({fid: f.digest for fid, f in sorted(self.forms.items())})

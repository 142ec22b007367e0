"""要求保密: record values only some readers may see, declared per form in ``x-confidential``.

A reporter who asked for confidentiality, an information officer's identity: informants are protected
by national rules, so a form names the protected fields (JSON pointers), when they are protected (a
boolean field such as ``/reporter/confidential``, or ``"always"``) and who may read them (grants shaped
like ``x-form.permissions``; ``"unit": "owner"`` narrows a grant to the unit that registered the record
and the units above it, i.e. the receiving centre, and ``"unit": "creator"`` to the person who
registered it). Every other reader gets :data:`PLACEHOLDER` in their place, on every path: the API,
pages, history diffs, exports, search, pickers, documents, inbox lines and the rules' explanations.

This module is the one place that decides it. It is configuration, not a special case per form: the
records service and the read paths above it hand data to readers through it, so there is nothing a
new form or path has to remember. Masked values are never written back: a save by a reader who cannot
see them keeps the stored values and the switch that protects them. Search keeps protected values in
a second text (``records.search_protected``) that only readers who may see them search.

Personal data a form marks in a field's ``x-ui`` (``"sensitive": "id_number"``, with ``readers`` shaped
like the grants above) is protected the same way, always, with one difference: other readers see it
partly masked (``110101********1234``), enough to tell two people apart, not to use the number. A field
inside a table is named with ``*`` for its rows (``/parties/*/id_number``).
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Iterable, Mapping, Sequence

from flask import current_app
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from server.auth.models import User
from server.auth.permissions import user_level
from server.errors import NotFound
from server.forms import build_form, search_text
from server.forms.pointers import get_path, is_index, split_pointer, to_pointer
from server.org.models import OrgUnit
from server.org.service import unit_by_id
from server.records.models import AuditEntry, Record
from server.specs.model import FormSpec

PLACEHOLDER = "（保密）"
#: Masking styles of ``x-ui.sensitive``: how much of the value other readers see.
SENSITIVE_STYLES = ("id_number",)
ROWS = "*"  # a pointer token standing for every row of a table
#: Hidden values shorter than this are not scrubbed out of free text (one character is everywhere).
MIN_SECRET = 2
ALWAYS = "always"


@dataclass(frozen=True)
class Reader:
    """One grant of sight: a role, optionally at some org levels, optionally only for the owning unit
    (``owner``: the record's unit is the reader's or beneath it) or the person who registered it."""

    role: str
    levels: tuple[str, ...] | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Protection:
    """One ``x-confidential`` entry: these pointers, while ``when`` is true (None: always), for these readers."""

    title: str
    pointers: tuple[str, ...]
    when: str | None
    readers: tuple[Reader, ...]
    style: str | None = None  # None: the whole value reads PLACEHOLDER; else one of SENSITIVE_STYLES

    def active(self, data: Any) -> bool:
        return self.when is None or get_path(data, self.when) is True


def cover(value: Any, style: str | None) -> Any:
    """What a reader who may not see ``value`` gets instead."""
    if style == "id_number" and isinstance(value, str) and len(value) > 10 and value != PLACEHOLDER:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return PLACEHOLDER


_cache: dict[str, tuple[Protection, ...]] = {}
_lock = threading.Lock()


def form_protections(form: FormSpec) -> tuple[Protection, ...]:
    """The form's protections (parsed once per schema digest; ``config check`` vouched for the shape)."""
    with _lock:
        found = _cache.get(form.digest)
    if found is None:
        found = tuple(_protection(entry) for entry in form.schema.get("x-confidential") or ()
                      if isinstance(entry, dict)) + tuple(_sensitive(form.schema, ""))
        with _lock:
            if len(_cache) > 256:
                _cache.clear()
            _cache[form.digest] = found
    return found


def _protection(entry: Mapping[str, Any]) -> Protection:
    when = entry.get("when")
    readers = tuple(Reader(role=r["role"], levels=tuple(r["levels"]) if r.get("levels") else None, unit=r.get("unit"))
                    for r in entry.get("readers") or () if isinstance(r, dict) and "role" in r)
    return Protection(title=str(entry.get("title", "")), pointers=tuple(entry.get("fields") or ()),
                      when=None if when in (None, ALWAYS) else str(when), readers=readers)


def _sensitive(node: Any, pointer: str) -> Iterable[Protection]:
    """Protections for the fields under ``node`` marked ``x-ui.sensitive`` (rows' fields with ``*``)."""
    if not isinstance(node, dict):
        return
    ui = node.get("x-ui")
    if isinstance(ui, dict) and ui.get("sensitive") in SENSITIVE_STYLES and pointer:
        readers = tuple(Reader(role=r["role"], levels=tuple(r["levels"]) if r.get("levels") else None,
                               unit=r.get("unit")) for r in ui.get("readers") or () if isinstance(r, dict) and "role" in r)
        yield Protection(title=str(node.get("title", "")), pointers=(pointer,), when=None, readers=readers,
                         style=str(ui["sensitive"]))
        return
    for key, child in (node.get("properties") or {}).items():
        yield from _sensitive(child, f"{pointer}/{key}")
    if isinstance(node.get("items"), dict):
        yield from _sensitive(node["items"], f"{pointer}/{ROWS}")


def expand(pointer: str, data: Any) -> list[str]:
    """The concrete pointers a pointer with ``*`` (every row) names in ``data``."""
    head, star, tail = pointer.partition("/" + ROWS)
    if not star:
        return [pointer]
    if tail and not tail.startswith("/"):  # a key that merely starts with "*"
        return [pointer]
    rows = get_path(data, head)
    if not isinstance(rows, list):
        return []
    return [p for i in range(len(rows)) for p in expand(f"{head}/{i}{tail}", data)]


def covers_of(protections: Iterable[Protection], data: Any) -> dict[str, str | None]:
    """Concrete pointer -> masking style; where two protections cover one value the whole-value one wins."""
    out: dict[str, str | None] = {}
    for protection in protections:
        for pointer in protection.pointers:
            for concrete in expand(pointer, data):
                out[concrete] = None if concrete in out and out[concrete] is None else protection.style
    return out


def protections_for(form_id: str, version: int | None = None) -> tuple[Protection, ...]:
    """The live form's protections: a change of policy applies to old records at once. A form no longer
    configured falls back to the version the record was saved under."""
    registry = current_app.extensions["registry"]
    try:
        return form_protections(registry.form(form_id))
    except NotFound:
        if version is None:
            return ()
        try:
            return form_protections(registry.form_version(form_id, version))
        except NotFound:
            return ()


def record_protections(record: Record) -> tuple[Protection, ...]:
    return protections_for(record.form_id, record.form_version)


# -- who sees ---------------------------------------------------------------------------------------
class Sight:
    """What one reader may see. ``None`` is the system (rules, the tick, actions), which sees everything."""

    def __init__(self, user: User | None):
        self.user = user

    def _grants(self, protection: Protection) -> list[Reader]:
        user = self.user
        if user is None or not user.is_enabled:
            return []
        level = user_level(user)
        return [r for r in protection.readers if r.role == user.role and (r.levels is None or level in r.levels)]

    def sees(self, protection: Protection, record: Record) -> bool:
        if self.user is None:
            return True
        for reader in self._grants(protection):
            if reader.unit is None:
                return True
            if reader.unit == "creator" and record.created_by_id == self.user.id:
                return True
            if reader.unit == "owner" and self._owns(record.org_unit_id):
                return True
        return False

    def _owns(self, unit_id: int | None) -> bool:
        mine, unit = self.user.org_unit if self.user else None, unit_by_id(unit_id)
        return unit is not None and mine is not None and bool(mine.path) and unit.path.startswith(mine.path)

    def clause(self, protection: Protection) -> ColumnElement[bool]:
        """:meth:`sees` as SQL over ``records`` (for search)."""
        if self.user is None:
            return true()
        parts: list[ColumnElement[bool]] = []
        for reader in self._grants(protection):
            if reader.unit is None:
                return true()
            if reader.unit == "creator":
                parts.append(Record.created_by_id == self.user.id)
            mine = self.user.org_unit
            if reader.unit == "owner" and mine is not None and mine.path:
                parts.append(Record.org_unit_id.in_(
                    select(OrgUnit.id).where(OrgUnit.path.startswith(mine.path, autoescape=True))))
        return or_(*parts) if parts else false()


def sight(user: User | Sight | None) -> Sight:
    return user if isinstance(user, Sight) else Sight(user)


def hidden_from(record: Record, user: User | Sight | None, data: Any = None) -> list[Protection]:
    """The protections in force on the record's data that this reader may not see."""
    data = record.data if data is None else data
    seer = sight(user)
    return [p for p in record_protections(record) if p.active(data) and not seer.sees(p, record)]


def hidden_covers(record: Record, user: User | Sight | None) -> dict[str, str | None]:
    """Concrete pointers of the values this reader may not see, each with its masking style."""
    return covers_of(hidden_from(record, user), record.data)


def hidden_pointers(record: Record, user: User | Sight | None) -> list[str]:
    return list(hidden_covers(record, user))


# -- data as a reader gets it -------------------------------------------------------------------------
def visible_data(record: Record, user: User | Sight | None) -> dict[str, Any]:
    """The record's data as this reader may see it. Read-only: nothing hidden means the stored dict itself."""
    hidden = hidden_covers(record, user)
    return mask(record.data, hidden) if hidden else record.data


def public_data(record: Record) -> dict[str, Any]:
    """The data with every protection in force masked, whoever reads: for what many units read at
    once and cannot be tailored per reader (issued documents, inbox lines)."""
    covers = covers_of((p for p in record_protections(record) if p.active(record.data)), record.data)
    return mask(record.data, covers) if covers else record.data


def mask(data: Any, pointers: Iterable[str] | Mapping[str, str | None]) -> Any:
    """A copy of ``data`` with the values at ``pointers`` (where filled in) masked: replaced by the
    placeholder, or partly masked where a mapping gives a style (see :func:`cover`)."""
    styles = pointers if isinstance(pointers, Mapping) else dict.fromkeys(pointers)
    out = copy.deepcopy(data)
    for pointer, style in styles.items():
        for concrete in expand(pointer, out):
            parent, key = _parent(out, concrete)
            if parent is not None and key in parent and not _blank(parent[key]):
                parent[key] = cover(parent[key], style)
    return out


def _parent(data: Any, pointer: str, create: bool = False) -> tuple[dict[str, Any] | None, str]:
    """The object holding the value at ``pointer`` and its key (None when the path is not there)."""
    tokens = split_pointer(pointer)
    if not tokens:
        return None, ""
    node = data
    for token in tokens[:-1]:
        if isinstance(node, list) and is_index(token) and int(token) < len(node):
            node = node[int(token)]
            continue
        if not isinstance(node, dict):
            return None, ""
        if create and not isinstance(node.get(token), dict) and node.get(token) is None:
            node[token] = {}
        node = node.get(token)
    return (node, tokens[-1]) if isinstance(node, dict) else (None, "")


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def keep_hidden(record: Record, data: Any, user: User | Sight | None) -> Any:
    """``data`` as submitted by a reader who cannot see some stored values, with those values and the
    switches that protect them kept as stored: the placeholder sent back (or a field left out) must
    not overwrite or wipe them, nor may such a reader lift the protection."""
    hidden = hidden_from(record, user)
    if not hidden or not isinstance(data, dict):
        return data
    out = copy.deepcopy(data)
    for protection in hidden:
        for pointer in protection.pointers + ((protection.when,) if protection.when else ()):
            for concrete in expand(pointer, record.data):
                _restore(out, record.data, concrete)
    return out


def _restore(data: dict[str, Any], stored: Any, pointer: str) -> None:
    value = get_path(stored, pointer)
    parent, key = _parent(data, pointer, create=value is not None)
    if parent is None:
        return
    if value is None:
        parent.pop(key, None)
    else:
        parent[key] = copy.deepcopy(value)


# -- search ---------------------------------------------------------------------------------------------
def search_texts(form: FormSpec, number: str, data: Any) -> tuple[str, str]:
    """(open text, protected text) of a record for search: values under a protection in force go only
    into the second, which only readers who may see them search (see :func:`search_clause`)."""
    model = build_form(form)
    pointers = list(covers_of((prot for prot in form_protections(form) if prot.active(data)), data))
    if not pointers:
        return f"{number.lower()} {search_text(model, data)}", ""
    open_data, protected, in_rows = copy.deepcopy(data), {}, []
    for pointer in pointers:
        parent, key = _parent(open_data, pointer)
        if parent is not None and key in parent:
            value = parent.pop(key)
            if any(is_index(token) for token in split_pointer(pointer)):  # a row's value: searched as typed
                in_rows.extend(str(v).lower() for v in (value if isinstance(value, list) else [value]))
                continue
            inner, inner_key = _parent(protected, pointer, create=True)
            if inner is not None:
                inner[inner_key] = value
    hidden_text = " ".join([search_text(model, protected), *in_rows]).strip()
    return f"{number.lower()} {search_text(model, open_data)}", hidden_text


def search_clause(form: FormSpec, user: User, q: str) -> ColumnElement[bool]:
    """Records of ``form`` whose text contains ``q`` as this reader may search it: protected values
    match only where the reader may see every protection of the form (conservative, and no oracle)."""
    found = Record.search_text.contains(q, autoescape=True)
    protections = form_protections(form)
    if not protections:
        return found
    seer = Sight(user)
    sees_all = and_(*[seer.clause(p) for p in protections])
    return or_(found, and_(sees_all, Record.search_protected.contains(q, autoescape=True)))


def protected_paths(form: FormSpec) -> set[str]:
    """Protected fields as list paths (``reporter/name``): never sorted on, since the order of hidden
    values would tell which records share one (the same informant)."""
    return {p.lstrip("/") for prot in form_protections(form) for p in prot.pointers if ROWS not in split_pointer(p)}


# -- history --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    """An audit row as one reader may read it (the rows themselves are append-only and never masked)."""

    id: int
    at: datetime
    user_id: int | None
    action: str
    subject: str | None
    record_version: int | None
    diff: list[dict[str, Any]]
    detail: str


def history_for(record: Record, user: User | Sight | None, entries: Sequence[AuditEntry]) -> list[HistoryEntry]:
    """The record's audit rows with the protected values masked in their diffs for this reader, for as
    long as the protection held at any point of the history (the reporter asked for it later)."""
    seer = sight(user)
    hidden = [p for p in record_protections(record)
              if not seer.sees(p, record) and _ever_active(p, record.data, entries)]
    styles: dict[str, str | None] = {}
    for protection in hidden:
        for pointer in protection.pointers:
            styles[pointer] = None if styles.get(pointer, "") is None else protection.style
    pointers = list(styles)
    secrets = _history_secrets(record.data, entries, pointers)
    return [HistoryEntry(id=e.id, at=e.at, user_id=e.user_id, action=e.action, subject=e.subject,
                         record_version=e.record_version,
                         diff=mask_diff(e.diff or [], styles) if pointers else list(e.diff or []),
                         detail=scrub(e.detail or "", secrets)) for e in entries]


def _ever_active(protection: Protection, data: Any, entries: Sequence[AuditEntry]) -> bool:
    if protection.active(data):
        return True
    return any(_at_change(change, key, protection.when) is True
               for entry in entries for change in entry.diff or [] for key in ("old", "new"))


def _at_change(change: Mapping[str, Any], key: str, pointer: str | None) -> Any:
    """The value one side of a diff change holds at ``pointer`` (None when it does not reach it)."""
    path = change.get("path", "")
    if pointer is None or key not in change:
        return None
    if pointer == path:
        return change[key]
    if pointer.startswith(path + "/"):
        return get_path(change[key], pointer[len(path):])
    return None


def mask_diff(diff: Sequence[Mapping[str, Any]], pointers: Sequence[str] | Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Diff changes with values at (or under) ``pointers`` masked, also inside a whole object added at once;
    ``*`` in a pointer matches any row."""
    styles = pointers if isinstance(pointers, Mapping) else dict.fromkeys(pointers)
    out = []
    for original in diff:
        change = dict(original)
        path = split_pointer(change.get("path", ""))
        for pointer, style in styles.items():
            wanted = split_pointer(pointer)
            for key in ("old", "new"):
                if key not in change:
                    continue
                if _matches(wanted, path[:len(wanted)]) and len(path) >= len(wanted):
                    change[key] = change[key] if _blank(change[key]) else cover(change[key], style)
                elif len(wanted) > len(path) and _matches(wanted[:len(path)], path) \
                        and isinstance(change[key], (dict, list)):
                    change[key] = mask(change[key], {to_pointer(wanted[len(path):]): style})
        out.append(change)
    return out


def _matches(pattern: Sequence[str], tokens: Sequence[str]) -> bool:
    """Whether pointer tokens match a pattern's, ``*`` matching any row index."""
    return len(pattern) == len(tokens) and all(p == t or (p == ROWS and is_index(t)) for p, t in zip(pattern, tokens))


# -- free text that may quote hidden values (rule explanations and facts, audit details) ----------------------
def secrets(record: Record, user: User | Sight | None) -> list[str]:
    """The hidden values of the record for this reader, as texts to scrub (longest first)."""
    return _texts(get_path(record.data, pointer) for pointer in hidden_pointers(record, user))


def _history_secrets(data: Any, entries: Sequence[AuditEntry], pointers: Sequence[str]) -> list[str]:
    values = [get_path(data, c) for p in pointers for c in expand(p, data)]
    values += [_at_change(c, key, p) for e in entries for c in e.diff or [] for key in ("old", "new") for p in pointers]
    return _texts(values)


def _texts(values: Iterable[Any]) -> list[str]:
    found: set[str] = set()
    for value in values:
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str) and len(item.strip()) >= MIN_SECRET:
                found.add(item.strip())
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return sorted(found, key=len, reverse=True)


def scrub(value: Any, hidden: Sequence[str]) -> Any:
    """``value`` (text or JSON) with every occurrence of the hidden texts replaced by the placeholder."""
    if not hidden:
        return value
    if isinstance(value, str):
        for text in hidden:
            value = value.replace(text, PLACEHOLDER)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, hidden) for v in value]
    return value


def scrubbed_rows(rows: Sequence[Any], record: Record, user: User | Sight | None) -> list[Any]:
    """Database rows about a record (rule decisions) as plain read-only copies with hidden values
    scrubbed from every column; the rows themselves when the reader may see everything."""
    hidden = secrets(record, user)
    if not hidden:
        return list(rows)
    return [SimpleNamespace(**{c: scrub(getattr(row, c), hidden) for c in row.__table__.columns.keys()})
            for row in rows]

"""Indexes for the dashboard's periods on PostgreSQL: one per ledger and date (or month) field it counts by.

A figure asks for one ledger's records of a unit within a period. The ``(form_id, org_unit_id)`` index
finds the unit's records of that ledger, all years of them; to read only the period's, each date field
the dashboard counts by gets a partial expression index ``(org_unit_id, (data #>> '{field}')) WHERE
form_id = '<form>'``, and :func:`period_column` writes the condition with that same expression and the
form id as literals, so the database can match the index in every plan. Which fields these are follows
``config/dashboard.json``, so the indexes are made by ``flask --app server stats indexes`` (after a
publish that changes the dashboard; idempotent; ``CONCURRENTLY``, so writes go on meanwhile). SQLite
needs none: its ledgers are one county's.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import ColumnElement, String, literal_column, type_coerce

from server.records.models import Record

_PLAIN = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class PeriodIndex:
    form: str
    pointer: str

    @property
    def name(self) -> str:
        digest = hashlib.sha1(f"{self.form}{self.pointer}".encode()).hexdigest()[:8]
        return f"ix_stats_{self.form[:30]}_{digest}"

    @property
    def statement(self) -> str:
        return (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {self.name} ON records "
                f"(org_unit_id, ({_path_expression(self.pointer)})) WHERE form_id = '{self.form}'")


def _parts(pointer: str) -> list[str] | None:
    """The pointer's keys when they are plain names (the only ones written into SQL as literals)."""
    parts = pointer.strip("/").split("/")
    return parts if all(_PLAIN.fullmatch(p) for p in parts) else None


def _path_expression(pointer: str) -> str:
    parts = _parts(pointer)
    assert parts is not None
    return "data #>> '{" + ",".join(parts) + "}'"


def wanted(dashboard: dict[str, Any] | None, form_ids: Iterable[str]) -> list[PeriodIndex]:
    """The indexes the configured figures count by (plain ledger ids and field names only)."""
    known = set(form_ids)
    found: dict[tuple[str, str], PeriodIndex] = {}
    for section in (dashboard or {}).get("sections", []):
        for figure in section["figures"]:
            body = figure.get("count") or figure.get("sum") or {}
            pointer = body.get("month") or body.get("date")
            form = body.get("form")
            if (isinstance(pointer, str) and pointer.startswith("/") and form in known and _parts(pointer)
                    and _PLAIN.fullmatch(form)):
                found.setdefault((form, pointer), PeriodIndex(form, pointer))
    return list(found.values())


def period_column(form_id: str, pointer: str, dialect: str) -> tuple[ColumnElement[bool], Any]:
    """``(form condition, the field as text)`` for a period condition: on PostgreSQL both as literals in
    the index's own terms (:class:`PeriodIndex`), elsewhere as the JSON accessors of the other queries."""
    parts = _parts(pointer)
    if dialect == "postgresql" and parts is not None and _PLAIN.fullmatch(form_id):
        form = Record.form_id == literal_column(f"'{form_id}'", String)
        return form, type_coerce(literal_column(f"records.{_path_expression(pointer)}"), String)
    keys = tuple(pointer.strip("/").split("/"))
    return Record.form_id == form_id, Record.data[keys if len(keys) > 1 else keys[0]].as_string()

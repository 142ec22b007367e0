"""Gap-free record numbers per form, org unit and year.

The counter row is bumped by an upsert inside the record's own transaction: the row lock (PostgreSQL)
or the database write lock (SQLite, ``BEGIN IMMEDIATE``) serialises concurrent saves, and a rolled-back
save rolls its number back too, so numbers never skip or repeat.
"""
from __future__ import annotations

import string

from sqlalchemy import text

from server.extensions import db
from server.specs.model import FormSpec

DEFAULT_PATTERN = "{org_code}-{year}-{seq:04d}"


#: The counter's upsert, in the syntax PostgreSQL and SQLite (3.35+) share; written once as text, since
#: building the statement with the ORM's dialect constructs on every save costs more than the round trip.
NEXT_SEQ = text(
    "INSERT INTO number_counters (form_id, org_unit_id, year, last_seq) VALUES (:form_id, :org_unit_id, :year, 1) "
    "ON CONFLICT (form_id, org_unit_id, year) DO UPDATE SET last_seq = number_counters.last_seq + 1 "
    "RETURNING last_seq")


def next_seq(form_id: str, org_unit_id: int, year: int) -> int:
    return int(db.session.execute(NEXT_SEQ, {"form_id": form_id, "org_unit_id": org_unit_id, "year": year})
               .scalar_one())


def format_number(form: FormSpec, *, org_code: str, year: int, seq: int) -> str:
    pattern = form.schema.get("x-form", {}).get("number_pattern", DEFAULT_PATTERN)
    return string.Formatter().format(pattern, org_code=org_code, year=year, seq=seq)


def assign_number(form: FormSpec, *, org_unit_id: int, org_code: str, year: int) -> str:
    return format_number(form, org_code=org_code, year=year, seq=next_seq(form.id, org_unit_id, year))

"""Gap-free record numbers per form, org unit and year.

The counter row is bumped by an upsert inside the record's own transaction: the row lock (PostgreSQL)
or the database write lock (SQLite, ``BEGIN IMMEDIATE``) serialises concurrent saves, and a rolled-back
save rolls its number back too, so numbers never skip or repeat.
"""
from __future__ import annotations

import string

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.extensions import db
from server.records.models import NumberCounter
from server.specs.model import FormSpec

DEFAULT_PATTERN = "{org_code}-{year}-{seq:04d}"


def next_seq(form_id: str, org_unit_id: int, year: int) -> int:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(NumberCounter)
        .values(form_id=form_id, org_unit_id=org_unit_id, year=year, last_seq=1)
        .on_conflict_do_update(
            index_elements=["form_id", "org_unit_id", "year"],
            set_={"last_seq": NumberCounter.last_seq + 1},
        )
        .returning(NumberCounter.last_seq)
    )
    return int(db.session.execute(stmt).scalar_one())


def format_number(form: FormSpec, *, org_code: str, year: int, seq: int) -> str:
    pattern = form.schema.get("x-form", {}).get("number_pattern", DEFAULT_PATTERN)
    return string.Formatter().format(pattern, org_code=org_code, year=year, seq=seq)


def assign_number(form: FormSpec, *, org_unit_id: int, org_code: str, year: int) -> str:
    return format_number(form, org_code=org_code, year=year, seq=next_seq(form.id, org_unit_id, year))

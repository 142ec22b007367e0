"""The 发文字号: ``{issuer_short}综治〔{year}〕{seq}号`` with a gap-free sequence per 代字 and year.

The counter key is the number with its sequence left out (``示综治〔2026〕#号``): documents that share
an issuer, 代字 and year share one sequence, as a 收发文登记簿 does. The counter row is bumped inside
the transaction that stores the issued PDF (row lock on PostgreSQL, the write lock on SQLite), and the
issuing service stores only a PDF that carries exactly the number it got; a render that fails takes
no number. So numbers never skip or repeat (see ``server.documents.service.issue``).
"""
from __future__ import annotations

import string

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.documents.models import DocumentCounter
from server.extensions import db


def format_doc_number(pattern: str, *, issuer_short: str, year: int, seq: int | None, blank: str = "#") -> str:
    """The number; with ``seq=None`` the counter key (``blank`` where the sequence goes)."""
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(pattern):
        out.append(literal)
        if name is None:
            continue
        if name == "seq":
            out.append(blank if seq is None else format(seq, spec or ""))
        else:
            out.append(str({"issuer_short": issuer_short, "year": year}[name]))
    return "".join(out)


def peek_doc_seq(key: str) -> int:
    """The sequence the next issue under ``key`` would get (no lock: it may be taken by then)."""
    last = db.session.scalar(select(DocumentCounter.last_seq).where(DocumentCounter.key == key))
    return (last or 0) + 1


def next_doc_seq(key: str) -> int:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(DocumentCounter).values(key=key, last_seq=1)
            .on_conflict_do_update(index_elements=["key"], set_={"last_seq": DocumentCounter.last_seq + 1})
            .returning(DocumentCounter.last_seq))
    return int(db.session.execute(stmt).scalar_one())

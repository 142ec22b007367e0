"""Database plumbing shared by both engines: JSON column type, SQLite pragmas, write transactions.

SQLite and PostgreSQL run the same code. SQLite needs two things to behave under concurrent saves:
WAL (readers never block the writer) and write transactions that take the write lock up front
(``BEGIN IMMEDIATE``); a deferred transaction that reads first and writes later fails with
SQLITE_BUSY when another process wrote in between, instead of waiting.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import JSON, BigInteger, Integer, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

from server.extensions import db

JsonType = JSON().with_variant(JSONB(), "postgresql")

# Every id (primary key, foreign key, or a column naming a row) is 64-bit: routes accept ids up to
# 2**63 - 1 (``server.DatabaseId``), and a 32-bit column makes PostgreSQL refuse the bound value
# instead of finding nothing. SQLite autoincrements only an ``INTEGER PRIMARY KEY`` (already 64-bit).
BigId = BigInteger().with_variant(Integer(), "sqlite")

_IMMEDIATE = "sqlite_begin_immediate"


def install_sqlite_hooks(engine: Engine) -> None:
    """Take over transaction control from pysqlite so we can choose ``BEGIN IMMEDIATE``."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one write transaction, committed at the end or rolled back on error.

    On SQLite the request's read transaction is closed first, so that the write lock is taken before
    the first statement of the block. PostgreSQL simply carries on in the request's transaction
    (row locks do the serialising), which saves a commit and a connection checkout per save.
    """
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
        session.connection(execution_options={_IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise

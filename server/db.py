"""Database plumbing shared by both engines: JSON column type, SQLite pragmas, write transactions.

SQLite and PostgreSQL run the same code. SQLite needs two things to behave under concurrent saves:
WAL (readers never block the writer) and write transactions that take the write lock up front
(``BEGIN IMMEDIATE``); a deferred transaction that reads first and writes later fails with
SQLITE_BUSY when another process wrote in between, instead of waiting.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

from sqlalchemy import JSON, BigInteger, Insert, Integer, event, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction, make_transient, make_transient_to_detached

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


Model = TypeVar("Model")
_inserts: dict[type, tuple[Insert, frozenset[str]]] = {}


def insert_values(model: type, values: dict[str, Any]) -> int:
    """INSERT one row now, with a prebuilt Core statement, and return its id; no ORM object is made.

    Why: the unit of work's flush of one new object, and the instrumented constructor before it, cost
    about three times the statement (measured for the record and its audit row, issue 15), and every
    record creation writes two. ``values`` must name every column but the id, by the column's key (the
    models using this name their attributes like their columns). Pending ORM changes are flushed
    first, so rows keep the order they were made in.
    """
    if model not in _inserts:
        table = model.__table__  # type: ignore[attr-defined]
        _inserts[model] = (insert(table), frozenset(c.key for c in table.columns if not c.primary_key))
    statement, columns = _inserts[model]
    if values.keys() != columns:
        raise ValueError(f"insert_values({model.__name__}) needs exactly the columns {sorted(columns)}, "
                         f"got {sorted(values)}")
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()
    return int(session.connection().execute(statement, values).inserted_primary_key[0])


_MADE = "insert_row.made"  # session.info: (transaction, object) of rows insert_row made, not yet committed


def insert_row(model: type[Model], values: dict[str, Any]) -> Model:
    """:func:`insert_values`, and the row's ORM object put in the session as if it had been loaded:
    persistent, with the new id, nothing left to flush. An attribute left out of ``values`` would be
    expired and cost a SELECT when read, hence "every column".

    A rollback of the transaction (or savepoint) it was made in takes the object out of the session
    again, as the ORM does with a flushed new object (:func:`_forget_rolled_back`): a row that no longer
    exists must not linger in the identity map, where SQLite would even hand its id to the next row.
    """
    row_id = insert_values(model, values)
    obj = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values, id=row_id)  # loaded state, as a query fills it: no history to flush
    make_transient_to_detached(obj)
    session = db.session()  # the request's Session itself (the scoped proxy lacks the transaction getters)
    session.add(obj)
    made_in = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_MADE, []).append((made_in, obj))
    return obj


def _within(transaction: SessionTransaction | None, boundary: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is boundary:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Objects :func:`insert_row` made inside the rolled-back transaction or savepoint leave the session
    and become transient, like new objects whose INSERT the ORM flushed."""
    made = session.info.get(_MADE)
    if not made:
        return
    boundary = previous_transaction  # what was really rolled back: the savepoint or the root around it
    while boundary.parent is not None and not boundary.nested:
        boundary = boundary.parent
    kept = []
    for made_in, obj in made:
        if _within(made_in, boundary):
            if obj in session:
                session.expunge(obj)
            make_transient(obj)
        else:
            kept.append((made_in, obj))
    session.info[_MADE] = kept


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    """Once the root transaction commits, the rows are for good (a released savepoint is not the end)."""
    if not session.in_nested_transaction():
        session.info.pop(_MADE, None)

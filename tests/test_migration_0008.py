"""Migration 0008 (64-bit ids): up, down and up again, on SQLite and on PostgreSQL.

On PostgreSQL every id-holding column must be ``bigint`` after the upgrade (the test finds them by
name and by constraint, so a later table with a 32-bit id fails here too), the primary keys' sequences
must count past 2**31 - 1, and a downgrade must bring back ``integer``. Each database runs in a schema
of its own (SQLite: a file; PostgreSQL: a schema dropped afterwards), never the suite's shared one.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import create_app
from server.extensions import db
from server.settings import normalise_database_url
from tests.conftest import PG_URL

BIG = 2**31 + 5


def _app(url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app({"database_url": url, "instance_dir": tmp_path / "instance", "secret_key": "test"})


def _id_columns(conn: sa.Connection) -> dict[tuple[str, str], str]:
    """(table, column) → type of every integer column that is a single-column primary key, in a
    foreign key, or named ``id`` / ``*_id``."""
    inspector = sa.inspect(conn)
    found = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        keyed = set(inspector.get_pk_constraint(table)["constrained_columns"])
        keyed = keyed if len(keyed) == 1 else set()
        keyed |= {c for fk in inspector.get_foreign_keys(table) for c in fk["constrained_columns"]}
        for column in inspector.get_columns(table):
            name, kind = column["name"], str(column["type"]).upper()
            if "INT" in kind and (name in keyed or name == "id" or name.endswith("_id")):
                found[(table, name)] = kind
    return found


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"mig0008_{uuid.uuid4().hex[:8]}"
    base = normalise_database_url(PG_URL)
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def test_postgresql_ids_become_bigint_and_come_back(pg_url, tmp_path):
    app = _app(pg_url, tmp_path)
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.connect() as conn:
            before = _id_columns(conn)
        assert before[("records", "id")] == "INTEGER" and before[("audit_log", "object_id")] == "INTEGER"

        upgrade(revision="0008")
        with db.engine.begin() as conn:
            after = _id_columns(conn)
            assert after.keys() == before.keys()
            assert {k: t for k, t in after.items() if t != "BIGINT"} == {}
            # the sequences count past 2**31 - 1 and ids that large are stored
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('org_units', 'id'), {BIG})")
            unit_id = conn.exec_driver_sql(
                "INSERT INTO org_units (code, name, kind, path, posts, is_active) "
                "VALUES ('X', 'x', 'county', '/', '{}', true) RETURNING id").scalar()
            assert unit_id == BIG + 1
            conn.exec_driver_sql(f"INSERT INTO number_counters (form_id, org_unit_id, year, last_seq) "
                                 f"VALUES ('x', {2**63 - 1}, 2026, 0)")
            conn.exec_driver_sql("DELETE FROM number_counters")
            conn.exec_driver_sql("DELETE FROM org_units")
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('org_units', 'id'), 1)")

        downgrade(revision="0007")
        with db.engine.connect() as conn:
            assert _id_columns(conn) == before
        upgrade(revision="0008")
        db.engine.dispose()


def test_postgresql_downgrade_refuses_ids_that_no_longer_fit(pg_url, tmp_path):
    app = _app(pg_url, tmp_path)
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO org_units (id, code, name, kind, path, posts, is_active) "
                                 f"VALUES ({BIG}, 'X', 'x', 'county', '/', '{{}}', true)")
        with pytest.raises(sa.exc.DBAPIError):
            downgrade(revision="0007")
        with db.engine.connect() as conn:  # nothing changed: the whole downgrade was one transaction
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0008"
            assert _id_columns(conn)[("org_units", "id")] == "BIGINT"
        db.engine.dispose()


def test_sqlite_is_left_as_it_is(tmp_path):
    """SQLite's INTEGER is 64-bit already: 0008 changes nothing there, up or down, and copies no table."""
    app = _app(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master ORDER BY name").all()
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT name, sql FROM sqlite_master ORDER BY name").all() == schema
            conn.exec_driver_sql("INSERT INTO org_units (id, code, name, kind, path, posts, is_active) "
                                 f"VALUES ({2**63 - 1}, 'X', 'x', 'county', '/', '{{}}', 1)")
            assert conn.exec_driver_sql("SELECT id FROM org_units").scalar() == 2**63 - 1
        downgrade(revision="0007")
        upgrade(revision="0008")
        db.engine.dispose()

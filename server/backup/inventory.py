"""What a database holds, as the manifest records it: every table with its rows, and the Alembic revision.

Tables are read from the database itself, never from a list kept here, so the tables later migrations
add are counted (and, being in the database, backed up) without touching this package.
"""
from __future__ import annotations

from dataclasses import dataclass

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import Connection, func, inspect, select, table, text

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Inventory:
    rows: dict[str, int]  # table -> rows
    revision: str


def take_inventory(conn: Connection) -> Inventory:
    return Inventory(table_rows(conn), database_revision(conn))


def table_rows(conn: Connection) -> dict[str, int]:
    """Every table of the connection's schema with its number of rows."""
    names = sorted(inspect(conn).get_table_names())
    return {name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0) for name in names}


def holding_data(rows: dict[str, int]) -> dict[str, int]:
    """The tables with rows; Alembic's own table does not count (``db upgrade`` of an empty database
    fills it)."""
    return {name: count for name, count in rows.items() if count and name != VERSION_TABLE}


def database_revision(conn: Connection) -> str:
    """The Alembic revision the database is at ("" when it was never migrated)."""
    if VERSION_TABLE not in inspect(conn).get_table_names():
        return ""
    return ",".join(sorted(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}"))))


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
    return ScriptDirectory.from_config(config)


def code_revision() -> str:
    """The revision this program's migrations end at: the one a database must have for it to serve."""
    return ",".join(sorted(_scripts().get_heads()))


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this program's migrations (an older schema, not a newer one)."""
    return revision in {script.revision for script in _scripts().walk_revisions()}

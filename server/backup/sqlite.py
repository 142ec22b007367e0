"""SQLite: copies through SQLite's online backup API (``sqlite3.Connection.backup``).

The API copies a consistent snapshot page by page through a connection, so it is safe while the
server writes (WAL: the copy reads, writers carry on), and the pages still in the ``-wal`` file are
included; copying the file with ``cp`` would be neither. The copy is switched to a rollback journal so
the backup is one self-contained file, and checked with ``PRAGMA quick_check``. A restore copies the
backup into the target the same way, which replaces its whole content in one step.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from server.backup import BackupError
from server.backup.inventory import Inventory, take_inventory

FILE = "database.sqlite3"
BUSY_TIMEOUT = 30.0  # seconds to wait for a writer, as the app does


def database_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"无法备份或恢复这个 SQLite 数据库：{url.render_as_string(hide_password=True)}"
                          "（只支持数据库文件）")
    return Path(url.database)


def dump(engine: Engine, folder: Path) -> tuple[dict[str, Any], Inventory]:
    """Copy the database into ``folder``; return the manifest's ``database`` part and what the copy holds."""
    source = database_path(engine.url)
    if not source.is_file():
        raise BackupError(f"SQLite 数据库文件不存在：{source}")
    out = folder / FILE
    with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT)) as src, closing(sqlite3.connect(out)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise BackupError(f"SQLite 数据库 {source} 的完整性检查未通过（{check}），未写备份")
    return {"kind": "sqlite", "file": FILE, "sqlite_version": sqlite3.sqlite_version}, inventory_of(out)


def inventory_of(path: Path) -> Inventory:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return take_inventory(conn)
    finally:
        engine.dispose()


def check_ready(engine: Engine, manifest_database: dict[str, Any]) -> None:
    """Nothing to install (the backup API is part of Python's sqlite3); the target's folder is made."""
    database_path(engine.url).parent.mkdir(parents=True, exist_ok=True)


def load(engine: Engine, file: Path, existing: dict[str, int], backup_tables: set[str]) -> None:
    """Replace the target database's whole content with the backup (tables the backup lacks go too)."""
    target = database_path(engine.url)
    source_uri = file.resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(source_uri, uri=True)) as src, \
            closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT)) as dst:
        src.backup(dst)

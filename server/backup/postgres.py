"""PostgreSQL: ``pg_dump -Fc`` and ``pg_restore``, found on ``PATH``.

The dump runs in a snapshot exported from a REPEATABLE READ transaction of our own, in which the
rows of every table and the Alembic revision are counted too: the manifest describes exactly what the
dump holds, even while the server writes. The connection comes from the app's SQLAlchemy URL as a
libpq connection string *without* the password, which goes in ``PGPASSWORD`` (a command line is
visible to every user of the machine in ``ps``); a URL without a password leaves libpq to
``~/.pgpass``, a service file or the environment, as for the app.

``pg_dump`` must be at least the server's major version (it refuses an older one), and ``pg_restore``
at least the version that wrote the dump. The restore runs in a single transaction without owners or
grants (the target may belong to another role): it loads all of it or nothing.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from server.backup import BackupError
from server.backup.inventory import Inventory, take_inventory

FILE = "database.dump"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同版本的 PostgreSQL 客户端工具"
                          f"（Debian：apt-get install postgresql-client），或把 {name} 所在目录加入 PATH")
    return path


def tool_major(path: str) -> int:
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = _VERSION.search(output)
    if match is None:
        raise BackupError(f"无法识别 {path} 的版本（{output.strip() or '无输出'}）")
    return int(match.group(1))


def connection(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string of ``url`` without its password, and the environment carrying it."""
    params: dict[str, Any] = {key: value[-1] if isinstance(value, tuple) else value for key, value in url.query.items()}
    params.update({key: value for key, value in
                   (("host", url.host), ("port", url.port), ("user", url.username), ("dbname", url.database))
                   if value not in (None, "")})
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo(**{key: str(value) for key, value in params.items()}), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what}失败（{Path(command[0]).name} 退出码 {done.returncode}）：{done.stderr.strip()}")


def dump(engine: Engine, folder: Path) -> tuple[dict[str, Any], Inventory]:
    """Dump the database into ``folder``; return the manifest's ``database`` part and what the dump holds."""
    pg_dump = tool("pg_dump")
    major = tool_major(pg_dump)
    conninfo, env = connection(engine.url)
    out = folder / FILE
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        server = str(conn.scalar(text("SHOW server_version")))
        server_major = int(conn.scalar(text("SHOW server_version_num")) or 0) // 10000
        if major < server_major:
            raise BackupError(f"pg_dump 的版本是 {major}，比数据库服务器（{server}）旧：请安装 PostgreSQL "
                              f"{server_major} 或更新的客户端工具，并让它在 PATH 中排在前面")
        inventory = take_inventory(conn)
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={out}", f"--dbname={conninfo}"],
             env, "导出数据库")
    return {"kind": "postgresql", "file": FILE, "server_version": server, "pg_dump_major": major}, inventory


def check_ready(engine: Engine, manifest_database: dict[str, Any]) -> None:
    """``pg_restore`` is installed and can read a dump made by the backup's ``pg_dump``."""
    major = tool_major(tool("pg_restore"))
    made_with = int(manifest_database.get("pg_dump_major", 0))
    if major < made_with:
        raise BackupError(f"备份由 PostgreSQL {made_with} 的 pg_dump 制作，本机的 pg_restore 是 {major}：请安装 "
                          f"PostgreSQL {made_with} 或更新的客户端工具，并让它在 PATH 中排在前面")


def load(engine: Engine, file: Path, existing: dict[str, int], backup_tables: set[str]) -> None:
    """Load the dump into the target. Tables the target has are replaced (the caller decided that they
    may go): the backup's own by ``pg_restore --clean`` inside its transaction, others dropped first."""
    pg_restore = tool("pg_restore")
    conninfo, env = connection(engine.url)
    stray = sorted(set(existing) - backup_tables)
    if stray:
        quote = engine.dialect.identifier_preparer.quote
        with engine.begin() as conn:
            for name in stray:
                conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    command = [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
               f"--dbname={conninfo}"]
    if existing:
        command += ["--clean", "--if-exists"]
    _run(command + [str(file)], env, "恢复数据库")

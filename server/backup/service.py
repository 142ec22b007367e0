"""Making a backup folder and restoring from one (the steps; the package docstring says what and why).

A backup is written into a hidden folder beside the target and renamed into place when complete, so
``DIR`` either is a whole backup or does not exist. A restore refuses before touching anything unless
the backup is intact (every file's size and SHA-256), of the same database kind, at this program's
Alembic revision, the client tools can read it, and the target database holds no data — ``clean``
(``--clean``) accepts discarding the target's data. After loading, every table's rows and the revision
are compared with the manifest; then the configuration and fonts folders are put back.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from server.backup import BackupError, postgres, sqlite
from server.backup.folders import PRIVATE, copy_folder, put_back
from server.backup.inventory import code_revision, holding_data, known_revision, table_rows, take_inventory
from server.backup.manifest import MANIFEST, Manifest, entry_for, read_manifest, verify_files, write_manifest
from server.extensions import db
from server.timeutil import utcnow

ENGINES: dict[str, ModuleType] = {"sqlite": sqlite, "postgresql": postgres}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class Restored:
    manifest: Manifest
    discarded: dict[str, int]  # the target's tables that held rows before (only with clean)
    folders: dict[str, tuple[bool, Path | None]] = field(default_factory=dict)  # name -> (written, moved aside to)


def _engine_module(kind: str) -> ModuleType:
    module = ENGINES.get(kind)
    if module is None:
        raise BackupError(f"不支持备份或恢复 {kind} 数据库（支持 SQLite 与 PostgreSQL）")
    return module


def _folders() -> dict[str, Path]:
    """The folders outside the database, by their name inside a backup."""
    settings = current_app.config["SERVER_SETTINGS"]
    return {"config": Path(settings.config_dir), "fonts": Path(settings.fonts_dir)}


def _app_version() -> str:
    try:
        return metadata.version("server")
    except metadata.PackageNotFoundError:
        return "unknown"


def make_backup(target: Path) -> Manifest:
    """Back the database and the folders outside it up into the new folder ``target``."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} 已存在且不是空目录：每份备份写进一个新目录（例如以日期命名）")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))  # mode 0700
    try:
        manifest = _write_backup(work)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _write_backup(work: Path) -> Manifest:
    engine = db.engine
    database, inventory = _engine_module(engine.dialect.name).dump(engine, work)
    if not inventory.revision:
        raise BackupError("数据库还没有建表（没有 alembic_version）：请先运行 flask --app server db upgrade")
    paths = [work / database["file"]]
    os.chmod(paths[0], PRIVATE)
    for name, source in _folders().items():
        paths += copy_folder(source, work, name)
    manifest = Manifest(created_at=utcnow().isoformat(timespec="seconds"), app_version=_app_version(),
                        alembic_revision=inventory.revision, database=database, rows=inventory.rows,
                        files=[entry_for(work, path) for path in paths])
    write_manifest(work, manifest)
    os.chmod(work / MANIFEST, PRIVATE)
    return manifest


def restore_backup(source: Path, clean: bool = False) -> Restored:
    """Restore the backup in ``source`` into the app's database and folders (see the module docstring)."""
    manifest = read_manifest(source)
    if manifest.database.get("file") not in {entry.path for entry in manifest.files}:
        raise BackupError(f"{MANIFEST} 没有列出数据库文件及其校验值：备份不完整")
    verify_files(source, manifest)
    engine = db.engine
    module = _engine_module(engine.dialect.name)
    _check_compatible(manifest, engine.dialect.name)
    module.check_ready(engine, manifest.database)
    existing = _target_tables(engine, clean)
    engine.dispose()
    module.load(engine, source / manifest.database["file"], existing, set(manifest.rows))
    engine.dispose()
    _check_loaded(engine, manifest)
    folders = {name: put_back(source, manifest.files_under(name), name, target) for name, target in _folders().items()}
    return Restored(manifest, holding_data(existing), folders)


def _check_compatible(manifest: Manifest, kind: str) -> None:
    made = str(manifest.database.get("kind"))
    if made != kind:
        raise BackupError(f"这是 {KIND_NAMES.get(made, made)} 数据库的备份，目标是 {KIND_NAMES.get(kind, kind)} 数据库："
                          "只能恢复到同一种数据库")
    revision, head = manifest.alembic_revision, code_revision()
    if revision == head:
        return
    if known_revision(revision):
        raise BackupError(f"备份的数据库结构版本是 {revision}，本程序的是 {head}：请用备份时的程序版本"
                          f"（{manifest.app_version}，迁移到 {revision}）恢复，再换回本版本运行 "
                          f"flask --app server db upgrade 迁移到 {head}")
    raise BackupError(f"备份的数据库结构版本 {revision} 不在本程序的迁移之中（本程序为 {head}）：备份来自更新的程序，"
                      f"请先把程序升级到备份时的版本（{manifest.app_version}）再恢复")


def _target_tables(engine: Engine, clean: bool) -> dict[str, int]:
    """The target's tables and rows; refused when it holds data and ``clean`` was not given."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            existing = table_rows(conn)
    except OperationalError as exc:
        raise BackupError(f"无法连接目标数据库 {shown}：{exc.orig}") from exc
    held = holding_data(existing)
    if held and not clean:
        largest = sorted(held.items(), key=lambda item: -item[1])
        listing = "、".join(f"{name} {count} 行" for name, count in largest[:5]) + (" 等" if len(held) > 5 else "")
        raise BackupError(f"目标数据库 {shown} 已有数据（{listing}）：恢复只写入空数据库。请新建一个空数据库并让 "
                          "DATABASE_URL 指向它；确认这些数据可以丢弃时，加 --clean 重新运行")
    return existing


def _check_loaded(engine: Engine, manifest: Manifest) -> None:
    with engine.connect() as conn:
        loaded = take_inventory(conn)
    problems = [f"{name}：备份中 {count} 行，" + (f"恢复后 {loaded.rows[name]} 行" if name in loaded.rows else "恢复后没有这张表")
                for name, count in manifest.rows.items() if loaded.rows.get(name) != count]
    if loaded.revision != manifest.alembic_revision:
        problems.insert(0, f"数据库结构版本应为 {manifest.alembic_revision}，恢复后为 {loaded.revision or '无'}")
    if problems:
        raise BackupError("恢复后核对不符：\n" + "\n".join(problems))

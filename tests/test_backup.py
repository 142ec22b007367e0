"""Backup and restore (``flask backup`` / ``flask restore``): a backup made through the CLI, restored into
an empty database, gives back every record, every byte of every issued PDF, the 发文字号 counter (the
next document takes the next number) and the published configuration; a damaged or mismatched backup
and a target that holds data are refused before anything changes.

On SQLite the target is a new file; on PostgreSQL (``TEST_DATABASE_URL``) a database of its own created
on the same server and dropped afterwards, so the shared test database is never restored over.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from server import create_app
from server.backup import BackupError, postgres
from server.backup.inventory import table_rows
from server.documents import service as documents
from server.documents.models import DocumentCounter, IssuedDocument
from server.extensions import db
from server.records.models import Record
from server.settings import normalise_database_url
from tests.conftest import CONFIG_DIR, PG_URL, user_named
from tests.documents_fixtures import api_client, build_doc_app, make_record

DOC = "incident_letter"  # tests/configs/documents/incident_letter: 城关综治测〔year〕N号


@dataclass
class Target:
    """An empty database to restore into, and the folders of the app that restores."""

    url: str
    root: Path
    apps: list[Flask] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    def app(self) -> Flask:
        """An app on the target, configured with the plain test forms (no documents): the older
        configuration of a machine the backup is restored onto."""
        if not self.config_dir.exists():
            shutil.copytree(CONFIG_DIR, self.config_dir)
        app = create_app({"database_url": self.url, "instance_dir": self.root / "instance", "secret_key": "test",
                          "config_dir": self.config_dir, "fonts_dir": self.root / "fonts",
                          "config_poll_seconds": 0.0, "watch_config_files": False})
        self.apps.append(app)
        return app

    def restore(self, backup: Path, *args: str) -> Any:
        app = self.app()
        with app.app_context():  # the command runs in the current app context: the target's, not a source's
            return app.test_cli_runner().invoke(args=["restore", str(backup), *args])

    def tables(self) -> dict[str, int]:
        """The target's tables and rows (none while a SQLite target file does not exist)."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
            return {}
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                return table_rows(conn)
        finally:
            engine.dispose()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    root = tmp_path / "target"
    if not PG_URL:
        yield from _release(Target(f"sqlite:///{root / 'db' / 'server.db'}", root))
        return
    server = sa.create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"backup_test_{secrets.token_hex(6)}"
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(normalise_database_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
        yield from _release(Target(url, root))
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def _release(target: Target) -> Iterator[Target]:
    try:
        yield target
    finally:
        for app in target.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def backup_of(app: Flask, folder: Path) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_restore_gives_back_records_pdf_bytes_numbers_and_configuration(make_app, tmp_path, target):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "LICENSE.txt").write_text("仿宋_GB2312 字体授权", encoding="utf-8")
    source = build_doc_app(make_app, tmp_path, fonts_dir=fonts)
    with source.app_context():
        clerk = user_named("clerk")
        created = [make_record(summary=f"夜市噪音扰民第{n}次") for n in range(3)]
        issued = documents.issue(DOC, clerk, record_id=created[0].id)
        records_before = [(r.id, r.number, r.data, r.version) for r in db.session.scalars(sa.select(Record).order_by(Record.id))]
        config_before = source.extensions["registry"].live.version
        rows_before = table_rows(db.session.connection())
        db.session.commit()
        manifest = backup_of(source, tmp_path / "backup")

    assert manifest["alembic_revision"] and manifest["database"]["kind"] == make_url(target.url).get_backend_name()
    assert manifest["rows"]["records"] == 3 and manifest["rows"]["issued_documents"] == 1
    assert manifest["rows"] == rows_before
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert "fonts/LICENSE.txt" in listed and "config/documents/incident_letter/template.html" in listed
    for path, entry in listed.items():
        assert hashlib.sha256((tmp_path / "backup" / path).read_bytes()).hexdigest() == entry["sha256"]

    result = target.restore(tmp_path / "backup")
    assert result.exit_code == 0, result.output
    assert (target.config_dir / "documents" / DOC / "template.html").is_file()  # the backup's configuration
    assert [p.name for p in target.root.glob("config.before-restore-*")]  # the one it replaced, moved aside
    assert (target.root / "fonts" / "LICENSE.txt").read_text(encoding="utf-8") == "仿宋_GB2312 字体授权"
    assert target.tables() == rows_before

    restored = make_app(database_url=target.url, config_dir=target.config_dir, fonts_dir=target.root / "fonts")
    target.apps.append(restored)  # released before a PostgreSQL target is dropped
    with restored.app_context():
        assert restored.extensions["registry"].live.version == config_before  # nothing republished
        assert [(r.id, r.number, r.data, r.version)
                for r in db.session.scalars(sa.select(Record).order_by(Record.id))] == records_before
        row = db.session.get(IssuedDocument, issued.id)
        assert (row.number, row.sha256, hashlib.sha256(row.pdf).hexdigest()) == (issued.number, issued.sha256, issued.sha256)
        assert db.session.get(DocumentCounter, issued.counter_key).last_seq == 1
        response = api_client(restored, "clerk").get(f"/api/v1/documents/{issued.id}.pdf")
        assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == issued.sha256
        following = documents.issue(DOC, user_named("clerk"), record_id=created[1].id)
        assert (following.seq, following.counter_key) == (2, issued.counter_key) and following.id > issued.id
        assert following.number == issued.number.replace("1号", "2号")
        assert make_record(summary="恢复后新登记").id > created[-1].id  # the id sequences came back too


@pytest.fixture
def backup(app, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    make_record()
    db.session.commit()
    backup_of(app, tmp_path / "backup")
    return tmp_path / "backup"


def _damaged(backup: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(backup, copy)
    return copy


def _edit_manifest(folder: Path, **changes: Any) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key == "kind":
            manifest["database"]["kind"] = value
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_damaged_or_mismatched_backup_is_refused_before_anything_changes(backup, tmp_path, target):
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    database = manifest["database"]["file"]
    flipped = _damaged(backup, tmp_path, "flipped")
    data = bytearray((flipped / database).read_bytes())
    data[len(data) // 2] ^= 0x01
    (flipped / database).write_bytes(bytes(data))
    truncated = _damaged(backup, tmp_path, "truncated")
    (truncated / database).write_bytes((truncated / database).read_bytes()[:-100])
    no_manifest = _damaged(backup, tmp_path, "no_manifest")
    (no_manifest / "manifest.json").unlink()
    broken_manifest = _damaged(backup, tmp_path, "broken_manifest")
    (broken_manifest / "manifest.json").write_text('{"format": 1, "files": [', encoding="utf-8")
    older = _damaged(backup, tmp_path, "older")
    _edit_manifest(older, alembic_revision="0001")
    newer = _damaged(backup, tmp_path, "newer")
    _edit_manifest(newer, alembic_revision="9999")
    other_kind = _damaged(backup, tmp_path, "other_kind")
    _edit_manifest(other_kind, kind="sqlite" if PG_URL else "postgresql")
    cases = {
        flipped: f"{database}：SHA-256 校验值不符", truncated: f"{database}：大小应为", no_manifest: "不是一份完整的备份",
        broken_manifest: "已损坏", older: "db upgrade", newer: "备份来自更新的程序", other_kind: "只能恢复到同一种数据库",
    }
    for folder, message in cases.items():
        result = target.restore(folder, "--clean")
        assert result.exit_code == 1 and message in result.output, (folder.name, result.output)
        assert not target.tables(), folder.name  # the target was not touched
        assert not list(target.root.glob("config.before-restore-*")), folder.name


def test_a_target_that_holds_data_is_refused_unless_clean(backup, tmp_path, target):
    first = target.restore(backup)
    assert first.exit_code == 0, first.output
    rows = target.tables()
    again = target.restore(backup)
    assert again.exit_code == 1 and "已有数据" in again.output and "--clean" in again.output and "users 10 行" in again.output
    clean = target.restore(backup, "--clean")
    assert clean.exit_code == 0, clean.output
    assert "已丢弃目标数据库原有的" in clean.output and target.tables() == rows


def test_backup_goes_into_a_new_folder(app, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "used")])
    assert result.exit_code == 1 and "不是空目录" in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".used")] == []  # no half-written folder left


def test_postgres_password_travels_in_the_environment_not_on_the_command_line():
    url = make_url("postgresql+psycopg://keyarea:s3cr%40t@db.example:5433/keyarea?sslmode=require")
    conninfo, env = postgres.connection(url)
    assert conninfo_to_dict(conninfo) == {"host": "db.example", "port": "5433", "user": "keyarea",
                                          "dbname": "keyarea", "sslmode": "require"}
    assert "s3cr" not in conninfo and env["PGPASSWORD"] == "s3cr@t"


def test_missing_postgres_tools_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="找不到 pg_restore：请安装"):
        postgres.tool("pg_restore")

"""``flask backup DIR`` and ``flask restore DIR [--clean]`` (README: 备份与恢复)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.backup import BackupError
from server.backup.manifest import Manifest
from server.backup.service import KIND_NAMES, Restored, make_backup, restore_backup

# Shown by name in the summaries (every table is backed up and checked, these are only the headline).
HEADLINE = (("records", "条记录"), ("issued_documents", "份公文"), ("users", "个用户"))


def _contents(manifest: Manifest) -> str:
    kind = str(manifest.database.get("kind"))
    headline = "、".join(f"{manifest.rows[table]} {unit}" for table, unit in HEADLINE if table in manifest.rows)
    return (f"{KIND_NAMES.get(kind, kind)} 数据库 {len(manifest.rows)} 张表共 {sum(manifest.rows.values())} 行"
            f"（{headline}），配置文件 {len(manifest.files_under('config'))} 个，字体文件 "
            f"{len(manifest.files_under('fonts'))} 个；数据库结构版本 {manifest.alembic_revision}")


@click.command("backup", help="把数据库、配置目录和字体备份到新目录 FOLDER（服务运行时也可以备份）")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(folder: Path) -> None:
    """Back the database, the configuration and the fonts up into the new folder FOLDER (safe while the
    server runs)."""
    try:
        manifest = make_backup(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已备份到 {folder}：{_contents(manifest)}")


@click.command("restore", help="把 FOLDER 中的备份恢复到空数据库（先停止服务）；动手前先校验整份备份")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--clean", is_flag=True, help="目标数据库已有数据时丢弃这些数据（默认拒绝恢复到有数据的数据库）")
@with_appcontext
def restore_command(folder: Path, clean: bool) -> None:
    """Restore the backup in FOLDER into an empty database (stop the server first); the backup is
    verified before anything is touched."""
    try:
        restored = restore_backup(folder, clean)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(folder, restored)


def _report(folder: Path, restored: Restored) -> None:
    manifest = restored.manifest
    if restored.discarded:
        click.echo(f"已丢弃目标数据库原有的 {sum(restored.discarded.values())} 行数据（--clean）")
    for name, (written, moved) in restored.folders.items():
        if moved is not None:
            click.echo(f"原 {name} 目录已移到 {moved}")
        elif not written and manifest.files_under(name):
            click.echo(f"{name} 目录与备份相同，未改动")
    click.echo(f"已从 {folder}（{manifest.created_at} 制作）恢复：{_contents(manifest)}")
    click.echo("各表行数与数据库结构版本已与备份核对无误，可以启动服务")

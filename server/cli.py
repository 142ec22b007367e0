"""Flask commands: config check/reload, user and token creation, the demo county."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from server.cli_common import echo_decision_counts, load_draft
from server.errors import ConfigInvalid

config_cli = AppGroup("config", help="检查与发布配置（config/）")
user_cli = AppGroup("user", help="用户管理")
token_cli = AppGroup("token", help="API 令牌")
demo_cli = AppGroup("demo", help="示范县数据")
org_cli = AppGroup("org", help="单位（组织机构）")
rules_cli = AppGroup("rules", help="规则（政策）")


@rules_cli.command("tick")
@click.option("--date", "on", default=None, help="按此日期执行（YYYY-MM-DD，默认今天）")
@click.option("--verbose", is_flag=True, help="逐项列出决定")
def rules_tick(on: str | None, verbose: bool) -> None:
    """Run the daily rulesets (deadlines, vetoes ...) over all records; run once a day from cron."""
    from datetime import date

    from server.rules.service import run_daily

    current_app.extensions["registry"].adopt_published()
    decisions = run_daily(date.fromisoformat(on) if on else None)
    for decision in decisions if verbose else []:
        click.echo(f"{decision.ruleset}.{decision.rule}：{decision.explanation}")
    echo_decision_counts(decisions)
    click.echo(f"共作出 {len(decisions)} 项决定")


@rules_cli.command("simulate")
@click.option("--config", "config_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="草稿配置目录（与 config/ 结构相同）")
@click.option("--date", "on", default=None, help="按此日期评估（YYYY-MM-DD，默认今天）")
def rules_simulate(config_dir: str, on: str | None) -> None:
    """Evaluate a draft configuration against the existing records and units (daily rulesets included);
    print the decisions that would change."""
    from datetime import date

    from server.rules.service import compare_draft

    draft = load_draft(config_dir).rules
    if draft is None:
        raise click.ClickException("草稿配置中没有 rules/ 目录")
    changes = compare_draft(draft, date.fromisoformat(on) if on else None)
    for change in changes:
        before = "、".join(change.before) or "（无）"
        after = "、".join(change.after) or "（无）"
        click.echo(f"{change.subject}  {change.ruleset}：{before} → {after}")
    click.echo(f"共 {len(changes)} 条记录或单位的决定会改变")


@config_cli.command("check")
def config_check() -> None:
    """Validate every configuration file; print all errors and exit 1 when there are any."""
    registry = current_app.extensions["registry"]
    try:
        config = registry.load_files()
    except ConfigInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"配置有 {len(exc.errors)} 处错误（{registry.config_dir}）", err=True)
        sys.exit(1)
    parts = [f"{len(config.forms)} 个表单"]
    if config.rules is not None:
        parts.append(f"{len(config.rules.rulesets)} 个规则集")
    if config.workflows:
        parts.append(f"{len(config.workflows)} 个流程")
    if config.documents:
        parts.append(f"{len(config.documents)} 种公文")
    if config.dashboard is not None:
        parts.append(f"{sum(len(s['figures']) for s in config.dashboard['sections'])} 个统计项")
    for warning in config.warnings:
        click.echo(f"警告：{warning}", err=True)
    click.echo(f"配置有效：{'，'.join(parts)}（{registry.config_dir}）")


@config_cli.command("reload")
@click.option("--by", "published_by", default="cli", help="记录在版本中的发布人")
@click.option("--note", default="", help="发布说明")
@click.option("--force", is_flag=True, help="即使会撤销较新的发布版本（如配置工作台发布的），也以文件为准发布")
def config_reload(published_by: str, note: str, force: bool) -> None:
    """Validate and publish the files; running servers pick the new version up without a restart."""
    from server.specs import releases

    registry = current_app.extensions["registry"]
    if not force:
        _refuse_if_behind(releases.read_tree(registry.config_dir), releases.folder_release(registry.config_dir),
                          str(registry.config_dir))
    try:
        result = registry.publish_files(published_by, note=note)
    except ConfigInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo("配置有错误，未发布；正在运行的服务继续使用旧版本", err=True)
        sys.exit(1)
    changed = "、".join(result.changed_forms) or "无"
    click.echo(f"已发布配置版本 {result.config.version}；有变化的表单：{changed}")


def _refuse_if_behind(tree: dict[str, str], manifest: int | None, where: str) -> None:
    """Exit 1, saying why, when publishing ``tree`` would undo a later release unseen."""
    from server.specs import releases

    live = releases.behind(tree, manifest)
    if live is None:
        return
    ahead = releases.diff_trees(tree, releases.tree_of(live))
    click.echo(f"当前版本 {live.seq}（{releases.SOURCE_TITLES[live.source]}，{live.published_by}）与 {where} 中的文件"
               f"有 {len(ahead)} 处不同（{'、'.join(d.path for d in ahead[:5])}），而这些文件不是从版本 {live.seq} 导出的。",
               err=True)
    click.echo("发布它们会撤销那些修改：先运行 flask config export 把当前版本写出再修改，或加 --force 以这些文件为准",
               err=True)
    sys.exit(1)


@config_cli.command("export")
@click.argument("target", type=click.Path())
@click.option("--release", "seq", type=click.IntRange(1, 2**31 - 1), default=None,
              help="导出哪个发布版本（默认当前版本）")
def config_export(target: str, seq: int | None) -> None:
    """Write a published release as a folder (an empty or configuration folder) or as a .zip file, with the
    release's number beside it (``.release``), so that an import or reload of it can tell a later publish."""
    from pathlib import Path

    from server.specs import releases

    row = releases.release(seq) if seq else releases.latest_release()
    if row is None:
        raise click.ClickException(f"没有发布版本 {seq}" if seq else "还没有发布过配置")
    tree = releases.tree_of(row)
    out = Path(target)
    if out.suffix.lower() == ".zip":
        out.write_bytes(releases.zip_tree(tree, row.seq))
    else:
        if out.exists() and any(out.iterdir()) and not (out / "forms").is_dir():
            raise click.ClickException(f"{out} 不是空目录，也不是配置目录，未写入")
        releases.export_folder(tree, row.seq, out)
    click.echo(f"已导出发布版本 {row.seq}（{len(tree)} 个文件）到 {out}")


@config_cli.command("import")
@click.argument("source", type=click.Path(exists=True))
@click.option("--note", required=True, help="发布说明（必填）")
@click.option("--by", "published_by", default="cli", help="记录在版本中的发布人")
@click.option("--force", is_flag=True, help="即使会撤销导出之后的发布版本，也以这些文件为准")
def config_import(source: str, note: str, published_by: str, force: bool) -> None:
    """Validate a folder or .zip of configuration (as ``config check`` does) and publish it as a release."""
    from pathlib import Path

    from server.specs import releases

    path = Path(source)
    try:
        tree, manifest = (releases.unzip_tree(path.read_bytes()) if path.is_file()
                          else (releases.read_tree(path), releases.folder_release(path)))
        if not force:
            _refuse_if_behind(tree, manifest, source)
        config = releases.load_tree(tree)
    except releases.TreeError as exc:
        raise click.ClickException(str(exc)) from exc
    except ConfigInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo("配置有错误，未导入；正在运行的服务继续使用旧版本", err=True)
        sys.exit(1)
    registry = current_app.extensions["registry"]
    result = registry.publish(config, published_by, tree, source="import", note=note)
    if result.release is None:
        click.echo("导入的文件与当前发布版本相同，未产生新版本")
    else:
        click.echo(f"已导入并发布为版本 {result.release}（配置 {result.config.version}）")


@user_cli.command("create")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@click.option("--role", default="county_staff", show_default=True)
@click.option("--org", "org_code", default=None, help="所属单位代码")
@click.option("--display-name", default="")
def user_create(name: str, password_stdin: bool, role: str, org_code: str | None, display_name: str) -> None:
    from server.auth.service import UserError, create_user

    if not password_stdin:
        raise click.UsageError("请用 --password-stdin 从标准输入提供密码")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(name, password, role=role, org_code=org_code, display_name=display_name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建用户 {user.username}（{user.role}）")


@token_cli.command("create")
@click.argument("name")
@click.option("--label", default="", help="令牌用途说明")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
def token_create(name: str, label: str, days: int) -> None:
    """Create an API token for user NAME; the token is printed once, as the last line."""
    from server.auth.service import UserError, create_token

    try:
        token = create_token(name, label, days)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"用户 {name} 的令牌（只显示这一次，有效 {days} 天）：")
    click.echo(token)


@demo_cli.command("load")
@click.option("--year", type=int, default=None, help="再载入该年度的示范数据（如 2026：按来源文章的数字，经各业务流程生成一年的台账）")
@click.option("--scale", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="示范年度的规模（0–1，测试用小规模）")
def demo_load(year: int | None, scale: float) -> None:
    """Load the demo county once (a second run changes nothing); with --year, then its demo year, also once."""
    from server.demo import load_demo

    click.echo(load_demo())
    if year is not None:
        from server.demo_year import load_year

        click.echo(load_year(year, scale, progress=lambda month: click.echo(f"  示范年度：{month} …")))


@org_cli.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False))
def org_import(sheet: str) -> None:
    """Replace the org tree from an Excel/CSV sheet (all rows valid, or nothing changes)."""
    from pathlib import Path

    from server.org.importer import import_sheet

    result = import_sheet(Path(sheet), Path(sheet).name, current_app.extensions["registry"], "cli")
    if not result.ok:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("导入失败，未做任何改动", err=True)
        sys.exit(1)
    click.echo(f"已导入 {result.units} 个单位，配置版本 {result.version}")


@org_cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
def org_export(out: str) -> None:
    """Write the configured org tree as a sheet (.xlsx or .csv) in the import layout."""
    from pathlib import Path

    from server.org.sheet import export_csv, export_xlsx

    from server.org.importer import live_org

    org = live_org(current_app.extensions["registry"])
    if org is None:
        raise click.ClickException("配置中没有 org/ 目录")
    Path(out).write_bytes(export_csv(org) if out.lower().endswith(".csv") else export_xlsx(org))
    click.echo(f"已导出 {len(org.units)} 个单位到 {out}")


stats_cli = AppGroup("stats", help="统计分析")


@stats_cli.command("indexes")
def stats_indexes() -> None:
    """Make the PostgreSQL indexes the dashboard's periods are counted by (server/stats/indexes.py)."""
    from sqlalchemy import text

    from server.extensions import db
    from server.stats.indexes import wanted

    registry = current_app.extensions["registry"]
    registry.adopt_published()
    if db.engine.dialect.name != "postgresql":
        click.echo("SQLite 不需要统计索引")
        return
    indexes = wanted(registry.live.dashboard, registry.live.forms)
    db.session.remove()  # CONCURRENTLY waits for every open transaction, this session's too
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for index in indexes:
            conn.execute(text(index.statement))
            click.echo(f"{index.name}: {index.form} {index.pointer}")
    click.echo(f"统计索引已就绪：{len(indexes)} 个")


def register_cli(app: Flask) -> None:
    from server.backup.cli import backup_command, restore_command
    from server.documents.cli import documents_cli
    from server.flow.cli import tick_command, workflows_cli

    for group in (config_cli, user_cli, token_cli, demo_cli, org_cli, rules_cli, documents_cli, workflows_cli,
                  tick_command, backup_command, restore_command, stats_cli):
        app.cli.add_command(group)

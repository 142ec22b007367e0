"""Flask commands for procedures: ``tick``, ``workflows simulate`` and ``workflows migrate``."""
from __future__ import annotations

import sys
from collections import Counter
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from server.cli_common import echo_decision_counts, load_draft

workflows_cli = AppGroup("workflows", help="流程（办理程序）")


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"日期应为 YYYY-MM-DD，实际为 {value!r}") from exc


@click.command("tick")
@click.option("--date", "on", default=None, help="按此日期执行（YYYY-MM-DD，默认今天）")
@click.option("--daily/--no-daily", default=None, help="是否执行每日规则（默认：今天还没执行过就执行）")
@click.option("--verbose", is_flag=True, help="逐项列出")
@with_appcontext
def tick_command(on: str | None, daily: bool | None, verbose: bool) -> None:
    """Fire the timer steps that are due and run the daily rulesets (from cron or a systemd timer)."""
    from server.flow.tick import tick

    current_app.extensions["registry"].adopt_published()
    report = tick(_date(on), daily)
    for fired in report.fired if verbose else []:
        suffix = f"（失败：{fired.error}）" if fired.error else ""
        click.echo(f"{fired.record}  {fired.timer}·{fired.step}{suffix}")
    for (timer, step), count in sorted(Counter((f.timer, f.step) for f in report.fired).items()):
        click.echo(f"{timer}·{step}：{count} 项")
    click.echo(f"触发计时步骤 {len(report.fired)} 项" + (f"，失败 {sum(1 for f in report.fired if f.error)} 项"
                                                      if any(f.error for f in report.fired) else ""))
    if report.daily_ran:
        echo_decision_counts(report.decisions)
        click.echo(f"每日规则作出 {len(report.decisions)} 项决定")


@workflows_cli.command("simulate")
@click.option("--config", "config_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="草稿配置目录（与 config/ 结构相同）")
@click.option("--date", "on", default=None, help="模拟到此日期（YYYY-MM-DD，默认今天）")
def workflows_simulate(config_dir: str, on: str | None) -> None:
    """What a draft would change for the open matters: due dates, escalation steps by --date, states,
    and the decisions of every ruleset (daily ones included) on that date. Nothing is stored."""
    from server.flow.simulate import simulate_draft

    lines = simulate_draft(load_draft(config_dir), _date(on))
    for line in lines:
        click.echo(str(line))
    click.echo(f"共 {len(lines)} 处会改变")


@workflows_cli.command("migrate")
@click.argument("workflow_id")
@click.option("--map", "mappings", multiple=True, metavar="旧状态=新状态", help="把旧版本的状态映射到新版本（可多次）")
@click.option("--dry-run", is_flag=True, help="只列出，不改动")
def workflows_migrate(workflow_id: str, mappings: tuple[str, ...], dry_run: bool) -> None:
    """Move open records of older versions of WORKFLOW_ID (and records of its form not yet in any
    workflow) to the live version; list those whose state cannot be mapped."""
    from server.flow.migrate import migrate

    state_map: dict[str, str] = {}
    for item in mappings:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"应写作 旧状态=新状态，实际为 {item!r}", param_hint="--map")
        state_map[old] = new
    current_app.extensions["registry"].adopt_published()
    try:
        result = migrate(workflow_id, state_map, dry_run=dry_run)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for number, old, new in result.moved:
        click.echo(f"{number}  {old} → {new}")
    for number, state in result.unmapped:
        click.echo(f"无法映射：{number}（状态 {state}）", err=True)
    verb = "将迁移" if dry_run else "已迁移"
    click.echo(f"{verb} {len(result.moved)} 条，无法映射 {len(result.unmapped)} 条")
    if result.unmapped:
        sys.exit(2)

"""``flask documents render``: draft PDFs of many records at once, rendered in parallel.

Each draft goes through ``service.preview`` — the same path as the 预览 button: permission and scope
checks, the data mapping, the 草稿 watermark and no number taken. Nothing is written to the
database. Parallelism: the service renders on this process's render pool, whose size is
``document_workers``; for the command that setting is raised to ``--workers`` and as many threads
each call the service (every thread in its own app context, so its own database session), so N
documents are laid out at once in N worker processes.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from server.auth.models import User
from server.errors import NotAllowed, NotFound, ValidationFailed

documents_cli = AppGroup("documents", help="公文（文书）")

# A QUERY written like a list page's URL arguments (``q=噪音&f.source=visit``) rather than plain text.
LIST_ARGS = re.compile(r"^(q|sort|f\.[^=&]+|from\.[^=&]+|to\.[^=&]+)=")
COUNTY_VIEW = "county_staff"  # the role of the default (no --as) stand-in user


@dataclass(frozen=True)
class Target:
    label: str  # the record number, or the month: shown in failures
    filename: str
    record_id: int | None = None
    month: str | None = None


def county_view() -> User:
    """The default viewpoint: a county-level county_staff user with no unit (the whole county).

    Not stored (never added to a session): drafts write nothing, so no one needs to be on record.
    """
    return User(username="(flask documents render)", display_name="全县视角", role=COUNTY_VIEW,
                is_enabled=True, org_unit=None)


def _user(username: str | None) -> User:
    if username is None:
        return county_view()
    user = db_user(username)
    if user is None:
        raise click.ClickException(f"用户 {username} 不存在")
    if not user.is_enabled:
        raise click.ClickException(f"用户 {username} 已停用")
    return user


def db_user(username: str) -> User | None:
    from server.extensions import db

    return db.session.scalar(select(User).where(User.username == username))


def _safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", text).strip(". ") or "document"


def record_targets(form_id: str, text: str, user: User) -> list[Target]:
    """The records a list page would show for ``text`` (search words, or URL-style list arguments)."""
    from server.extensions import db
    from server.records.query import build_select, parse_list_args

    registry = current_app.extensions["registry"]
    form = registry.form(form_id)
    args = dict(parse_qsl(text, keep_blank_values=True)) if LIST_ARGS.match(text) else {"q": text}
    query = parse_list_args(form, args)
    if "sort" not in args:
        query.sort = "number"
    records = db.session.scalars(build_select(form, query, user))
    return [Target(label=r.number, filename=_safe_name(r.number) + ".pdf", record_id=r.id) for r in records]


def _render_one(app: Flask, doc_id: str, username: str | None, target: Target, out: Path) -> None:
    from server.documents import service

    with app.app_context():
        user = _user(username)
        data = service.preview(doc_id, user, record_id=target.record_id, month=target.month)
        (out / target.filename).write_bytes(data)


def _message(exc: Exception) -> str:
    from server.documents.pdf import RenderError

    if isinstance(exc, ValidationFailed):
        return "；".join(e.message for e in exc.errors)
    if isinstance(exc, RenderError):
        return str(exc)
    if isinstance(exc, NotFound):
        return "记录不存在或不在该用户的查看范围内"
    if isinstance(exc, NotAllowed):
        return "该用户无权生成此文书"
    return f"{type(exc).__name__}: {exc}"


@documents_cli.command("render")
@click.argument("doc_id")
@click.option("--records", "query", default="", metavar="QUERY",
              help="要生成的记录：与列表页搜索框相同的搜索文字，或列表页的查询参数（如 'q=噪音&f.source=visit'）；"
                   "留空为该文书所用表单的全部记录")
@click.option("--month", default=None, metavar="YYYY-MM", help="统计类文书的统计月份（代替 --records）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（不存在则创建）；文件名为记录编号 + .pdf（统计类为 文书标识-月份.pdf）")
@click.option("--as", "username", default=None, metavar="USERNAME",
              help="按此用户的权限和查看范围生成。不给时按县级综治办工作人员（county_staff、县级、全县范围）"
                   "生成；该视角不对应任何已登记用户，也不写入数据库")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="并行排版的进程数")
def render_drafts(doc_id: str, query: str, month: str | None, out_dir: Path, username: str | None,
                  workers: int) -> None:
    """为每条匹配的记录生成文书 DOC_ID 的草稿 PDF（带“草稿”水印、不编号），存入 --out 目录。

    草稿只用于核对：不取文号、不登记、不写数据库；正式文书请在记录页面或 API 签发。
    有生成失败的记录时，逐条列出记录编号和原因，退出码为 1。
    """
    from server.documents import service

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    registry = app.extensions["registry"]
    registry.adopt_published()
    try:
        spec = registry.document(doc_id)
    except NotFound:
        known = "、".join(sorted(registry.live.documents)) or "（无）"
        raise click.ClickException(f"没有文书 {doc_id}（现有：{known}）") from None
    user = _user(username)
    if not service.may(user, spec):
        who = f"用户 {username}" if username else "默认的县级视角（county_staff）"
        raise click.ClickException(f"{who}无权生成《{spec.title}》；请用 --as 指定有签发权限的用户")
    if spec.is_statistics:
        if query:
            raise click.UsageError("统计类文书按月份生成：请用 --month，不用 --records")
        if not month or not service.MONTH.fullmatch(month):
            raise click.UsageError("统计类文书须给出 --month YYYY-MM")
        targets = [Target(label=month, filename=f"{doc_id}-{month}.pdf", month=month)]
    else:
        if month:
            raise click.UsageError(f"《{spec.title}》由记录生成：请用 --records，不用 --month")
        try:
            targets = record_targets(spec.form, query, user)
        except NotAllowed:
            raise click.ClickException("该用户无权查看此表单的记录") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"《{spec.title}》：{len(targets)} 份草稿，{workers} 个排版进程 → {out_dir}")

    failures: list[tuple[str, str]] = []
    started = time.monotonic()
    settings = app.config["SERVER_SETTINGS"]
    app.config["SERVER_SETTINGS"] = replace(settings, document_workers=workers)  # the pool the service uses
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="documents-render") as executor, \
                click.progressbar(length=len(targets), label="生成草稿") as bar:
            futures: dict[Any, Target] = {
                executor.submit(_render_one, app, doc_id, username, t, out_dir): t for t in targets}
            for future in as_completed(futures):
                exc = future.exception()
                if exc is not None:
                    failures.append((futures[future].label, _message(exc)))
                bar.update(1)
    finally:
        app.config["SERVER_SETTINGS"] = settings
    seconds = time.monotonic() - started
    done = len(targets) - len(failures)
    click.echo(f"已生成 {done} 份，失败 {len(failures)} 份，用时 {seconds:.1f} 秒")
    for label, message in sorted(failures):
        click.echo(f"失败 {label}：{message}", err=True)
    if failures:
        raise SystemExit(1)

"""``flask documents render``: draft PDFs of matching records, in parallel, into a folder."""
from __future__ import annotations

import io

import pdfplumber
import sqlalchemy as sa

from server.documents.models import DocumentCounter, IssuedDocument
from server.extensions import db
from tests.documents_fixtures import doc_app, make_record  # noqa: F401


def _text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join(c["text"] for page in pdf.pages for c in page.chars if not c["text"].isspace())


def _nothing_stored() -> bool:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
            and db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0)


def test_renders_every_matching_record_in_parallel(doc_app, tmp_path):
    noisy = [make_record(summary=f"夜市噪音扰民{i}") for i in range(3)]
    make_record(summary="邻里纠纷")
    make_record("clerk_b", summary="河口镇噪音")  # another township's
    out = tmp_path / "drafts"
    result = doc_app.test_cli_runner().invoke(args=[
        "documents", "render", "incident_notice", "--records", "夜市噪音", "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{r.number}.pdf" for r in noisy)
    for record in noisy:
        text = _text((out / f"{record.number}.pdf").read_bytes())
        assert "草稿" in text and record.number in text and record.data["summary"] in text
    assert "已生成 3 份，失败 0 份" in result.output and "秒" in result.output
    assert _nothing_stored()
    # two render processes did the work, and the app's own setting is back as it was
    from server.documents import worker

    settings = doc_app.config["SERVER_SETTINGS"]
    pool = worker.pool(2, settings.fonts_dir, settings.document_memory_mb)
    assert sum(w.process is not None and w.process.is_alive() for w in pool._workers) == 2
    assert settings.document_workers == 1


def test_empty_query_is_every_record_and_as_limits_the_scope(doc_app, tmp_path):
    mine = [make_record() for _ in range(2)]
    theirs = make_record("clerk_b")
    runner = doc_app.test_cli_runner()
    everything = runner.invoke(args=["documents", "render", "incident_notice", "--out", str(tmp_path / "all")])
    assert everything.exit_code == 0, everything.output
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(
        f"{r.number}.pdf" for r in [*mine, theirs])  # the default view is county-wide
    scoped = runner.invoke(args=["documents", "render", "incident_notice", "--records", "", "--as", "clerk_b",
                                 "--out", str(tmp_path / "b"), "--workers", "1"])
    assert scoped.exit_code == 0, scoped.output
    assert [p.name for p in (tmp_path / "b").iterdir()] == [f"{theirs.number}.pdf"]
    # list-page arguments work too
    by_filter = runner.invoke(args=["documents", "render", "incident_notice", "--records", "f.source=phone",
                                    "--out", str(tmp_path / "none")])
    assert by_filter.exit_code == 0 and "已生成 0 份" in by_filter.output


def test_failures_are_listed_with_the_record_number_and_exit_1(doc_app, tmp_path):
    record = make_record()
    result = doc_app.test_cli_runner().invoke(args=[
        "documents", "render", "broken_notice", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "已生成 0 份，失败 1 份" in result.output
    assert f"失败 {record.number}：文书模板出错" in result.output
    assert list((tmp_path / "x").iterdir()) == [] and _nothing_stored()


def test_statistics_document_by_month(doc_app, tmp_path):
    make_record(reported_on="2026-05-03")
    runner = doc_app.test_cli_runner()
    result = runner.invoke(args=["documents", "render", "monthly_report", "--month", "2026-05",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2026年5月" in _text((tmp_path / "monthly_report-2026-05.pdf").read_bytes())
    no_month = runner.invoke(args=["documents", "render", "monthly_report", "--out", str(tmp_path)])
    assert no_month.exit_code == 2 and "--month" in no_month.output


def test_refusals(doc_app, tmp_path):
    runner = doc_app.test_cli_runner()
    unknown = runner.invoke(args=["documents", "render", "nope", "--out", str(tmp_path)])
    assert unknown.exit_code == 1 and "没有文书 nope" in unknown.output and "incident_notice" in unknown.output
    nobody = runner.invoke(args=["documents", "render", "incident_notice", "--as", "nobody", "--out", str(tmp_path)])
    assert nobody.exit_code == 1 and "用户 nobody 不存在" in nobody.output
    leader = runner.invoke(args=["documents", "render", "incident_notice", "--as", "leader", "--out", str(tmp_path)])
    assert leader.exit_code == 1 and "无权生成" in leader.output
    month = runner.invoke(args=["documents", "render", "incident_notice", "--month", "2026-05", "--out", str(tmp_path)])
    assert month.exit_code == 2


def test_help_says_what_the_default_view_is(doc_app):
    result = doc_app.test_cli_runner().invoke(args=["documents", "render", "--help"])
    assert result.exit_code == 0 and "county_staff" in result.output and "--workers" in result.output


def test_a_fresh_process_renders_the_published_documents(doc_app, tmp_path):
    """The command runs in a new process that has served no request: it adopts what is published."""
    from server.specs.registry import LiveConfig

    record = make_record()
    db.session.commit()
    doc_app.extensions["registry"].live = LiveConfig()  # as a process that has not adopted anything
    out = tmp_path / "drafts"
    result = doc_app.test_cli_runner().invoke(args=[
        "documents", "render", "incident_notice", "--records", "", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [f"{record.number}.pdf"]

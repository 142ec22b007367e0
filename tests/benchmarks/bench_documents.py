#!/usr/bin/env python3
"""Benchmark: official documents. Run on demand::

    .venv/bin/python tests/benchmarks/bench_documents.py [--repeat 30]

1. A 整治社会治安重点地区建议书 issued through the whole path (permission and scope checks,
   data mapping and validation, the 发文字号 counter, the sandboxed template and WeasyPrint in the
   render worker process, storing the PDF and the audit row, commit) beside a bare WeasyPrint render
   of the same HTML in this process: cold (new FontConfiguration and CSS per render, as a naive
   caller does) and warm (one FontConfiguration and CSS reused, as the worker does). Timed twice: the
   shipped 建议书 (two pages: with the GB/T 9704 版头, the seal space and the 版记, page 1 holds only
   about two lines of 正文 more, so even the shortest shipped 建议书 takes two), and a one-page
   建议书, the same document.json with a one-paragraph template, added to a copy of ``config/``.
2. A batch of 17 drafts, one per township, through the service with 1 and with 2 render processes.

Uses a fresh SQLite database in a temporary folder with the demo county (``config/``).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DOC = "recommendation_letter"
ONE_PAGE = "one_page_letter"
ONE_PAGE_TEMPLATE = """{% extends "gbt9704.html" %}
{% block addressee %}县社会治安综合治理中心联席会议{% endblock %}
{% block body %}<p>{{ data.unit }}研判认定{{ data.problems[0].place }}为疑似社会治安重点地区，建议审议。</p>{% endblock %}
"""


def stats(label: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    print(f"  {label:<44} n={len(ms):<4} p50 {p50:7.1f} ms   mean {statistics.fmean(ms):7.1f} ms   "
          f"p95 {ms[int(len(ms) * 0.95) - 1]:7.1f} ms")
    return p50


def setup(tmp: Path):  # type: ignore[no-untyped-def]
    from flask_migrate import upgrade

    from server import create_app
    from server.auth.service import create_user
    from server.extensions import db
    from server.org.models import OrgUnit
    from server.records.service import create_record
    from tests.test_ledgers_config import SAMPLES

    import shutil

    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    shutil.copytree(config / "documents" / DOC, config / "documents" / ONE_PAGE)
    (config / "documents" / ONE_PAGE / "template.html").write_text(ONE_PAGE_TEMPLATE, encoding="utf-8")
    app = create_app({"database_url": f"sqlite:///{tmp / 'bench.db'}", "instance_dir": tmp, "secret_key": "bench",
                      "config_dir": config, "config_poll_seconds": 3600.0})
    ctx = app.app_context()
    ctx.push()
    upgrade(directory=str(ROOT / "migrations"))
    app.extensions["registry"].publish_files("bench")
    townships = db.session.query(OrgUnit).filter(OrgUnit.kind.in_(("township", "subdistrict"))).order_by(OrgUnit.id).all()
    sample = copy.deepcopy(SAMPLES["assessment"])
    for problem in sample["salient_problems"]:
        problem.pop("security_problem", None)
    jobs = []
    for unit in townships:
        user = create_user(f"bench{unit.id}", "bench-pass-2026", role="township_staff", org_code=unit.code)
        record = create_record("assessment", sample, user)
        jobs.append((user.id, record.id))
    return app, jobs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, jobs = setup(Path(folder))
        run(app, jobs, args.repeat)


def run(app, jobs, repeat: int) -> None:  # type: ignore[no-untyped-def]
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from server.auth.models import User
    from server.documents import service
    from server.documents.fetcher import AssetOnlyFetcher
    from server.documents.pdf import STYLESHEET, Renderer
    from server.documents.sandbox import LAYOUT_DIR
    from server.extensions import db

    settings = app.config["SERVER_SETTINGS"]
    user_id, record_id = jobs[0]
    user = db.session.get(User, user_id)
    for number, doc_id in enumerate((ONE_PAGE, DOC), start=1):
        first = service.issue(doc_id, user, record_id=record_id)  # starts the worker, warms its fonts
        print(f"\n1.{number} {first.title} ({doc_id}): {first.pages} page(s), {first.size / 1024:.0f} KB, "
              f"number {first.number}")
        whole = []
        for _ in range(repeat):
            start = time.perf_counter()
            service.issue(doc_id, user, record_id=record_id)
            whole.append(time.perf_counter() - start)
        prepared = service.prepare(doc_id, user, record_id=record_id)
        prepared.context["doc"].update(number=first.number, draft=False)
        html = Renderer().html({service.TEMPLATE_NAME: prepared.spec.template}, service.TEMPLATE_NAME,
                               prepared.context)
        base = LAYOUT_DIR.as_uri() + "/"
        fetcher = AssetOnlyFetcher([LAYOUT_DIR])
        cold = []
        for _ in range(repeat):
            start = time.perf_counter()
            fonts = FontConfiguration()
            css = CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=fetcher)
            HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)
            cold.append(time.perf_counter() - start)
        fonts = FontConfiguration()
        css = CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=fetcher)
        HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)
            warm.append(time.perf_counter() - start)
        p_whole = stats("whole path (service.issue, worker process)", whole)
        p_cold = stats("bare WeasyPrint, cold (new fonts + CSS)", cold)
        p_warm = stats("bare WeasyPrint, warm (fonts + CSS reused)", warm)
        print(f"  ratio whole / bare cold = {p_whole / p_cold:.2f}   whole / bare warm = {p_whole / p_warm:.2f}")

    print(f"\n2. Batch of {len(jobs)} drafts, one per township")
    results = {}
    for workers in (1, 2):
        settings.document_workers = workers
        # start and warm every worker of this pool first: process start-up is not what is measured
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda job: preview(app, job), jobs[:workers * 2]))
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            sizes = list(pool.map(lambda job: preview(app, job), jobs))
        seconds = time.perf_counter() - start
        results[workers] = seconds
        print(f"  {workers} process(es): {seconds:6.2f} s   {len(jobs) / seconds:5.1f} documents/s   "
              f"({sum(sizes) / 1024:.0f} KB)")
    print(f"  speed-up 2 vs 1 processes: {results[1] / results[2]:.2f}x")


def preview(app, job) -> int:  # type: ignore[no-untyped-def]
    from server.auth.models import User
    from server.documents import service
    from server.extensions import db

    with app.app_context():
        pdf = service.preview(DOC, db.session.get(User, job[0]), record_id=job[1])
        db.session.remove()
        return len(pdf)


if __name__ == "__main__":
    main()

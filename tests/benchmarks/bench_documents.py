#!/usr/bin/env python3
"""Benchmark: official documents, in one process. Run on demand::

    .venv/bin/python tests/benchmarks/bench_documents.py [--repeat 30]

Set-up: a fresh SQLite database in a temporary folder with the demo county (a copy of ``config/``), and
per township (17) one township clerk and one 重点地区线索 (a key area at ``clue``, made through the
records service as the tests do, ``tests.keyareas.area_at``): the 整治社会治安重点地区建议书 is made from
a key area (its ``source.form``) in the ``clue`` or ``identified`` stage.

1. The 建议书 issued through the whole path (permission and scope checks, data mapping and validation,
   the 发文字号 counter, the sandboxed template and WeasyPrint in the render worker process, storing the
   PDF and the audit row, commit), ``--repeat`` times for one record (re-issues confirmed), beside the
   render process's own code run in this process (``Renderer.render``, warm) and a bare WeasyPrint
   render (one layout and the PDF) of the HTML the render process lays out last: cold (new
   FontConfiguration and CSS per render, as a naive caller does) and warm (both reused, as the render
   process does). Timed twice: a short 建议书 (the shipped document.json with a one-paragraph template,
   added to the copy of ``config/``) and the shipped 建议书. Both take two pages: the 版记 goes on an even
   page (GB/T 9704 7.4.1), so the short one's 版记, which the first layout puts on page 1, is moved to
   page 2 by a second layout (``server.documents.pdf.Renderer.render``); the shipped one's 正文 runs
   onto page 2 and is laid out once.

   The first issue is timed on its own: for the first variant it starts the render process, which
   imports WeasyPrint and renders a warm-up document (``server.documents.worker._warm``) before it takes
   the job. "Cold" is not a process start: the first layout in this process (WeasyPrint's first use,
   also timed on its own) comes before the cold series, so only new fonts and CSS are in it.
2. A batch of 17 drafts, one per township, through ``service.preview`` with 1 and with 2 render
   processes (as many threads), after starting and warming the processes.

Exit status 1 when a check fails: the short variant is not two pages with its 版记 moved, a bare render
has another page count than the issued PDF, the numbers of the repeated issues are not consecutive, or
a draft is not a PDF.
"""
from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DOC = "recommendation_letter"
SHORT = "short_letter"
SHORT_TEMPLATE = """{% extends "gbt9704.html" %}
{% block addressee %}{{ data.township }}党委{% endblock %}
{% block body %}<p>经研判，{{ data.township }}{{ data.name }}存在突出治安问题，建议列为社会治安重点地区，集中排查整治。</p>{% endblock %}
"""
PASSWORD = "bench-pass-2026"

Job = tuple[int, int]  # (user id, key-area record id)


def stats(label: str, seconds: list[float]) -> float:
    """Print p50, mean and p95 (nearest rank) of ``seconds`` in ms; return p50 in ms."""
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    p95 = ms[max(0, math.ceil(len(ms) * 0.95) - 1)]
    print(f"  {label:<58} n={len(ms):<4} p50 {p50:7.1f} ms   mean {statistics.fmean(ms):7.1f} ms   "
          f"p95 {p95:7.1f} ms")
    return p50


def setup(tmp: Path) -> tuple[Flask, list[Job]]:
    """The app on a fresh SQLite database with the demo county, and one clerk with one key-area clue per
    township. The clues are made through the records service (``area_at``) because a 建议书 needs a key
    area in its ``clue`` stage, which the form's opening state and the rules decide, not this script."""
    from flask_migrate import upgrade

    from server import create_app
    from server.auth.service import create_user
    from server.extensions import db
    from server.org.models import OrgUnit
    from tests.keyareas import area_at
    from tests.test_documents_shipped import sample

    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    shutil.copytree(config / "documents" / DOC, config / "documents" / SHORT)
    (config / "documents" / SHORT / "template.html").write_text(SHORT_TEMPLATE, encoding="utf-8")
    app = create_app({"database_url": f"sqlite:///{tmp / 'bench.db'}", "instance_dir": tmp, "secret_key": "bench",
                      "config_dir": config, "config_poll_seconds": 3600.0})
    app.app_context().push()  # stays pushed for the whole run; the batch threads push their own
    upgrade(directory=str(ROOT / "migrations"))
    app.extensions["registry"].publish_files("bench")
    townships = db.session.query(OrgUnit).filter(OrgUnit.kind.in_(("township", "subdistrict"))) \
        .order_by(OrgUnit.id).all()
    data = sample("key_area")
    jobs = []
    for unit in townships:
        village = db.session.query(OrgUnit).filter(OrgUnit.parent_id == unit.id,
                                                   OrgUnit.kind.in_(("village", "community"))) \
            .order_by(OrgUnit.id).first()
        area: dict[str, Any] = {
            "name": f"{village.name if village else ''}废弃砖厂周边", "area_type": data["area_type"],
            "township_code": unit.code,
            "identification": {"discovery_source": "screening", "basis": data["identification"]["basis"]},
            "problems": data["problems"]}
        if village is not None:
            area["village_code"] = village.code
        user = create_user(f"bench{unit.id}", PASSWORD, role="township_staff", org_code=unit.code)
        jobs.append((user.id, area_at(area, "clue", user).id))
    return app, jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed issues and bare renders per variant (default 30)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as folder:
        start = time.perf_counter()
        app, jobs = setup(Path(folder))
        print(f"set-up: demo county, {len(jobs)} township clerks and key-area clues in "
              f"{time.perf_counter() - start:.0f} s")
        problems = run(app, jobs, max(args.repeat, 1))
    for problem in problems:
        print("CHECK FAILED: " + problem)
    print("FAILED" if problems else "OK")
    return 1 if problems else 0


def run(app: Flask, jobs: list[Job], repeat: int) -> list[str]:
    """Both parts; returns the failed checks."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from server.auth.models import User
    from server.documents import service, worker
    from server.documents.fetcher import AssetOnlyFetcher
    from server.documents.fonts import font_face_css
    from server.documents.justify import justify_paragraphs
    from server.documents.pdf import BACK_PAGE, STYLESHEET, Renderer, back_page
    from server.documents.sandbox import LAYOUT_DIR
    from server.extensions import db

    problems: list[str] = []
    settings = app.config["SERVER_SETTINGS"]
    settings.document_workers = 1
    user_id, record_id = jobs[0]
    user = db.session.get(User, user_id)
    base = LAYOUT_DIR.as_uri() + "/"
    fetcher = AssetOnlyFetcher([LAYOUT_DIR, settings.fonts_dir])
    css_text = font_face_css(settings.fonts_dir) + "\n" + STYLESHEET.read_text(encoding="utf-8")

    def styles() -> tuple[Any, Any]:
        """A new FontConfiguration and the stylesheet parsed with it, as the render process makes them once."""
        fonts = FontConfiguration()
        return fonts, CSS(string=css_text, base_url=base, url_fetcher=fetcher, font_config=fonts)

    def bare(html: str, fonts: Any = None, css: Any = None) -> int:
        """WeasyPrint alone: one layout and the PDF; new fonts and CSS unless given. The page count."""
        if fonts is None:
            fonts, css = styles()
        document = HTML(string=html, base_url=base, url_fetcher=fetcher).render(stylesheets=[css], font_config=fonts)
        document.write_pdf()
        return len(document.pages)

    for number, doc_id in enumerate((SHORT, DOC), start=1):
        start = time.perf_counter()
        first = service.issue(doc_id, user, record_id=record_id, confirm_reissue=True)
        first_seconds = time.perf_counter() - start
        whole, seqs = [], [first.seq]
        for _ in range(repeat):
            start = time.perf_counter()
            seqs.append(service.issue(doc_id, user, record_id=record_id, confirm_reissue=True).seq)
            whole.append(time.perf_counter() - start)
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            problems.append(f"{doc_id}: numbers not consecutive: {seqs}")

        # The HTML the render process lays out last: the 版记 moved when the first layout put it on an odd page
        prepared = service.prepare(doc_id, user, record_id=record_id)
        prepared.context["doc"].update(number=first.number, draft=False)
        templates = {service.TEMPLATE_NAME: prepared.spec.template}
        max_pages = int(prepared.spec.document.get("max_pages", 20))
        renderer = Renderer(settings.fonts_dir)
        start = time.perf_counter()
        fonts, css = styles()
        html = renderer.html(templates, service.TEMPLATE_NAME, {**prepared.context, BACK_PAGE: ""})
        probe = HTML(string=justify_paragraphs(html), base_url=base, url_fetcher=fetcher).render(
            stylesheets=[css], font_config=fonts)
        first_bare = time.perf_counter() - start  # WeasyPrint's first use in this process (first variant)
        move = back_page(probe)
        if move:
            html = renderer.html(templates, service.TEMPLATE_NAME, {**prepared.context, BACK_PAGE: move})
        html = justify_paragraphs(html)
        layouts = 2 if move else 1
        print(f"\n1.{number} {first.title} ({doc_id}): {first.pages} page(s), {first.size / 1024:.0f} KB, "
              f"number {first.number}; laid out {layouts} time(s) per render"
              f"{' (版记 moved to an even page)' if move else ''}")
        if doc_id == SHORT and (first.pages != 2 or not move):
            problems.append(f"the short variant took {first.pages} pages, 版记 moved: {bool(move)} (expected 2, yes)")

        cold, pages = [], set()
        for _ in range(repeat):
            start = time.perf_counter()
            pages.add(bare(html))
            cold.append(time.perf_counter() - start)
        fonts, css = styles()
        bare(html, fonts, css)
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            pages.add(bare(html, fonts, css))
            warm.append(time.perf_counter() - start)
        if pages != {first.pages}:
            problems.append(f"{doc_id}: the bare render made {sorted(pages)} page(s), the issued PDF {first.pages}")
        renderer.render(templates, service.TEMPLATE_NAME, prepared.context, max_pages)
        here = []
        for _ in range(repeat):
            start = time.perf_counter()
            renderer.render(templates, service.TEMPLATE_NAME, prepared.context, max_pages)
            here.append(time.perf_counter() - start)

        if number == 1:
            stats("first issue (starts render process: imports, warm-up doc)", [first_seconds])
            stats("first fonts + CSS + layout in this process", [first_bare])
        else:
            stats("first issue of this document (render process running)", [first_seconds])
        p_whole = stats("whole path (service.issue, render process)", whole)
        stats(f"Renderer.render in this process, warm ({layouts} layout(s))", here)
        p_cold = stats("bare WeasyPrint, cold (new fonts + CSS, 1 layout)", cold)
        p_warm = stats("bare WeasyPrint, warm (fonts + CSS reused, 1 layout)", warm)
        print(f"  ratio whole / bare cold = {p_whole / p_cold:.2f}   whole / bare warm = {p_whole / p_warm:.2f}")

    print(f"\n2. Batch of {len(jobs)} drafts, one per township")
    results = {}
    for workers in (1, 2):
        settings.document_workers = workers  # another pool (the pool is chosen by its size)
        # start and warm every process of this pool, then one draft each: start-up is not measured
        worker.pool(workers, settings.fonts_dir, settings.document_memory_mb).start()  # as service._pool
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda job: preview(app, job), jobs[:workers * 2]))
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            sizes = list(pool.map(lambda job: preview(app, job), jobs))
        seconds = time.perf_counter() - start
        results[workers] = seconds
        if not all(sizes):
            problems.append(f"{sizes.count(0)} of {len(sizes)} drafts with {workers} process(es) are not PDFs")
        print(f"  {workers} process(es): {seconds:6.2f} s   {len(jobs) / seconds:5.1f} documents/s   "
              f"({sum(sizes) / 1024:.0f} KB)")
    print(f"  speed-up 2 vs 1 processes: {results[1] / results[2]:.2f}x")
    return problems


def preview(app: Flask, job: Job) -> int:
    """One draft in a thread of its own (own app context and session); its size, 0 if it is no PDF."""
    from server.auth.models import User
    from server.documents import service
    from server.extensions import db

    with app.app_context():
        try:
            pdf = service.preview(DOC, db.session.get(User, job[0]), record_id=job[1])
        finally:
            db.session.remove()
        return len(pdf) if pdf.startswith(b"%PDF") else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: official documents under concurrency, through gunicorn (issue 15, goal 3). Run on demand::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_docs \\
        .venv/bin/python tests/benchmarks/bench_documents_load.py [--requests 20] [--rounds 2] [--batch 17]

The goal: "20 issue requests at once with 2 gunicorn workers on 2 cores finish with p99 under 3 s and
no time-outs; a 2-process batch is at least 1.7× one process."

Set-up, as the README sets a server up: ``BENCH_DATABASE_URL`` (a PostgreSQL database of its own; it is
dropped and created again), ``flask db upgrade``, ``flask demo load``; then, through the service as the
tests do (``tests/keyareas.py``), one 河口镇 township clerk (not a demo user, so no forced password
change) and one 重点地区线索 (key area at ``clue``) per request, in 河口镇. The 整治社会治安重点地区建议书
of every one of them is issued by that clerk in 河口镇's name, so all share one 发文字号 counter
(``河口综治建〔year〕#号``): the worst case for the numbering, on purpose.

1. **Burst.** ``gunicorn -w 2`` (sync workers; the repository's ``gunicorn.conf.py`` is read, ``-w`` wins).
   ``--requests`` clients each log in through the login form (their own session and CSRF token), wait
   for the others, then all POST 签发 (``/records/<id>/documents/recommendation_letter``) at the same
   moment, each for its own record. A success is a 302 to ``/documents/<id>``; anything else (a 422
   page with its message, 5xx, a reset connection, no answer within ``--timeout``) is a failure.
   ``--rounds`` bursts, each on fresh records: the first right after the server started (render
   processes possibly still cold), the next ones on a server that has issued before.
   Afterwards the database must hold one issued document per success, with distinct numbers, and the
   counter's sequence must be gap-free (1..n, every number once).
2. **Batch.** ``--batch`` draft previews (``preview.pdf``, nothing numbered) from 4 clients against
   ``gunicorn -w 1`` (one render process) and ``gunicorn -w 2`` (two), both up, after every worker has
   rendered once, measured alternately ``--batch-rounds`` times; prints documents/s and the ratio of
   the medians.

Exit status 1 when a burst's p99 is 3 s or more, any request failed or timed out, the stored documents or
numbers do not check out, or the batch ratio is below 1.7 (``--min-ratio``).
"""
from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_api import (  # noqa: E402  (a sibling script, not a package)
    PROJECT_ROOT, BenchError, Browser, Gunicorn, flask_cli, page_message, recreate_pg_database, server_env,
    workers_cpu_seconds,
)

sys.path.insert(0, str(PROJECT_ROOT))

DOC = "recommendation_letter"
HEKOU = "139901101000"  # 河口镇: the clerk's unit, the areas' township and the issuer
CLERK = "bench_clerk"
PASSWORD = "Hekou-zonghe-2026-jianyi"
P99_LIMIT = 3.0  # seconds, the goal
BATCH_CLIENTS = 4


# ------------------------------------------------------------------------------------------- set-up


def setup(url: str, instance: Path, count: int) -> tuple[dict[str, str], list[int]]:
    """A fresh database with the demo county, the clerk and ``count`` key-area clues in 河口镇.

    The schema and demo county come from the CLI as the README does it; the clerk and the clues are made
    in this process through the service (``create_user``, ``tests.keyareas.area_at``), which a CLI for
    records at a later workflow state does not offer.
    """
    recreate_pg_database(url)
    env = server_env(url, instance)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "load")
    from server import create_app
    from server.auth.service import create_user
    from server.extensions import db
    from server.settings import normalise_database_url
    from tests.keyareas import area_at
    from tests.test_documents_shipped import sample

    app = create_app({"database_url": normalise_database_url(url), "instance_dir": instance,
                      "secret_key": env["SECRET_KEY"], "config_dir": PROJECT_ROOT / "config",
                      "config_poll_seconds": 3600.0})
    with app.app_context():
        app.extensions["registry"].adopt_published()  # what `demo load` published, as a CLI command serves it
        clerk = create_user(CLERK, PASSWORD, role="township_staff", org_code=HEKOU)
        data = sample("key_area")
        ids = []
        for i in range(count):
            area = {"name": f"{data['name']}第{i + 1}片区", "area_type": data["area_type"],
                    "township_code": data["township_code"], "village_code": data["village_code"],
                    "identification": {"discovery_source": "screening", "basis": data["identification"]["basis"]},
                    "problems": data["problems"]}
            ids.append(area_at(area, "clue", clerk).id)
        db.session.remove()
        db.engine.dispose()
    return env, ids


# --------------------------------------------------------------------------------------- HTTP client


# --------------------------------------------------------------------------------------------- burst


@dataclass
class Outcome:
    record_id: int
    seconds: float = 0.0
    document_id: int | None = None
    error: str = ""


@dataclass
class Burst:
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    cpu: float | None = None

    @property
    def ok(self) -> list[float]:
        return sorted(o.seconds for o in self.outcomes if not o.error)

    def percentile(self, p: float) -> float:
        """Nearest rank over every request, failures counted as their time (a time-out as the limit)."""
        ordered = sorted(o.seconds for o in self.outcomes)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]


def burst(server: Gunicorn, record_ids: list[int], timeout: float) -> Burst:
    """Every client logs in, then all POST 签发 at once (a barrier), one record each."""
    barrier = threading.Barrier(len(record_ids) + 1)
    result = Burst([Outcome(rid) for rid in record_ids])

    def client(outcome: Outcome) -> None:
        browser = Browser(server.port, timeout)
        try:
            browser.login(CLERK, PASSWORD)
            token = browser.csrf(f"/records/{outcome.record_id}")  # the record page, where the 签发 form is
        except (BenchError, OSError, http.client.HTTPException) as exc:
            outcome.error = f"login: {exc}"
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            outcome.error = outcome.error or "start barrier broken"
            return
        start = time.perf_counter()
        try:
            status, headers, page = browser.request("POST", f"/records/{outcome.record_id}/documents/{DOC}",
                                                    {"csrf_token": token})
        except TimeoutError:
            outcome.error = f"time-out: no answer within {timeout:g} s"
        except (OSError, http.client.HTTPException) as exc:
            outcome.error = f"connection: {exc!r}"
        else:
            match = re.fullmatch(r"(?:https?://[^/]+)?/documents/(\d+)", headers.get("location", ""))
            if status == 302 and match:
                outcome.document_id = int(match.group(1))
            else:
                outcome.error = f"HTTP {status}: {page_message(page)}"
        outcome.seconds = time.perf_counter() - start

    threads = [threading.Thread(target=client, args=(o,), daemon=True) for o in result.outcomes]
    for thread in threads:
        thread.start()
    try:
        barrier.wait(timeout=180)
    except threading.BrokenBarrierError:
        pass
    cpu_start = workers_cpu_seconds(server.proc.pid)
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout + 30)
    result.wall = time.perf_counter() - start
    cpu_end = workers_cpu_seconds(server.proc.pid)
    if cpu_start is not None and cpu_end is not None:
        result.cpu = cpu_end - cpu_start  # the gunicorn workers only; the render processes are their children
    return result


def check_stored(url: str, bursts: list[Burst]) -> list[str]:
    """Every success is a stored, issued 建议书 with its own number; the counter's numbers have no gap."""
    import psycopg

    problems = []
    ids = [o.document_id for b in bursts for o in b.outcomes if o.document_id is not None]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT id, number, counter_key, seq, record_id, size FROM issued_documents "
                            "WHERE id = ANY(%s)", (ids,)).fetchall()
        if len(rows) != len(ids) or len(set(ids)) != len(ids):
            problems.append(f"{len(ids)} successes answered, {len(rows)} issued documents found for them")
        if len({r[1] for r in rows}) != len(rows):
            problems.append("duplicate 发文字号 among the issued documents")
        if any(r[5] <= 0 for r in rows):
            problems.append("an issued document has no PDF bytes")
        expected = {o.document_id: o.record_id for b in bursts for o in b.outcomes if o.document_id is not None}
        if any(expected.get(r[0]) != r[4] for r in rows):
            problems.append("an issued document belongs to another record than the one posted for")
        for key in sorted({r[2] for r in rows}):
            seqs = sorted(s for (s,) in conn.execute("SELECT seq FROM issued_documents WHERE counter_key = %s",
                                                      (key,)))
            last = conn.execute("SELECT last_seq FROM document_counters WHERE key = %s", (key,)).fetchone()
            if seqs != list(range(1, len(seqs) + 1)) or (last and last[0] != len(seqs)):
                problems.append(f"numbers of {key} are not gap-free: seqs {seqs}, counter at {last and last[0]}")
    return problems


# --------------------------------------------------------------------------------------------- batch


def batch(env: dict[str, str], record_ids: list[int], timeout: float, rounds: int,
          workdir: Path) -> tuple[dict[int, list[float]], list[str]]:
    """Seconds per run of ``len(record_ids)`` draft previews from BATCH_CLIENTS clients against
    ``gunicorn -w 1`` and ``gunicorn -w 2``, both up at once and measured alternately (1, 2, 2, 1, …)
    so that other load on the machine falls on both; after each worker rendered (render processes warm)."""
    servers = {w: Gunicorn("server:create_app()", PROJECT_ROOT, env, w, workdir / f"batch-{w}.log") for w in (1, 2)}
    errors: list[str] = []
    times: dict[int, list[float]] = {1: [], 2: []}
    try:
        browsers = {}
        for workers, server in servers.items():
            server.wait_listening()
            browsers[workers] = Browser(server.port, timeout)
            browsers[workers].login(CLERK, PASSWORD)

        def run(workers: int, ids: list[int]) -> float:
            def preview(record_id: int) -> None:
                status, _, page = browsers[workers].request("GET", f"/records/{record_id}/documents/{DOC}/preview.pdf")
                if status != 200 or not page.startswith(b"%PDF"):
                    errors.append(f"-w {workers}, preview {record_id}: HTTP {status}: {page_message(page)}")

            start = time.perf_counter()
            with ThreadPoolExecutor(BATCH_CLIENTS) as pool:
                list(pool.map(preview, ids))
            return time.perf_counter() - start

        for workers in servers:  # sync workers take one request each: 4 per worker reach every worker
            run(workers, (record_ids * 4)[:4 * workers])
        errors.clear()  # a cold start may miss the limit; only the measured runs count
        for index in range(rounds):
            for workers in ((1, 2) if index % 2 == 0 else (2, 1)):
                times[workers].append(run(workers, record_ids))
        return times, errors
    except (BenchError, OSError, http.client.HTTPException) as exc:
        return times, errors + [f"{exc}\n" + "\n".join(s.log_tail(10) for s in servers.values())]
    finally:
        for server in servers.values():
            server.stop()


# ---------------------------------------------------------------------------------------------- main


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="issue requests fired at once per burst (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="bursts, each on fresh records (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers for the bursts (default 2)")
    parser.add_argument("--batch", type=int, default=17, help="draft previews per batch run; 0 skips it (default 17)")
    parser.add_argument("--batch-rounds", type=int, default=5,
                        help="batch runs per server, alternating -w 1 and -w 2; medians compared (default 5: the machine is noisy)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a client waits for an answer (default 60)")
    parser.add_argument("--min-ratio", type=float, default=1.7, help="batch speed-up -w 2 vs -w 1 required (default 1.7)")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        print("BENCH_DATABASE_URL must name a PostgreSQL database of its own (it is dropped and recreated)")
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-docs-load-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        env, ids = setup(url, workdir / "instance", max(args.requests * args.rounds, min(args.batch, args.requests), 1))
        print(f"set-up: demo county, clerk {CLERK} (河口镇), {len(ids)} key-area clues in {time.perf_counter() - t0:.0f} s; "
              f"{os.cpu_count()} CPU(s)")
        server = Gunicorn("server:create_app()", PROJECT_ROOT, env, args.workers, workdir / "burst.log")
        bursts: list[Burst] = []
        try:
            server.wait_listening()
            for index in range(args.rounds):
                chunk = ids[index * args.requests:(index + 1) * args.requests]
                bursts.append(burst(server, chunk, args.timeout))
                b = bursts[-1]
                cpu = f"   workers' CPU {b.cpu:.1f} s" if b.cpu is not None else ""
                print(f"burst {index + 1}: {len(chunk)} 签发 at once, gunicorn -w {args.workers}: "
                      f"p50 {ms(b.percentile(50))}  p99 {ms(b.percentile(99))}  max {ms(b.percentile(100))}  "
                      f"wall {b.wall:5.1f} s  failures {len(b.failures)}{cpu}")
                for o in b.failures[:5]:
                    print(f"    record {o.record_id}: {o.error}")
                if b.failures or b.percentile(99) >= P99_LIMIT:
                    failed = True
        finally:
            server.stop()
        if any(b.failures for b in bursts):
            print("gunicorn log (tail):\n  " + server.log_tail(15).replace("\n", "\n  "))
        problems = check_stored(url, bursts)
        stored = sum(len(b.outcomes) - len(b.failures) for b in bursts)
        print(f"stored: {stored} issued documents, distinct numbers, gap-free sequence: "
              f"{'yes' if not problems else 'NO'}")
        for problem in problems:
            print("    " + problem)
        failed = failed or bool(problems)

        if args.batch > 0:
            records = (ids * math.ceil(args.batch / len(ids)))[:args.batch]
            times, errors = batch(env, records, args.timeout, args.batch_rounds, workdir)
            for workers in (1, 2):
                if times[workers]:
                    median = statistics.median(times[workers])
                    runs = ", ".join(f"{t:.2f}" for t in times[workers])
                    print(f"batch of {len(records)} drafts, gunicorn -w {workers} ({workers} render process"
                          f"{'es' if workers > 1 else ''}): median {median:6.2f} s  {len(records) / median:5.1f} "
                          f"documents/s  (runs: {runs} s)")
            for error in errors[:5]:
                print("    " + error)
            ratio = (statistics.median(times[1]) / statistics.median(times[2])
                     if times[1] and times[2] else float("nan"))
            print(f"batch speed-up 2 vs 1 processes: {ratio:.2f}× (goal ≥ {args.min_ratio:g}×)")
            failed = failed or bool(errors) or not ratio >= args.min_ratio
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

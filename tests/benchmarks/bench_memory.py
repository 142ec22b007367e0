#!/usr/bin/env python3
"""Benchmark: does a worker's memory stay flat over 10,000 creates and 500 documents? (issue 15, goal 5)

Run on demand (not part of the pytest suite)::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_memory \\
        .venv/bin/python tests/benchmarks/bench_memory.py [--creates 10000] [--documents 500] [--tracemalloc]

The server (``server:create_app()``) runs under ``gunicorn -w 1 --max-requests 0`` (through
``GUNICORN_CMD_ARGS``, which overrides a ``gunicorn.conf.py``: a worker restart would hide growth) on
the database named by ``BENCH_DATABASE_URL``, dropped and created again first. A county staff user gets
an API token and logs in through the login form (with its CSRF token), as a person would.

1. Setup: one 重点地区 (``key_area``, state 线索) per document, through the API, so that every document
   is a first 建议书 for its record (a second one needs the 重复签发 confirmation).
2. Warm-up: ``--warmup-creates`` creates and ``--warmup-documents`` documents. Then the worker's RSS
   (``VmRSS`` in /proc/<pid>/status) and its render children's (documents are laid out in spawned
   child processes of the worker, server/documents/worker.py) are read: *before*.
3. Half the creates (``POST /api/v1/forms/monthly_inspection/records``, ``--clients`` connections) and
   half the documents (the record page for its CSRF token, then ``POST /records/<id>/documents/
   recommendation_letter``: a real 签发, with number, PDF and audit row stored): *mid*. The other halves:
   *after*. Each reading follows a second of idleness.

PASS when the worker's RSS grew by at most ``--max-growth`` % (default 10) from before to after, and the
render processes' together by at most as much from mid to after (they grow in one step somewhere in their
first hundred or so documents, then stay flat: only growth after the midpoint would be a leak). Afterwards
the stored records and documents must match the successful answers and the worker must be the same process. Exit status 1 when a check fails.

``--tracemalloc`` then runs the same calls in this process through the Flask test client on the same
database and prints where Python memory grew (tracemalloc snapshot difference, by line).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_api import (  # noqa: E402  (sibling scripts, not a package)
    BENCH_PASSWORD, PROJECT_ROOT, BenchError, Browser, Gunicorn, bench_database_url, http_call, page_message,
    processes,
)
from bench_write import PATH as CREATE_PATH, RECORD, USER, records_in_database, setup  # noqa: E402

DOC_ID = "recommendation_letter"
#: A 重点地区 at 线索 with what the 建议书 needs (name, township, problem categories and description).
KEY_AREA = {"name": "东岗村废弃砖厂周边", "area_type": "complex_village", "township_code": "139901101000",
            "identification": {"discovery_source": "screening"},
            "problems": {"categories": ["porn_gambling_drugs"], "description": "夜间聚众赌博，盗窃警情集中"}}
CSRF = re.compile(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"')
ISSUED = re.compile(r"/documents/(\d+)$")


# ------------------------------------------------------------------------------------------ memory


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB (resident memory, shared pages included)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


def children(pid: int) -> dict[int, str]:
    """pid → role ("render" or what the command line says) of a process's live children."""
    out: dict[int, str] = {}
    for child, (_, parent, _) in processes().items():
        if parent != pid:
            continue
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "resource_tracker" in cmdline:
            out[child] = "resource tracker"
        elif "spawn_main" in cmdline:
            out[child] = "render"
        else:
            out[child] = cmdline[:60]
    return out


@dataclass
class Sample:
    label: str
    creates: int
    documents: int
    worker_kb: int
    render_kb: int  # the document-render children together
    others: dict[str, int] = field(default_factory=dict)  # other children by role, kB


def sample(label: str, worker_pid: int, creates: int, documents: int) -> Sample:
    time.sleep(1.0)  # idle first: a reading in the middle of a request would count its transient memory
    kids = children(worker_pid)
    render = sum(rss_kb(pid) for pid, role in kids.items() if role == "render")
    others: dict[str, int] = {}
    for pid, role in kids.items():
        if role != "render":
            others[role] = others.get(role, 0) + rss_kb(pid)
    return Sample(label, creates, documents, rss_kb(worker_pid), render, others)


# ------------------------------------------------------------------------------------------ clients


class Api:
    """Bearer-token calls to the server, one connection per call (gunicorn's sync workers close it)."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Content-Type": "application/json", "Accept": "application/json",
                        "Authorization": f"Bearer {token}"}

    def create(self, form_id: str, data: dict[str, Any]) -> dict[str, Any]:
        status, body = http_call(self.port, "POST", f"/api/v1/forms/{form_id}/records", self.headers,
                                 json.dumps(data, ensure_ascii=False).encode())
        if status != 201:
            raise BenchError(f"creating a {form_id} record answered {status}: {body[:300]!r}")
        return json.loads(body)


def run_creates(api: Api, count: int, clients: int) -> int:
    """``count`` 月度检查报告 creates from ``clients`` threads; returns the failures (non-201 / errors)."""
    failures = 0
    lock = threading.Lock()
    left = [count]

    def client() -> None:
        nonlocal failures
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            try:
                api.create("monthly_inspection", RECORD)
            except (BenchError, OSError):
                with lock:
                    failures += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def issue(browser: Browser, record_id: int) -> int:
    """Open the record's page (the 签发 button is there) and press 签发; returns the document id."""
    token = browser.csrf(f"/records/{record_id}")
    status, headers, page = browser.request("POST", f"/records/{record_id}/documents/{DOC_ID}", {"csrf_token": token})
    location = ISSUED.search(headers.get("location", ""))
    if status != 302 or location is None:
        raise BenchError(f"签发 for record {record_id} answered {status}: {page_message(page)}")
    return int(location.group(1))


def run_documents(browser: Browser, record_ids: list[int]) -> int:
    failures = 0
    for record_id in record_ids:
        try:
            issue(browser, record_id)
        except (BenchError, OSError) as exc:
            failures += 1
            if failures <= 3:
                print(f"  document failed: {exc}")
    return failures


def documents_in_database(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SELECT count(*) FROM issued_documents WHERE doc_id = %s", (DOC_ID,)).fetchone()[0]


# ------------------------------------------------------------------------------------------ report


def growth(before: int, after: int) -> tuple[float, float]:
    """(MB, %) from ``before`` to ``after`` kB."""
    return (after - before) / 1024, ((after - before) / before * 100 if before else 0.0)


def print_samples(samples: list[Sample]) -> None:
    print(f"\n{'':8} {'creates':>8} {'documents':>10} {'worker RSS MB':>14} {'render RSS MB':>14}  other children")
    for s in samples:
        others = ", ".join(f"{k} {v / 1024:.1f} MB" for k, v in s.others.items()) or "—"
        print(f"{s.label:8} {s.creates:>8} {s.documents:>10} {s.worker_kb / 1024:>14.1f} {s.render_kb / 1024:>14.1f}  "
              f"{others}")


def verdict(samples: list[Sample], max_growth: float) -> bool:
    """The worker (goal 5) must stay within ``max_growth`` % from before to after. The render processes are
    judged on the second half only: they grow in one step somewhere in their first hundred or so documents
    (WeasyPrint's and the allocator's caches; the step comes sooner or later from run to run), and then stay
    flat, so only growth that continues after the midpoint is a leak."""
    before, mid, after = samples
    ok = True
    for name, attr, base in (("worker", "worker_kb", before), ("render processes", "render_kb", mid)):
        b, m, a = getattr(before, attr), getattr(mid, attr), getattr(after, attr)
        mb, pct = growth(b, a)
        mb1, _ = growth(b, m)
        mb2, pct2 = growth(m, a)
        judged = pct if base is before else pct2
        passed = judged <= max_growth
        ok &= passed
        print(f"{name:17} before → after {mb:+7.1f} MB ({pct:+5.1f} %): first half {mb1:+6.1f} MB, "
              f"second half {mb2:+6.1f} MB ({pct2:+5.1f} %)   {'before → after' if base is before else 'second half'}"
              f" ≤ {max_growth:g} %: {'PASS' if passed else 'FAIL'}")
    return ok


# ------------------------------------------------------------------------------------------ tracemalloc


def trace_in_process(env: dict[str, str], token: str, documents: int, creates: int, top: int) -> None:
    """The same calls through the Flask test client in this process, with tracemalloc snapshots before and
    after: where Python-level memory grew (render children are separate processes and not traced)."""
    os.environ.update({k: v for k, v in env.items() if k in {"DATABASE_URL", "INSTANCE_DIR", "CONFIG_DIR",
                                                              "SECRET_KEY", "SERVER_ENV"}})
    sys.path.insert(0, str(PROJECT_ROOT))
    from server import create_app

    app = create_app()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    answer = web.post("/login", data={"csrf_token": CSRF.search(page).group(1), "username": USER,
                                      "password": BENCH_PASSWORD})
    if answer.status_code != 302:
        raise BenchError(f"in-process login answered {answer.status_code}")

    def create() -> None:
        response = api.post(CREATE_PATH, json=RECORD, headers=headers)
        if response.status_code != 201:
            raise BenchError(f"in-process create answered {response.status_code}: {response.get_data()[:300]!r}")

    def issue(record_id: int) -> None:
        page = web.get(f"/records/{record_id}").get_data(as_text=True)
        response = web.post(f"/records/{record_id}/documents/{DOC_ID}", data={"csrf_token": CSRF.search(page).group(1)})
        if response.status_code != 302:
            raise BenchError(f"in-process 签发 answered {response.status_code}: {response.get_data()[:300]!r}")

    warm_n = max(documents // 5, 1)  # a fifth of each, before the first snapshot: caches fill, the pool starts
    record_ids: list[int] = []
    for i in range(warm_n + documents):
        response = api.post("/api/v1/forms/key_area/records", headers=headers,
                            json=dict(KEY_AREA, name=f"追踪{i + 1}"))
        if response.status_code != 201:
            raise BenchError(f"in-process 重点地区 answered {response.status_code}: {response.get_data()[:300]!r}")
        record_ids.append(response.get_json()["id"])
    warm, measured = record_ids[:warm_n], record_ids[warm_n:]
    for _ in range(max(creates // 5, 1)):
        create()
    for record_id in warm:
        issue(record_id)
    gc.collect()
    tracemalloc.start(8)
    first = tracemalloc.take_snapshot()
    every = max(creates // max(documents, 1), 1)  # documents spread among the creates
    pending = list(measured)
    for index in range(creates):
        create()
        if pending and index % every == 0:
            issue(pending.pop())
    for record_id in pending:
        issue(record_id)
    gc.collect()
    second = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>")]
    first, second = first.filter_traces(ignore), second.filter_traces(ignore)
    diff = second.compare_to(first, "lineno")
    total = sum(d.size_diff for d in diff)
    print(f"\ntracemalloc over {creates} creates and {len(measured)} documents in this process: "
          f"{total / 1024:+.1f} KiB of Python allocations still alive; the {top} largest by line:")
    for stat in diff[:top]:
        frame = stat.traceback[0]
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {frame.filename}:{frame.lineno}")
    grown = [d for d in second.compare_to(first, "traceback") if d.size_diff > 0][:3]
    for stat in grown:
        print(f"\n  {stat.size_diff / 1024:+.1f} KiB allocated at:")
        for line in stat.traceback.format()[-12:]:
            print("    " + line)


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--warmup-creates", type=int, default=500)
    parser.add_argument("--warmup-documents", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="concurrent connections for the creates")
    parser.add_argument("--max-growth", type=float, default=10.0, help="allowed RSS growth in %% (default 10)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="afterwards, run the same calls in this process and show where Python memory grew")
    parser.add_argument("--trace-creates", type=int, default=2000)
    parser.add_argument("--trace-documents", type=int, default=50)
    args = parser.parse_args(argv)
    url = bench_database_url()
    if url is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        try:  # the worker is not recycled: bench_api.base_env turns gunicorn.conf.py's max_requests off
            env, token = setup(url, workdir)
        except BenchError as exc:
            print(f"setup failed: {exc}")
            return 1
        server = Gunicorn("server:create_app()", PROJECT_ROOT, env, 1, workdir / "server.log")
        try:
            server.wait_listening()
            workers = children(server.proc.pid)
            if len(workers) != 1:
                raise BenchError(f"expected one gunicorn worker, found {workers}")
            (worker_pid,) = workers
            api = Api(server.port, token)
            total_docs = args.warmup_documents + args.documents
            print(f"gunicorn -w 1 --max-requests 0 on port {server.port}, worker {worker_pid}; "
                  f"setting up {total_docs} 重点地区 records…", flush=True)
            areas = [api.create("key_area", dict(KEY_AREA, name=f"{KEY_AREA['name']}{i + 1}"))["id"]
                     for i in range(total_docs)]
            browser = Browser(server.port, 120)
            browser.login(USER, BENCH_PASSWORD)
            failures = run_creates(api, args.warmup_creates, args.clients)
            failures += run_documents(browser, areas[:args.warmup_documents])
            samples = [sample("before", worker_pid, 0, 0)]
            todo = areas[args.warmup_documents:]
            halves = [(args.creates // 2, todo[:len(todo) // 2]),
                      (args.creates - args.creates // 2, todo[len(todo) // 2:])]
            done_creates = done_docs = 0
            for label, (creates, docs) in zip(("mid", "after"), halves):
                start = time.monotonic()
                failures += run_creates(api, creates, args.clients)
                created_s = time.monotonic() - start
                start = time.monotonic()
                failures += run_documents(browser, docs)
                docs_s = time.monotonic() - start
                done_creates += creates
                done_docs += len(docs)
                print(f"  {creates} creates in {created_s:.1f} s ({creates / max(created_s, 1e-9):.0f}/s), "
                      f"{len(docs)} documents in {docs_s:.1f} s", flush=True)
                samples.append(sample(label, worker_pid, done_creates, done_docs))
            restarted = children(server.proc.pid).keys() != {worker_pid}
        except BenchError as exc:
            print(f"failed: {exc}\n{server.log_tail()}")
            return 1
        finally:
            server.stop()
        print_samples(samples)
        ok = verdict(samples, args.max_growth)
        stored = records_in_database(url)
        issued = documents_in_database(url)
        expected = args.warmup_creates + args.creates
        print(f"月度检查报告 stored {stored} (expected {expected}), 建议书 issued {issued} (expected {total_docs}), "
              f"failed requests {failures}, worker restarted: {'yes' if restarted else 'no'}")
        ok &= stored == expected and issued == total_docs and not failures and not restarted
        if args.tracemalloc:
            trace_in_process(env, token, args.trace_documents, args.trace_creates, top=15)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

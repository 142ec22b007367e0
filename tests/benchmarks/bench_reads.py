#!/usr/bin/env python3
"""Benchmark: reading a ledger of 100,000 records, the list page and the API list (issue 15, goal 2).

Run on demand (not part of the pytest suite)::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_reads \\
        .venv/bin/python tests/benchmarks/bench_reads.py [--records 100000] [--requests 300] [--warmup 20]

The goal: "a ledger list page and ``GET /api/v1/forms/<form>/records`` at 100,000 records of that
ledger answer in under 100 ms (p99, one client), with the number of queries per request independent of
the page size". So the script:

1. sets the server up on ``BENCH_DATABASE_URL`` (dropped and created again first) as the README does
   (``db upgrade``, ``demo load``, a county staff user ``bench`` with an API token);
2. creates one 县直部门月度检查报告 (``monthly_inspection``) through ``POST`` on the real server, and
   copies that row (every column the copy does not set is the template's) with ``COPY`` until the ledger
   holds ``--records`` records: numbers from the server's own pattern, numbered per year in the order of
   their ``created_at`` (spread over about two years), ``report_month`` the month of creation, one of ten
   places in the first finding (so a search for one of them matches a tenth), and the search text the
   server's own ``search_texts`` gives for that data. The number counters are raised past the copies,
   a sample of copies is checked against the server's search text and schema, then ``VACUUM ANALYZE``;
3. serves it under ``gunicorn -w 2`` and sends, from ONE client one request after another (a new
   connection each: sync workers close it anyway), a warm-up and then ``--requests`` requests for each
   variant: the API list and the ledger page (a browser session logged in through the login form), each
   with the default page, the largest page (``per_page=100``, ``MAX_PER_PAGE``), a deep page
   (``--deep-page``) and a search ``q=`` matching a tenth. Every answer must be 200 and list rows;
4. counts the SQL statements of one request per page size (10, 50, 100) for the API and the page, with
   and without ``q``, in this process (``create_app`` on the same database, the Flask test client, a
   ``before_cursor_execute`` listener; the fewest of three requests, since the registry's config poll adds
   one statement every 2 s): they must not depend on the page size. ``--explain`` adds
   ``EXPLAIN (ANALYZE, BUFFERS)`` of each variant's statements on ``records``; ``--trgm-index`` adds a
   pg_trgm GIN index on ``records.search_text`` after filling (not in the server's schema), to measure
   what such an index does to the search variants.

Prints p50/p99/max per variant and PASS/FAIL against 100 ms p99. Exits 1 when a required variant (the
default API list, the default ledger page) misses the goal, when the statement counts differ between page
sizes, or when an answer was not 200 or listed no rows.
"""
from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_api import (  # noqa: E402  (a sibling script, not a package)
    BENCH_PASSWORD, BenchError, Browser, Gunicorn, PROJECT_ROOT, bench_database_url, bootstrap_server, http_call,
    recreate_pg_database, server_env,
)
from bench_write import RECORD  # noqa: E402

FORM_ID = "monthly_inspection"
API_PATH = f"/api/v1/forms/{FORM_ID}/records"
PAGE_PATH = f"/forms/{FORM_ID}/"
USER = "bench"
GOAL_MS = 100.0
MAX_PER_PAGE = 100  # server.records.query.MAX_PER_PAGE: a larger per_page is clamped to it
#: The first finding's place, one per record in turn: a search for one of them matches a tenth of the
#: ledger. None of them occurs elsewhere in RECORD, so the count is exact.
PLACES = ("东关网吧", "西街台球厅", "南关歌舞厅", "北环洗浴中心", "车站旅馆", "城南加油站", "河滨烧烤城",
          "新区建筑工地", "城北废品收购站", "体育场夜市")
SEARCH_WORD = "台球厅"
SPAN_DAYS = 700  # created_at of the copies: spread over this many days before the template record
ROW_MARKER = re.compile(r'<td data-label="编号"><a href="/records/\d+">')
TOTAL_MARKER = re.compile(r"共 (\d+) 条")


# ------------------------------------------------------------------------------------------ set-up


def plain_url(url: str) -> str:
    """The URL as psycopg takes it (the server's SQLAlchemy URL may name the driver)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def use_env(env: dict[str, str]) -> None:
    """This process's environment becomes the server's, so ``create_app()`` here reads the same settings
    as the gunicorn workers (the subprocesses get their env explicitly, so nothing else depends on it)."""
    os.environ.clear()
    os.environ.update(env)


def post_template(port: int, token: str) -> dict[str, Any]:
    """One record through the real API path: its row is the template of every copy."""
    status, payload = http_call(port, "POST", API_PATH, {"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {token}"},
                                json.dumps(RECORD, ensure_ascii=False).encode())
    if status != 201:
        raise BenchError(f"POST {API_PATH} answered {status}: {payload[:500]!r}")
    return json.loads(payload)


def variant_data(month: str, place: int) -> dict[str, Any]:
    data = json.loads(json.dumps(RECORD))
    data["report_month"] = month
    data["findings"][0]["place"] = PLACES[place]
    return data


def months_between(first: datetime, last: datetime) -> list[str]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass
class Copy:
    """One copied record: what differs from the template."""

    number: str
    created_at: datetime
    data_json: str
    search_text: str


def fill(app: Any, url: str, template_id: int, total: int) -> tuple[int, float]:
    """Copy the template record until the ledger holds ``total`` records; returns (copies, seconds)."""
    import psycopg
    from psycopg import sql

    from server.records import confidential
    from server.records.numbering import format_number
    from server.timeutil import CST

    started = time.perf_counter()
    with app.app_context(), psycopg.connect(plain_url(url)) as conn:
        app.extensions["registry"].refresh()  # adopt the configuration the server published (a request does this)
        form = app.extensions["registry"].form(FORM_ID)
        cur = conn.cursor()
        cur.execute("SELECT * FROM records WHERE id = %s", (template_id,))
        columns = [d.name for d in cur.description]
        template = dict(zip(columns, cur.fetchone()))
        unit_code = cur.execute("SELECT code FROM org_units WHERE id = %s", (template["org_unit_id"],)).fetchone()[0]
        newest = template["created_at"].astimezone(CST)
        copies = total - 1
        step = timedelta(days=SPAN_DAYS) / max(1, copies)
        stamps = [newest - step * (copies - i) for i in range(copies)]  # oldest first
        # Search text of every (month, place): the server's own function; the number is its only prefix.
        tails: dict[tuple[str, int], tuple[str, str]] = {}
        for month in months_between(stamps[0] if stamps else newest, newest):
            for place in range(len(PLACES)):
                data = variant_data(month, place)
                open_text, protected = confidential.search_texts(form, "#", data)
                if not open_text.startswith("# ") or protected:
                    raise BenchError(f"unexpected search text shape for {FORM_ID}: {open_text[:80]!r} / {protected!r}")
                tails[(month, place)] = (json.dumps(data, ensure_ascii=False), open_text[2:])
        # Numbers per year in created_at order, after the counter's current value (the template's year).
        counters = dict(cur.execute("SELECT year, last_seq FROM number_counters WHERE form_id = %s AND org_unit_id = %s",
                                    (FORM_ID, template["org_unit_id"])).fetchall())
        seqs = dict(counters)
        rows: list[Copy] = []
        for i, stamp in enumerate(stamps):
            year = stamp.year
            seqs[year] = seqs.get(year, 0) + 1
            number = format_number(form, org_code=unit_code, year=year, seq=seqs[year])
            data_json, tail = tails[(stamp.strftime("%Y-%m"), i % len(PLACES))]
            rows.append(Copy(number, stamp, data_json, f"{number.lower()} {tail}"))
        if confidential.search_texts(form, template["number"], RECORD) != (template["search_text"],
                                                                          template["search_protected"]):
            raise BenchError("the search text computed here differs from the one the POST stored")
        fixed = [c for c in columns if c not in {"id", "number", "data", "search_text", "created_at", "updated_at"}]
        names = ["number", "data", "search_text", "created_at", "updated_at", *fixed]
        copy_sql = sql.SQL("COPY records ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, names)))
        rest = [template[c] for c in fixed]
        with cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row.number, row.data_json, row.search_text, row.created_at, row.created_at, *rest])
        for year, seq in seqs.items():
            cur.execute("INSERT INTO number_counters (form_id, org_unit_id, year, last_seq) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (form_id, org_unit_id, year) DO UPDATE SET last_seq = EXCLUDED.last_seq",
                        (FORM_ID, template["org_unit_id"], year, seq))
        conn.commit()
        check_copies(app, conn, form, unit_code)
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE records")
        conn.execute("VACUUM ANALYZE number_counters")
        conn.execute("CHECKPOINT")  # the copies' pages written out now, not by the checkpointer while measuring
    return len(rows), time.perf_counter() - started


def check_copies(app: Any, conn: Any, form: Any, unit_code: str) -> None:
    """A sample of copies against the server: search texts, schema, numbers, and the counter past them."""
    from server.auth.models import User
    from server.extensions import db
    from server.records import confidential
    from server.records.service import checked

    user = db.session.scalar(db.select(User).where(User.username == USER))
    rows = conn.execute("SELECT number, data, search_text, search_protected FROM records WHERE form_id = %s "
                        "ORDER BY random() LIMIT 30", (FORM_ID,)).fetchall()
    for number, data, search_open, search_protected in rows:
        # The data as the benchmark wrote it: JSONB gives keys back in its own order, and the server's search
        # text follows the order of the keys it was given (the order a POST sends them in).
        written = variant_data(data["report_month"], PLACES.index(data["findings"][0]["place"]))
        if written != data:
            raise BenchError(f"copy {number}: unexpected data {data!r}")
        if confidential.search_texts(form, number, written) != (search_open, search_protected):
            raise BenchError(f"copy {number}: its search text differs from the server's")
        checked(form, data, user)  # ValidationFailed stops the run
        if not re.fullmatch(r"YB-" + re.escape(unit_code) + r"-\d{4}-\d{4,}", number):
            raise BenchError(f"copy {number}: unexpected number shape")
    found = conn.execute("SELECT count(*), count(DISTINCT number) FROM records WHERE form_id = %s", (FORM_ID,)).fetchone()
    if found[0] != found[1]:
        raise BenchError(f"numbers are not distinct: {found}")
    stale = conn.execute(
        "SELECT c.year, c.last_seq, max(substring(r.number from '[0-9]+$')::int) FROM number_counters c "
        "JOIN records r ON r.form_id = c.form_id AND r.org_unit_id = c.org_unit_id "
        "AND r.number LIKE %s || c.year || '-%%' WHERE c.form_id = %s GROUP BY c.year, c.last_seq "
        "HAVING max(substring(r.number from '[0-9]+$')::int) <> c.last_seq",
        (f"YB-{unit_code}-", FORM_ID)).fetchall()
    if stale:
        raise BenchError(f"number counters behind the copies: {stale}")
    db.session.remove()


TRGM_INDEX = "bench_records_search_trgm"


def add_trgm_index(url: str) -> float:
    """``--trgm-index``: the index a search of ``search_text LIKE '%q%'`` could use (q of 3 characters or
    more), so that the search variants can be measured with and without it. Returns its build time."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute(f"CREATE INDEX {TRGM_INDEX} ON records USING gin (search_text gin_trgm_ops)")
        conn.execute("ANALYZE records")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------ the client


def login(port: int, username: str, password: str) -> str:
    """A browser session through the login form that opens the ledger page; returns its Cookie header."""
    browser = Browser(port)
    browser.login(username, password)
    status, _, body = browser.request("GET", PAGE_PATH)
    if status != 200:
        raise BenchError(f"the ledger page answered {status} after logging in: {body[:300]!r}")
    return browser.cookie_header["Cookie"]


@dataclass
class Variant:
    """One URL measured: ``kind`` is "api" or "page"; ``rows`` the rows its answer must list."""

    name: str
    kind: str
    args: dict[str, str]
    rows: int
    total: int
    required: bool = False
    latencies: list[float] = field(default_factory=list)  # seconds
    bad: int = 0  # answers that were not 200 or did not list the expected rows
    failures: list[str] = field(default_factory=list)  # the first few of them

    @property
    def path(self) -> str:
        base = API_PATH if self.kind == "api" else PAGE_PATH
        return base + ("?" + urlencode(self.args) if self.args else "")

    def ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def variants(total: int, deep_page: int) -> list[Variant]:
    matches = sum(1 for i in range(total - 1) if i % len(PLACES) == PLACES.index("西街台球厅"))
    deep_rows = max(0, min(20, total - (deep_page - 1) * 20))
    out = []
    for kind in ("api", "page"):
        out += [Variant(f"{kind} default", kind, {}, min(20, total), total, required=True),
                Variant(f"{kind} per_page={MAX_PER_PAGE}", kind, {"per_page": str(MAX_PER_PAGE)},
                        min(MAX_PER_PAGE, total), total),
                Variant(f"{kind} page={deep_page}", kind, {"page": str(deep_page)}, deep_rows, total),
                Variant(f"{kind} q={SEARCH_WORD}", kind, {"q": SEARCH_WORD}, min(20, matches), matches)]
    return out


def check_answer(variant: Variant, status: int, body: bytes) -> str | None:
    """Why an answer is wrong (None when it is 200 and lists the rows it should)."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if variant.kind == "api":
        payload = json.loads(body)
        rows, total = len(payload.get("items", [])), payload.get("total")
    else:
        text = body.decode()
        rows = len(ROW_MARKER.findall(text))
        found = TOTAL_MARKER.search(text)
        total = int(found.group(1)) if found else None
    if rows != variant.rows or total != variant.total or rows == 0:
        return f"{rows} rows of {total}, expected {variant.rows} of {variant.total}"
    return None


def warm_workers(port: int, measured: list[Variant], headers_of: Callable[[Variant], dict[str, str]],
                 rounds: int = 3) -> None:
    """Every variant from two threads at once, so that both workers have served each one before anything
    is measured (one client alone may keep meeting the same worker, leaving the other cold)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        for variant in measured:
            for _ in range(rounds):
                list(pool.map(lambda v: http_call(port, "GET", v.path, headers_of(v)), [variant, variant]))


def measure(port: int, variant: Variant, headers: dict[str, str], warmup: int, count: int) -> None:
    """``warmup`` then ``count`` requests one after another; every answer is checked (outside the timing)."""
    for index in range(warmup + count):
        t0 = time.perf_counter()
        status, body = http_call(port, "GET", variant.path, headers)
        elapsed = time.perf_counter() - t0
        problem = check_answer(variant, status, body)
        if problem:
            variant.bad += 1
            if len(variant.failures) < 5:
                variant.failures.append(problem)
            continue
        if index >= warmup:
            variant.latencies.append(elapsed)


# ------------------------------------------------------------------------------- statement counts


@dataclass
class Counted:
    statements: list[tuple[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def counting(app: Any) -> Callable[[], ContextManager[Counted]]:
    """A context manager factory counting the statements the app's engine sends (and their time)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    with app.app_context():
        from server.extensions import db

        engine = db.engine
    current: list[Counted] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn, _cursor, statement, parameters, context, _many):  # type: ignore[no-untyped-def]
        if current:
            current[-1].statements.append((statement, parameters))
            context._bench_t0 = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn, _cursor, _statement, _parameters, context, _many):  # type: ignore[no-untyped-def]
        if current and hasattr(context, "_bench_t0"):
            current[-1].seconds += time.perf_counter() - context._bench_t0

    @contextmanager
    def span() -> Iterator[Counted]:
        current.append(Counted())
        try:
            yield current[-1]
        finally:
            current.pop()

    return span


def count_statements(app: Any, token: str, deep_page: int,
                     explain: bool) -> tuple[list[tuple[str, dict[int, int]]], list[str], dict[str, Counted]]:
    """Statements per request by page size (API and page), in this process with the test client.

    Returns the rows of the table, the problems found, and one request's statements per variant (for
    ``--explain``)."""
    span = counting(app)
    # https: in production the session cookie is Secure, and the test client sends it only over https
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    first = client.get("/login")
    token_match = re.search(r'name="csrf_token" value="([^"]+)"', first.get_data(as_text=True))
    if first.status_code != 200 or token_match is None:
        raise BenchError("test client: GET /login gave no CSRF token")
    answer = client.post("/login", data={"csrf_token": html.unescape(token_match.group(1)), "username": USER,
                                         "password": BENCH_PASSWORD})
    if answer.status_code != 302:
        raise BenchError(f"test client: POST /login answered {answer.status_code}")
    api_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    api_client = app.test_client()  # no session cookie: the API answers tokens only (401 with a session)
    clients = {"api": api_client, "page": client}
    table: list[tuple[str, dict[int, int]]] = []
    problems: list[str] = []
    for kind, path, headers in (("api", API_PATH, api_headers), ("page", PAGE_PATH, {})):
        client = clients[kind]
        for extra_name, extra in (("", {}), (f" q={SEARCH_WORD}", {"q": SEARCH_WORD})):
            counts: dict[int, int] = {}
            shapes: dict[int, list[str]] = {}
            for size in (10, 50, MAX_PER_PAGE):
                query = urlencode({"per_page": size, **extra})
                client.get(f"{path}?{query}", headers=headers)  # a first request may load caches
                # The fewest of three: the registry polls its config row once every CONFIG_POLL_SECONDS (2 s),
                # which adds one statement to whichever request comes then, whatever its page size.
                runs = []
                for _ in range(3):
                    with span() as counted:
                        response = client.get(f"{path}?{query}", headers=headers)
                    if response.status_code != 200:
                        problems.append(f"{kind}{extra_name} per_page={size}: HTTP {response.status_code}")
                    runs.append([statement.split(" WHERE ")[0][:120] for statement, _ in counted.statements])
                shapes[size] = min(runs, key=len)
                counts[size] = len(shapes[size])
            table.append((f"{kind}{extra_name}", counts))
            if len(set(counts.values())) != 1:
                detail = "; ".join(f"per_page={size}: " + " | ".join(found) for size, found in shapes.items())
                problems.append(f"{kind}{extra_name}: statements per request depend on the page size: {counts} "
                                f"({detail})")
    samples: dict[str, Counted] = {}
    if explain:
        for variant in variants(2, deep_page):  # the URLs only
            with span() as counted:
                clients[variant.kind].get(variant.path, headers=api_headers if variant.kind == "api" else {})
            samples[variant.name] = counted
    return table, problems, samples


def explain_plans(app: Any, samples: dict[str, Counted]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each variant's statements that read ``records``."""
    with app.app_context():
        from server.extensions import db

        with db.engine.connect() as conn:
            for name, counted in samples.items():
                print(f"\n=== {name}: {len(counted.statements)} statements, {counted.seconds * 1000:.1f} ms in the driver")
                for statement, parameters in counted.statements:
                    if "FROM records" not in statement:
                        continue
                    print("\n" + statement.strip())
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                    for (line,) in plan:
                        print("    " + line)
                conn.rollback()


# ----------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records of the ledger (default 100000)")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per variant (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per variant (default 20)")
    parser.add_argument("--deep-page", type=int, default=400, help="the deep page's number, 20 a page (default 400)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each variant's queries on records")
    parser.add_argument("--trgm-index", action="store_true",
                        help="what-if: add a pg_trgm GIN index on records.search_text after filling (not in the "
                             "server's schema) to see what it does to the search variants")
    args = parser.parse_args(argv)
    url = bench_database_url()
    if url is None:
        return 2
    if not plain_url(url).startswith("postgresql://") or args.records < 1 or args.requests < 1:
        parser.error("BENCH_DATABASE_URL must be a postgresql:// URL; --records and --requests must be ≥ 1")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        recreate_pg_database(url)
        env = server_env(url, workdir / "instance")
        token = bootstrap_server(env, USER)
        print(f"set-up (db upgrade, demo load, user, token): {time.perf_counter() - started:.1f} s", flush=True)
        use_env(env)
        from server import create_app

        app = create_app()
        server = Gunicorn("server:create_app()", PROJECT_ROOT, env, args.workers, workdir / "server.log")
        try:
            server.wait_listening()
            created = post_template(server.port, token)
            print(f"template record {created['number']} (id {created['id']}) created through POST", flush=True)
            copies, seconds = fill(app, url, created["id"], args.records)
            print(f"{copies} copies written, counters raised, sample checked, VACUUM ANALYZE: {seconds:.1f} s", flush=True)
            if args.trgm_index:
                print(f"what-if index {TRGM_INDEX} (pg_trgm, not in the schema): {add_trgm_index(url):.1f} s", flush=True)
            cookie = login(server.port, USER, BENCH_PASSWORD)
            api_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            measured = variants(args.records, args.deep_page)

            def headers_of(variant: Variant) -> dict[str, str]:
                return api_headers if variant.kind == "api" else {"Cookie": cookie}

            warm_workers(server.port, measured, headers_of)
            for variant in measured:
                measure(server.port, variant, headers_of(variant), args.warmup, args.requests)
                print(f"  measured {variant.name}", flush=True)
        except BenchError as exc:
            print(f"gunicorn log (tail):\n{server.log_tail()}")
            print(f"FAILED: {exc}")
            return 1
        finally:
            server.stop()
        table, problems, samples = count_statements(app, token, args.deep_page, args.explain)
        failed += problems

    print(f"\n{args.records} records of {FORM_ID}" + (f" + what-if index {TRGM_INDEX}" if args.trgm_index else "")
          + f"; one client, {args.requests} requests per variant after "
          f"{args.warmup} warm-up, gunicorn -w {args.workers} (sync), a new connection per request\n")
    header = f"{'variant':<24} {'rows':>5} {'of':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  goal (p99 < {GOAL_MS:.0f} ms)"
    print(header)
    print("-" * len(header))
    for v in measured:
        ok = len(v.latencies) == args.requests and v.ms(99) < GOAL_MS
        verdict = ("PASS" if ok else "FAIL") + (" (required)" if v.required else "")
        print(f"{pad(v.name, 24)} {v.rows:>5} {v.total:>7} {v.ms(50):>8.1f} {v.ms(99):>8.1f} {v.ms(100):>8.1f}  {verdict}")
        if v.failures:
            failed.append(f"{v.name}: {v.bad} bad answer(s), e.g. {v.failures[0]}")
        elif v.required and not ok:
            failed.append(f"{v.name}: p99 {v.ms(99):.1f} ms ≥ {GOAL_MS:.0f} ms")
    print("\nSQL statements per request by page size (test client; BEGIN/COMMIT and pre-ping not counted):")
    for name, counts in table:
        same = "same" if len(set(counts.values())) == 1 else "DIFFER"
        print(f"  {pad(name, 16)} " + "  ".join(f"per_page={size}: {n}" for size, n in counts.items()) + f"  {same}")
    if samples:
        explain_plans(app, samples)
    print()
    for problem in failed:
        print("FAIL: " + problem)
    print("result: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

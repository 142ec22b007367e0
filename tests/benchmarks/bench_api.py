#!/usr/bin/env python3
"""Benchmark: record creation through the API (``POST /api/v1/forms/visit_register/records``).

Run on demand (not part of the pytest suite)::

    .venv/bin/python tests/benchmarks/bench_api.py                       # SQLite, beside the bare app
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python tests/benchmarks/bench_api.py                   # + PostgreSQL

Every target is served by ``gunicorn -w 2 -b 127.0.0.1:PORT`` (sync workers) on loopback:

* ``bare``: ``bare_app.py``, a Flask app that parses the JSON body and answers 201 with a body of the
  same shape and size as a record creation (the floor: Flask + gunicorn + the same bytes);
* ``records/sqlite``: the server on a fresh SQLite file in a temporary instance directory, set up with
  ``flask --app server db upgrade``, ``demo load``, ``user create bench`` (county staff, who may create
  来信来访 records; demo users' tokens answer 403 until their published password is changed) and
  ``token create bench``, as in the README;
* ``records/postgresql``: the same on ``BENCH_DATABASE_URL``, whose database is dropped and created
  again first (so it must be a database used for nothing else).

The load comes from separate client processes (``--clients``, default 4), each with its own
``http.client`` connection, all targets alike: a warm-up (``--warmup``), then a fixed number of
requests (``--requests``, default 2,000 per target) split between the clients, started together. Each
request is bounded by a socket timeout and each target by ``--max-seconds``. The body is a complete,
valid 来信来访 record; one POST must answer 201 before anything is measured, and afterwards the
record count read back through the API must equal the number of 201s.

Prints requests/s, p50 and p99 latency, errors and the workers' CPU time per request for each target,
and records/bare per database. Exits 1 when any request failed (or a target could not be set up).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
HOST = "127.0.0.1"
FORM_ID = "visit_register"
PATH = f"/api/v1/forms/{FORM_ID}/records"
REQUEST_TIMEOUT = 30.0  # seconds, per request (gunicorn's own worker timeout is 30 s too)

# A complete 来信来访 record, valid against config/forms/visit_register.json: a collective visit handed
# on to the police station (so visitor_count, handling_unit and deadline are required), in the demo county.
RECORD: dict[str, Any] = {
    "received_at": "2026-05-06T09:00:00+08:00",
    "source": "visit",
    "first_accept_person": "王建军",
    "visitor": {
        "anonymous": False,
        "name": "李秀英",
        "gender": "female",
        "id_number": "13012119720315405X",
        "address": "城关镇东岗村三组",
        "phone": "13831123456",
    },
    "is_collective": True,
    "visitor_count": 4,
    "problem_category": "public_security",
    "summary": "村东废弃砖厂夜间常有外来人员聚集赌博，噪声扰民，近两月村里发生3起电动车被盗。",
    "demand": "请求派出所清查砖厂，加强夜间巡逻。",
    "matter_type": "complaint",
    "location": {"division_code": "139901001001", "address": "东岗村东废弃砖厂", "longitude": 114.14,
                 "latitude": 38.03},
    "involves_security": True,
}
BODY = json.dumps(RECORD, ensure_ascii=False).encode("utf-8")


class BenchError(RuntimeError):
    """A target could not be set up or checked; the message says what and shows the output."""


# ------------------------------------------------------------------------------------ results


@dataclass
class Result:
    target: str
    database: str | None  # None for the bare app
    requests: int = 0
    ok: int = 0
    errors: int = 0
    warmup_errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    samples: list[str] = field(default_factory=list)  # a few error descriptions
    response_bytes: int = 0
    server_cpu: float | None = None  # CPU seconds the gunicorn workers used while measured (Linux only)
    setup_error: str = ""

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the successful requests, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    @property
    def cpu_ms_per_request(self) -> float | None:
        return self.server_cpu / self.ok * 1000 if self.server_cpu is not None and self.ok else None

    @property
    def failed(self) -> int:
        return self.errors + self.warmup_errors


# ------------------------------------------------------------------------------ load generator


def _client(index: int, port: int, headers: dict[str, str], warmup: int, count: int, deadline: float,
            barrier: Any, queue: Any) -> None:
    """One client process: warm up, wait for the others, then send ``count`` requests one after another."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    samples: list[str] = []

    def note(text: str) -> None:
        if len(samples) < 5:
            samples.append(f"client {index}: {text}")

    def post() -> tuple[int, bytes]:
        # http.client reopens the connection by itself when the server closed it (gunicorn's sync
        # workers answer "Connection: close"), so this is keep-alive wherever the server allows it.
        conn.request("POST", PATH, body=BODY, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    warmup_errors = 0
    for _ in range(warmup):
        try:
            status, payload = post()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            warmup_errors += 1
            note(f"warm-up: {exc!r}")
            continue
        if status != 201:
            warmup_errors += 1
            note(f"warm-up: HTTP {status} {payload[:200]!r}")
    try:
        barrier.wait(timeout=max(1.0, deadline - time.monotonic()))
    except Exception:  # BrokenBarrierError / timeout: another client died; still report, as errors
        note("start barrier broken")
    latencies: list[float] = []
    errors = 0
    started = time.monotonic()
    for sent in range(count):
        if time.monotonic() > deadline:
            errors += count - sent
            note(f"--max-seconds reached, {count - sent} requests not sent")
            break
        t0 = time.perf_counter()
        try:
            status, payload = post()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            errors += 1
            note(repr(exc))
            continue
        elapsed = time.perf_counter() - t0
        if status == 201:
            latencies.append(elapsed)
        else:
            errors += 1
            note(f"HTTP {status} {payload[:200]!r}")
    finished = time.monotonic()
    conn.close()
    queue.put({"index": index, "latencies": latencies, "errors": errors, "warmup_errors": warmup_errors,
               "started": started, "finished": finished, "samples": samples})


def run_load(result: Result, port: int, headers: dict[str, str], *, clients: int, requests: int,
             warmup: int, max_seconds: float, cpu_probe: Callable[[], float | None] = lambda: None) -> None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    barrier = ctx.Barrier(clients + 1)  # the clients, and this process to read the server's CPU at the start
    deadline = time.monotonic() + max_seconds  # CLOCK_MONOTONIC: the same clock in every process
    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    warm_per_client = [warmup // clients + (1 if i < warmup % clients else 0) for i in range(clients)]
    procs = [ctx.Process(target=_client, args=(i, port, headers, warm_per_client[i], per_client[i], deadline,
                                               barrier, queue), daemon=True)
             for i in range(clients)]
    for proc in procs:
        proc.start()
    try:
        barrier.wait(timeout=max(1.0, deadline - time.monotonic()))
    except Exception:  # a client died during warm-up: it is reported below
        pass
    cpu_start = cpu_probe()
    reports = []
    give_up = deadline + REQUEST_TIMEOUT + 10  # a client past the deadline finishes its last request first
    while len(reports) < clients and time.monotonic() < give_up:
        try:
            reports.append(queue.get(timeout=0.5))
        except Exception:  # queue.Empty: stop waiting once every client that has not reported is dead
            reported = {r["index"] for r in reports}
            if all(not p.is_alive() for i, p in enumerate(procs) if i not in reported):
                break
    cpu_end = cpu_probe()
    if cpu_start is not None and cpu_end is not None:
        result.server_cpu = cpu_end - cpu_start
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
    missing = {i for i in range(clients)} - {r["index"] for r in reports}
    result.requests = requests
    for report in reports:
        result.latencies.extend(report["latencies"])
        result.errors += report["errors"]
        result.warmup_errors += report["warmup_errors"]
        result.samples.extend(report["samples"])
    for index in sorted(missing):
        result.errors += per_client[index]
        result.samples.append(f"client {index}: no report (crashed or hung)")
    result.ok = len(result.latencies)
    if reports:
        result.elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)


# ----------------------------------------------------------------------------- servers and set-up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def base_env() -> dict[str, str]:
    """The caller's environment without anything that would change how the server behaves."""
    env = dict(os.environ)
    for key in ("DATABASE_URL", "SECRET_KEY", "CONFIG_DIR", "INSTANCE_DIR", "CONFIG_POLL_SECONDS", "WATCH_CONFIG",
                "SERVER_ENV", "FLASK_ENV", "FLASK_DEBUG", "FLASK_APP", "SESSION_COOKIE_SECURE",
                "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"):
        env.pop(key, None)
    env["SERVER_ENV"] = "production"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The servers run from the project root, so gunicorn reads its gunicorn.conf.py (the production
    # settings); only worker recycling is off: a recycle inside a measured round would charge one side
    # at random with a worker's start-up (and its render process's). GUNICORN_CMD_ARGS beats the file.
    env["GUNICORN_CMD_ARGS"] = "--max-requests 0 --max-requests-jitter 0"
    return env


def server_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    env = base_env()
    env.update(DATABASE_URL=database_url, INSTANCE_DIR=str(instance_dir), CONFIG_DIR=str(PROJECT_ROOT / "config"),
               SECRET_KEY="bench-" + os.urandom(16).hex())
    return env


def flask_cli(env: dict[str, str], *args: str) -> str:
    cmd = [sys.executable, "-m", "flask", "--app", "server", *args]
    try:
        done = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`flask {' '.join(args)}` did not finish in 180 s") from exc
    if done.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


BENCH_PASSWORD = "Jiangbei-qiao-88-lianxi"  # passes the password rules; a demo user's token answers 403 until
                                          # its published password is changed, so the benchmark has its own user


def bootstrap_server(env: dict[str, str], user: str) -> str:
    """Schema, demo county, and a county staff user ``user`` (not a demo user) with an API token, as the
    README sets a server up."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "load")
    cmd = [sys.executable, "-m", "flask", "--app", "server", "user", "create", user, "--password-stdin",
           "--role", "county_staff", "--org", "139901000000"]
    done = subprocess.run(cmd, input=BENCH_PASSWORD + "\n", cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"`flask user create {user}` failed:\n{done.stdout}{done.stderr}")
    lines = [line.strip() for line in flask_cli(env, "token", "create", user).splitlines() if line.strip()]
    if not lines:
        raise BenchError(f"`flask token create {user}` printed nothing")
    return lines[-1]


def bench_database_url() -> str | None:
    """``BENCH_DATABASE_URL``, or None after saying what it must be (the PostgreSQL-only benchmarks)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        print("BENCH_DATABASE_URL must name a PostgreSQL database of its own (it is dropped and recreated)")
    return url or None


def recreate_pg_database(url: str) -> None:
    """Drop and create the database named in ``url``, connected to the ``postgres`` database."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    plain = url
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if plain.startswith(prefix):
            plain = "postgresql://" + plain[len(prefix):]
    dbname = conninfo_to_dict(plain).get("dbname")
    if not dbname or dbname in {"postgres", "template0", "template1"}:
        raise BenchError(f"BENCH_DATABASE_URL must name a database of its own (it is dropped and recreated), "
                         f"not {dbname or 'none'!r}")
    try:
        with psycopg.connect(make_conninfo(plain, dbname="postgres"), autocommit=True, connect_timeout=10) as conn:
            force = " WITH (FORCE)" if conn.info.server_version >= 130000 else ""
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise BenchError(f"could not recreate database {dbname!r}: {exc}") from exc


def _gunicorn_supports(flag: str) -> bool:
    done = subprocess.run([sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=60)
    return flag in done.stdout


class Gunicorn:
    """``gunicorn -w N -b 127.0.0.1:PORT APP`` in its own process group, logging to a file."""

    def __init__(self, app: str, cwd: Path, env: dict[str, str], workers: int, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{self.port}"]
        if _gunicorn_supports("--no-control-socket"):
            # gunicorn ≥ 24 opens a control socket at a fixed path in $HOME; not wanted for a throwaway server.
            cmd.append("--no-control-socket")
        cmd.append(app)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_listening(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"gunicorn did not listen on port {self.port} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session, started above
                self.proc.wait(timeout=5)
        self._log.close()


def processes() -> dict[int, tuple[str, int, int]]:
    """pid → (command name, parent pid, user + system CPU ticks) of every readable process, from /proc."""
    out: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid ... utime stime
        out[int(entry.name)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def workers_cpu_seconds(master_pid: int) -> float | None:
    """User + system CPU seconds of the master's live children (the workers), from /proc; None elsewhere."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(cpu for _, parent, cpu in processes().values() if parent == master_pid) / ticks
    except (OSError, ValueError, AttributeError):
        return None


def http_call(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None,
              timeout: float = 60.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Browser:
    """One browser for the benchmarks that use the web pages: a cookie jar over ``http.client`` (a new
    connection per request, as gunicorn's sync workers close it anyway), redirects not followed."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body); ``form`` is posted url-encoded."""
        from urllib.parse import urlencode

        headers = dict(self.cookie_header)
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        finally:
            conn.close()

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on the page at ``path``."""
        import html
        import re

        status, _, page = self.request("GET", path)
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or match is None:
            raise BenchError(f"GET {path} answered {status} without a CSRF token")
        return html.unescape(match.group(1).decode())

    def login(self, username: str, password: str) -> None:
        """Log in through the form, as a person does (GET the page for its CSRF token, POST it)."""
        token = self.csrf("/login")
        status, _, page = self.request("POST", "/login", {"csrf_token": token, "username": username,
                                                          "password": password})
        if status != 302:
            raise BenchError(f"login as {username} answered {status}: {page_message(page)}")


def page_message(page: bytes) -> str:
    """The error a page shows (the alert), or the start of its text."""
    import html
    import re

    text = page.decode("utf-8", errors="replace")
    match = re.search(r'class="alert[^"]*"[^>]*>(.*?)</div>', text, re.S)
    chunk = match.group(1) if match else text
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", chunk))).strip()[:300]


# ------------------------------------------------------------------------------------- targets


@dataclass
class Target:
    name: str
    database: str | None
    app: str
    cwd: Path
    env: dict[str, str]
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def run_target(target: Target, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(target.name, target.database)
    server = Gunicorn(target.app, target.cwd, target.env, args.workers, workdir / f"{target.name.replace('/', '-')}.log")
    try:
        server.wait_listening()
        # Validate the body (and let one worker finish starting) before measuring anything.
        status, payload = http_call(server.port, "POST", PATH, target.headers, BODY)
        if status != 201:
            raise BenchError(f"validation POST answered {status}, not 201: {payload[:1000].decode(errors='replace')}")
        created = json.loads(payload)
        if created.get("data") != RECORD or created.get("form_id") != FORM_ID:
            raise BenchError(f"validation POST answered an unexpected body: {payload[:1000].decode(errors='replace')}")
        result.response_bytes = len(payload)
        print(f"  {target.name}: gunicorn on port {server.port}, validation POST 201 "
              f"({len(payload)} bytes, number {created.get('number')}); measuring…", flush=True)
        run_load(result, server.port, target.headers, clients=args.clients, requests=args.requests,
                 warmup=args.warmup, max_seconds=args.max_seconds,
                 cpu_probe=lambda: workers_cpu_seconds(server.proc.pid))
        if target.database is not None:
            _check_stored(target, server.port, result, expected=1 + args.warmup - result.warmup_errors + result.ok)
    except BenchError as exc:
        result.setup_error = str(exc)
    finally:
        server.stop()
    if result.setup_error or result.failed:
        tail = server.log_tail()
        if tail:
            result.samples.append("gunicorn log (tail):\n" + tail)
    return result


def _check_stored(target: Target, port: int, result: Result, expected: int) -> None:
    """Every 201 must be a stored record: read the count back through the API."""
    status, payload = http_call(port, "GET", f"{PATH}?per_page=1", target.headers)
    if status != 200:
        raise BenchError(f"listing the records answered {status}: {payload[:500].decode(errors='replace')}")
    total = json.loads(payload).get("total")
    if total != expected:
        result.errors += abs((total or 0) - expected)
        result.samples.append(f"{expected} records expected after the run, the API lists {total}")


def build_targets(args: argparse.Namespace, workdir: Path) -> list[Target]:
    targets = [Target("bare", None, "bare_app:create_app()", HERE, base_env())]
    if "sqlite" in args.databases:
        instance = workdir / "sqlite-instance"
        instance.mkdir()
        env = server_env(f"sqlite:///{instance / 'bench.db'}", instance)
        targets.append(Target("records/sqlite", "sqlite", "server:create_app()", PROJECT_ROOT, env))
    pg_url = os.environ.get("BENCH_DATABASE_URL", "")
    if "postgresql" in args.databases and pg_url:
        instance = workdir / "postgresql-instance"
        instance.mkdir()
        env = server_env(pg_url, instance)
        targets.append(Target("records/postgresql", "postgresql", "server:create_app()", PROJECT_ROOT, env))
    return targets


def prepare(target: Target, user: str) -> None:
    if target.database == "postgresql":
        recreate_pg_database(target.env["DATABASE_URL"])
    if target.database is not None:
        target.token = bootstrap_server(target.env, user)


# ------------------------------------------------------------------------------------- report


def print_report(results: list[Result]) -> None:
    print()
    header = (f"{'target':<20} {'requests/s':>11} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} {'resp bytes':>11} "
              f"{'worker CPU ms/req':>18}")
    print(header)
    print("-" * len(header))
    for r in results:
        if r.setup_error and not r.latencies:
            print(f"{r.target:<20} {'—':>11} {'—':>9} {'—':>9} {'setup':>7}")
            continue
        cpu = r.cpu_ms_per_request
        print(f"{r.target:<20} {r.rps:>11.1f} {r.percentile_ms(50):>9.2f} {r.percentile_ms(99):>9.2f} "
              f"{r.failed:>7} {r.response_bytes:>11} {f'{cpu:.2f}' if cpu is not None else '—':>18}")
    bare = next((r for r in results if r.database is None and not r.setup_error), None)
    if bare is not None and bare.rps > 0:
        print()
        for r in results:
            if r.database is not None and not r.setup_error:
                line = (f"ratio records/bare ({r.database}): {r.rps / bare.rps:.2f}  "
                        f"(p50 {r.percentile_ms(50) / bare.percentile_ms(50):.1f}× the bare latency")
                if r.cpu_ms_per_request and bare.cpu_ms_per_request:
                    line += f"; {r.cpu_ms_per_request / bare.cpu_ms_per_request:.1f}× the bare worker CPU per request"
                print(line + ")")
    problems = [r for r in results if r.setup_error or r.failed or r.samples]
    for r in problems:
        print(f"\n{r.target}: {r.failed} failed request(s)" + (f"; {r.setup_error}" if r.setup_error else ""))
        for sample in r.samples:
            print("  " + sample.replace("\n", "\n  "))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per target (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per target, not measured (default 200)")
    parser.add_argument("--clients", type=int, default=4, help="client processes, one connection each (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per target (default 2)")
    parser.add_argument("--max-seconds", type=float, default=180.0,
                        help="time limit per target for warm-up + measurement; unsent requests count as errors (default 180)")
    parser.add_argument("--user", default="bench",
                        help="name of the county staff user created for the run, whose API token posts the records")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated subset of sqlite,postgresql (PostgreSQL only when BENCH_DATABASE_URL is set)")
    args = parser.parse_args(argv)
    args.databases = {d.strip() for d in args.databases.split(",") if d.strip()}
    if args.requests < 1 or args.clients < 1 or args.workers < 1 or args.warmup < 0 or args.max_seconds <= 0:
        parser.error("--requests, --clients and --workers must be ≥ 1, --warmup ≥ 0, --max-seconds > 0")
    if args.databases - {"sqlite", "postgresql"}:
        parser.error(f"unknown database(s): {', '.join(sorted(args.databases - {'sqlite', 'postgresql'}))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("BENCH_DATABASE_URL") and "postgresql" in args.databases:
        print("(BENCH_DATABASE_URL is not set: PostgreSQL skipped)")
    cpus = os.cpu_count() or 1
    print(f"POST {PATH}: {args.requests} requests per target after {args.warmup} warm-up, {args.clients} client "
          f"processes, gunicorn -w {args.workers} (sync); Python {platform.python_version()}, {cpus} CPU(s)")
    if cpus < args.clients + args.workers:
        print(f"note: {args.clients} clients + {args.workers} workers share {cpus} CPU(s) — absolute figures are "
              "lower than on a dedicated machine; the ratios are the comparable part")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = Path(tmp)
        for target in build_targets(args, workdir):
            try:
                prepare(target, args.user)
            except BenchError as exc:
                results.append(Result(target.name, target.database, setup_error=str(exc)))
                continue
            results.append(run_target(target, args, workdir))
    print_report(results)
    return 1 if any(r.setup_error or r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

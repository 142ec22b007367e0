#!/usr/bin/env python3
"""Benchmark: the record write path against the least Python that does the same durable work.

Run on demand (not part of the pytest suite)::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python tests/benchmarks/bench_write.py [--rounds 3] [--seconds 10] [--connections 4]

Two targets on one PostgreSQL database (``BENCH_DATABASE_URL``, dropped and created again first), each
under ``gunicorn -w 2`` (sync workers), loaded by ``wrk`` (Debian's package) with the same POST:

* ``server``: ``POST /api/v1/forms/monthly_inspection/records`` on the server, set up as the README says
  (``db upgrade``, ``demo load``) with a county staff user and an API token. 县直部门月度检查报告 is a
  ledger without a workflow, routing fields or rules on save: the work of every record creation and
  nothing a particular ledger adds.
* ``baseline``: ``baseline_app.py`` on the same database and token: token lookup, validation against the
  form's published schema, the gap-free counter, the record row, the audit row, one commit
  (tests/test_benchmark_baseline.py checks that it refuses an invalid body and numbers without gaps).
* ``framework``: ``framework_app.py``, the baseline's very work (the same function) as a Flask view with
  its SQL through a SQLAlchemy engine built like the server's (pool, pre-ping): the ceiling, i.e. the
  ratio a server on Flask and SQLAlchemy could reach if it did nothing of its own (``--no-framework``
  leaves it out).

The targets alternate (A/B/C, C/B/A, …) for ``--rounds`` rounds of ``--seconds`` each after a warm-up, so that
the machine's drift falls on both. For each round: creates/s (wrk), p50/p99 latency (wrk), and the
gunicorn workers' CPU per create (user + system, /proc). Reported: the median of the rounds per target
and the ratios to the baseline (creates/s, and baseline CPU ÷ the target's CPU: both "higher is better";
the goal for the server is ≥ 0.7). Afterwards the records in the database must equal the 2xx answers wrk counted.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_api import (  # noqa: E402  (a sibling script, not a package)
    HOST, PROJECT_ROOT, BenchError, Gunicorn, bench_database_url, bootstrap_server, recreate_pg_database, server_env,
    workers_cpu_seconds,
)

FORM_ID = "monthly_inspection"
PATH = f"/api/v1/forms/{FORM_ID}/records"
USER = "bench"
#: A 县直部门月度检查报告 without key-area references (lookups of other records that a ledger may add).
RECORD = {
    "report_month": "2026-11", "inspecting_unit": "GA", "inspectors": "张立新、王海燕",
    "other_places": "城关镇农贸市场、火车站广场、东关网吧",
    "findings": [{"place": "东关网吧", "problem": "未落实实名登记，接纳未成年人上网", "suggestion": "责令整改，下月复查"},
                 {"place": "火车站广场", "problem": "夜间非法营运车辆拉客", "suggestion": "联合交警、运管开展专项整治"}],
    "previous_followup": "上月发现的3处问题已整改2处，1处正在整改。",
    "indicators": "检查场所 12 处，发现问题 5 个，整改 3 个。", "signed_by": "李建华",
}
LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


@dataclass
class Round:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    cpu_ms: float | None


@dataclass
class Target:
    name: str
    server: Gunicorn
    rounds: list[Round] = field(default_factory=list)

    def median(self, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.rounds if getattr(r, attr) is not None]
        return statistics.median(values) if values else None


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def setup(url: str, workdir: Path) -> tuple[dict[str, str], str]:
    recreate_pg_database(url)
    env = server_env(url, workdir / "instance")
    return env, bootstrap_server(env, USER)


def post_once(port: int, token: str) -> int:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("POST", PATH, body=json.dumps(RECORD, ensure_ascii=False).encode(),
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 201:
        raise BenchError(f"POST on port {port} answered {response.status}: {body[:500]!r}")
    return response.status


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise BenchError(f"cannot read wrk's latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(port: int, script: Path, seconds: int, connections: int) -> tuple[float, float, float, int, int, int]:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script),
           f"http://{HOST}:{port}{PATH}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rps, p50, p99, requests, non_2xx, errors


def measure(target: Target, script: Path, seconds: int, connections: int) -> Round:
    before = workers_cpu_seconds(target.server.proc.pid)
    rps, p50, p99, requests, non_2xx, errors = run_wrk(target.server.port, script, seconds, connections)
    after = workers_cpu_seconds(target.server.proc.pid)
    ok = requests - non_2xx
    cpu = (after - before) / ok * 1000 if before is not None and after is not None and ok else None
    return Round(rps, p50, p99, requests, non_2xx, errors, cpu)


def records_in_database(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SELECT count(*) FROM records WHERE form_id = %s", (FORM_ID,)).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=8,
                        help="seconds of load before measuring, per target (workers also start their render process)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-framework", action="store_true", help="leave out framework_app.py (the ceiling)")
    args = parser.parse_args(argv)
    url = bench_database_url()
    if url is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-write-") as tmp:
        workdir = Path(tmp)
        env, token = setup(url, workdir)
        script = workdir / "post.lua"
        script.write_text(LUA.format(body=_lua_string(json.dumps(RECORD, ensure_ascii=False)), token=token),
                          encoding="utf-8")
        baseline_env = {**env, "BASELINE_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
                        "PYTHONPATH": str(PROJECT_ROOT)}
        targets = [Target("server", Gunicorn("server:create_app()", PROJECT_ROOT, env, args.workers,
                                             workdir / "server.log")),
                   Target("baseline", Gunicorn("baseline_app:app", HERE, baseline_env, args.workers,
                                               workdir / "baseline.log"))]
        if not args.no_framework:
            targets.append(Target("framework", Gunicorn("framework_app:create_app()", HERE, baseline_env,
                                                         args.workers, workdir / "framework.log")))
        try:
            created = 0  # 2xx answers, to compare with the rows stored at the end
            for target in targets:
                target.server.wait_listening()
                post_once(target.server.port, token)
                _, _, _, requests, non_2xx, _ = run_wrk(target.server.port, script, args.warmup, args.connections)
                created += 1 + requests - non_2xx
            for index in range(args.rounds):
                order = targets if index % 2 == 0 else targets[::-1]
                for target in order:
                    target.rounds.append(measure(target, script, args.seconds, args.connections))
                    r = target.rounds[-1]
                    created += r.requests - r.non_2xx
                    print(f"round {index + 1} {target.name:9} {r.rps:8.1f} creates/s  p50 {r.p50_ms:6.2f} ms  "
                          f"p99 {r.p99_ms:6.2f} ms  CPU {r.cpu_ms or float('nan'):5.2f} ms/create  "
                          f"non-2xx {r.non_2xx}  socket errors {r.errors}")
                    time.sleep(1)
        finally:
            for target in targets:
                target.server.stop()
        print()
        for target in targets:
            print(f"{target.name:9} median {target.median('rps'):8.1f} creates/s  p50 {target.median('p50_ms'):6.2f} ms"
                  f"  p99 {target.median('p99_ms'):6.2f} ms  CPU {target.median('cpu_ms') or float('nan'):5.2f} ms/create")
        baseline = next(t for t in targets if t.name == "baseline")
        for target in (t for t in targets if t is not baseline):  # the server, then the framework ceiling
            print(f"{target.name}/baseline: creates/s {target.median('rps') / baseline.median('rps'):.2f}, "
                  f"CPU per create (baseline ÷ {target.name}) "
                  f"{baseline.median('cpu_ms') / target.median('cpu_ms'):.2f}")
        failed = sum(r.non_2xx + r.errors for t in targets for r in t.rounds)
        stored = records_in_database(url)
        # wrk stops counting at its deadline with up to one request per connection still in flight, which
        # the server completes: each run may store up to --connections more than wrk saw answered
        runs = len(targets) * (1 + args.rounds)
        print(f"records stored {stored}, 2xx answers {created} (+ up to {runs * args.connections} in flight); "
              f"failed requests {failed}")
        return 1 if failed or not created <= stored <= created + runs * args.connections else 0


if __name__ == "__main__":
    sys.exit(main())

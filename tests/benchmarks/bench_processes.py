#!/usr/bin/env python3
"""Benchmark: record creation with one and with two app processes on one PostgreSQL (issue 15, goal 4).

Run on demand (not part of the pytest suite)::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_procs \\
        .venv/bin/python tests/benchmarks/bench_processes.py [--rounds 3] [--seconds 10] [--connections 4]

The server (``server:create_app()``) runs twice at once on the same database (``BENCH_DATABASE_URL``,
dropped and created again first): ``gunicorn -w 1`` and ``gunicorn -w 2`` (sync workers, no recycling:
``--max-requests 0`` through ``GUNICORN_CMD_ARGS``, which overrides ``gunicorn.conf.py``). ``wrk`` loads
one of them at a time with the same POST as ``bench_write.py`` (a 县直部门月度检查报告) and the same number
of connections, alternating 1,2 / 2,1 … round by round after a warm-up, so that a shared machine's drift
falls on both. Per round: creates/s and p50/p99 (wrk), the workers' CPU per create (/proc), where the
machine's CPU went (/proc/stat and the processes' own counters: the gunicorn workers, this database's
PostgreSQL backends, other PostgreSQL processes, wrk, everything else), and PostgreSQL's wait events of
this database's backends sampled from ``pg_stat_activity`` (all creates share one number-counter row).

Goal: the median creates/s of 2 processes ≥ 1.8 × that of 1 process. The verdict is printed; the exit
status is 1 on failed requests or a stored-record mismatch, and on a missed goal only with
``--require-goal`` (the ratio depends on the machine's free cores as much as on the server).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_api import PROJECT_ROOT, BenchError, Gunicorn, bench_database_url, processes  # noqa: E402  (sibling scripts, not a package)
from bench_write import (  # noqa: E402
    LUA, RECORD, Round, Target, _lua_string, measure, post_once, records_in_database, run_wrk, setup,
)

GOAL = 1.8
SAMPLE_SECONDS = 0.05  # pg_stat_activity sampling period during a round
LOCK_EVENTS = {"transactionid", "tuple"}  # a row lock held by another transaction (the counter row)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# ------------------------------------------------------------------------------ where the CPU went


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs from /proc/stat (iowait counts as idle)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])  # guest time is already inside user/nice
    return total - idle, total


@dataclass
class CpuSplit:
    """CPU seconds used during one round, by group, and the machine's wall-clock capacity."""
    seconds: float
    machine_busy: float = 0.0
    workers: float = 0.0
    pg_own: float = 0.0  # backends connected to this database
    pg_other: float = 0.0  # every other process named postgres (checkpointer, WAL writer, other databases)
    wrk: float = 0.0
    this: float = 0.0  # this script (the pg_stat_activity sampler)

    @property
    def other(self) -> float:
        return max(self.machine_busy - self.workers - self.pg_own - self.pg_other - self.wrk - self.this, 0.0)

    def cores(self, value: float) -> float:
        return value / self.seconds if self.seconds else 0.0


class Probe:
    """Samples the machine around one wrk run: CPU by group, and the wait events of this database's
    backends in ``pg_stat_activity`` (a thread polling every ``SAMPLE_SECONDS``)."""

    def __init__(self, url: str, master_pid: int):
        import psycopg

        self.master_pid = master_pid
        self.conn = psycopg.connect(_plain(url), autocommit=True)
        self.dbname = self.conn.info.dbname
        self.waits: Counter[str] = Counter()  # "type:event" → backend-samples
        self.active_samples = 0  # backend-samples running a statement (waiting or not)
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _own_backends(self) -> set[int]:
        rows = self.conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                                 (self.dbname,)).fetchall()
        return {r[0] for r in rows}

    def _sample(self) -> None:
        query = ("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                 "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                rows = self.conn.execute(query, (self.dbname,)).fetchall()
            except Exception:  # the sampler must never break the run; the round just has fewer samples
                continue
            self.samples += 1
            for state, wtype, event in rows:
                if state == "active":
                    self.active_samples += 1
                    if wtype:
                        self.waits[f"{wtype}:{event}"] += 1

    def start(self) -> None:
        self.waits.clear()
        self.active_samples = self.samples = 0
        self._before_procs = processes()
        self._before_machine = _machine_ticks()
        self._before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._before_self = resource.getrusage(resource.RUSAGE_SELF)
        self._start = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> CpuSplit:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        seconds = time.monotonic() - self._start
        after_machine = _machine_ticks()
        after_procs = processes()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = resource.getrusage(resource.RUSAGE_SELF)
        own_backends = self._own_backends()
        hz = os.sysconf("SC_CLK_TCK")
        busy = after_machine[0] - self._before_machine[0]
        split = CpuSplit(seconds)
        split.machine_busy = busy / hz  # CPU seconds all cores spent on anything during the round
        for pid, (comm, ppid, ticks) in after_procs.items():
            before = self._before_procs.get(pid)
            delta = (ticks - before[2] if before and before[0] == comm else ticks) / hz
            if ppid == self.master_pid:
                split.workers += delta
            elif comm == "postgres" or comm.startswith("postgres"):
                if pid in own_backends:
                    split.pg_own += delta
                else:
                    split.pg_other += delta
        # wrk has been waited for by subprocess.run: its CPU is in this process's children's usage
        split.wrk = (children.ru_utime + children.ru_stime) - (self._before_children.ru_utime
                                                                + self._before_children.ru_stime)
        split.this = (own.ru_utime + own.ru_stime) - (self._before_self.ru_utime + self._before_self.ru_stime)
        return split

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------------------------------ report


@dataclass
class Run:
    """One target's round: wrk's figures, where the CPU went, and the wait events seen."""
    round: Round
    cpu: CpuSplit
    waits: Counter[str]
    active_samples: int
    samples: int


@dataclass
class Side:
    target: Target
    workers: int
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return self.target.median(attr) or float("nan")

    def median_of(self, fn) -> float:  # type: ignore[no-untyped-def]
        values = [fn(r) for r in self.runs]
        return statistics.median(values) if values else float("nan")


def _lock_share(run: Run, workers: int) -> float:
    """Share of the workers' time spent waiting for another transaction's row lock (the counter row):
    the mean number of this database's backends waiting on it, divided by the workers."""
    locks = sum(n for key, n in run.waits.items() if key.split(":", 1)[1] in LOCK_EVENTS)
    return locks / run.samples / workers if run.samples else 0.0


def print_run(index: int, side: Side, run: Run) -> None:
    r, c = run.round, run.cpu
    print(f"round {index + 1} {side.target.name:11} {r.rps:7.1f} creates/s  p50 {r.p50_ms:6.2f} ms  "
          f"p99 {r.p99_ms:6.2f} ms  CPU {r.cpu_ms or float('nan'):5.2f} ms/create  "
          f"non-2xx {r.non_2xx}  socket errors {r.errors}")
    print(f"        cores busy {c.cores(c.machine_busy):4.2f} of {os.cpu_count()}: workers {c.cores(c.workers):4.2f}, "
          f"PostgreSQL (this db) {c.cores(c.pg_own):4.2f}, PostgreSQL (other) {c.cores(c.pg_other):4.2f}, "
          f"wrk {c.cores(c.wrk):4.2f}, this script {c.cores(c.this):4.2f}, rest of the machine {c.cores(c.other):4.2f}")
    top = ", ".join(f"{k} {n / run.samples:.2f}" for k, n in run.waits.most_common(4)) or "none"
    print(f"        backends running a statement (mean) {run.active_samples / max(run.samples, 1):.2f}; "
          f"waiting (mean backends): {top}; row-lock waits {_lock_share(run, side.workers):.0%} of the workers' time")


def scaling_note(one: Side, two: Side) -> list[str]:
    """What limits the 2-process figure, as far as the counters tell."""
    notes = []
    ncpu = os.cpu_count() or 1
    busy2 = two.median_of(lambda r: r.cpu.cores(r.cpu.machine_busy))
    worker1 = one.median_of(lambda r: r.cpu.cores(r.cpu.workers))
    # the CPU one create costs (server, its database backends, load generator): the CPU-bound ceiling.
    # Other PostgreSQL processes are left out: on a shared server they mostly serve other databases.
    per_create = two.median_of(lambda r: (r.cpu.workers + r.cpu.pg_own + r.cpu.wrk)
                               / max(r.round.requests - r.round.non_2xx, 1))
    if per_create and per_create == per_create:
        ceiling = ncpu / per_create
        notes.append(f"one create costs {per_create * 1000:.2f} ms of CPU in all (workers, this database's "
                     "backends, wrk): "
                     f"{ncpu} core(s) allow at most ≈ {ceiling:.0f} creates/s, "
                     f"{ceiling / one.median('rps'):.2f}× the 1-process median")
    if busy2 >= 0.9 * ncpu:
        notes.append(f"the machine's {ncpu} core(s) were {busy2 / ncpu:.0%} busy during the 2-process rounds: "
                     "CPU is a limit (the workers, PostgreSQL, wrk and anything else running share them)")
    elif worker1 < 0.8:
        notes.append(f"the single worker used only {worker1:.2f} core(s): it waits (for PostgreSQL or the lock) "
                     "rather than computes")
    lock2 = two.median_of(lambda r: _lock_share(r, two.workers))
    notes.append(f"with 2 processes each worker spent {lock2:.0%} of its time waiting for the other's row lock "
                 "(wait_event transactionid/tuple, the shared number-counter row held from its upsert to commit)" +
                 ("; that serialisation limits scaling" if lock2 >= 0.2 else "; too little to limit scaling much"))
    rest = two.median_of(lambda r: r.cpu.cores(r.cpu.other)) + one.median_of(lambda r: r.cpu.cores(r.cpu.other))
    if rest / 2 >= 0.3:
        notes.append(f"other load on the machine took {rest / 2:.2f} core(s) on average during the rounds: "
                     "the figures are lower and noisier than on a quiet machine")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before measuring, per target")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--require-goal", action="store_true",
                        help=f"exit 1 as well when 2 processes give less than {GOAL}× the creates/s of 1")
    args = parser.parse_args(argv)
    url = bench_database_url()
    if url is None:
        return 2
    print(f"POST /api/v1/forms/monthly_inspection/records, wrk -c {args.connections}, {args.rounds} round(s) of "
          f"{args.seconds} s after {args.warmup} s warm-up; {os.cpu_count()} CPU(s)")
    with tempfile.TemporaryDirectory(prefix="bench-procs-") as tmp:
        workdir = Path(tmp)
        try:
            env, token = setup(url, workdir)
        except BenchError as exc:
            print(f"setup failed: {exc}")
            return 1
        script = workdir / "post.lua"
        script.write_text(LUA.format(body=_lua_string(json.dumps(RECORD, ensure_ascii=False)), token=token),
                          encoding="utf-8")
        sides = [Side(Target(f"{n} process" + ("es" if n > 1 else ""),
                             Gunicorn("server:create_app()", PROJECT_ROOT, env, n, workdir / f"server-{n}.log")), n)
                 for n in (1, 2)]
        probes: dict[int, Probe] = {}
        try:
            created = 0  # 2xx answers, to compare with the rows stored at the end
            for side in sides:
                side.target.server.wait_listening()
                post_once(side.target.server.port, token)
                _, _, _, requests, non_2xx, _ = run_wrk(side.target.server.port, script, args.warmup,
                                                        args.connections)
                created += 1 + requests - non_2xx
                probes[side.workers] = Probe(url, side.target.server.proc.pid)
            for index in range(args.rounds):
                for side in (sides if index % 2 == 0 else sides[::-1]):
                    probe = probes[side.workers]
                    probe.start()
                    round_ = measure(side.target, script, args.seconds, args.connections)
                    cpu = probe.stop()
                    side.target.rounds.append(round_)
                    run = Run(round_, cpu, Counter(probe.waits), probe.active_samples, probe.samples)
                    side.runs.append(run)
                    created += round_.requests - round_.non_2xx
                    print_run(index, side, run)
                    time.sleep(1)
        except BenchError as exc:
            print(f"failed: {exc}")
            return 1
        finally:
            for probe in probes.values():
                probe.close()
            for side in sides:
                side.target.server.stop()
    print()
    for side in sides:
        cpu_pg = side.median_of(lambda r: r.cpu.pg_own / max(r.round.requests - r.round.non_2xx, 1) * 1000)
        print(f"{side.target.name:11} median {side.median('rps'):7.1f} creates/s  p50 {side.median('p50_ms'):6.2f} ms  "
              f"p99 {side.median('p99_ms'):6.2f} ms  CPU {side.median('cpu_ms'):5.2f} ms/create in the workers, "
              f"{cpu_pg:5.2f} ms/create in PostgreSQL")
    one, two = sides
    ratio = two.median("rps") / one.median("rps")
    print(f"2 processes / 1 process (median creates/s): {ratio:.2f}  goal ≥ {GOAL}: "
          f"{'PASS' if ratio >= GOAL else 'FAIL'}")
    for note in scaling_note(one, two):
        print(f"note: {note}")
    failed = sum(r.non_2xx + r.errors for s in sides for r in s.target.rounds)
    stored = records_in_database(url)
    runs = len(sides) * (1 + args.rounds)  # wrk may leave one request per connection in flight per run
    print(f"records stored {stored}, 2xx answers {created} (+ up to {runs * args.connections} in flight); "
          f"failed requests {failed}")
    mismatch = not created <= stored <= created + runs * args.connections
    return 1 if failed or mismatch or (args.require_goal and ratio < GOAL) else 0


if __name__ == "__main__":
    sys.exit(main())

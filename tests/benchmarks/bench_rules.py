#!/usr/bin/env python3
"""Benchmark: one acceptance-policy decision through the rule engine vs plain Python.

Run on demand (not part of the pytest suite)::

    .venv/bin/python tests/benchmarks/bench_rules.py
    .venv/bin/python tests/benchmarks/bench_rules.py --evals 50000 --repeats 7 --threads 8

The policy (``$param`` substituted from parameters, threshold 90):

* ``accepted``:   acceptance_held and satisfaction_rate >= 90
* ``extension``:  acceptance_held and satisfaction_rate < 90
* ``ineligible``: listed, or 3+ complaints (listing / award eligibility)
* ``veto``:       relisted within 365 days (one-vote veto)

Each raw fact (as a fact provider would produce it, some numbers as strings) goes through
``normalise_fact`` and then either ``PolicyEngine.evaluate`` or a plain-Python function doing the same
checks. Both must agree on every fact before anything is timed. Printed: evaluations/s (best of
``--repeats`` runs of ``--evals``), p50/p99 µs per call (nearest rank, timed one by one in a separate
run), the ratios, and with ``--threads N`` the aggregate rate of N threads sharing one engine
(GIL-bound: expect no gain).
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.rules.conditions import substitute_params  # noqa: E402
from server.rules.engine import PolicyEngine  # noqa: E402
from server.rules.normalise import normalise_fact  # noqa: E402

PARAMETERS = {"satisfaction_threshold": 90, "veto_window_days": 365, "complaints_limit": 3}
RULES = {
    "accepted": {"$and": [{"acceptance_held": True},
                          {"$gte": {"satisfaction_rate": {"$param": "satisfaction_threshold"}}}]},
    "extension": {"$and": [{"acceptance_held": True},
                           {"$lt": {"satisfaction_rate": {"$param": "satisfaction_threshold"}}}]},
    "ineligible": {"$or": [{"listed": True}, {"$gte": {"complaints": {"$param": "complaints_limit"}}}]},
    "veto": {"$and": [{"relisted": True}, {"$lte": {"relisted_days_ago": {"$param": "veto_window_days"}}}]},
}
SCHEMA = {
    "type": "object",
    "properties": {
        "unit_code": {"type": "string"},
        "acceptance_held": {"type": "boolean"},
        "satisfaction_rate": {"type": ["number", "null"]},
        "listed": {"type": "boolean"},
        "complaints": {"type": "integer"},
        "relisted": {"type": "boolean"},
        "relisted_days_ago": {"type": ["integer", "null"]},
    },
    "required": ["unit_code"],
}


def plain(fact: dict) -> list[str]:
    """The same policy in plain Python (missing attribute = condition false, as in the engine)."""
    fired = []
    held = fact.get("acceptance_held") is True
    rate = fact.get("satisfaction_rate")
    threshold = PARAMETERS["satisfaction_threshold"]
    if held and rate is not None and rate >= threshold:
        fired.append("accepted")
    if held and rate is not None and rate < threshold:
        fired.append("extension")
    complaints = fact.get("complaints")
    if fact.get("listed") is True or (complaints is not None and complaints >= PARAMETERS["complaints_limit"]):
        fired.append("ineligible")
    days = fact.get("relisted_days_ago")
    if fact.get("relisted") is True and days is not None and days <= PARAMETERS["veto_window_days"]:
        fired.append("veto")
    return fired


def raw_facts(n: int, seed: int = 7) -> list[dict]:
    r = random.Random(seed)
    facts = []
    for i in range(n):
        rate = r.choice([89.99, 90.0, 90, round(r.uniform(70, 100), 2)])
        fact = {
            "unit_code": f"U{i % 40:03d}",
            "acceptance_held": r.choice([True, True, False, "true"]),
            "satisfaction_rate": str(rate) if r.random() < 0.25 else rate,
            "listed": r.random() < 0.2,
            "complaints": r.randint(0, 4),
        }
        if r.random() < 0.3:
            fact["relisted"] = True
            fact["relisted_days_ago"] = r.choice([None, r.randint(0, 800)])
        facts.append(fact)
    return facts


def best_rate(fn, facts: list[dict], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for fact in facts:
            fn(fact)
        best = max(best, len(facts) / (time.perf_counter() - start))
    return best


def latencies_us(fn, facts: list[dict]) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = []
    for fact in facts:
        start = clock()
        fn(fact)
        samples.append(clock() - start)
    samples.sort()

    def rank(q: float) -> float:
        return samples[max(0, min(len(samples) - 1, int(q * len(samples) + 0.5) - 1))] / 1000

    return rank(0.50), rank(0.99)


def threaded_rate(fn, facts: list[dict], threads: int) -> float:
    chunk = max(1, len(facts) // threads)
    parts = [facts[i * chunk:(i + 1) * chunk] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(part: list[dict]) -> None:
        barrier.wait()
        for fact in part:
            fn(fact)

    workers = [threading.Thread(target=work, args=(part,)) for part in parts]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return sum(len(p) for p in parts) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evals", type=int, default=20_000, help="evaluations per timed run (default 20000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the best counts (default 5)")
    parser.add_argument("--threads", type=int, default=8, help="threads for the shared-engine run (0: skip)")
    args = parser.parse_args()

    engine = PolicyEngine()
    engine.load("acceptance", {rid: substitute_params(c, PARAMETERS) for rid, c in RULES.items()}, "bench")
    facts = raw_facts(args.evals)

    def through_engine(raw: dict) -> list[str]:
        return engine.evaluate("acceptance", normalise_fact(SCHEMA, raw)).fired

    def through_plain(raw: dict) -> list[str]:
        return plain(normalise_fact(SCHEMA, raw))

    normalised = [normalise_fact(SCHEMA, raw) for raw in facts]

    def engine_only(fact: dict) -> list[str]:
        return engine.evaluate("acceptance", fact).fired

    mismatches = sum(through_engine(raw) != through_plain(raw) for raw in facts)
    if mismatches:
        print(f"ERROR: engine and plain Python disagree on {mismatches} of {len(facts)} facts")
        return 1
    fired = sum(bool(through_plain(raw)) for raw in facts)

    print(f"python {platform.python_version()}, durable-rules {metadata.version('durable-rules')}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"policy: {len(RULES)} rules; {len(facts)} facts ({fired} with at least one decision), "
          f"best of {args.repeats} runs; results identical on every fact\n")

    rows = [
        ("plain Python (checks only)", plain, normalised),
        ("normalise_fact + plain Python", through_plain, facts),
        ("PolicyEngine.evaluate (normalised)", engine_only, normalised),
        ("normalise_fact + PolicyEngine.evaluate", through_engine, facts),
    ]
    rates = {}
    print(f"{'path':<40} {'evals/s':>12} {'p50 µs':>9} {'p99 µs':>9}")
    for label, fn, inputs in rows:
        rates[label] = best_rate(fn, inputs, args.repeats)
        p50, p99 = latencies_us(fn, inputs)
        print(f"{label:<40} {rates[label]:>12,.0f} {p50:>9.2f} {p99:>9.2f}")

    engine_rate = rates["normalise_fact + PolicyEngine.evaluate"]
    print(f"\nratio (normalise + plain) / (normalise + engine): {rates['normalise_fact + plain Python'] / engine_rate:,.1f}x")
    print(f"ratio plain checks / engine evaluate (both on normalised facts): "
          f"{rates['plain Python (checks only)'] / rates['PolicyEngine.evaluate (normalised)']:,.0f}x")
    if args.threads:
        rate = threaded_rate(through_engine, facts, args.threads)
        print(f"{args.threads} threads sharing the engine (normalise + evaluate): {rate:,.0f} evals/s "
              f"({rate / engine_rate:.2f}x one thread)")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

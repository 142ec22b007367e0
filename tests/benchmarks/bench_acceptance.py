#!/usr/bin/env python3
"""Benchmark: the shipped acceptance policy (config/rules/acceptance.json + parameters.json) through
the engine, beside a plain-Python function making the same decision. Run on demand::

    .venv/bin/python tests/benchmarks/bench_acceptance.py [--evals 20000]

Facts are built as the key_area provider builds them and normalised against its declared schema on
both paths; the two must agree on every fact before anything is timed.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.rules.conditions import substitute_params  # noqa: E402
from server.rules.engine import PolicyEngine  # noqa: E402
from server.rules.facts import PROVIDERS  # noqa: E402
from server.rules.normalise import normalise_fact  # noqa: E402
from server.specs import load_config  # noqa: E402


def facts(count: int) -> list[dict]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        held = rng.random() < 0.8
        out.append({"unit_code": "139901101000", "unit_kind": "township", "is_listed": True, "delisted": False,
                    "recurrence": False, "accepted": False, "acceptance_held": held,
                    "satisfaction_rate": round(rng.uniform(70, 100), 2) if held else None,
                    "valid_votes": rng.randint(10, 60) if held else 0})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evals", type=int, default=20000)
    args = parser.parse_args()
    rules = load_config(ROOT / "config").rules
    ruleset, schema = rules.rulesets["acceptance"], PROVIDERS["key_area"].schema
    values = {n: p.value for n, p in rules.parameters.items()}
    threshold = values["satisfaction_threshold"]
    engine = PolicyEngine()
    engine.load("acceptance", {i: substitute_params(r["if"], values) for i, r in ruleset.rules.items()}, "bench")

    def plain(fact: dict) -> list[str]:
        rate = fact.get("satisfaction_rate")
        if fact.get("acceptance_held") is not True or rate is None:
            return []
        return ["accepted"] if rate >= threshold else ["extension"]

    sample = facts(args.evals)
    for raw in sample:
        fact = normalise_fact(schema, raw)
        assert engine.evaluate("acceptance", fact).fired == plain(fact), raw
    results = {}
    for name, decide in (("engine", lambda f: engine.evaluate("acceptance", f).fired), ("plain", plain)):
        timings = []
        for raw in sample:
            start = time.perf_counter()
            decide(normalise_fact(schema, raw))
            timings.append(time.perf_counter() - start)
        timings.sort()
        total = sum(timings)
        results[name] = (len(timings) / total, timings[len(timings) // 2] * 1e6, timings[int(len(timings) * 0.99)] * 1e6)
    print(f"shipped acceptance policy, {args.evals} facts, normalise_fact included on both paths")
    print(f"{'path':<10}{'evals/s':>12}{'p50 µs':>10}{'p99 µs':>10}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:<10}{rate:>12,.0f}{p50:>10.1f}{p99:>10.1f}")
    print(f"plain / engine throughput: {results['plain'][0] / results['engine'][0]:.1f}×")


if __name__ == "__main__":
    main()

"""server.rules.engine under threads: evaluations racing hot reloads.

8 threads evaluate random (normalised) facts while another thread reloads the ruleset, alternating
two versions with different thresholds (90 and 85). Every result must equal a plain-Python oracle for
the version that evaluation reports; nothing may crash; memory must stay flat and exactly one durable
ruleset must be left. About 5 s; bounded by DEADLINE_S.
"""
from __future__ import annotations

import gc
import random
import threading
import time

from server.rules.conditions import substitute_params
from server.rules.engine import PolicyEngine
from server.rules.normalise import normalise_fact

THREADS = 8
EVALUATIONS = 20_000
RELOADS = 500
DEADLINE_S = 12.0
RSS_MARGIN_KB = 5 * 1024

SCHEMA = {
    "type": "object",
    "properties": {
        "acceptance_held": {"type": "boolean"},
        "satisfaction_rate": {"type": "number"},
        "listed": {"type": "boolean"},
        "complaints": {"type": "integer"},
        "relisted": {"type": "boolean"},
        "relisted_days_ago": {"type": ["integer", "null"]},
        "town": {"type": "string"},
    },
}

RULES = {
    "accepted": {"$and": [{"acceptance_held": True}, {"$gte": {"satisfaction_rate": {"$param": "threshold"}}}]},
    "extension": {"$and": [{"acceptance_held": True}, {"$lt": {"satisfaction_rate": {"$param": "threshold"}}}]},
    "ineligible": {"$or": [{"listed": True}, {"$gte": {"complaints": 3}}]},
    "veto": {"$and": [{"relisted": True}, {"$lte": {"relisted_days_ago": 365}}]},
    "unlisted": {"$nex": {"listed": 1}},
    "other_town": {"$neq": {"town": "城关镇"}},
}
ORDER = list(RULES)


def rules_for(threshold: int) -> dict:
    return {rule_id: substitute_params(cond, {"threshold": threshold}) for rule_id, cond in RULES.items()}


def oracle(fact: dict, threshold: int) -> list[str]:
    held = fact.get("acceptance_held") is True
    rate = fact.get("satisfaction_rate")
    fired = {
        "accepted": held and rate is not None and rate >= threshold,
        "extension": held and rate is not None and rate < threshold,
        "ineligible": fact.get("listed") is True or fact.get("complaints", -1) >= 3,
        "veto": fact.get("relisted") is True and "relisted_days_ago" in fact and fact["relisted_days_ago"] <= 365,
        "unlisted": "listed" not in fact,
        "other_town": "town" in fact and fact["town"] != "城关镇",
    }
    return [rule_id for rule_id in ORDER if fired[rule_id]]


def random_fact(r: random.Random) -> dict:
    raw: dict = {}
    if r.random() < 0.9:
        raw["acceptance_held"] = r.choice([True, False, "true", "false"])
    if r.random() < 0.9:
        rate = r.choice([85, 90, 84.99, 85.0, 89.99, 90.0, round(r.uniform(70, 100), 2)])
        raw["satisfaction_rate"] = str(rate) if r.random() < 0.3 else rate
    if r.random() < 0.6:
        raw["listed"] = r.random() < 0.3
    if r.random() < 0.5:
        raw["complaints"] = r.randint(0, 5)
    if r.random() < 0.4:
        raw["relisted"] = r.random() < 0.5
        raw["relisted_days_ago"] = r.choice([None, r.randint(0, 800), 365, 366])
    if r.random() < 0.5:
        raw["town"] = r.choice(["城关镇", "新华乡", "x"])
    return normalise_fact(SCHEMA, raw)


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def threshold_of(version: str) -> int:
    return int(version.rsplit("-t", 1)[1])


def run_threads(engine: PolicyEngine, evaluations: int, reloads: int, seed: int) -> tuple[dict, float]:
    """THREADS evaluators and one reloader until both targets are reached (or the deadline).

    The engine's lock is not fair: evaluators in a tight loop would starve the reloader. So evaluators
    wait whenever they get more than ``evaluations / reloads`` evaluations per reload ahead, which keeps
    reloads interleaved with evaluations throughout the run.
    """
    thresholds = (90, 85)
    per_reload = max(1, evaluations // reloads)
    progress = threading.Condition()
    counts = {"evaluations": 0, "reloads": 0, "wrong": 0, 90: 0, 85: 0}
    errors: list[BaseException] = []
    examples: list[tuple] = []
    stop = threading.Event()
    deadline = time.monotonic() + DEADLINE_S

    def done() -> bool:
        return stop.is_set() or time.monotonic() > deadline or (
            counts["evaluations"] >= evaluations and counts["reloads"] >= reloads)

    def evaluator(seed: int) -> None:
        r = random.Random(seed)
        try:
            while not done():
                local = {"evaluations": 0, "wrong": 0, 90: 0, 85: 0}
                for _ in range(10):
                    fact = random_fact(r)
                    result = engine.evaluate("acceptance", fact)
                    threshold = threshold_of(result.version)
                    local["evaluations"] += 1
                    local[threshold] += 1
                    if result.fired != oracle(fact, threshold):
                        local["wrong"] += 1
                        if len(examples) < 5:
                            examples.append((fact, result, oracle(fact, threshold)))
                with progress:
                    for key, value in local.items():
                        counts[key] += value
                    while (counts["evaluations"] > (counts["reloads"] + 1) * per_reload
                           and counts["reloads"] < reloads and not done()):
                        progress.wait(0.05)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            stop.set()

    def reloader() -> None:
        n = 0
        try:
            while not done():
                n += 1
                threshold = thresholds[n % 2]
                engine.load("acceptance", rules_for(threshold), f"s{seed}r{n}-t{threshold}")
                with progress:
                    counts["reloads"] += 1
                    progress.notify_all()
                    while counts["evaluations"] < counts["reloads"] * per_reload // 2 and not done():
                        progress.wait(0.05)  # let the evaluators see this version before the next one
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            stop.set()
        finally:
            with progress:
                progress.notify_all()

    workers = [threading.Thread(target=evaluator, args=(seed * 100 + i,)) for i in range(THREADS)]
    workers.append(threading.Thread(target=reloader))
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE_S + 30)
    elapsed = time.monotonic() - started

    assert not errors, errors
    assert not any(worker.is_alive() for worker in workers)
    assert counts["wrong"] == 0, examples
    assert counts["evaluations"] >= evaluations, (counts, elapsed)
    assert counts["reloads"] >= reloads, (counts, elapsed)
    return counts, elapsed


def test_threads_and_hot_reload_agree_with_the_oracle():
    engine = PolicyEngine()
    engine.load("acceptance", rules_for(90), "v0-t90")
    threads_before = threading.active_count()

    # warm-up with the same threads (allocator arenas, thread stacks, caches) before the memory baseline
    run_threads(engine, 2_000, 50, seed=1)
    gc.collect()
    rss_before = rss_kb()

    counts, elapsed = run_threads(engine, EVALUATIONS, RELOADS, seed=2)
    assert counts[90] > 0 and counts[85] > 0, counts  # both versions were really served

    gc.collect()
    rss_after = rss_kb()
    assert rss_after <= rss_before + RSS_MARGIN_KB, (rss_before, rss_after, counts)
    assert len(engine.live_rulesets()) == 1
    assert engine._quarantined == []
    assert threading.active_count() == threads_before
    print(f"\n{counts['evaluations']} evaluations, {counts['reloads']} reloads in {elapsed:.1f} s, "
          f"RSS {rss_before} -> {rss_after} kB")
    engine.close()
    assert engine.live_rulesets() == []

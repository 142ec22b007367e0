#!/usr/bin/env python3
"""Build a province-sized database for the dashboard benchmark (not part of ``make test``)::

    .venv/bin/python tests/benchmarks/province.py                       # 170 counties × 60,000 records
    PROVINCE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/province \\
        .venv/bin/python tests/benchmarks/province.py --counties 170 --per-county 60000

The database named by ``PROVINCE_DATABASE_URL`` (default ``…/province``) is **dropped and created
again**: the schema by the migrations, the shipped ``config/`` published (the demo county is the
first root of the org tree), then 170 more counties, each a root of its own with 20 townships (4 of
them 街道), 15 villages or communities under each, a 公安局 with one 派出所 serving each township and
five more county departments (347 units a county, 59,000 in all).

Each county gets ``--per-county`` records spread evenly over five years (2022–2026), in the shares a
county's ledgers have (problems, visits, officers' reports, follow-ups, disputes ...), with the fields the
dashboard counts filled in as the forms would hold them (dates, sources, choices, states); every
township's monthly 治安案件统计 for the five years (routed to the township, as the form does); the
key areas' entries into 挂牌督办 and 巩固期; 派出所 routes for a tenth of the problems; open 待办 items,
some overdue; a 建议书 register entry for half of the key areas. Rows go in by COPY with the
secondary indexes dropped and rebuilt afterwards; then ``flask stats indexes`` and ANALYZE. Random but reproducible (``--seed``).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/province"
YEARS = (2022, 2023, 2024, 2025, 2026)
TOWNSHIPS, PLACES = 20, 15
CST = timezone(timedelta(hours=8))
# Share of a county's records per ledger (case statistics are added on top: 20 townships × 60 months).
SHARES = {"security_problem": 20, "visit_register": 15, "officer_report": 15, "follow_up": 15, "dispute": 10,
          "officer_roster": 6, "supervision": 5, "visit_transfer": 6.2, "monthly_inspection": 3,
          "key_area": 1, "assessment": 0.5, "joint_meeting": 0.3}
STATES = {
    "security_problem": ("problem_intake", ["registered", "handling", "reported", "awaiting_follow_up", "archived", "archived"]),
    "visit_register": ("visit_intake", ["registered", "handling", "reported", "archived", "archived", "rejected"]),
    "officer_report": ("officer_report", ["submitted", "verified", "adopted", "adopted", "not_adopted"]),
    "key_area": ("key_area", ["clue", "identified", "rectifying", "listed", "listed", "accepted", "consolidating",
                              "consolidating", "closed", "dismissed"]),
    "assessment": ("assessment", ["open", "concluded", "concluded"]),
    "joint_meeting": ("joint_meeting", ["open", "decided", "decided"]),
}
CHOICES = {
    "info_source": ["visit", "phone", "info_officer", "grid_worker", "department_inspection", "higher_assigned", "media"],
    "visit_source": ["visit", "letter", "phone", "online", "hotline_12345", "higher_assigned", "department_transfer"],
    "problem_category": ["porn_gambling_drugs", "theft_robbery", "gang_clue", "public_order_chaos", "safety_hazard",
                         "campus_surroundings", "rental_floating_population", "other"],
    "satisfaction": ["satisfied"] * 6 + ["basically_satisfied"] * 3 + ["dissatisfied"],
    "discovery_source": ["screening", "assessment", "info_officer", "public_report", "higher_warning", "undercover"],
    "reward_level": ["none", "none", "none", "general", "general", "significant", "major"],
    "meeting_type": ["regular", "regular", "regular", "special"],
}


class Copier:
    """Rows for one table, written to PostgreSQL's COPY text format in large chunks."""

    def __init__(self, cursor: Any, table: str, columns: tuple[str, ...]):
        self.context = cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self.copy = self.context.__enter__()
        self.buffer = io.StringIO()
        self.rows = 0

    def row(self, *values: Any) -> None:
        self.buffer.write("\t".join(_text(v) for v in values))
        self.buffer.write("\n")
        self.rows += 1
        if self.buffer.tell() > 4_000_000:
            self.flush()

    def flush(self) -> None:
        self.copy.write(self.buffer.getvalue())
        self.buffer = io.StringIO()

    def close(self) -> None:
        self.flush()
        self.context.__exit__(None, None, None)


def _text(value: Any) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def plain_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1] if url.startswith(("postgresql+psycopg://", "postgres://")) else url


def recreate(url: str) -> None:
    name = conninfo_to_dict(plain_url(url)).get("dbname")
    if not name or name in {"postgres", "template0", "template1", "test"}:
        raise SystemExit(f"PROVINCE_DATABASE_URL must name a database of its own (it is dropped), not {name!r}")
    with psycopg.connect(make_conninfo(plain_url(url), dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def make_app(url: str) -> Any:
    from server import create_app

    instance = Path(tempfile.mkdtemp(prefix="province-"))
    return create_app({"database_url": url, "instance_dir": instance, "secret_key": "province-bench",
                       "config_dir": ROOT / "config", "config_poll_seconds": 3600.0, "watch_config_files": False})


def schema_and_config(app: Any) -> tuple[int, int]:
    """Migrations, the shipped configuration published, the generator's user. Returns (user id, county root id)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from server.auth.service import create_user
    from server.extensions import db
    from server.org.models import OrgUnit

    upgrade(directory=str(ROOT / "migrations"))
    app.extensions["registry"].publish_files("province")
    root = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
    user = create_user("province", "Jiangbei-qiao-2026", role="county_staff", org_code=root.code, display_name="省级汇总")
    db.session.commit()
    return user.id, root.id


# -- the org tree ----------------------------------------------------------------------------------------------
class County:
    def __init__(self, index: int):
        self.index = index
        self.code = f"P{index:03d}000000000"
        self.root = 0
        self.townships: list[tuple[int, str]] = []       # (id, code)
        self.places: dict[int, list[str]] = {}           # township id -> village/community codes
        self.stations: dict[int, int] = {}                # township id -> 派出所 id
        self.police = 0
        self.departments: list[tuple[int, str]] = []     # county units (id, code), 公安局 first


def build_org(cur: Any, start_id: int, counties: int) -> tuple[list[County], int]:
    out = Copier(cur, "org_units", ("id", "code", "name", "kind", "parent_id", "serves_id", "path", "posts", "is_active"))
    next_id = start_id
    made = []
    for k in range(1, counties + 1):
        county = County(k)
        county.root = next_id
        root_path = f"/{next_id}/"
        out.row(next_id, county.code, f"第{k}县", "county", None, None, root_path, {}, True)
        next_id += 1
        for t in range(1, TOWNSHIPS + 1):
            tid, tcode = next_id, f"P{k:03d}{t:03d}000000"
            kind = "subdistrict" if t <= 4 else "township"
            out.row(tid, tcode, f"第{k}县{t}{'街道' if t <= 4 else '镇'}", kind, county.root, None,
                    f"{root_path}{tid}/", {}, True)
            next_id += 1
            county.townships.append((tid, tcode))
            county.places[tid] = []
            for p in range(1, PLACES + 1):
                pcode = f"P{k:03d}{t:03d}{p:03d}000"
                place = "community" if kind == "subdistrict" else "village"
                out.row(next_id, pcode, f"第{k}县{t}镇{p}村", place, tid, None, f"{root_path}{tid}/{next_id}/", {}, True)
                county.places[tid].append(pcode)
                next_id += 1
        for d, name in enumerate(["公安局", "司法局", "住建局", "市场监管局", "卫健局", "教育局"]):
            did, dcode = next_id, f"P{k:03d}D{d:02d}"
            out.row(did, dcode, f"第{k}县{name}", "county_unit", county.root, None, f"{root_path}{did}/", {}, True)
            county.departments.append((did, dcode))
            next_id += 1
        county.police = county.departments[0][0]
        for t, (tid, _) in enumerate(county.townships, start=1):
            out.row(next_id, f"P{k:03d}S{t:03d}", f"第{k}县{t}派出所", "police_station", county.police, tid,
                    f"{root_path}{county.police}/{next_id}/", {}, True)
            county.stations[tid] = next_id
            next_id += 1
        made.append(county)
    out.close()
    return made, next_id


# -- records ----------------------------------------------------------------------------------------------------
def moment(rng: random.Random, year: int) -> datetime:
    """A working-hours moment in ``year``, China time."""
    day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    return datetime.combine(day, dtime(8 + rng.randrange(10), rng.randrange(60)), CST)


def record_data(form: str, rng: random.Random, when: datetime, county: County, township: tuple[int, str]) -> dict[str, Any]:
    day, stamp = when.date().isoformat(), when.strftime("%Y-%m-%dT%H:%M")
    place = rng.choice(county.places[township[0]])
    c = CHOICES
    if form == "security_problem":
        return {"received_at": stamp, "info_source": rng.choice(c["info_source"]), "problem_category": rng.choice(c["problem_category"]),
                "description": "夜间聚集扰民", "location": {"division_code": place}}
    if form == "visit_register":
        return {"received_at": stamp, "source": rng.choice(c["visit_source"]), "problem_category": "public_security",
                "matter_type": "complaint", "summary": "反映治安问题", "location": {"division_code": place}}
    if form == "officer_report":
        level = rng.choice(c["reward_level"])
        return {"reported_at": stamp, "report_method": "phone", "info_category": "crime_clue", "content": "发现可疑人员",
                "location": {"division_code": place},
                "verification": {"verification_result": "confirmed", "is_salient_problem": rng.random() < 0.1},
                "adoption": {"reward_level": level}}
    if form == "follow_up":
        return {"item_type": "security_problem", "visitee": "群众", "method": "phone", "follow_up_date": day,
                "staff": "回访人", "satisfaction": rng.choice(c["satisfaction"])}
    if form == "key_area":
        return {"name": f"重点地区{rng.randrange(10**6)}", "area_type": "street", "township_code": township[1],
                "identification": {"discovery_source": rng.choice(c["discovery_source"])}}
    if form == "assessment":
        return {"session": f"{when.year}年第{rng.randrange(1, 25)}期", "date": day, "risk_level": "medium"}
    if form == "joint_meeting":
        return {"session": "例会", "meeting_type": rng.choice(c["meeting_type"]), "meeting_date": day}
    if form == "monthly_inspection":
        return {"report_month": when.strftime("%Y-%m"), "inspecting_unit": rng.choice(county.departments)[1]}
    if form == "officer_roster":
        return {"name": "信息员", "quota_category": "village", "status": "active" if rng.random() < 0.9 else "dismissed",
                "village_code": place, "appointed_date": day}
    if form == "dispute":
        return {"screening_date": day, "source": "visit", "dispute_type": "neighbour", "status": "resolved"}
    return {"issued_date": day, "summary": "记录"}


def generate(cur: Any, counties: list[County], per_county: int, user_id: int, start_id: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    records = Copier(cur, "records", ("id", "form_id", "form_version", "number", "org_unit_id", "data", "search_text",
                                      "search_protected", "state", "workflow_id", "workflow_version", "state_since",
                                      "created_by_id", "created_at", "updated_by_id", "updated_at", "version"))
    routes: list[tuple[int, int, str, datetime]] = []
    transitions: list[tuple[int, str, datetime]] = []
    areas: list[tuple[int, int, datetime]] = []
    record_id = start_id
    total_share = sum(SHARES.values())
    monthly = len(YEARS) * 12 * TOWNSHIPS  # the case statistics count towards a county's records
    plan = [(form, round(max(per_county - monthly, 0) * share / total_share)) for form, share in SHARES.items()]
    for county in counties:
        counters: dict[str, int] = {}
        # every township's 治安案件统计, each month of the five years, registered by the 公安局, routed to the township
        for tid, tcode in county.townships:
            for year in YEARS:
                for month in range(1, 13):
                    when = datetime(year, month, 5, 10, 0, tzinfo=CST) + timedelta(days=30)
                    data = {"month": f"{year}-{month:02d}", "township_code": tcode, "criminal_cases": rng.randrange(0, 20),
                            "public_order_cases": rng.randrange(0, 30), "police_incidents": rng.randrange(20, 120),
                            "source": "police_system"}
                    record_id = _record(records, record_id, "case_statistics", county, county.police, data, None, when,
                                        user_id, counters)
                    routes.append((record_id - 1, tid, "field:/township_code", when))
        for form, count in plan:
            workflow = STATES.get(form)
            for i in range(count):
                year = YEARS[i % len(YEARS)]
                when = moment(rng, year)
                township = rng.choice(county.townships)
                owner = county.police if form == "monthly_inspection" else township[0]
                data = record_data(form, rng, when, county, township)
                state = rng.choice(workflow[1]) if workflow else None
                record_id = _record(records, record_id, form, county, owner, data, workflow and (workflow[0], state), when,
                                    user_id, counters)
                rid = record_id - 1
                if form == "security_problem" and rng.random() < 0.1:
                    routes.append((rid, county.stations[township[0]], "rule:routing", when))
                if form == "key_area":
                    areas.append((rid, township[0], when))
                    if state in ("listed", "accepted", "consolidating", "closed"):
                        transitions.append((rid, "listed", when + timedelta(days=rng.randrange(10, 60))))
                    if state in ("consolidating", "closed"):
                        transitions.append((rid, "consolidating", when + timedelta(days=rng.randrange(90, 200))))
    records.close()
    copier = Copier(cur, "record_routes", ("record_id", "org_unit_id", "source", "created_at"))
    for route in routes:
        copier.row(*route)
    copier.close()
    copier = Copier(cur, "record_transitions", ("record_id", "transition", "label", "from_state", "to_state", "reason",
                                                "actor", "at"))
    for rid, state, at in transitions:
        copier.row(rid, "list" if state == "listed" else "delist", "", None, state, "", "省级测试数据", at)
    copier.close()
    documents = Copier(cur, "issued_documents", ("doc_id", "title", "number", "counter_key", "seq", "record_id",
                                                 "issuer_unit_id", "issuer_name", "template_version", "config_seq",
                                                 "data", "pdf", "sha256", "size", "pages", "issued_by_id", "issued_at",
                                                 "state", "revoked_reason"))
    for n, (rid, tid, when) in enumerate(areas):
        if n % 2 == 0:
            documents.row("recommendation_letter", "整治社会治安重点地区建议书", f"建议〔{when.year}〕{n}号",
                          f"recommendation_letter/{tid}/{when.year}", n, rid, tid, "综治中心", "bench", 1, {}, "", "0" * 64,
                          0, 1, user_id, when + timedelta(days=3), "issued", "")
    documents.close()
    inbox = Copier(cur, "inbox_items", ("source_key", "kind", "unit_id", "record_id", "title", "message", "due_date",
                                        "status", "created_at", "close_note"))
    today = date(2026, 12, 7)
    for county in counties:
        for tid, _ in county.townships:
            for j in range(10):
                due = today + timedelta(days=rng.randrange(-20, 30))
                inbox.row(f"province/{tid}/{j}", "step", tid if j % 3 else county.stations[tid], None, "待核查事项", "",
                          due, "open", datetime(2026, 11, 1, tzinfo=timezone.utc), "")
    inbox.close()
    return {"records": record_id - start_id, "routes": len(routes), "transitions": len(transitions),
            "documents": documents.rows, "inbox": inbox.rows}


def _record(out: Copier, record_id: int, form: str, county: County, owner: int, data: dict[str, Any],
            flow: tuple[str, str] | None, when: datetime, user_id: int, counters: dict[str, int]) -> int:
    counters[form] = counters.get(form, 0) + 1
    number = f"{form[:4].upper()}-{county.code}-{counters[form]:06d}"
    stamp = when.astimezone(timezone.utc)
    workflow, state = flow if flow else (None, "active")
    out.row(record_id, form, 1, number, owner, data, "", "", state, workflow, 1 if workflow else None,
            stamp if workflow else None, user_id, stamp, user_id, stamp, 1)
    return record_id + 1


# -- indexes ----------------------------------------------------------------------------------------------------
def secondary_indexes(cur: Any, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``tables`` other than primary keys and unique constraints."""
    rows = cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", (list(tables),)).fetchall()
    return [(name, definition) for name, definition in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, default=170)
    parser.add_argument("--per-county", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    url = os.environ.get("PROVINCE_DATABASE_URL", DEFAULT_URL)
    started = time.perf_counter()
    recreate(url)
    app = make_app(url)
    with app.app_context():
        user_id, _root = schema_and_config(app)
    tables = ("records", "record_routes", "record_transitions", "issued_documents", "inbox_items")
    with psycopg.connect(plain_url(url), autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        indexes = secondary_indexes(cur, tables)
        for name, _ in indexes:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        start_unit = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM org_units").fetchone()[0]
        counties, _ = build_org(cur, start_unit, args.counties)
        start_record = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM records").fetchone()[0]
        counts = generate(cur, counties, args.per_county, user_id, start_record, args.seed)
        conn.commit()
        print(f"rows copied in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
        for name, definition in indexes:
            cur.execute(definition)
        for table in ("org_units", "records"):
            cur.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                sql.Literal(table), sql.Identifier(table)))
        conn.commit()
    runner = app.test_cli_runner()  # the dashboard's period indexes, as a deployment makes them
    result = runner.invoke(args=["stats", "indexes"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    print(f"province built in {time.perf_counter() - started:.0f} s: {args.counties} counties, {total:,} records, {size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Benchmark: the tick over 100,000 open matters on PostgreSQL with 1 % due, beside the plain SQL
that selects the due ones. Run on demand (not part of the pytest suite)::

    .venv/bin/python tests/benchmarks/bench_tick.py
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_tick \\
        .venv/bin/python tests/benchmarks/bench_tick.py [--matters 100000] [--due 1000] [--rounds 3]

Build (once per run), on the database named by ``BENCH_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/bench_tick), which is **dropped and created again**:

* the schema by the migrations (``flask db upgrade``), the shipped ``config/`` published, one
  township user per township/subdistrict (the owners) and the county staff user;
* ONE 来信来访 matter through the real path (``records.create_record`` + ``flow.service.take(route)``,
  the clock frozen on its day): its rows in every table are the template;
* ``--matters - 1`` more matters bulk-copied (COPY) from that template: each row of the real matter
  with its ids, numbers, owner and handling unit, user, dates and timestamps replaced. All are
  complaints (13 working days) in state ``handling`` with a running ``handling`` timer; the owners
  are the 17 townships/subdistricts, the handling units every unit the form offers. Routing days
  are spread so that exactly ``--due`` timers (the real one among them) have their 催办 day on or
  before the tick date and the rest after it. Number counters are set past the numbers used.

The built database is kept as a template database (``<name>_template``); every round starts from a
fresh copy of it (``CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY``), so each round fires the same
steps on the same data. Per round, alternating:

B. the plain SQL ``SELECT id FROM record_timers WHERE status='running' AND next_at <= :d``, then the
   same ``FOR UPDATE SKIP LOCKED`` in a transaction (rolled back);
A. ``tick(on=tick date, daily=False)`` in an app context, as ``flask tick`` runs it: it must fire
   exactly ``--due`` steps without an error;
then a tick with 0 due timers (the every-minute case; also as a ``flask tick`` process, start-up
included), and ``tick(daily=True)`` twice (the first daily run on that copy, then the steady state
where the decisions are already in force).

SQL statements are counted with a ``before_cursor_execute`` listener on the engine (BEGIN and COMMIT
are driver calls and are not counted, nor is the pool's pre-ping). Prints the medians (and each
round), statements per fired step, the SQL shapes the tick repeats most, and ``EXPLAIN ANALYZE`` of
the selection (plain, and the tick's own batch query), checked to use ``ix_record_timers_due``.
``--profile`` adds a cProfile of one more tick. Exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_tick"
TICK_DATE = date(2026, 11, 20)          # a Friday, no holiday near it
HANDLING_DAYS = 13                      # complaint: handling_days_complaint
CHASE_BEFORE = 3                        # chase_before_working_days
FORM = "visit_register"
HANDLING_KINDS = ("township", "subdistrict", "county_unit", "police_station", "dept_office", "unit_branch")
OWNER_KINDS = ("township", "subdistrict")
PASSWORD = "bench-pass-2026"
VISIT = {"received_at": "2026-11-02T09:30", "source": "visit", "first_accept_person": "贾艳",
         "visitor": {"name": "王建华", "phone": "13931120001"}, "problem_category": "public_security",
         "matter_type": "complaint", "summary": "东风小区夜间烧烤摊占道经营、噪音扰民", "demand": "请求取缔",
         "location": {"division_code": "139901001001"}}
# The tables a routed matter writes, in the order their rows are copied (foreign keys first).
MATTER_TABLES = ("records", "record_transitions", "record_timers", "inbox_items", "audit_log", "record_routes")
PLAIN_REPEATS = 5
TIMER_SELECT = "SELECT id FROM record_timers WHERE status = 'running' AND next_at <= %(d)s"


class BenchError(RuntimeError):
    """Set-up or a check failed; the message says what."""


# ------------------------------------------------------------------------------------------ databases


def plain_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def db_name(url: str) -> str:
    name = conninfo_to_dict(plain_url(url)).get("dbname")
    if not name or name in {"postgres", "template0", "template1"} or name.endswith("_template"):
        raise BenchError(f"BENCH_DATABASE_URL must name a database of its own (it is dropped and recreated), "
                         f"not {name or 'none'!r}")
    return name


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(make_conninfo(plain_url(url), dbname="postgres"), autocommit=True, connect_timeout=10)


def recreate(url: str, name: str, template: str | None = None) -> None:
    with admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)))


def drop(url: str, name: str) -> None:
    with admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_size(url: str) -> int:
    with psycopg.connect(plain_url(url)) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


# -------------------------------------------------------------------------------- counting statements


_PLACEHOLDERS = re.compile(r"(%\([a-z0-9_]+\)s(?:::[A-Z ]+)?)(\s*,\s*%\([a-z0-9_]+\)s(?:::[A-Z ]+)?)+")
_SAVEPOINT = re.compile(r"sa_savepoint_\d+")


@dataclass
class Counted:
    statements: int = 0
    sql_seconds: float = 0.0
    shapes: Counter = field(default_factory=Counter)
    shape_seconds: defaultdict = field(default_factory=lambda: defaultdict(float))
    batch_selects: list[float] = field(default_factory=list)  # seconds of each "… FOR UPDATE SKIP LOCKED"


class StatementCounter:
    """``before/after_cursor_execute`` on the engine: statements, time in the driver, and by shape."""

    def __init__(self, engine: Any):
        from sqlalchemy import event

        self.current: Counted | None = None
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if self.current is not None:
            self.current.statements += 1
            self._started.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if self.current is not None and self._started:
            spent = time.perf_counter() - self._started.pop()
            shape = _SAVEPOINT.sub("sa_savepoint_N", _PLACEHOLDERS.sub(r"\1, …", " ".join(statement.split())))
            self.current.sql_seconds += spent
            self.current.shapes[shape] += 1
            self.current.shape_seconds[shape] += spent
            if "SKIP LOCKED" in statement:
                self.current.batch_selects.append(spent)

    def measure(self, fn: Callable[[], Any]) -> tuple[Any, float, Counted]:
        self.current, self._started = Counted(), []
        started = time.perf_counter()
        try:
            result = fn()
        finally:
            elapsed = time.perf_counter() - started
            counted, self.current = self.current, None
        return result, elapsed, counted


# ------------------------------------------------------------------------------------------- building


@dataclass
class Unit:
    id: int
    code: str
    name: str


@dataclass
class Owner:
    unit: Unit
    user_id: int
    label: str
    seq: int = 0


@dataclass
class Built:
    matters: int
    due: int
    seconds: float
    template_rows: dict[str, int]
    rows: dict[str, int]
    size: int = 0


def make_app(url: str, instance: Path):  # type: ignore[no-untyped-def]
    from server import create_app

    return create_app({"database_url": url, "instance_dir": instance, "secret_key": "bench-tick",
                       "config_dir": ROOT / "config", "config_poll_seconds": 3600.0, "watch_config_files": False})


def table_counts(conn: Any) -> dict[str, int]:
    from sqlalchemy import text

    tables = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]
    return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def working_days(calendar: Any, start: date, count: int) -> list[date]:
    """``count`` consecutive working days, the first being ``start`` (a working day)."""
    days = [start]
    while len(days) < count:
        days.append(calendar.add_working_days(days[-1], 1))
    return days


def build(app: Any, url: str, matters: int, due: int) -> Built:
    """Schema, configuration, users, one real routed matter, and the rest copied from it."""
    from flask_migrate import upgrade
    from freezegun import freeze_time
    from sqlalchemy import select, text

    from server.auth.service import create_user
    from server.extensions import db
    from server.flow import service as flow
    from server.org.models import OrgUnit
    from server.records.service import create_record
    from server.rules.apply import system_user

    started = time.perf_counter()
    upgrade(directory=str(ROOT / "migrations"))
    app.extensions["registry"].publish_files("bench")
    registry = app.extensions["registry"]
    calendar = registry.live.calendar
    params = registry.live.rules.values
    if (params.get("handling_days_complaint"), params.get("chase_before_working_days")) != (HANDLING_DAYS, CHASE_BEFORE):
        raise BenchError("the shipped parameters changed (handling_days_complaint / chase_before_working_days): "
                         "adjust HANDLING_DAYS / CHASE_BEFORE")

    units = list(db.session.scalars(select(OrgUnit).where(OrgUnit.is_active.is_(True)).order_by(OrgUnit.id)))
    owners_units = [u for u in units if u.kind in OWNER_KINDS]
    handling_units = [Unit(u.id, u.code, u.name) for u in units if u.kind in HANDLING_KINDS]
    create_user("county", PASSWORD, role="county_staff", org_code=units[0].code, display_name="县综治办工作人员")
    owners: list[Owner] = []
    for unit in owners_units:
        label = f"综治中心（{unit.name}）"
        user = create_user(f"ts{unit.code}", PASSWORD, role="township_staff", org_code=unit.code, display_name=label)
        owners.append(Owner(Unit(unit.id, unit.code, unit.name), user.id, label))
    system_user()  # the tick's creator of supervision records, made once here and not inside a measured tick
    db.session.commit()

    # Routing days: the due ones 13..10 working days before the tick date (催办 = routing + 10 wd is on or
    # before it, 督办 after it), the others on the 10 working days up to the tick date (催办 after it).
    first = calendar.add_working_days(TICK_DATE, -(HANDLING_DAYS))
    window = working_days(calendar, first, HANDLING_DAYS + 1)  # T-13 … T
    due_days, later_days = window[:4], window[4:]
    plan: list[date] = [due_days[i * len(due_days) // due] for i in range(due)]
    plan += [later_days[i * len(later_days) // (matters - due)] for i in range(matters - due)]
    plan.sort()

    # -- the one real matter, through the real path, on its day ---------------------------------------
    with db.engine.connect() as conn:
        before = table_counts(conn)
        max_ids = {t: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar_one()
                   for t in MATTER_TABLES if t != "record_routes"}
    real_owner, real_handling = owners[0], next(u for u in handling_units if u.code == "GA-PCS01")
    day = plan[0]
    frozen = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)  # 10:00 China time
    from server.auth.models import User

    with freeze_time(frozen):
        user = db.session.get(User, real_owner.user_id)
        data = dict(VISIT, received_at=f"{day.isoformat()}T09:30")
        record = create_record(FORM, data, user)
        flow.take(record.id, "route", user, {"handling_unit": real_handling.code})
    db.session.commit()
    with db.engine.connect() as conn:
        after = table_counts(conn)
    grown = {t for t in after if after[t] != before[t]}
    if not grown <= set(MATTER_TABLES) | {"number_counters"}:
        raise BenchError(f"a routed matter now also writes {sorted(grown - set(MATTER_TABLES))}: teach the copy about it")
    template_rows = {t: after[t] - before[t] for t in MATTER_TABLES}
    real_owner.seq = 1

    template = Template(url, real_owner, real_handling, day, frozen, max_ids)
    timer = template.rows["record_timers"][0]
    want_due = calendar.add_working_days(day, HANDLING_DAYS)
    want_next = calendar.add_working_days(want_due, -CHASE_BEFORE)
    if (timer["status"], timer["due_date"], timer["next_at"], timer["fired"]) != ("running", want_due, want_next, []):
        raise BenchError(f"the real matter's timer is not what the copy assumes: {timer}")

    # -- the others, copied ---------------------------------------------------------------------------
    rng = random.Random(2026)
    schedule: dict[date, tuple[date, date]] = {}
    per_day = Counter(plan[1:])
    index_in_day: Counter = Counter()
    with psycopg.connect(plain_url(url)) as conn:
        next_ids = {t: conn.execute(sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(t))).fetchone()[0]
                    for t in MATTER_TABLES if t != "record_routes"}
        buffers: dict[str, list[tuple]] = {t: [] for t in MATTER_TABLES}
        for i, base in enumerate(plan[1:]):
            if base not in schedule:
                due_on = calendar.add_working_days(base, HANDLING_DAYS)
                schedule[base] = (due_on, calendar.add_working_days(due_on, -CHASE_BEFORE))
            due_on, next_on = schedule[base]
            owner = owners[i % len(owners)]
            owner.seq += 1
            handling = handling_units[rng.randrange(len(handling_units))]
            spread = index_in_day[base] * (8 * 3600) // per_day[base]  # 10:00–18:00 China time
            index_in_day[base] += 1
            at = datetime(base.year, base.month, base.day, 2, 0, tzinfo=timezone.utc) + timedelta(seconds=spread)
            template.copy(buffers, next_ids, owner, handling, base, due_on, next_on, at)
            if len(buffers["records"]) >= 20000:
                template.flush(conn, buffers)
        template.flush(conn, buffers)
        for table, nxt in next_ids.items():
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), {})").format(
                sql.Literal(table), sql.Literal(nxt - 1)))
        year = day.year
        for form in ("visit_register", "visit_transfer"):
            for owner in owners:
                if owner.seq:
                    conn.execute("INSERT INTO number_counters (form_id, org_unit_id, year, last_seq) "
                                 "VALUES (%s, %s, %s, %s) ON CONFLICT (form_id, org_unit_id, year) "
                                 "DO UPDATE SET last_seq = excluded.last_seq", (form, owner.unit.id, year, owner.seq))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute("CHECKPOINT")
        running, due_now = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE next_at <= %(d)s) FROM record_timers WHERE status = 'running'",
            {"d": TICK_DATE}).fetchone()
        open_matters = conn.execute("SELECT count(*) FROM records WHERE form_id = %s AND state = 'handling'",
                                    (FORM,)).fetchone()[0]
    if (running, due_now, open_matters) != (matters, due, matters):
        raise BenchError(f"built {open_matters} matters in handling, {running} running timers, {due_now} due; "
                         f"wanted {matters}, {matters}, {due}")
    db.session.remove()
    with db.engine.connect() as conn:
        rows = table_counts(conn)
    _check_copies(app)
    return Built(matters, due, time.perf_counter() - started, template_rows, rows)


def _check_copies(app: Any) -> None:
    """A few copied matters recomputed by the server's own functions: search text, audit diff, data."""
    from sqlalchemy import select

    from server.extensions import db
    from server.records import service as records
    from server.records.diff import json_diff
    from server.records.models import AuditEntry, Record

    registry = app.extensions["registry"]
    for record in db.session.scalars(select(Record).where(Record.form_id.in_((FORM, "visit_transfer")))
                                     .order_by(Record.id.desc()).limit(40)):
        form = registry.form(record.form_id)
        records.validate_data(record, record.data)
        words = sorted(records._search_text(form, record.number, record.data).split())  # order follows the JSON keys
        if sorted(record.search_text.split()) != words:
            raise BenchError(f"copied record {record.number}: search text differs from the server's")
        create = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == record.id,
                                                            AuditEntry.action == "create"))
        initial = dict(record.data)
        if record.form_id == FORM:
            for key in ("handling", "handling_unit", "deadline", "transfer_number"):
                initial.pop(key)
        def by_path(diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(diff, key=lambda change: change["path"])

        if create is None or by_path(create.diff) != by_path(json_diff({}, initial)):
            raise BenchError(f"copied record {record.number}: audit diff differs from the server's")
    db.session.remove()


class Template:
    """The real matter's rows, with every matter-specific value marked, ready to be copied."""

    TOKENS = ("\x01LF\x01", "\x01lf\x01", "\x01ZB\x01", "\x01zb\x01", "\x01HC\x01", "\x01hc\x01", "\x01HN\x01",
              "\x01OL\x01", "\x01BASE\x01", "\x01DUE\x01", "\x01NEXT\x01")
    ID_COLUMNS = {"record_id": "records", "object_id": "records", "timer_id": "record_timers"}
    UNIT_COLUMNS = {"org_unit_id", "unit_id", "waiting_unit_id"}
    USER_COLUMNS = {"user_id", "created_by_id", "updated_by_id"}
    KEPT_INT_COLUMNS = {"form_version", "version", "workflow_version", "record_version"}

    def __init__(self, url: str, owner: Owner, handling: Unit, base: date, frozen: datetime,
                 max_ids: dict[str, int]):
        with psycopg.connect(plain_url(url)) as conn:
            self.columns: dict[str, list[str]] = {}
            self.rows: dict[str, list[dict[str, Any]]] = {}
            new_records = max_ids["records"]
            for table in MATTER_TABLES:  # the rows the real matter added
                where = (sql.SQL("record_id > {}").format(sql.Literal(new_records)) if table == "record_routes"
                         else sql.SQL("id > {}").format(sql.Literal(max_ids[table])))
                cur = conn.execute(sql.SQL("SELECT * FROM {} WHERE {} ORDER BY 1, 2").format(sql.Identifier(table), where))
                self.columns[table] = [d.name for d in cur.description]
                self.rows[table] = [dict(zip(self.columns[table], r)) for r in cur.fetchall()]
        records = self.rows["records"]
        visit = next(r for r in records if r["form_id"] == FORM)
        transfer = next(r for r in records if r["form_id"] == "visit_transfer")
        timer = self.rows["record_timers"][0]
        self.owner_unit, self.handling_unit, self.user_id = owner.unit.id, handling.id, owner.user_id
        self.frozen = frozen
        self.base, self.due, self.next = base, timer["due_date"], timer["next_at"]
        self.ids = {t: [r["id"] for r in rows] for t, rows in self.rows.items() if t != "record_routes"}
        if owner.unit.id == handling.id:
            raise BenchError("the real matter's owner and handling unit must differ")
        replace = [(visit["number"], self.TOKENS[0]), (visit["number"].lower(), self.TOKENS[1]),
                   (transfer["number"], self.TOKENS[2]), (transfer["number"].lower(), self.TOKENS[3]),
                   (handling.code, self.TOKENS[4]), (handling.code.lower(), self.TOKENS[5]),
                   (handling.name, self.TOKENS[6]), (owner.label, self.TOKENS[7]),
                   (base.isoformat(), self.TOKENS[8]), (self.due.isoformat(), self.TOKENS[9]),
                   (self.next.isoformat(), self.TOKENS[10])]
        self.marked: dict[str, list[list[Any]]] = {}
        for table, rows in self.rows.items():
            self.marked[table] = []
            for row in rows:
                out = []
                for column in self.columns[table]:
                    value = row[column]
                    if isinstance(value, (dict, list)):
                        value = ("json", self._mark(json.dumps(value, ensure_ascii=False), replace))
                    elif isinstance(value, str):
                        value = ("text", self._mark(value, replace))
                    out.append(value)
                self.marked[table].append(out)

    @staticmethod
    def _mark(text: str, replace: list[tuple[str, str]]) -> str:
        for old, token in replace:
            text = text.replace(old, token)
        return text

    def copy(self, buffers: dict[str, list[tuple]], next_ids: dict[str, int], owner: Owner, handling: Unit,
             base: date, due_on: date, next_on: date, at: datetime) -> None:
        """The rows of one more matter: the template's with this matter's values."""
        new_ids: dict[str, dict[int, int]] = {}
        for table, ids in self.ids.items():
            new_ids[table] = {old: next_ids[table] + k for k, old in enumerate(ids)}
            next_ids[table] += len(ids)
        seq = f"{owner.seq:04d}"
        lf = f"LF-{owner.unit.code}-{base.year}-{seq}"
        zb = f"ZB-{owner.unit.code}-{base.year}-{seq}"
        values = (lf, lf.lower(), zb, zb.lower(), handling.code, handling.code.lower(), handling.name, owner.label,
                  base.isoformat(), due_on.isoformat(), next_on.isoformat())
        units = {self.owner_unit: owner.unit.id, self.handling_unit: handling.id}
        dates = {self.base: base, self.due: due_on, self.next: next_on}
        for table, rows in self.marked.items():
            columns = self.columns[table]
            for row in rows:
                out = []
                for column, value in zip(columns, row):
                    if isinstance(value, tuple):
                        kind, text = value
                        for token, new in zip(self.TOKENS, values):
                            if token in text:
                                text = text.replace(token, new)
                        if column == "source_key":
                            text = re.sub(r"^step:(\d+):(\d+)$", lambda m: "step:%d:%d" % (
                                new_ids["records"][int(m[1])], new_ids["record_transitions"][int(m[2])]), text)
                        value = text
                    elif isinstance(value, bool) or value is None:
                        pass
                    elif isinstance(value, int):
                        value = self._int(table, column, value, new_ids, units, owner)
                    elif isinstance(value, datetime):
                        if value != self.frozen:
                            raise BenchError(f"{table}.{column}: a timestamp other than the frozen clock: {value}")
                        value = at
                    elif isinstance(value, date):
                        if value not in dates:
                            raise BenchError(f"{table}.{column}: a date the copy does not know: {value}")
                        value = dates[value]
                    else:
                        raise BenchError(f"{table}.{column}: a value the copy does not know: {value!r}")
                    out.append(value)
                buffers[table].append(tuple(out))

    def _int(self, table: str, column: str, value: int, new_ids: dict[str, dict[int, int]],
             units: dict[int, int], owner: Owner) -> int:
        if column == "id":
            return new_ids[table][value]
        if column in self.ID_COLUMNS:
            return new_ids[self.ID_COLUMNS[column]][value]
        if column in self.UNIT_COLUMNS:
            return units[value]
        if column in self.USER_COLUMNS:
            if value != self.user_id:
                raise BenchError(f"{table}.{column}: a user other than the one who registered: {value}")
            return owner.user_id
        if column in self.KEPT_INT_COLUMNS:
            return value
        raise BenchError(f"{table}.{column}: an integer column the copy does not know ({value})")

    def flush(self, conn: psycopg.Connection, buffers: dict[str, list[tuple]]) -> None:
        with conn.cursor() as cur:
            for table in MATTER_TABLES:
                rows = buffers[table]
                if not rows:
                    continue
                stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in self.columns[table]))
                with cur.copy(stmt) as copy_:
                    for row in rows:
                        copy_.write_row(row)
                rows.clear()


# ------------------------------------------------------------------------------------------ measuring


@dataclass
class Sample:
    seconds: float
    statements: int
    sql_seconds: float = 0.0
    fired: int = 0
    rows: int = 0
    decisions: int = 0
    counted: Counted | None = None


@dataclass
class Round:
    reset_seconds: float = 0.0
    plain: Sample | None = None
    locked: Sample | None = None
    tick: Sample | None = None
    idle: Sample | None = None
    cli: Sample | None = None
    daily_first: Sample | None = None
    daily_again: Sample | None = None


def prewarm(url: str) -> None:
    """Warm the timers table and its indexes into shared buffers, as a server ticking every minute has them."""
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("SELECT pg_prewarm(c.oid::regclass) FROM pg_class c WHERE c.relname IN "
                     "('record_timers', 'record_timers_pkey', 'ix_record_timers_due', 'ix_record_timers_record', "
                     "'records_pkey', 'uq_records_form_number', 'org_units', 'users')")


def measure_plain(counter: StatementCounter, locked: bool) -> Sample:
    from sqlalchemy import text

    from server.extensions import db

    query = TIMER_SELECT.replace("%(d)s", ":d") + (" FOR UPDATE SKIP LOCKED" if locked else "")

    def run() -> list[int]:
        with db.engine.connect() as conn:
            ids = list(conn.execute(text(query), {"d": TICK_DATE}).scalars())
            conn.rollback()  # the locked variant: release the row locks, change nothing
        return ids

    run()  # the connection checked out and the statement prepared once, unmeasured
    samples = []
    for _ in range(PLAIN_REPEATS):  # a millisecond or so: the median of a few, so one hiccup does not decide
        ids, seconds, counted = counter.measure(run)
        samples.append(Sample(seconds, counted.statements, counted.sql_seconds, rows=len(ids), counted=counted))
    return median_sample(samples)


def measure_tick(counter: StatementCounter, daily: bool, expect_fired: int | None) -> Sample:
    from server.extensions import db
    from server.flow.tick import tick

    db.session.remove()
    report, seconds, counted = counter.measure(lambda: tick(on=TICK_DATE, daily=daily))
    errors = [f for f in report.fired if f.error]
    if errors:
        raise BenchError(f"{len(errors)} timer steps failed, e.g. {errors[0]}")
    if expect_fired is not None and len(report.fired) != expect_fired:
        raise BenchError(f"the tick fired {len(report.fired)} steps, {expect_fired} expected")
    steps = Counter((f.timer, f.step) for f in report.fired)
    if set(steps) - {("办理时限", "催办")}:
        raise BenchError(f"the tick fired other steps than 办理时限·催办: {dict(steps)}")
    db.session.remove()
    return Sample(seconds, counted.statements, counted.sql_seconds, fired=len(report.fired),
                  decisions=len(report.decisions), counted=counted)


def explain(due: int) -> list[tuple[str, list[str], bool]]:
    """EXPLAIN ANALYZE of the plain selection and of the tick's own batch query (the first batch and
    the last, which starts after the last id done), each in a transaction rolled back (they lock)."""
    from sqlalchemy import select, text, tuple_
    from sqlalchemy.dialects import postgresql

    from server.extensions import db
    from server.flow.models import RecordTimer
    from server.flow.tick import BATCH

    def tick_query(after: tuple[date, int]) -> str:  # as server/flow/tick.py fire_timers builds it
        stmt = (select(RecordTimer).where(RecordTimer.status == "running", RecordTimer.next_at <= TICK_DATE,
                                          tuple_(RecordTimer.next_at, RecordTimer.id) > after)
                .order_by(RecordTimer.next_at, RecordTimer.id).limit(BATCH))
        stmt = stmt.with_for_update(skip_locked=True)
        return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))

    plain = TIMER_SELECT.replace("%(d)s", f"'{TICK_DATE.isoformat()}'")
    queries = [("plain selection", plain), ("plain, FOR UPDATE SKIP LOCKED", plain + " FOR UPDATE SKIP LOCKED"),
               (f"tick batch 1 (LIMIT {BATCH})", tick_query((date.min, 0)))]
    if due > BATCH:
        last = (due - 1) // BATCH * BATCH  # the timers done before the last batch
        with db.engine.connect() as conn:
            after = tuple(conn.execute(text(
                "SELECT next_at, id FROM record_timers WHERE status = 'running' AND next_at <= :d "
                "ORDER BY next_at, id OFFSET :n LIMIT 1"), {"d": TICK_DATE, "n": last - 1}).one())
        queries.append((f"tick batch {last // BATCH + 1} (… AND (next_at, id) > {after})", tick_query(after)))
    out = []
    for label, query in queries:
        with db.engine.connect() as conn:
            plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + query))]
            conn.rollback()
        uses_index = any("ix_record_timers_due" in line for line in plan) and \
            not any("Seq Scan on record_timers" in line for line in plan)
        out.append((label, plan, uses_index))
    return out


def measure_cli(sa_url: str, instance: Path) -> Sample:
    """``flask --app server tick --date … --no-daily`` as cron starts it, 0 due: the process start-up
    (imports, configuration loaded and checked) and the tick. Statements are not counted (another process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "SERVER_ENV", "CONFIG_DIR", "WATCH_CONFIG")}
    env.update(DATABASE_URL=sa_url, INSTANCE_DIR=str(instance), SECRET_KEY="bench-tick", CONFIG_DIR=str(ROOT / "config"),
               SERVER_ENV="production")
    cmd = [sys.executable, "-m", "flask", "--app", "server", "tick", "--date", TICK_DATE.isoformat(), "--no-daily"]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "触发计时步骤 0 项" not in done.stdout:
        raise BenchError(f"`flask tick` failed or fired something ({done.returncode}):\n{done.stdout}{done.stderr}")
    return Sample(seconds, 0)


def profile_tick(top: int) -> str:
    from server.extensions import db
    from server.flow.tick import tick

    db.session.remove()
    profiler = cProfile.Profile()
    profiler.enable()
    tick(on=TICK_DATE, daily=False)
    profiler.disable()
    db.session.remove()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------- printing


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def short(statement: str, width: int = 150) -> str:
    """A statement shape to read: column lists and VALUES elided."""
    text = re.sub(r"^SELECT (?!count)(.{60,}?) FROM ", "SELECT … FROM ", statement)
    text = re.sub(r"^INSERT INTO (\w+) \(.*?\) VALUES \(.*?\)( RETURNING|$)", r"INSERT INTO \1 (…) VALUES (…)\2", text)
    text = re.sub(r" RETURNING .*$", " RETURNING …", text)
    return text if len(text) <= width else text[:width - 1] + "…"


def median_sample(samples: list[Sample]) -> Sample:
    return sorted(samples, key=lambda s: s.seconds)[len(samples) // 2]


def print_results(built: Built, rounds: list[Round], plans: list[tuple[str, list[str], bool]], top: int) -> None:
    from server.flow.tick import BATCH

    print()
    print(f"Built {built.matters:,} open matters ({built.due:,} due on {TICK_DATE}) in {built.seconds:.1f} s; "
          f"database {built.size / 2**20:,.0f} MiB. One matter's rows: "
          + ", ".join(f"{t} {n}" for t, n in built.template_rows.items()) + ".")
    print("Rows: " + ", ".join(f"{t} {built.rows[t]:,}" for t in MATTER_TABLES + ("number_counters",)))
    resets = ", ".join(f"{r.reset_seconds:.1f} s" for r in rounds if r.reset_seconds)
    print(f"Reset between rounds (a fresh copy of the template database): {resets or '—'}")
    print()
    rows = [
        ("B  SELECT id … next_at <= :d", [r.plain for r in rounds]),
        ("B  same, FOR UPDATE SKIP LOCKED (txn)", [r.locked for r in rounds]),
        (f"A  tick(daily=False), {built.due:,} due", [r.tick for r in rounds]),
        ("   tick, 0 due (every minute)", [r.idle for r in rounds]),
        ("   `flask tick` process, 0 due (start-up incl.)", [r.cli for r in rounds]),
        ("   tick(daily=True), first run of the day", [r.daily_first for r in rounds]),
        ("   tick(daily=True), again (decisions in force)", [r.daily_again for r in rounds]),
    ]
    header = (f"{'what (median of ' + str(len(rounds)) + ')':<48} {'wall ms':>10} {'runs (ms)':>26} {'stmts':>7} "
              f"{'in SQL ms':>10} {'rows/fired':>10} {'stmts/fired':>11}")
    print(header)
    print("-" * len(header))
    for label, samples in rows:
        samples = [s for s in samples if s is not None]
        if not samples:
            continue
        m = median_sample(samples)
        runs = " / ".join(ms(s.seconds) for s in samples)
        stmts = f"{m.statements:,}" if m.counted is not None else "—"
        in_sql = ms(m.sql_seconds) if m.counted is not None else "—"
        done = m.fired or m.rows
        per = f"{m.statements / m.fired:.1f}" if m.fired else "—"
        extra = f" ({m.decisions} decisions)" if m.decisions else ""
        print(f"{label:<48} {ms(m.seconds):>10} {runs:>26} {stmts:>7} {in_sql:>10} "
              f"{done:>10,} {per:>11}{extra}")
    tick = median_sample([r.tick for r in rounds if r.tick])
    plain = median_sample([r.plain for r in rounds if r.plain])
    if tick.fired:
        print()
        print(f"tick per fired step: {tick.seconds / tick.fired * 1000:.2f} ms wall, {tick.statements / tick.fired:.1f} "
              f"statements, {tick.sql_seconds / tick.fired * 1000:.2f} ms of it waiting on SQL "
              f"({tick.sql_seconds / tick.seconds:.0%}); the tick takes {tick.seconds / plain.seconds:,.0f}× the "
              f"plain selection of the same {plain.rows:,} timers.")
        counted = tick.counted
        assert counted is not None
        print()
        print(f"Statements of the {built.due:,}-step tick by shape (top {top}; count, ms in SQL, per fired step):")
        for shape, count in counted.shapes.most_common(top):
            text = short(shape)
            print(f"  {count:>6,}  {counted.shape_seconds[shape] * 1000:>8,.1f} ms  {count / tick.fired:>5.2f}  {text}")
        rest = sum(counted.shapes.values()) - sum(c for _, c in counted.shapes.most_common(top))
        if rest:
            print(f"  {rest:>6,}  (other shapes)")
        selects = counted.batch_selects
        if len(selects) > 1:
            print(f"\nThe tick's {len(selects)} batch selections (FOR UPDATE SKIP LOCKED, {BATCH} per batch): first "
                  f"{ms(selects[0])} ms, last {ms(selects[-1])} ms, {ms(sum(selects))} ms in all; each batch starts after "
                  f"the last one (keyset on next_at, id), so each costs the same.")
    print()
    for label, plan, uses_index in plans:
        print(f"EXPLAIN ANALYZE — {label}: {'uses ix_record_timers_due' if uses_index else 'NO INDEX USE (sequential scan?)'}")
        for line in plan:
            print("    " + (line if len(line) <= 160 else line[:157] + "…"))


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=100_000, help="open matters (default 100000)")
    parser.add_argument("--due", type=int, default=1_000, help="of which due on the tick date (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds, each on a fresh copy (default 3)")
    parser.add_argument("--top", type=int, default=25, help="statement shapes listed (default 25)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more tick (on one more copy)")
    parser.add_argument("--keep", action="store_true", help="keep the database and its template afterwards")
    args = parser.parse_args(argv)
    if args.matters < 2 or not 1 <= args.due < args.matters or args.rounds < 1:
        parser.error("need --matters ≥ 2, 1 ≤ --due < --matters, --rounds ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    name = db_name(url)
    template_name = f"{name}_template"
    from server.settings import normalise_database_url

    sa_url = normalise_database_url(url)
    print(f"tick benchmark on {name}: {args.matters:,} open matters, {args.due:,} due on {TICK_DATE}, "
          f"{args.rounds} rounds; Python {platform.python_version()}, {os.cpu_count()} CPU(s)", flush=True)
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-tick-") as tmp:
        try:
            recreate(url, name)
            app = make_app(sa_url, Path(tmp))
            with app.app_context():
                from server.extensions import db

                print("building…", flush=True)
                built = build(app, url, args.matters, args.due)
                db.session.remove()
                db.engine.dispose()
            built.size = database_size(url)
            recreate(url, template_name, template=name)
            print(f"built in {built.seconds:.1f} s ({built.size / 2**20:,.0f} MiB); measuring…", flush=True)
            rounds: list[Round] = []
            plans: list[tuple[str, list[str], bool]] = []
            with app.app_context():
                from server.extensions import db

                counter = StatementCounter(db.engine)
                for index in range(args.rounds + (1 if args.profile else 0)):
                    result = Round()
                    if index:
                        db.session.remove()
                        db.engine.dispose()
                        started = time.perf_counter()
                        recreate(url, name, template=template_name)
                        result.reset_seconds = time.perf_counter() - started
                    prewarm(url)
                    app.extensions["registry"].adopt_published()  # as `flask tick` does
                    db.session.remove()
                    if index == args.rounds:
                        profile = profile_tick(40)
                        break
                    result.plain = measure_plain(counter, locked=False)
                    result.locked = measure_plain(counter, locked=True)
                    if result.plain.rows != args.due or result.locked.rows != args.due:
                        raise BenchError(f"the plain selection found {result.plain.rows} / {result.locked.rows} "
                                         f"due timers, {args.due} expected")
                    if index == 0:
                        plans = explain(args.due)
                    result.tick = measure_tick(counter, daily=False, expect_fired=args.due)
                    result.idle = measure_tick(counter, daily=False, expect_fired=0)
                    result.cli = measure_cli(sa_url, Path(tmp))
                    result.daily_first = measure_tick(counter, daily=True, expect_fired=0)
                    result.daily_again = measure_tick(counter, daily=True, expect_fired=0)
                    rounds.append(result)
                    print(f"  round {index + 1}: tick {ms(result.tick.seconds)} ms, {result.tick.statements:,} statements; "
                          f"plain {ms(result.plain.seconds)} ms", flush=True)
                db.session.remove()
                db.engine.dispose()
            print_results(built, rounds, plans, args.top)
            if not all(uses for _, _, uses in plans):
                print("\nFAILED: a selection plan does not use ix_record_timers_due")
                status = 1
            if args.profile:
                print("\ncProfile of one more tick (cumulative):")
                print(profile)
        except BenchError as exc:
            print(f"\nFAILED: {exc}")
            status = 1
        finally:
            if not args.keep:
                for database in (template_name, name):
                    try:
                        drop(url, database)
                    except psycopg.Error as exc:
                        print(f"could not drop {database}: {exc}")
    return status


if __name__ == "__main__":
    sys.exit(main())

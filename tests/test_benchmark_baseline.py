"""The baseline of tests/benchmarks/bench_write.py, and its ceiling (the same work in Flask and SQLAlchemy
Core, ``framework_app.py``), really do the work they are compared for: each refuses an invalid body (422,
nothing written), refuses a wrong token, and numbers records without gaps, with an audit row each, on the
server's own PostgreSQL schema. (Their SQL is PostgreSQL's: PostgreSQL only.)"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from server.extensions import db
from tests.conftest import PG_URL
from tests.test_records import GOOD

pytestmark = pytest.mark.skipif(not PG_URL, reason="the baseline is plain psycopg: PostgreSQL only")
BENCHMARKS = Path(__file__).parent / "benchmarks"


@pytest.fixture(params=["baseline_app", "framework_app"])
def baseline(request, app, monkeypatch):  # type: ignore[no-untyped-def]
    from server.auth.service import create_token

    token = create_token("clerk", "baseline")
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    monkeypatch.setenv("BASELINE_DATABASE_URL", url)
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("baseline_app", None)
    sys.modules.pop("framework_app", None)
    import baseline_app

    if request.param == "baseline_app":
        client = Client(baseline_app.app)
    else:
        import framework_app

        client = framework_app.create_app().test_client()
    yield client, {"Authorization": f"Bearer {token}"}
    if baseline_app._conn is not None:
        baseline_app._conn.close()
    if request.param == "framework_app":
        client.application.extensions["engine"].dispose()


def _post(client, headers, body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/forms/incident/records", data=json.dumps(body, ensure_ascii=False),
                       headers={**headers, "Content-Type": "application/json"})


def _rows() -> tuple[int, int]:
    db.session.rollback()
    records = db.session.scalar(sa.text("SELECT count(*) FROM records WHERE form_id = 'incident'"))
    audits = db.session.scalar(sa.text("SELECT count(*) FROM audit_log WHERE object_type = 'record'"))
    return records, audits


def test_it_refuses_an_invalid_body_and_a_wrong_token(baseline):
    client, headers = baseline
    bad = _post(client, headers, {**GOOD, "reported_on": "昨天"})
    assert bad.status_code == 422 and json.loads(bad.data)["errors"][0]["pointer"] == "/reported_on"
    assert _post(client, headers, [1, 2]).status_code == 422
    assert _post(client, {"Authorization": "Bearer nope"}, GOOD).status_code == 401
    assert _rows() == (0, 0)


def test_it_numbers_without_gaps_and_audits_each_record(baseline):
    client, headers = baseline
    numbers = []
    for i in range(5):
        response = _post(client, headers, GOOD if i != 2 else {**GOOD, "reported_on": "x"})
        if response.status_code == 201:
            numbers.append(json.loads(response.data)["number"])
    year = numbers[0].split("-")[2]
    assert numbers == [f"T-999901001000-{year}-{seq:04d}" for seq in (1, 2, 3, 4)]  # the refused one took none
    assert _rows() == (4, 4)

"""The baseline's work on the server's own stack: the ceiling of bench_write.py.

``POST /api/v1/forms/<form>/records`` as a Flask view that runs exactly ``baseline_app.create`` (the
same statements, validation, counter, record and audit row, one commit), with its SQL through a
SQLAlchemy engine built with the server's options (a connection pool with pre-ping; each statement by
``Connection.exec_driver_sql``, Core's thinnest path). No ORM session, no Flask-Login, no events, no
checks beyond the baseline's.

Why it exists: the write-path goal compares the server with ``baseline_app.py`` (plain WSGI and
psycopg). This app measures how much of that distance the framework alone takes before the server does
anything of its own, i.e. the best ratio a server built on Flask and SQLAlchemy could reach.

Served like the others (``gunicorn -w 2 'framework_app:create_app()'`` from this folder), on
``BASELINE_DATABASE_URL``. tests/test_benchmark_baseline.py checks it like the baseline.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from flask import Flask, Response, jsonify, request
from sqlalchemy import create_engine

import baseline_app

ENGINE_OPTIONS = {"pool_pre_ping": True}  # as server/__init__.py's SQLALCHEMY_ENGINE_OPTIONS


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["BASELINE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, **ENGINE_OPTIONS)
    app.extensions["engine"] = engine  # for whoever must dispose of its pool (the tests)

    @app.post("/api/v1/forms/<form_id>/records")
    def create(form_id: str) -> tuple[Response, int]:
        with engine.connect() as conn:

            def query(sql: str, params: tuple[Any, ...]) -> Any:
                result = conn.exec_driver_sql(sql, params)
                return result.fetchone() if result.returns_rows else None

            def rows(sql: str, params: tuple[Any, ...]) -> list[Any]:
                return list(conn.exec_driver_sql(sql, params).fetchall())

            @contextmanager
            def transaction() -> Iterator[None]:
                try:  # the token lookup began the connection's transaction; the writes end it
                    yield
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()

            status, body = baseline_app.create(query, rows, transaction, request.headers.get("Authorization", ""),
                                               form_id, request.get_data())
        return jsonify(body), status

    return app

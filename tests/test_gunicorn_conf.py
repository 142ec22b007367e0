"""gunicorn.conf.py, the production settings the README names and the benchmarks were measured with.

gunicorn must never kill a worker that is still within the document time limit (the user would get a
bare 502 instead of the limit's message), whatever ``DOCUMENT_TIME_LIMIT`` says; and the render pool
is started for the server app only.
"""
from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("DOCUMENT_TIME_LIMIT", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize("limit", ["5", "20", "45", "120"])
def test_the_timeout_stays_above_the_document_time_limit(monkeypatch: pytest.MonkeyPatch, limit: str) -> None:
    conf = settings(monkeypatch, DOCUMENT_TIME_LIMIT=limit)
    assert conf["timeout"] > float(limit) and conf["graceful_timeout"] > float(limit)


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = settings(monkeypatch)
    assert conf["worker_class"] == "sync" and conf["workers"] >= 1
    assert conf["max_requests"] == 10000 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    conf = settings(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_MAX_REQUESTS="0")
    assert conf["workers"] == 3 and conf["max_requests"] == 0


def test_the_render_pool_starts_for_the_server_app_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.documents import service

    started: list[object] = []
    monkeypatch.setattr(service, "start_render_pool", started.append)
    hook = settings(monkeypatch)["post_worker_init"]
    hook(SimpleNamespace(wsgi=SimpleNamespace(config={})))  # a bare app (the benchmarks')
    assert started == []
    server_app = SimpleNamespace(config={"SERVER_SETTINGS": object()})
    hook(SimpleNamespace(wsgi=server_app))
    assert started == [server_app]



def test_the_timeout_also_covers_a_render_process_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request may first wait for its render process to start, then render for the whole limit."""
    from server.documents.worker import START_TIMEOUT

    conf = settings(monkeypatch, DOCUMENT_TIME_LIMIT="20")
    assert conf["_RENDER_START"] == START_TIMEOUT
    assert conf["timeout"] > 20 + START_TIMEOUT

"""Production gunicorn settings, read by ``gunicorn 'server:create_app()'`` from this directory.

Command-line options win over this file (``gunicorn -w 8 …``); each value here can also be set by the
environment variable named beside it.

Why these values:

* ``workers``: sync workers, one per CPU core by default (measured on a 2-core machine: two gave 1.95× the
  record creations of one, ``tests/benchmarks/bench_processes.py``). A creation is mostly Python, and
  while a worker waits for its render process (``DOCUMENT_WORKERS``, default 1) laying out a PDF, that
  process uses the core. Each worker with its render process takes about 150 + 230 MB of memory (RSS,
  ``bench_memory.py``); more workers than cores add memory, not speed.
* ``timeout``: above the document time limit (``DOCUMENT_TIME_LIMIT``, default 20 s) plus the 40 s a render
  process may take to start (``server.documents.worker.START_TIMEOUT``), so a slow document is stopped by
  that limit, with a message, and never by gunicorn killing the worker mid-answer.
* ``max_requests`` and ``max_requests_jitter``: a worker is replaced after about 10,000 requests, a
  safety net against slow memory growth in a library (measured flat over 10,000 creations and 500
  documents, ``bench_memory.py``); rarely, because a new worker and its render process cost a few
  seconds of CPU to start. The jitter keeps the workers from restarting at the same moment.
* ``graceful_timeout``: on a restart or a replacement, a worker finishing a document still gets its time.
* ``post_worker_init``: each worker starts and warms its render process in the background as it boots,
  so no one's first document after a (re)start waits one to three seconds for WeasyPrint and the fonts.
"""
from __future__ import annotations

import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


_document_limit = float(os.environ.get("DOCUMENT_TIME_LIMIT", "") or 20)
_RENDER_START = 40  # server.documents.worker.START_TIMEOUT (not imported: it would load WeasyPrint here)

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = _int("GUNICORN_WORKERS", len(os.sched_getaffinity(0)))  # the cores this process may use
timeout = _int("GUNICORN_TIMEOUT", max(60, int(_document_limit) + _RENDER_START + 10))
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", max(30, int(_document_limit) + 10))
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)


def post_worker_init(worker: Any) -> None:
    """Start this worker's render processes in the background once the app is loaded."""
    app = getattr(worker, "wsgi", None)
    if app is None or "SERVER_SETTINGS" not in getattr(app, "config", {}):
        return  # another app served with this file (the benchmarks' bare apps): nothing to start
    from server.documents.service import start_render_pool

    start_render_pool(app)

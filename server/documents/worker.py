"""Render worker processes: the time limit, memory cap and parallelism of document rendering.

Neither Jinja's sandbox nor WeasyPrint bounds CPU time (nested loops in a template, a huge table), and
a thread cannot be stopped, so templates and layout run in child processes. A job that overruns its
time limit gets its worker killed (a fresh one starts on the next job) and a clear error. Children are
spawned, not forked, so they never inherit a server's threads, locks or database connections; each
keeps its fonts and stylesheet warm across jobs. A process makes its pool on first use, so every
gunicorn worker has its own children.

A child renders a small document before it reports ready (:func:`_warm`): importing WeasyPrint,
parsing the stylesheet and loading the CJK fonts take one to three seconds, which would otherwise fall
on the first document a person asks for. ``gunicorn.conf.py`` starts each worker's pool in the
background as the worker boots (:func:`start_in_background`), so no request waits for a cold child.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.documents.pdf import RenderError, RenderResult

START_TIMEOUT = 40.0  # import WeasyPrint, load fonts, render the warm-up: seconds, more on a cold disk; below
# gunicorn.conf.py's timeout less the document time limit, so a start and a render together never outlast the worker
_job_ids = itertools.count(1)
log = logging.getLogger(__name__)

# What a child renders before it reports ready: the shared GB/T 9704 layout with a heading and a
# paragraph, so the stylesheet is parsed and the fonts of the 版头, title, headings, 正文 and page numbers
# are loaded and subset once.
WARM_TEMPLATE = """{% extends "gbt9704.html" %}
{% block addressee %}县社会治安综合治理中心{% endblock %}
{% block body %}<h2>一、基本情况</h2><p>示范县社会治安综合治理中心研判认为该地区治安问题突出，建议集中整治。</p>{% endblock %}
{% block cc %}县委政法委{% endblock %}
"""
WARM_CONTEXT: dict[str, Any] = {
    "doc": {"title": "关于集中整治的建议书", "mark": "示范县社会治安综合治理中心", "number": "示综治〔2026〕1号",
            "signer": "示范县社会治安综合治理中心", "date": "2026年1月1日", "printer": "示范县社会治安综合治理中心",
            "printed_date": "2026年1月1日", "draft": False},
    "data": {}, "params": {}, "record": {},
}


@dataclass(frozen=True)
class Job:
    templates: dict[str, str]
    template: str
    context: dict[str, Any]
    max_pages: int


def _serve(conn: Any, fonts_dir: str | None, memory_mb: int) -> None:
    """Child main loop: receive a job, answer ``("ok", RenderResult)`` or ``("error", message)``."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    from server.documents.pdf import Renderer

    renderer = Renderer(Path(fonts_dir) if fonts_dir else None)
    _warm(renderer)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job_id, job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", renderer.render(job.templates, job.template, job.context, job.max_pages))
        except RenderError as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = ("error", "文书排版所需内存超过上限")
        except Exception as exc:  # WeasyPrint failures on odd input: report, keep serving
            reply = ("error", f"文书排版失败：{type(exc).__name__}: {exc}")
        conn.send((job_id, *reply))


def _warm(renderer: Any) -> None:
    """Render :data:`WARM_TEMPLATE` once and throw it away. A failure here is not this child's
    problem to report: the first real job meets it and says what is wrong."""
    try:
        renderer.render({"warm.html": WARM_TEMPLATE}, "warm.html", WARM_CONTEXT, max_pages=5)
    except Exception:  # noqa: BLE001 - see above
        pass


class Worker:
    """One child process and the pipe to it."""

    def __init__(self, fonts_dir: Path | None, memory_mb: int):
        self.fonts_dir = fonts_dir
        self.memory_mb = memory_mb
        self.process: Any = None
        self.conn: Any = None
        self._lock = threading.RLock()  # start and stop never interleave (a pool's start() meets a timeout's stop())

    def ensure_started(self) -> None:
        with self._lock:
            if self.process is None or not self.process.is_alive():
                self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, str(self.fonts_dir) if self.fonts_dir else None,
                                                        self.memory_mb), daemon=True, name="document-render")
        self.process.start()
        child.close()
        self.conn = parent
        try:
            if not parent.poll(START_TIMEOUT):
                raise EOFError
            parent.recv()
        except (EOFError, OSError):
            self.stop()
            raise RenderError("文书排版进程未能启动") from None

    def run(self, job: Job, timeout: float, limit: float | None = None) -> RenderResult:
        """Render ``job`` within ``timeout`` seconds (``limit``, the configured time limit, is what
        the message names). Any interruption between sending and receiving kills the worker: a
        reply left unread must never be taken as the answer to the next job."""
        self.ensure_started()
        job_id = next(_job_ids)
        try:
            self.conn.send((job_id, job))
            if not self.conn.poll(max(timeout, 0.01)):
                self.stop()
                if limit is not None and timeout < limit * 0.9:  # the request's time went on waiting or earlier tries
                    raise RenderError("文书排版繁忙，本次请求的时限已用尽，已停止。请稍后再试")
                raise RenderError(f"文书生成超过 {limit or timeout:g} 秒的时限，已停止。请检查模板中的循环或数据量")
            reply_id, status, payload = self.conn.recv()
        except RenderError:
            raise
        except (EOFError, OSError):
            self.stop()
            raise RenderError("文书排版进程意外退出（可能超出内存上限）") from None
        except BaseException:
            self.stop()
            raise
        if reply_id != job_id:
            self.stop()
            raise RenderError("文书排版进程应答错乱，已重启，请重试")
        if status == "error":
            raise RenderError(payload)
        return payload

    def stop(self) -> None:
        with self._lock:
            if self.process is not None:
                self.process.kill()
                self.process.join(5)
            if self.conn is not None:
                self.conn.close()
            self.process = self.conn = None


class RenderPool:
    """``size`` workers; a job waits for a free one. Thread-safe."""

    def __init__(self, size: int, fonts_dir: Path | None, memory_mb: int):
        self.size = size
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._workers = [Worker(fonts_dir, memory_mb) for _ in range(size)]
        for worker in self._workers:
            self._idle.put(worker)

    def render(self, job: Job, timeout: float, deadline: float | None = None) -> RenderResult:
        """Wait for a free worker and render; waiting and rendering together end at ``deadline``
        (``time.monotonic()``; default: ``timeout`` from now), so a queue of jobs cannot outlast it."""
        deadline = deadline if deadline is not None else time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise RenderError("文书排版繁忙，请稍后再试") from None
        left = deadline - time.monotonic()
        if left < min(1.0, timeout / 2):
            self._idle.put(worker)
            raise RenderError("文书排版繁忙，请稍后再试")
        try:
            return worker.run(job, min(left, timeout), limit=timeout)
        finally:
            self._idle.put(worker)

    def start(self) -> None:
        """Start every worker now (issuing calls this before it takes the number and the write lock)."""
        for worker in self._workers:
            worker.ensure_started()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()


_pools: dict[tuple[int, str, int, int], RenderPool] = {}
_pools_lock = threading.Lock()


def pool(size: int = 1, fonts_dir: Path | None = None, memory_mb: int = 4096) -> RenderPool:
    """This process's pool for these settings (made on first use, i.e. after any fork)."""
    key = (os.getpid(), str(fonts_dir or ""), size, memory_mb)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = RenderPool(size, fonts_dir, memory_mb)
        return _pools[key]


def start_in_background(size: int = 1, fonts_dir: Path | None = None, memory_mb: int = 4096) -> threading.Thread:
    """Start (and warm) this process's pool in a daemon thread: a gunicorn worker serves other pages at
    once, and a document request meanwhile waits for the start it would otherwise have done itself
    (``Worker`` starts under a lock). A failure is left for the first document to report."""
    def run() -> None:
        try:
            pool(size, fonts_dir, memory_mb).start()
        except Exception:  # noqa: BLE001 - see above
            log.warning("文书排版进程未能在启动时预热", exc_info=True)

    thread = threading.Thread(target=run, name="document-render-start", daemon=True)
    thread.start()
    return thread


@atexit.register
def _close_all() -> None:
    for p in _pools.values():
        p.close()

"""Browser fixtures: Debian's Chromium driven by Playwright against the real app served on a port.

The app runs in a background thread of the test process (werkzeug's threaded server) on the fresh
test database of ``make_app`` (SQLite, or PostgreSQL when TEST_DATABASE_URL is set).

No browser: the tests are skipped on a workstation, but fail when ``CI`` is set, so that a CI
image without Chromium cannot turn the browser tests into a silent green.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from server.extensions import db
from tests.conftest import _seed_org_and_users

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests must run, not be skipped", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def e2e_browser() -> Iterator[Any]:
    """One Chromium per test module (module scope: another module may start its own Playwright)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"the Playwright package is not installed: {exc}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    app: Flask
    url: str

    def create_record(self, form_id: str, data: dict[str, Any], username: str = "clerk") -> str:
        """Save a record directly through the records service; returns its number."""
        import sqlalchemy as sa

        from server.auth.models import User
        from server.records import service

        with self.app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            number = service.create_record(form_id, data, user).number
            db.session.remove()
        return number


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` (with the conftest org and users) on a free port in a background thread."""
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        db.session.remove()
    with serve_app(app) as url:
        yield LiveServer(app, url)


def shipped_app(make_app: Any, tmp_path: Path, users: Any) -> Flask:
    """An app on a copy of the shipped configuration (``tmp_path/config``; the demo org tree is synced by
    the registry) with ``users`` created: (username, role, org code, display name), password PASSWORD."""
    import shutil

    from server.auth.service import create_user
    from server.settings import PROJECT_ROOT
    from tests.conftest import PASSWORD

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    with app.app_context():
        for username, role, org, label in users:
            create_user(username, PASSWORD, role=role, org_code=org, display_name=label)
        db.session.remove()
    return app


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Serve ``app`` as it is (its own org and users) on a free port in a background thread; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(make_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with serve(make_app()) as live:
        yield live


@pytest.fixture
def page(e2e_browser, live_server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) on the live server; fails the test on script errors."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = e2e_browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        # 422 pages (a form with errors) log "Failed to load resource"; that is expected.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")  # e.g. a CSP violation

    opened.on("console", on_console)
    yield opened
    context.close()
    assert problems == [], problems

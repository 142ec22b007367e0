"""The key-area rectification server (社会治安重点地区排查整治): app factory.

create_app: settings → configuration specs (refuse to serve invalid configuration) → extensions →
blueprints → CLI → what every request passes through (``server.http``: errors, input checks, caching).
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from server.errors import ConfigInvalid
from server.http import init_http
from server.ids import MAX_ID
from server.settings import Settings

log = logging.getLogger(__name__)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env()
    for key, value in (overrides or {}).items():
        setattr(settings, key, value)
    app = Flask(__name__, instance_path=str(settings.instance_dir),
                template_folder="web/templates", static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # any JSON or form post (a full ledger form is ~0.6 MB); sheets: admin/units.py
        SERVER_SETTINGS=settings,
    )
    if settings.database_url.startswith("sqlite:///"):
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    app.url_map.converters["int"] = DatabaseId  # before any route is added
    _init_config(app, settings)
    _init_extensions(app)
    _subscribe()
    _register_blueprints(app)
    init_http(app)  # after the blueprints: its input checks run after the login guard
    return app


def _subscribe() -> None:
    """Wire the seam: records publish; workflows (in the save's transaction) and rules (after the
    commit) subscribe. Idempotent per process."""
    from server.flow import chains
    from server.flow.service import subscribe_events as flow_events
    from server.records.service import subscribe_events as records_events
    from server.rules.service import subscribe_events as rules_events

    chains.install()
    flow_events()
    rules_events()
    records_events()


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route: ASCII digits naming a 64-bit database id.

    A number past 2**63 - 1 names no row; it reaches the view as 0 (no row's id either), so the route
    answers its own 404 for every method and the database never sees an out-of-range value. Refusing
    it here instead would make Werkzeug answer 405 wherever a sibling rule takes another method
    (``PUT /api/v1/records/<id>`` beside ``GET``), and ``int()`` of thousands of digits raises.
    """

    regex = r"[0-9]+"  # not ``\d``: "٣" is a digit to Python, not in a URL

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= len(str(MAX_ID)) else 0
        return number if number <= MAX_ID else 0


def _init_config(app: Flask, settings: Settings) -> None:
    """Validate configuration files before serving anything; a broken set stops the server."""
    from server.specs.registry import Registry

    from server.audit import release_published

    registry = Registry(settings.config_dir, settings.config_poll_seconds, settings.watch_config_files)
    registry.on_release = release_published
    app.extensions["registry"] = registry
    try:
        registry.load_pending()
    except ConfigInvalid as exc:
        if _cli_command_other_than_run():
            app.extensions["config_errors"] = exc.errors
            return
        log.error("配置无效，服务拒绝启动：\n%s", exc)
        raise


def _cli_command_other_than_run() -> bool:
    """``flask config check`` must be able to load the app to report errors; ``flask run`` must not."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False
    return "run" not in sys.argv[1:]


def _init_extensions(app: Flask) -> None:
    from server.db import install_sqlite_hooks
    from server.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    import server.auth.login  # noqa: F401  (registers the loaders)
    import server.models  # noqa: F401  (every table known to metadata and Alembic)

    with app.app_context():
        install_sqlite_hooks(db.engine)


def _migrations_dir():  # type: ignore[no-untyped-def]
    from server.settings import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"


def _register_blueprints(app: Flask) -> None:
    from server.admin import init_admin
    from server.api import bp as api_bp
    from server.cli import register_cli
    from server.web import register_web

    register_web(app)
    app.register_blueprint(api_bp)
    init_admin(app)
    register_cli(app)

"""Test fixtures: an app on a fresh database per test (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), users, logged-in clients and API tokens.

The schema is built once per session through the real Alembic migrations, so the migrations are
tested on both databases; each test then starts from an empty copy of that schema.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa
from werkzeug import security

import server.auth.service as auth_service
from server import create_app
from server.extensions import db
from server.settings import PROJECT_ROOT, normalise_database_url

# Password hashing is deliberately slow in production; tests create many users.
auth_service.generate_password_hash = functools.partial(security.generate_password_hash, method="pbkdf2:sha256:1000")

CONFIG_DIR = Path(__file__).parent / "configs" / "app"
PG_URL = os.environ.get("TEST_DATABASE_URL")


def _upgrade(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"database_url": url, "instance_dir": instance, "secret_key": "test"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def schema_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    instance = tmp_path_factory.mktemp("instance")
    if PG_URL:
        url = normalise_database_url(PG_URL)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"
    _upgrade(url, instance)
    return url


def _empty_database(schema_url: str, tmp_path: Path) -> str:
    if not schema_url.startswith("sqlite"):
        engine = sa.create_engine(schema_url)
        with engine.begin() as conn:
            tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        engine.dispose()
        return schema_url
    target = tmp_path / "test.db"
    shutil.copyfile(schema_url[len("sqlite:///"):], target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(schema_url: str, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build apps on one fresh database (several apps = several processes sharing it)."""
    url = _empty_database(schema_url, tmp_path)
    apps = []

    def build(**overrides: Any):  # type: ignore[no-untyped-def]
        settings = {"database_url": url, "instance_dir": tmp_path / "instance", "secret_key": "test",
                    "config_dir": CONFIG_DIR, "config_poll_seconds": 0.0, "watch_config_files": False}
        settings.update(overrides)
        app = create_app(settings)
        app.config["TESTING"] = True
        apps.append(app)
        with app.app_context():
            app.extensions["registry"].refresh()
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app()
    with app.app_context():
        _seed_org_and_users()
        yield app


def _seed_org_and_users() -> None:
    from server.org.models import OrgUnit

    county = OrgUnit(code="999901000000", name="示范县", kind="county")
    db.session.add(county)
    db.session.flush()
    db.session.add(OrgUnit(code="999901001000", name="城关镇", kind="township", parent_id=county.id))
    db.session.add(OrgUnit(code="999901002000", name="河口镇", kind="township", parent_id=county.id))
    db.session.commit()
    auth_service.create_user("county", "password-1", role="county_staff", org_code="999901000000",
                             display_name="县综治办")
    auth_service.create_user("clerk", "password-1", role="township_staff", org_code="999901001000",
                             display_name="城关镇综治中心")


@pytest.fixture
def user(app):  # type: ignore[no-untyped-def]
    from server.auth.models import User

    return db.session.scalar(sa.select(User).where(User.username == "clerk"))


@pytest.fixture
def client(app, user):  # type: ignore[no-untyped-def]
    """A browser session logged in as the township clerk."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


@pytest.fixture
def anon(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def token(app, user) -> str:  # type: ignore[no-untyped-def]
    return auth_service.create_token(user.username, "tests")


@pytest.fixture
def api(app, token):  # type: ignore[no-untyped-def]
    """A test client that sends the clerk's bearer token with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def csrf_token(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)

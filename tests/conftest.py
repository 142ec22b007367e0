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


def _cached_load_config() -> Callable[[Path], Any]:
    """``load_config`` remembered by the bytes of every file under the directory and the day.

    Hundreds of tests build an app on the same configuration (the shipped one, copied into a temporary
    folder or not); reading and checking it costs half a second each time, a pickle round trip a few
    milliseconds. Each test gets its own copy (nothing is shared between tests), a changed file a new
    load, and a broken configuration is loaded (and refused) every time.
    """
    import hashlib
    import pickle

    from server.specs import registry as registry_module
    from server.timeutil import local_today

    load = registry_module.load_config
    cache: dict[str, bytes] = {}

    def cached(config_dir: Path) -> Any:
        root = Path(config_dir)
        digest = hashlib.sha256(local_today().isoformat().encode())
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
        key = digest.hexdigest()
        if key not in cache:
            cache[key] = pickle.dumps(load(config_dir))
        return pickle.loads(cache[key])

    return cached


@pytest.fixture(autouse=True, scope="session")
def _config_loads_once() -> Iterator[None]:
    from server.specs import registry as registry_module

    original = registry_module.load_config
    registry_module.load_config = _cached_load_config()
    yield
    registry_module.load_config = original
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


def _fresh_request_globals() -> None:
    from flask import g

    for name in ("_login_user", "auth_method", "csrf_token"):
        g.pop(name, None)


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
        # Tests keep an app context open, and Flask reuses it for test-client requests, so ``g`` (where
        # Flask-Login caches the user) would leak from one request to the next; real requests each get
        # their own. Start every request with a clean slate, as production does.
        app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
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
        app.extensions["registry"].reload_org()
        yield app


ORG = [  # code, name, kind, parent code, serves code
    ("999901000000", "示范县", "county", None, None),
    ("999901001000", "城关镇", "township", "999901000000", None),
    ("999901001201", "东街村", "village", "999901001000", None),
    ("999901002000", "河口镇", "township", "999901000000", None),
    ("999901002201", "河西村", "village", "999901002000", None),
    ("GA", "县公安局", "county_unit", "999901000000", None),
    ("GA-PCS01", "城关派出所", "police_station", "GA", "999901001000"),
    ("SF", "县司法局", "county_unit", "999901000000", None),
]
USERS = [  # username, role, org code, display name
    ("county", "county_staff", "999901000000", "县综治办"),
    ("admin", "county_admin", "999901000000", "管理员"),
    ("leader", "leader", "999901000000", "县领导"),
    ("clerk", "township_staff", "999901001000", "城关镇综治中心"),
    ("clerk_b", "township_staff", "999901002000", "河口镇综治中心"),
    ("leader_a", "leader", "999901001000", "城关镇领导"),
    ("police", "department_staff", "GA-PCS01", "城关派出所"),
    ("justice", "department_staff", "SF", "县司法局"),
    ("officer", "info_officer", "999901001201", "东街村信息员"),
    ("officer2", "info_officer", "999901001201", "东街村信息员二"),
]
PASSWORD = "Jiangbei-qiao-88"  # passes the password rules (zxcvbn), as every real password must


def _seed_org_and_users() -> None:
    from server.org.service import add_unit, unit_by_code

    for code, name, kind, parent, serves in ORG:
        add_unit(code, name, kind, unit_by_code(parent) if parent else None,
                 unit_by_code(serves) if serves else None)
    db.session.commit()
    for username, role, org, label in USERS:
        auth_service.create_user(username, PASSWORD, role=role, org_code=org, display_name=label)


def login_session(user) -> str:  # type: ignore[no-untyped-def]
    """Open a server-side session for a user, as a login does; the id goes into a test client's
    cookie as ``session["_user_id"]`` (a bare user id there is no login)."""
    from server.auth.sessions import start

    return start(user)


def session_client(app, username: str):  # type: ignore[no-untyped-def]
    """A test client logged in as ``username`` with a browser session (cookie, CSRF tokens in pages)."""
    client = app.test_client()
    with app.app_context():
        session_id = login_session(user_named(username))
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def user_named(username: str):  # type: ignore[no-untyped-def]
    from server.auth.models import User

    return db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture
def user(app):  # type: ignore[no-untyped-def]
    return user_named("clerk")


@pytest.fixture
def client(app, user):  # type: ignore[no-untyped-def]
    """A browser session logged in as the township clerk."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user)
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

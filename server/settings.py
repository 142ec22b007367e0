"""Typed settings read from the environment, so one build runs on a laptop and in production alike."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Every knob the server reads; ``from_env`` fills it from ``os.environ``.

    The default database is a SQLite file under ``instance/`` so that ``make run`` needs nothing
    installed; production sets ``DATABASE_URL=postgresql+psycopg://...``.
    """

    database_url: str = ""
    secret_key: str = ""
    config_dir: Path = PROJECT_ROOT / "config"
    instance_dir: Path = PROJECT_ROOT / "instance"
    env: str = "production"
    config_poll_seconds: float = 2.0
    watch_config_files: bool = False
    session_cookie_secure: bool = False
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    session_idle_minutes: int = 30  # a browser session ends after this long without a request
    session_max_hours: int = 12  # and this long after login, however busy
    fonts_dir: Path = PROJECT_ROOT / "instance" / "fonts"  # a county's licensed fonts (仿宋_GB2312 …)
    document_workers: int = 1  # render processes per server process
    document_time_limit: float = 20.0  # seconds one document request may spend rendering (below gunicorn's timeout)
    document_memory_mb: int = 4096  # address-space cap of a render process
    import_max_rows: int = 5000  # data rows one Excel import into a ledger may hold (all checked before any is saved)
    import_max_mb: int = 10  # size of that uploaded .xlsx (the app's cap on other posts is 2 MB)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ.get("SERVER_ENV", os.environ.get("FLASK_ENV", "production"))
        instance_dir = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'server.db'}"
        return cls(
            database_url=normalise_database_url(database_url),
            secret_key=os.environ.get("SECRET_KEY", ""),
            config_dir=Path(os.environ.get("CONFIG_DIR", PROJECT_ROOT / "config")),
            instance_dir=instance_dir,
            env=env,
            config_poll_seconds=float(os.environ.get("CONFIG_POLL_SECONDS", "2")),
            watch_config_files=_bool(os.environ.get("WATCH_CONFIG"), default=env == "development"),
            session_cookie_secure=_bool(os.environ.get("SESSION_COOKIE_SECURE")),
            login_max_failures=int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
            login_lock_minutes=int(os.environ.get("LOGIN_LOCK_MINUTES", "15")),
            session_idle_minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
            session_max_hours=int(os.environ.get("SESSION_MAX_HOURS", "12")),
            fonts_dir=Path(os.environ.get("FONTS_DIR", instance_dir / "fonts")),
            document_workers=int(os.environ.get("DOCUMENT_WORKERS", "1")),
            document_time_limit=float(os.environ.get("DOCUMENT_TIME_LIMIT", "20")),
            document_memory_mb=int(os.environ.get("DOCUMENT_MEMORY_MB", "4096")),
            import_max_rows=int(os.environ.get("IMPORT_MAX_ROWS", "5000")),
            import_max_mb=int(os.environ.get("IMPORT_MAX_MB", "10")),
        )

    def resolved_secret_key(self) -> str:
        """The configured key, or one kept in ``instance/secret_key`` so sessions survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and select the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url

"""List filters that flask-admin does not have: China-time date ranges, filters by username, ids."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, IntEqualFilter
from flask_admin.model.filters import BaseDateBetweenFilter
from sqlalchemy import select

from server.auth.models import User
from server.ids import parse_id
from server.timeutil import CST


def cst_day_start(day: Any) -> datetime:
    """Midnight of a China calendar day, in UTC (how the database stores times)."""
    return datetime.combine(day, time.min, tzinfo=CST).astimezone(timezone.utc)


class CstDateBetween(BaseSQLAFilter, BaseDateBetweenFilter):
    """``from to until``, both China calendar days, inclusive: 2026-05-01 to 2026-05-01 is that whole day."""

    def __init__(self, column: Any, name: str) -> None:
        super().__init__(column, name, data_type="daterangepicker")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        column = self.get_column(alias)
        return query.filter(column >= cst_day_start(start), column < cst_day_start(end + timedelta(days=1)))

    def operation(self) -> str:
        return "介于"


class IdEqualFilter(IntEqualFilter):
    """Equal to an id. A value naming no possible id (``²``, 10**30) is dropped like any value
    flask-admin cannot read, instead of reaching PostgreSQL, which refuses it (a 500)."""

    def clean(self, value: str) -> int:
        ident = parse_id(value)
        if ident is None:
            raise ValueError(value)
        return ident


class UsernameEqual(BaseSQLAFilter):
    """The row's user (a ``user_id`` column) has exactly this username."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        ids = select(User.id).where(User.username == value.strip())
        return query.filter(self.get_column(alias).in_(ids))

    def operation(self) -> str:
        return "等于"


class UsernameLike(BaseSQLAFilter):
    """The row's user has a username or display name containing the text."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        text = f"%{value.strip()}%"
        ids = select(User.id).where(User.username.ilike(text) | User.display_name.ilike(text))
        return query.filter(self.get_column(alias).in_(ids))

    def operation(self) -> str:
        return "包含"

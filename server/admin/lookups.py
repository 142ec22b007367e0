"""Names behind ids (users, org units, forms) for admin lists, loaded once per request.

The record and audit tables hold ids only; a page of 50 rows would otherwise ask the database
100 times. Views call :func:`remember_users` / :func:`remember_units` with a page's ids first
(``prefetch``); a formatter asking for an id not prefetched loads it on its own.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, g
from sqlalchemy import select

from server.auth.models import User
from server.auth.roles import ROLES
from server.extensions import db
from server.org.kinds import KINDS
from server.org.models import OrgUnit
from server.specs.models import FormVersion


def _cache(name: str) -> dict[Any, Any]:
    caches = g.setdefault("admin_lookups", {})
    return caches.setdefault(name, {})


def remember_users(ids: Iterable[int | None]) -> None:
    cache = _cache("users")
    missing = {i for i in ids if i is not None and i not in cache}
    if missing:
        for user in db.session.scalars(select(User).where(User.id.in_(missing))):
            cache[user.id] = user


def user_of(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    remember_users([user_id])
    return _cache("users").get(user_id)


def user_label(user_id: int | None) -> str:
    user = user_of(user_id)
    if user is None:
        return "" if user_id is None else f"#{user_id}"
    return f"{user.username}（{user.display_name}）" if user.display_name else user.username


def remember_units(ids: Iterable[int | None]) -> None:
    cache = _cache("units")
    missing = {i for i in ids if i is not None and i not in cache}
    if missing:
        for unit in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(missing))):
            cache[unit.id] = unit


def unit_of(unit_id: int | None) -> OrgUnit | None:
    if unit_id is None:
        return None
    remember_units([unit_id])
    return _cache("units").get(unit_id)


def unit_name(unit_id: int | None) -> str:
    unit = unit_of(unit_id)
    if unit is None:
        return "" if unit_id is None else f"#{unit_id}"
    return unit.name


def unit_label(unit: OrgUnit) -> str:
    """How a unit reads in a picker: name, kind and code, so that two 东街村 can be told apart."""
    kind = KINDS[unit.kind].title if unit.kind in KINDS else unit.kind
    return f"{unit.name}（{kind} {unit.code}）"


def active_units():  # type: ignore[no-untyped-def]
    """Active units in configuration order (parents before children), for pickers."""
    return db.session.query(OrgUnit).filter(OrgUnit.is_active.is_(True)).order_by(OrgUnit.id)


def unit_options() -> list[tuple[int, str]]:
    return [(unit.id, unit_label(unit)) for unit in active_units()]


def role_title(role: str | None) -> str:
    return ROLES.get(role or "", role or "")


def kind_title(kind: str | None) -> str:
    return KINDS[kind].title if kind in KINDS else (kind or "")


def form_titles() -> dict[str, str]:
    """Form id -> title: the live forms, and the last published title of forms no longer configured."""
    cache = _cache("forms")
    if not cache:
        for form_id, title in db.session.execute(select(FormVersion.form_id, FormVersion.title)
                                                 .order_by(FormVersion.form_id, FormVersion.seq)):
            cache[form_id] = title
        for form in current_app.extensions["registry"].forms():
            cache[form.id] = form.title
    return cache


def form_title(form_id: str | None) -> str:
    if not form_id:
        return ""
    return form_titles().get(form_id, form_id)


def form_options() -> list[tuple[str, str]]:
    return sorted(form_titles().items(), key=lambda item: item[0])


def post_titles() -> dict[str, str]:
    """Post id -> title (党委书记 …) of the configured org tree; empty when there is none."""
    cache = _cache("posts")
    if not cache:
        from pathlib import Path

        from server.specs.org_loader import load_org

        org, _errors = load_org(Path(current_app.extensions["registry"].config_dir))
        cache.update(org.posts if org is not None else {})
        cache.setdefault("", "")  # loaded, even when empty
    return cache

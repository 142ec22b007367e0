"""Creating users and tokens, passwords, and finding the user behind a login or a bearer token.

Everything that changes who may act as a user ends that user's browser sessions here, in the same
transaction as the change: a new password, an admin reset (which also revokes the API tokens, since
a reset means the account may be in other hands) and disabling.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from server.auth.models import ApiToken, User
from server.auth import sessions
from server.auth.passwords import password_problems
from server.auth.roles import ROLES
from server.extensions import db
from server.org.models import OrgUnit
from server.timeutil import as_aware, utcnow


class UserError(ValueError):
    """A user or token could not be created; the message is for the person at the console."""


class WrongPassword(UserError):
    """The current password given to change it was wrong."""


def create_user(username: str, password: str, *, role: str = "county_staff", org_code: str | None = None,
                display_name: str = "") -> User:
    """A new account; the password rules apply (CLI, admin and tests alike)."""
    _check_password(password, username, display_name)
    return _add_user(username, password, role, org_code, display_name)


def create_demo_user(username: str, password: str, *, role: str, org_code: str, display_name: str) -> User:
    """A demo county user (``flask demo load``): the one path that skips the password rules, because
    the demo password is published in the README for trying the system out. Such a user is marked to
    choose a password of their own at first login, which is enforced outside development."""
    return _add_user(username, password, role, org_code, display_name, must_change_password=True)


def _check_password(password: str, username: str, display_name: str = "") -> None:
    problems = password_problems(password, username, display_name)
    if problems:
        raise UserError("；".join(problems))


def _add_user(username: str, password: str, role: str, org_code: str | None, display_name: str,
              must_change_password: bool = False) -> User:
    if not username or len(username) > 64:
        raise UserError("用户名不能为空，且不超过 64 个字符")
    if role not in ROLES:
        raise UserError(f"未知角色 {role}（可用：{'、'.join(ROLES)}）")
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"用户 {username} 已存在")
    org = None
    if org_code:
        org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
        if org is None:
            raise UserError(f"找不到代码为 {org_code} 的单位")
    user = User(username=username, display_name=display_name, password_hash=generate_password_hash(password),
                role=role, org_unit_id=org.id if org else None, must_change_password=must_change_password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str, reason: str = "password") -> None:
    """Replace a password (rules apply) and end every session of the user; the caller commits.
    A user who changes their own password gets a fresh session from the view."""
    _check_password(password, user.username, user.display_name)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = False
    sessions.end_all(user, reason)


def change_own_password(user: User, old_password: str, new_password: str) -> None:
    """A user's own change: the old password first (a borrowed, unlocked browser is not enough)."""
    if not check_password_hash(user.password_hash, old_password):
        raise WrongPassword("原密码不正确")
    if old_password == new_password:
        raise UserError("新密码不能与原密码相同")
    set_password(user, new_password)
    db.session.commit()


def reset_password(user: User, password: str) -> int:
    """An administrator's reset: new password, every session ended and every API token revoked (a
    reset means the account may be in other hands). Returns the number of tokens revoked; the
    caller commits, with its audit entry."""
    set_password(user, password, reason="reset")
    return _revoke(user, utcnow())


def set_enabled(user: User, enabled: bool) -> None:
    """Enable or disable; disabling ends every session at once (tokens stop working while the user is
    disabled, see ``user_for_token``). The caller commits."""
    user.is_enabled = enabled
    if not enabled:
        sessions.end_all(user, "disabled")


@functools.cache
def _dummy_hash() -> str:
    """A hash made like real ones, checked when the username is unknown: verifying it takes as long
    as a real check, so the response time does not tell which usernames exist."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not matches or not user.is_enabled:
        return None
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(username: str, name: str = "", days: int = 365) -> str:
    """Make a token and return it in clear, once; only its hash is kept."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"用户 {username} 不存在")
    token = "ptk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token),
                            expires_at=utcnow() + timedelta(days=days)))
    db.session.commit()
    return token


#: Built once: constructing the statement on every API request cost more CPU than running it.
_TOKEN_USER = (select(User, ApiToken.expires_at).join(ApiToken, ApiToken.user_id == User.id)
               .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                      User.is_enabled.is_(True)))


def user_for_token(token: str) -> User | None:
    """The enabled user of a live (not revoked, not expired) token. One query on every API request:
    the user (with the unit) is loaded straight from the token's row, without loading the token."""
    row = db.session.execute(_TOKEN_USER, {"token_hash": _hash_token(token)}).first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at is not None and as_aware(expires_at) <= utcnow():
        return None
    return user


def revoke_tokens(user: User, when: datetime | None = None) -> int:
    count = _revoke(user, when or utcnow())
    db.session.commit()
    return count


def _revoke(user: User, when: datetime) -> int:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    count = 0
    for row in rows:
        row.revoked_at = when
        count += 1
    return count

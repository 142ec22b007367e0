"""Creating users and tokens, and finding the user behind a session or a bearer token."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server.auth.models import ApiToken, User
from server.auth.passwords import password_problems
from server.auth.roles import ROLES
from server.extensions import db
from server.org.models import OrgUnit
from server.timeutil import as_aware, utcnow



class UserError(ValueError):
    """A user or token could not be created; the message is for the person at the console."""


def create_user(username: str, password: str, *, role: str = "county_staff", org_code: str | None = None,
                display_name: str = "") -> User:
    if not username or len(username) > 64:
        raise UserError("用户名不能为空，且不超过 64 个字符")
    if role not in ROLES:
        raise UserError(f"未知角色 {role}（可用：{'、'.join(ROLES)}）")
    problems = password_problems(password, username)
    if problems:
        raise UserError("；".join(problems))
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"用户 {username} 已存在")
    org = None
    if org_code:
        org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
        if org is None:
            raise UserError(f"找不到代码为 {org_code} 的单位")
    user = User(username=username, display_name=display_name, password_hash=generate_password_hash(password),
                role=role, org_unit_id=org.id if org else None)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a password (rules apply) and end the user's other sessions; the caller commits."""
    problems = password_problems(password, user.username)
    if problems:
        raise UserError("；".join(problems))
    user.password_hash = generate_password_hash(password)
    user.session_version += 1


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_enabled or not check_password_hash(user.password_hash, password):
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


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.is_enabled:
        return None
    if row.expires_at is not None and as_aware(row.expires_at) <= utcnow():
        return None
    return row.user


def revoke_tokens(user: User, when: datetime | None = None) -> int:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    count = 0
    for row in rows:
        row.revoked_at = when or utcnow()
        count += 1
    db.session.commit()
    return count

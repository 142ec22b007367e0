"""Org units: the county, townships, villages, departments and their offices (``config/org/``).

``path`` is the materialised chain of ids (``/1/4/57/``): "this unit and everything beneath it" is a
prefix match, which both SQLite and PostgreSQL answer from an index. Units removed from
configuration are kept inactive, never deleted, because records and users still point at them.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId, JsonType
from server.extensions import db


class OrgUnit(db.Model):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    serves_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    posts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)  # 联系电话 (附注 of a 请示)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name

"""What a dashboard shows: figures with a total, an optional breakdown, and where each number leads.

Plain data shared by the page, the Excel export and the API (which serialises it as it is).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Group:
    """One line of a breakdown. ``key`` is what the drill-down asks for (a choice value, a state, a
    unit code, "" for 未填写); ``href`` is filled in by the view (URLs need a request)."""

    key: str
    label: str
    value: float
    overdue: int | None = None        # inbox figures: of ``value``, how many are past their due date
    previous: float | None = None     # sum figures with a comparison: the same period a year earlier
    target: float | None = None       # coverage: the quota the value is measured against
    href: str = ""

    @property
    def change(self) -> float | None:
        """Percentage change against ``previous`` (同比), None without a base to compare with."""
        if self.previous is None or self.previous == 0:
            return None
        return round((self.value - self.previous) / self.previous * 100, 1)


@dataclass
class Figure:
    id: str
    title: str
    kind: str
    note: str = ""
    total: float = 0
    unit: str = "条"
    groups: list[Group] = field(default_factory=list)
    rate: float | None = None        # a share in percent (满意率, 配备率), two decimals
    rate_label: str = ""
    previous: float | None = None    # comparisons: the total a year earlier
    overdue: int | None = None
    target: float | None = None
    drill: bool = True               # the records behind it can be listed here (else ``href`` leads elsewhere)
    href: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def change(self) -> float | None:
        return Group("", "", self.total, previous=self.previous).change

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "kind": self.kind, "total": self.total,
                               "unit": self.unit, "href": self.href}
        if self.note:
            out["note"] = self.note
        for name in ("rate", "previous", "overdue", "target"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.rate is not None:
            out["rate_label"] = self.rate_label
        if self.previous is not None:
            out["change"] = self.change
        out["groups"] = [_group_json(g) for g in self.groups]
        return out


def _group_json(group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"key": group.key, "label": group.label, "value": group.value, "href": group.href}
    if group.overdue is not None:
        out["overdue"] = group.overdue
    if group.previous is not None:
        out["previous"], out["change"] = group.previous, group.change
    if group.target is not None:
        out["target"] = group.target
    return out


@dataclass
class Section:
    title: str
    figures: list[Figure]


def number(value: float) -> int | float:
    """Counts as integers, sums as given (a ledger may hold decimals)."""
    return int(value) if float(value).is_integer() else round(float(value), 2)

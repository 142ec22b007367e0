"""Where each number of a dashboard leads: the records behind it, or the page that owns it.

Shared by the page, the Excel export and the API, so a figure links to the same list everywhere.
"""
from __future__ import annotations

from typing import Any

from flask import url_for

from server.stats.figures import Figure, Section
from server.stats.period import Period
from server.stats.viewpoint import Viewpoint


def query_args(vp: Viewpoint, period: Period, **more: Any) -> dict[str, Any]:
    args: dict[str, Any] = {**period.args(), **{k: v for k, v in more.items() if v not in (None, "")}}
    if vp.unit_code:
        args["unit"] = vp.unit_code
    return args


def link(figure: Figure, vp: Viewpoint, period: Period) -> Figure:
    """Put on the figure and each line the address of the records (or page) behind the number."""
    if figure.kind == "coverage":
        figure.href = url_for("coverage.page", **({"area": vp.unit.code} if vp.unit_code else {}))
        for group in figure.groups:
            group.href = url_for("coverage.page", area=group.key)
        return figure
    if figure.kind == "year_end":
        figure.href = url_for("year_end.page", year=figure.detail["year"])
        for group in figure.groups:
            group.href = figure.href
        return figure
    figure.href = url_for("dashboard.figure", figure_id=figure.id, **query_args(vp, period))
    for group in figure.groups:
        if figure.kind == "sum":
            group.href = figure.href
        else:
            group.href = url_for("dashboard.figure", figure_id=figure.id, **query_args(vp, period, key=group.key or "-"))
    return figure


def linked(sections: list[Section], vp: Viewpoint, period: Period) -> list[Section]:
    for section in sections:
        for figure in section.figures:
            link(figure, vp, period)
    return sections

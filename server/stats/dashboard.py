"""The dashboard: the configured figures (``config/dashboard.json``) counted for a reader, unit and period.

The page, the Excel export and ``GET /api/v1/stats/dashboard`` all call :func:`build`. A figure is
left out when its reader may not read the ledger it counts (a department does not see the officers'
reports), or when the view it is configured for is not the reader's.
"""
from __future__ import annotations

from typing import Any

from server.errors import NotFound
from server.records.service import registry
from server.stats import counts, panels
from server.stats.figures import Figure, Section
from server.stats.period import Period
from server.stats.viewpoint import Viewpoint


def configured() -> dict[str, Any] | None:
    """The live ``dashboard.json`` (None: this configuration has no dashboard)."""
    return registry().live.dashboard


def figure_spec(figure_id: str) -> dict[str, Any]:
    """The configuration of one figure (NotFound for an id the live configuration does not have)."""
    for section in (configured() or {}).get("sections", []):
        for figure in section["figures"]:
            if figure["id"] == figure_id:
                return figure
    raise NotFound(figure_id)


def build(vp: Viewpoint, period: Period) -> list[Section]:
    sections = []
    for section in (configured() or {}).get("sections", []):
        figures = [f for f in (compute(spec, vp, period) for spec in section["figures"]) if f is not None]
        if figures:
            sections.append(Section(section["title"], figures))
    return sections


def compute(spec: dict[str, Any], vp: Viewpoint, period: Period) -> Figure | None:
    """One figure for ``vp`` and ``period`` (None when it is not for this reader)."""
    if "views" in spec and vp.view not in spec["views"]:
        return None
    kind = next(k for k in ("count", "sum", "inbox", "documents", "coverage", "year_end") if k in spec)
    figure = Figure(spec["id"], spec["title"], kind, note=spec.get("note", ""))
    reg = registry()
    if kind == "count":
        return counts.count_figure(figure, spec["count"], vp, period, reg)
    if kind == "sum":
        return counts.sum_figure(figure, spec["sum"], vp, period, reg)
    if kind == "inbox":
        return panels.inbox_figure(figure, vp)
    if kind == "documents":
        return panels.documents_figure(figure, spec["documents"], vp, period, reg)
    if kind == "coverage":
        return panels.coverage_figure(figure, vp)
    return panels.year_end_figure(figure, vp, period)

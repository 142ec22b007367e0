"""The seed's year as demo data (``flask --app server demo load --year 2026``).

A county year that reproduces the figures of the article the project was built from (``plan``),
written through the same services a person's requests go through: records created and edited by the
records service, workflow transitions taken by the flow service, documents issued by the documents
service, rules run on every save, and the tick run for every day of the year. The year is replayed in
time order, each step "as of" its moment (:func:`server.timeutil.as_of`), so dates, deadlines,
timers, numbers and documents are those the day would have given.

One module per ledger family: ``roster`` (信息员花名册), ``intake`` (来信来访 and 群众反映治安问题),
``officers`` (信息员报送), ``inspections`` (县直部门月报), ``cases`` (案件统计), ``assessments`` (研判),
``meetings`` (联席会议) and ``areas`` (重点地区); ``loader`` puts them on one ``clock`` and runs it.
"""
from __future__ import annotations

from typing import Callable


def load_year(year: int, scale: float = 1.0, progress: Callable[[str], None] | None = None) -> str:
    """Load the demo year once; ``progress`` hears each month as the replay reaches it."""
    from server.demo_year.loader import load_year as load

    return load(year, scale, progress)

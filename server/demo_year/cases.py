"""治安案件统计台账: the police bureau's monthly counts per township, so that the year can be compared with
the one before (seed: criminal cases −21 %, public-order cases −23 % year on year, April–September).

Each month's county total of the year is exactly 79 % (criminal) and 77 % (public order) of the same
month a year before, so any run of months compares at exactly the seed's percentages, April–September
as the article says and January–November alike; the totals are shared out among the townships by
fixed weights (the town's subdistricts carry more). The year before is entered on the first working
day of the demo year (the comparison base), each month of the year on its last working day.
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date
from typing import Any

from server.demo_year.context import Context, registry
from server.demo_year.plan import CRIMINAL_CHANGE, PUBLIC_ORDER_CHANGE
from server.records.service import checked, create_records

#: County totals of the year before, January–December (multiples of 100, so the change is exact).
CRIMINAL_BEFORE = (100, 100, 100, 100, 100, 200, 200, 200, 100, 100, 100, 100)
PUBLIC_BEFORE = (200, 200, 200, 200, 300, 300, 300, 300, 200, 200, 200, 200)


def totals(year: int, month: int, this_year: int) -> tuple[int, int]:
    """(criminal, public-order) county totals of ``year``-``month``."""
    criminal, public = CRIMINAL_BEFORE[month - 1], PUBLIC_BEFORE[month - 1]
    if year == this_year:
        return criminal * (100 + CRIMINAL_CHANGE) // 100, public * (100 + PUBLIC_ORDER_CHANGE) // 100
    return criminal, public


def schedule(ctx: Context) -> None:
    townships = ctx.county.townships[:ctx.plan.case_townships] if ctx.plan.case_townships else ctx.county.townships
    codes = [t.code for t in townships]
    first = ctx.year.working(ctx.year.start)
    before = [f"{ctx.year.year - 1}-{m:02d}" for m in range(1, 12) if m <= 11]
    ctx.on(first, lambda: enter(ctx, before, codes, "录入上年各月数据，作为同比基数"), "上年案件统计", hour=15)
    for month in ctx.year.months():
        y, m = map(int, month.split("-"))
        if y == ctx.year.year - 1 and m < 12:
            continue
        last = ctx.year.working(date(y, m, monthrange(y, m)[1]), back=True)
        ctx.on(last, lambda mo=month: enter(ctx, [mo], codes, ""), f"{month}案件统计", hour=17, minute=30)


def enter(ctx: Context, months: list[str], townships: list[str], remark: str) -> None:
    """One month's (or the base year's) rows, entered by the police bureau as one batch."""
    user = ctx.staff.department("GA")
    form = registry().form("case_statistics")
    rows = []
    for month in months:
        y, m = map(int, month.split("-"))
        criminal, public = totals(y, m, ctx.year.year)
        shares = zip(townships, _share(criminal, townships, 7 * m), _share(public, townships, 11 * m + y))
        for code, c, p in shares:
            incidents = 3 * (c + p) + (int(code[-6:-3]) * 7 + m) % 9
            row: dict[str, Any] = {"month": month, "township_code": code, "criminal_cases": c, "public_order_cases": p,
                                   "police_incidents": incidents, "source": "police_system", "compiled_by": ctx.clerk("GA-stats")}
            if remark:
                row["remarks"] = remark
            rows.append(checked(form, row, user))
    create_records(form, rows, user, detail=f"案件统计 {months[0]}–{months[-1]}，{len(rows)} 条")


def _share(total: int, townships: list[str], salt: int) -> list[int]:
    """``total`` shared out by weight (largest remainders), the same townships always a little busier."""
    weights = [(3.0 if code.endswith(("001000", "002000", "003000")) else 1.0) + ((int(code[6:9]) * 13 + salt) % 7) / 10
               for code in townships]
    exact = [total * w / sum(weights) for w in weights]
    out = [int(x) for x in exact]
    for i in sorted(range(len(out)), key=lambda i: exact[i] - out[i], reverse=True)[:total - sum(out)]:
        out[i] += 1
    return out

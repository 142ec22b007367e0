"""What the demo year holds: the seed's figures (``/work/shared/seed``, the county's report) and the key
areas behind them, scaled for small test years.

The figures are the article's: township centres took 146 reports (half of them visits) that led to 5
areas; 1,242 information officers filed 289 reports, 27 of them salient problems, that led to 7 areas;
half-monthly 研判 (24 a year) and 4 joint meetings; 17 areas listed since late April, 15 accepted and
delisted, 2 in extension; criminal and public-order cases down 21 % and 23 % year on year; and the
barbecue stalls at the 陉山大道 crossroads fixed within a month by 建设局, 市场监管, 卫生 and 公安.

``scale`` below 1 keeps the same story with fewer records (the tests' small year): every area kind
keeps at least one area (the crossroads, one from each source, one extension), every ledger at least
one record; the code paths are the same.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

CRIMINAL_CHANGE = -21  # per cent, year on year (seed)
PUBLIC_ORDER_CHANGE = -23


@dataclass(frozen=True)
class Figures:
    centre_reports: int = 146
    centre_areas: int = 5
    officers: int = 1242
    officer_reports: int = 289
    salient: int = 27
    officer_areas: int = 7
    assessments: int = 24
    meetings: int = 4
    listed: int = 17
    delisted: int = 15
    extended: int = 2


SEED = Figures()

#: The four joint meetings (month, day), moved to a working day: the first in late April (listings
#: "since the end of April"), then every other month.
MEETINGS = ((4, 28), (6, 29), (8, 28), (10, 29))


@dataclass(frozen=True)
class Area:
    """One key area of the year, from the 研判 that recommends it to its acceptance.

    ``k``: the half-month (0 = first half of December before the year) whose 研判 recommends it;
    ``meeting``: which joint meeting lists it; ``apply_after``: days from listing to the application
    for acceptance; ``reports``: the reports behind it (centre reports or salient officer reports);
    ``extend``: the 座谈会 stays below the threshold and the township asks for an extension.
    No two areas of a township share a problem category: the veto rule reads an area of the same
    township and category listed within a year of another's delisting as the same problem recurring.
    A name does not repeat its village's (documents put the village before it).
    """

    key: str
    source: str  # screening | centre | officer
    name: str
    township: str
    division: str
    area_type: str
    categories: tuple[str, ...]
    description: str
    k: int
    meeting: int
    level: str
    apply_after: int
    reports: int = 0
    extend: bool = False
    measures: tuple[tuple[str, str], ...] = ()
    baseline: tuple[int, int, int] = (6, 9, 25)  # criminal, public-order cases, police incidents (3 months)


CROSSROADS = Area(
    "S1", "screening", "陉山大道与县城主街交叉口烧烤夜市", "139901001000", "139901001002", "street",
    ("public_order_chaos", "theft_robbery"),
    "路边烧烤摊占道经营、管理无序，交通秩序混乱，酒后滋事、盗窃和交通事故频发，严重影响群众安全感",
    k=7, meeting=0, level="county", apply_after=22, baseline=(9, 17, 64),
    measures=(("投资安设红绿灯，施划交通标线", "县住房和城乡建设局"),
              ("清理取缔无证烧烤摊点，规范经营时间和区域", "县市场监督管理局"),
              ("检查摊点食品卫生和从业人员健康证，取缔无证摊点", "县卫生健康局"),
              ("督促有关单位安装视频监控，夜间加强巡逻", "县公安局（城关派出所）")))

AREAS: tuple[Area, ...] = (
    CROSSROADS,
    Area("C4", "centre", "长安路老旧小区片区", "139901002000", "139901002003", "urban_village",
         ("theft_robbery", "rental_floating_population"), "老旧小区无物业管理，出租屋多，入室盗窃、电动车被盗多发",
         k=14, meeting=2, level="county", apply_after=66, reports=3, extend=True),
    Area("O2", "officer", "村西民房聚赌点周边", "139901107000", "139901107201", "complex_village",
         ("porn_gambling_drugs",), "村内民房夜间聚众赌博，放贷讨债引发纠纷",
         k=14, meeting=2, level="township", apply_after=66, reports=4),
    Area("C1", "centre", "火车站广场周边", "139901003000", "139901003005", "street",
         ("public_order_chaos",), "黑车揽客、强拉客人，夜间酒后斗殴",
         k=10, meeting=1, level="county", apply_after=70, reports=4),
    Area("O5", "officer", "沙河田桥段采砂点周边", "139901110000", "139901110201", "industry",
         ("safety_hazard", "public_order_chaos"), "河道非法采砂，采砂点之间争抢地盘、斗殴，运砂车超载",
         k=17, meeting=3, level="county", apply_after=18, reports=4, extend=True),
    Area("S2", "screening", "废弃砖厂及废品收购点周边", "139901101000", "139901101201", "complex_village",
         ("theft_robbery",), "废弃砖厂成为废品收购点，收购来路不明的电缆、农机具，周边盗窃多发",
         k=4, meeting=0, level="county", apply_after=69),
    Area("O1", "officer", "高速公路连接线工地周边", "139901103000", "139901103201", "complex_village",
         ("gang_clue",), "有人强揽工程、阻挠施工，威胁村民",
         k=13, meeting=2, level="county", apply_after=45, reports=5),
    Area("C2", "centre", "村委会东侧棋牌室", "139901102000", "139901102204", "venue",
         ("porn_gambling_drugs",), "棋牌室以打牌为名聚众赌博，夜间人员进出频繁",
         k=11, meeting=1, level="township", apply_after=56, reports=3),
    Area("S3", "screening", "金桥路网吧及游戏厅周边", "139901002000", "139901002007", "venue",
         ("campus_surroundings", "public_order_chaos"), "网吧违规接纳未成年人，周边社会青年聚集、勒索学生",
         k=5, meeting=0, level="township", apply_after=48),
    Area("O3", "officer", "南湖景区入口", "139901108000", "139901108201", "street",
         ("public_order_chaos",), "景区入口强买强卖、拉客宰客，游客投诉多",
         k=15, meeting=2, level="township", apply_after=59, reports=4),
    Area("S4", "screening", "城乡结合部出租屋集中区", "139901104000", "139901104201", "urban_rural_fringe",
         ("rental_floating_population", "theft_robbery"), "出租屋集中，流动人口未登记，盗窃、诈骗案件多",
         k=6, meeting=0, level="county", apply_after=111),
    Area("C3", "centre", "张店集市", "139901105000", "139901105203", "venue",
         ("theft_robbery",), "逢集日扒窃、诈骗多发，集市秩序混乱",
         k=13, meeting=2, level="township", apply_after=52, reports=3),
    Area("O4", "officer", "北坡养殖小区", "139901109000", "139901109201", "complex_village",
         ("theft_robbery",), "夜间盗窃牛羊，养殖户自发守夜，易引发冲突",
         k=16, meeting=3, level="county", apply_after=20, reports=4),
    Area("S5", "screening", "新集农贸市场", "139901111000", "139901111001", "venue",
         ("theft_robbery",), "农贸市场扒窃多发，摊位纠纷频繁",
         k=8, meeting=0, level="township", apply_after=76),
    Area("C5", "centre", "西山采石场周边", "139901106000", "139901106201", "industry",
         ("safety_hazard", "public_order_chaos"), "采石场爆破和运输扰民，村民与采石场多次冲突",
         k=16, meeting=3, level="county", apply_after=18, reports=3),
    Area("O6", "officer", "朱庙小学周边", "139901112000", "139901112201", "street",
         ("campus_surroundings",), "放学时段社会青年在校门口聚集，向学生索要财物",
         k=18, meeting=3, level="township", apply_after=21, reports=3),
    Area("O7", "officer", "工业园区务工人员聚居点", "139901113000", "139901113201", "urban_rural_fringe",
         ("rental_floating_population",), "工地务工人员聚居工棚，酒后斗殴，人员底数不清",
         k=19, meeting=3, level="township", apply_after=22, reports=3),
)


@dataclass(frozen=True)
class Plan:
    """The counts of one demo year at ``scale`` (1 = the seed's year)."""

    scale: float
    areas: tuple[Area, ...]
    centre_reports: int
    officer_reports: int
    officers: int | None  # None: every quota exactly (and up to the seed's total)
    assessments: tuple[tuple[int, str], ...]  # (half-month 0–23, township) of each 研判
    department_units: int | None  # None: every county unit
    case_townships: int | None  # None: every township
    meetings: int = SEED.meetings


def build(scale: float = 1.0) -> Plan:
    """The year at ``scale``: the seed's figures at 1, fewer records of every kind below."""
    if not 0 < scale <= 1:
        raise ValueError("规模应在 0 到 1 之间（1 为完整的一年）")
    if scale >= 1:
        return Plan(scale=1.0, areas=AREAS, centre_reports=SEED.centre_reports, officer_reports=SEED.officer_reports,
                    officers=None, assessments=_assessments(AREAS, SEED.assessments), department_units=None,
                    case_townships=None)
    count = max(3, min(len(AREAS), round(len(AREAS) * scale)))
    areas = tuple(_scaled(a, scale) for a in AREAS[:count])
    reports = sum(a.reports for a in areas if a.source == "centre")
    salient = sum(a.reports for a in areas if a.source == "officer")
    return Plan(scale=scale, areas=areas,
                centre_reports=max(reports + 2, round(SEED.centre_reports * scale)),
                officer_reports=max(salient + 2, round(SEED.officer_reports * scale)),
                officers=max(10, round(SEED.officers * scale)),
                assessments=_assessments(areas, round(SEED.assessments * scale)),
                department_units=max(1, round(20 * scale)), case_townships=max(1, round(17 * scale)))


#: The half-months of the 城关街道 centre's 研判 that recommend no area (the year's other 研判).
ROUTINE = (1, 4, 10, 12, 17, 22, 23, 2, 6, 8, 15, 19, 20, 21)
TOWN = "139901001000"


def _assessments(areas: tuple[Area, ...], total: int) -> tuple[tuple[int, str], ...]:
    """The 研判 of the year: each area's township in the half-month that recommends it (the seed: the
    township centres, 派出所 and departments meet every half month and address the 建议书 to the area's
    township), and routine ones of the county town's centre up to ``total``."""
    held = {(a.k, a.township) for a in areas}
    for k in ROUTINE:
        if len(held) >= total:
            break
        held.add((k, TOWN))
    return tuple(sorted(held))


def _scaled(area: Area, scale: float) -> Area:
    return replace(area, reports=max(1, round(area.reports * scale))) if area.reports else area

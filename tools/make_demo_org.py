"""Generate the demo county's org tree: ``config/org/posts.json`` and ``config/org/units.json``.

示范县 (code 139901000000) matches the seed article's figures: 17 township-level units (14 镇, 3 街道),
318 administrative villages, and enough communities and subordinate units of county departments that the
information-officer quota (3 per village, 2 per community, 1 per subordinate unit) is exactly 1,242.
Every name and telephone number is fictional. The output is deterministic (fixed tables, one seeded generator), so running
this again changes nothing unless this file changed.

    .venv/bin/python tools/make_demo_org.py            # (re)write config/org/
    .venv/bin/python tools/make_demo_org.py --check    # exit 1 if config/org/ is not what this generates
"""
from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from server.specs.model import OrgUnitSpec
from server.specs.org_loader import format_posts_json, format_units_json

ROOT = Path(__file__).resolve().parent.parent
COUNTY_CODE = "139901000000"
COUNTY_NAME = "示范县"
SEED = 20260501

POSTS = {
    "party_secretary": "党委书记",
    "deputy_secretary": "党委副书记（综治中心主任）",
    "office_director": "综治办主任",
    "unit_head": "单位负责人",
    "station_head": "所长",
    "village_secretary": "村（社区）党组织书记",
}

# (GB/T 10114 segment, name, villages, communities). 街道 001–099, 镇 100–199.
TOWNSHIPS = [
    ("001", "城关街道", 0, 28),
    ("002", "东城街道", 0, 27),
    ("003", "西城街道", 0, 25),
    ("101", "河口镇", 26, 2),
    ("102", "青山镇", 24, 0),
    ("103", "柳林镇", 19, 0),
    ("104", "石桥镇", 27, 0),
    ("105", "白水镇", 22, 0),
    ("106", "大营镇", 18, 0),
    ("107", "杨庄镇", 25, 0),
    ("108", "南湖镇", 21, 0),
    ("109", "北岭镇", 23, 0),
    ("110", "双河镇", 20, 0),
    ("111", "新集镇", 28, 2),
    ("112", "龙泉镇", 17, 0),
    ("113", "马店镇", 24, 0),
    ("114", "高岗镇", 24, 0),
]

# County departments (县直单位): (code, name, [unit_branch names]). Police stations, 司法所 and 市场监管所
# (one per township-level unit) are added below for GA, SF and SCJG.
TOWN_SCHOOLS = [f"{name}中心学校" for _, name, villages, _ in TOWNSHIPS if villages] + [
    f"{name[:-2]}小学" for _, name, villages, _ in TOWNSHIPS if not villages]
TOWN_CLINICS = [f"{name}卫生院" for _, name, villages, _ in TOWNSHIPS if villages]
COUNTY_UNITS: list[tuple[str, str, list[str]]] = [
    ("ZFW", "县委政法委（县综治办）", []),
    ("XCB", "县委宣传部", []),
    ("GA", "县公安局", ["刑事侦查大队", "治安管理大队", "国内安全保卫大队", "网络安全保卫大队", "交通警察大队"]),
    ("SF", "县司法局", []),
    ("SCJG", "县市场监督管理局", []),
    ("JY", "县教育局", [
        "县第一中学", "县第二中学", "县第三中学", "县职业技术教育中心", "县实验小学", "县第二实验小学",
        "县特殊教育学校", "县实验幼儿园", *TOWN_SCHOOLS]),
    ("ZJ", "县住房和城乡建设局", ["县建设工程质量安全监督站", "县房屋征收服务中心"]),
    ("WJ", "县卫生健康局", ["县人民医院", "县中医医院", "县妇幼保健院", "县疾病预防控制中心", *TOWN_CLINICS]),
    ("JT", "县交通运输局", ["县公路管理段", "县交通运输综合执法大队", "县汽车客运站"]),
    ("XF", "县信访局", []),
    ("MZ", "县民政局", ["县社会福利院", "县救助管理站", "县殡仪馆"]),
    ("FFB", "县防范办", []),
    ("PTB", "县矛盾纠纷排查调处办公室", []),
    ("RS", "县人力资源和社会保障局", ["县劳动保障监察大队", "县公共就业服务中心"]),
    ("ZRZY", "县自然资源局", []),
    ("WL", "县文化和旅游局", ["县文化馆", "县图书馆", "县文化市场综合执法大队"]),
    ("YJ", "县应急管理局", ["县应急管理综合行政执法大队"]),
    ("CG", "县城市管理局", ["城关执法中队", "东城执法中队", "西城执法中队"]),
    ("NY", "县农业农村局", ["县农业综合行政执法大队", "县农业技术推广中心"]),
    ("SL", "县水利局", ["县水库管理所", "县河道管理所"]),
]
# Township offices of departments: (department code, code infix, name suffix).
STATIONS = [("GA", "PCS", "派出所", "police_station"), ("SF", "SFS", "司法所", "dept_office"),
            ("SCJG", "SJS", "市场监督管理所", "dept_office")]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴"
    "夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN_NAMES = (
    "建国 志强 文华 秀英 海军 明丽 玉兰 春梅 晓东 红霞 永刚 德胜 桂芳 金凤 立新 宏伟 振华 俊杰 丽娟 淑珍 国庆 学军 "
    "春生 晓燕 爱民 卫东 建华 建军 志刚 志明 海燕 海涛 红梅 丽华 丽萍 秀兰 秀梅 桂英 玉梅 玉珍 文杰 文斌 文静 国强 "
    "国华 国平 军 伟 勇 杰 涛 斌 磊 超 鹏 华 平 刚 强 辉 明 静 敏 燕 艳 娟 霞 芳 丽 军辉 晓明 晓军 晓峰 晓丽 "
    "利民 爱华 爱国 少华 新民 新华 保国 振国 长青 春华 秋菊 冬梅 雪梅 凤英 凤兰 淑华 淑英 宝山 福生 满仓 有才"
).split()
VILLAGE_SUFFIXES = ("庄", "家庄", "营", "屯", "店", "寨", "集", "楼", "湾", "洼", "岗", "桥", "庙", "坊", "堡", "沟")
COMMUNITY_NAMES = (
    "东风 建设 人民 幸福 和平 文化 解放 光明 新华 朝阳 胜利 团结 振兴 花园 滨河 锦绣 育才 府前 站前 鼓楼 钟楼 南关 "
    "北关 东关 西关 新城 翠苑 康乐 丰收 永安 长安 安居 和谐 阳光 金桥 银河 春华 秋实 桃园 杏林 文昌 龙湖 凤凰 明珠 "
    "华苑 迎宾 商贸 工农 红旗 前进 民主 友谊 北苑 南苑 东苑 西苑 中心 沿河 湖滨 铁路 电力 纺织 化工 机械 粮贸 供销 "
    "邮电 学府 书院 青年 园丁 泰和 嘉禾 瑞丰 宏达 振华 兴盛 利民 惠民 安康 福寿 河畔 广场 体育 政通 人和"
).split()


class Names:
    """Fictional names from fixed tables and one seeded generator; never the same name twice."""

    def __init__(self, seed: int = SEED):
        self.random = random.Random(seed)
        self.people: set[str] = set()
        villages = list(dict.fromkeys(s + suffix for s in SURNAMES for suffix in VILLAGE_SUFFIXES))
        self.random.shuffle(villages)
        self.villages: Iterator[str] = iter(villages)
        self.communities: Iterator[str] = iter(COMMUNITY_NAMES)

    def person(self) -> str:
        while True:
            name = self.random.choice(SURNAMES) + self.random.choice(GIVEN_NAMES)
            if name not in self.people:
                self.people.add(name)
                return name

    def village(self) -> str:
        return next(self.villages) + "村"

    def community(self) -> str:
        return next(self.communities) + "社区"


def township_phone(segment: str) -> str:
    """The fictional 联系电话 of a township-level unit (its 综治中心), from its segment: 城关街道 (001)
    0311-80016801, 河口镇 (101) 0311-81016801. Not from the seeded generator, so names stay as they were."""
    return f"0311-8{segment}6801"


def build() -> list[OrgUnitSpec]:
    """Every unit of the demo county, parents first: the county, each township followed by its
    communities and villages, then each county department followed by its subordinate units."""
    names = Names()
    units = [OrgUnitSpec(COUNTY_CODE, COUNTY_NAME, "county")]
    for segment, name, villages, communities in TOWNSHIPS:
        code = f"{COUNTY_CODE[:6]}{segment}000"
        kind = "subdistrict" if name.endswith("街道") else "township"
        posts = {post: names.person() for post in ("party_secretary", "deputy_secretary", "office_director")}
        units.append(OrgUnitSpec(code, name, kind, COUNTY_CODE, posts=posts, phone=township_phone(segment)))
        serials = [f"{n:03d}" for n in range(1, communities + 1)]
        units += [OrgUnitSpec(code[:9] + serial, names.community(), "community", code,
                              posts={"village_secretary": names.person()}) for serial in serials]
        serials = [f"{n:03d}" for n in range(201, 201 + villages)]
        units += [OrgUnitSpec(code[:9] + serial, names.village(), "village", code,
                              posts={"village_secretary": names.person()}) for serial in serials]
    township_units = [u for u in units if u.kind in ("township", "subdistrict")]
    for dept, dept_name, branches in COUNTY_UNITS:
        units.append(OrgUnitSpec(dept, dept_name, "county_unit", COUNTY_CODE, posts={"unit_head": names.person()}))
        for number, town in enumerate(township_units, start=1):
            for station_dept, infix, suffix, kind in STATIONS:
                if station_dept == dept:
                    stem = town.name.removesuffix("街道").removesuffix("镇")
                    units.append(OrgUnitSpec(f"{dept}-{infix}{number:02d}", stem + suffix, kind, dept,
                                             serves=town.code, posts={"station_head": names.person()}))
        units += [OrgUnitSpec(f"{dept}-{number:02d}", branch, "unit_branch", dept,
                              posts={"unit_head": names.person()})
                  for number, branch in enumerate(branches, start=1)]
    return units


def render() -> dict[str, str]:
    """The files to write, relative to the configuration directory."""
    return {"org/posts.json": format_posts_json(POSTS), "org/units.json": format_units_json(build())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成示范县的组织机构配置（config/org/）")
    parser.add_argument("--config-dir", type=Path, default=ROOT / "config", help="配置目录（默认 config/）")
    parser.add_argument("--check", action="store_true", help="只检查现有文件是否与生成结果一致")
    args = parser.parse_args(argv)
    stale = []
    for relative, text in render().items():
        path = args.config_dir / relative
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"与生成结果不一致：{'、'.join(stale)}（运行 tools/make_demo_org.py 重新生成）", file=sys.stderr)
        return 1
    print("已是最新" if not stale else f"已写入：{'、'.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

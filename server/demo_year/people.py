"""The demo year's people: invented names, identity numbers and phone numbers from a fixed random seed
(the same year every time), and the staff who act in it.

No real person: names are drawn from common surnames and given-name characters, identity numbers carry
the demo county's own division code (139901, not a real county) with a valid GB 11643 check character,
and mobile numbers fall in a 139-3112 block like the rest of the demo. The staff are one user per
township centre, 派出所 and county department that acts in the year, created the way the demo users
are (``server.demo``), with the demo password; existing users of the same role and unit are reused.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from server.auth.models import User
from server.auth.service import create_demo_user
from server.demo import DEMO_PASSWORD
from server.extensions import db
from server.forms.formats import id_check_char
from server.org.models import OrgUnit

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
            "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志永海东峰振兴成文亮庆春生德福"
FEMALE = "芳娜敏静丽艳娟霞燕玲桂兰英华红梅琳洁雪慧莉倩婷颖秀凤珍萍晶瑶月丹云琴蓉玉荣爱新"
#: Usernames of the township centres' clerks, by township name (the existing demo users keep theirs).
TOWNSHIP_USERS = {
    "城关街道": "chengguan", "东城街道": "dongcheng", "西城街道": "xicheng", "河口镇": "hekou", "青山镇": "qingshan",
    "柳林镇": "liulin", "石桥镇": "shiqiao", "白水镇": "baishui", "大营镇": "daying", "杨庄镇": "yangzhuang",
    "南湖镇": "nanhu", "北岭镇": "beiling", "双河镇": "shuanghe", "新集镇": "xinji", "龙泉镇": "longquan",
    "马店镇": "madian", "高岗镇": "gaogang",
}


class Names:
    """Plausible invented names and numbers, repeatable from ``seed``."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self._ids: set[str] = set()
        self._phones: set[str] = set()

    def person(self, gender: str | None = None) -> tuple[str, str]:
        """(name, gender): a surname and one or two given-name characters."""
        gender = gender or self.rng.choice(("male", "female"))
        pool = MALE if gender == "male" else FEMALE
        given = "".join(self.rng.choice(pool) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given, gender

    def name(self) -> str:
        return self.person()[0]

    def id_number(self, gender: str, born_after: int = 1962, born_before: int = 2000) -> str:
        """An 18-digit identity number of the demo county: real birth date, gender digit, check character."""
        while True:
            born = date(born_after, 1, 1) + timedelta(days=self.rng.randrange((born_before - born_after) * 365))
            serial = self.rng.randrange(0, 500) * 2 + (1 if gender == "male" else 0)
            first17 = f"139901{born:%Y%m%d}{serial:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = f"1393112{self.rng.randrange(10000):04d}" if self.rng.random() < 0.5 else \
                f"13{self.rng.choice('5678')}{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def pick(self, items):  # type: ignore[no-untyped-def]
        return self.rng.choice(items)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


class Staff:
    """The users who act in the demo year, one per acting unit, found or created on first use."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], int] = {}
        self.created: list[str] = []

    def county(self) -> User:
        return self._user("county_staff", _county_code(), "county", "县综治办工作人员")

    def township(self, code: str) -> User:
        unit = _unit(code)
        return self._user("township_staff", code, TOWNSHIP_USERS.get(unit.name, f"zz{code[6:9]}"), f"{unit.name}综治中心")

    def department(self, code: str) -> User:
        """A county department's or a 派出所's clerk (``GA-PCS04`` → ``pcs04``, ``SCJG`` → ``scjg``)."""
        unit = _unit(code)
        return self._user("department_staff", code, code.split("-")[-1].lower(), unit.name)

    def officer(self, code: str) -> User:
        unit = _unit(code)
        return self._user("info_officer", code, f"xxy{code[-6:]}", f"{unit.name}信息员")

    def _user(self, role: str, code: str, username: str, label: str) -> User:
        key = (role, code)
        if key not in self._cache:
            unit = _unit(code)
            user = db.session.scalar(select(User).where(User.role == role, User.org_unit_id == unit.id)
                                     .order_by(User.id).limit(1))
            if user is None:
                taken = db.session.scalar(select(User.id).where(User.username == username))
                name = username if taken is None else f"{username}-{code.lower()}"
                user = create_demo_user(name, DEMO_PASSWORD, role=role, org_code=code, display_name=label)
                self.created.append(name)
            self._cache[key] = user.id
        return db.session.get(User, self._cache[key])


def _unit(code: str) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise LookupError(f"示范县中没有代码为 {code} 的单位")
    return unit


def _county_code() -> str:
    return db.session.scalar(select(OrgUnit.code).where(OrgUnit.kind == "county").limit(1)) or ""

"""Read ``config/org/`` (``posts.json``, ``units.json``) into an :class:`OrgSpec`, or report every problem.

The files go through the same stages as forms: JSON syntax, a meta-schema (structure only: which keys,
which JSON types), then the rules that compare units with each other (codes, parents, kinds, the
townships a station serves, posts). Every problem becomes a :class:`ConfigError` with the file, the
JSON pointer and line:column, and all of them come at once.

The rules that compare units are plain functions over unit dicts (:func:`check_units`,
:func:`check_posts`) returning *where* (unit index, field) and *what*: the file loader turns that into
``/units/17/parent`` and the spreadsheet import (:mod:`server.org.sheet`) into "第 19 行「上级代码」",
so both apply exactly the same rules. They are written defensively: values of the wrong JSON type are
the meta-schema's to report, and are skipped here.

This module also owns the layout of the files (:func:`format_units_json`, :func:`format_posts_json`),
shared by the demo generator (``tools/make_demo_org.py``) and the import's "publish as configuration".
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.org.kinds import KINDS, TOWNSHIP_LEVEL, Kind
from server.specs.jsonpos import pointer_join
from server.specs.files import load_file
from server.specs.metaschema import DRAFT_2020_12, show
from server.specs.model import OrgSpec, OrgUnitSpec

ORG_DIR = "org"
POSTS_FILE = f"{ORG_DIR}/posts.json"
UNITS_FILE = f"{ORG_DIR}/units.json"

POST_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")
UNIT_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,31}")  # codes of units without a division code (GA, GA-PCS01)
DIVISION_CODE = re.compile(r"\d{12}")             # GB/T 2260 county code + GB/T 10114 segments
COUNTY_CODE = re.compile(r"[1-9]\d{5}000000")
# 联系电话 (a 请示's 附注 prints it as written): digits, hyphens, spaces and parentheses, e.g. "0311-86012345"
# or "(0311) 86012345"; not "0311-86012345 转 12".
PHONE = re.compile(r"[0-9\- ()（）]{5,30}")

# The unit fields, and their titles in messages and as spreadsheet column headers.
FIELD_TITLES = {"code": "代码", "name": "名称", "kind": "类别", "parent": "上级代码", "serves": "服务乡镇代码",
                "phone": "联系电话"}

_ROOT_KINDS = [kind for kind in KINDS.values() if not kind.parents]
# Territorial kinds below the root, by parent: (segment start, segment end, what the segment is called).
# A township's code is its county's first 6 digits + 3 digits + "000"; a village's, its township's first 9 + 3.
_SEGMENTS = {"county": (6, 9, "乡级代码"), "township": (9, 12, "村级代码"), "subdistrict": (9, 12, "村级代码")}

_STRING = {"type": "string"}
POSTS_META_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:ledger:org-posts-meta-schema",
    "type": "object",
    "required": ["posts"],
    "properties": {"posts": {"type": "object", "additionalProperties": _STRING}},
    "additionalProperties": False,
}
UNITS_META_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:ledger:org-units-meta-schema",
    "type": "object",
    "required": ["units"],
    "properties": {"units": {"type": "array", "items": {"$ref": "#/$defs/unit"}}},
    "additionalProperties": False,
    "$defs": {
        "unit": {
            "type": "object",
            "required": ["code", "name", "kind"],
            "properties": {
                "code": _STRING, "name": _STRING, "kind": _STRING, "parent": _STRING, "serves": _STRING,
                "phone": _STRING,
                "posts": {"type": "object", "additionalProperties": _STRING},
            },
            "additionalProperties": False,
        },
    },
}
POSTS_META_VALIDATOR = Draft202012Validator(POSTS_META_SCHEMA)
UNITS_META_VALIDATOR = Draft202012Validator(UNITS_META_SCHEMA)


class UnitProblem(NamedTuple):
    """One problem of one unit: ``index`` in the unit list (None: the list as a whole), the field
    (a key of :data:`FIELD_TITLES`, ``"posts"`` with ``key`` = the post id, or ``""`` for the unit itself)."""

    index: int | None
    field: str
    message: str
    key: str | None = None


def _where_in_file(index: int) -> str:
    return f"第 {index + 1} 个单位（/units/{index}）"


def _text(value: Any) -> str | None:
    """A string field's value; None when absent or not a string (the meta-schema reports the latter)."""
    return value if isinstance(value, str) else None


def _ref(value: Any) -> str | None:
    """An optional value (parent, serves, phone): an empty string counts as not given."""
    return value if isinstance(value, str) and value != "" else None


def _kind_titles(kind_ids: Iterable[str]) -> str:
    return "或".join(KINDS[k].title for k in kind_ids)


def _kind_choices() -> str:
    return "、".join(f"{k.id}（{k.title}）" for k in KINDS.values())


def check_posts(posts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(post id, message)`` for every problem of the post vocabulary (``posts.json``'s ``posts``)."""
    problems: list[tuple[str, str]] = []
    first_title: dict[str, str] = {}
    for post_id, title in posts.items():
        if not POST_ID.fullmatch(post_id):
            problems.append((post_id, f"职务 id 应匹配 ^{POST_ID.pattern}$，实际为 {show(post_id)}"))
        if not isinstance(title, str):
            continue
        if not title.strip():
            problems.append((post_id, "职务名称不能为空"))
        elif title.strip() in FIELD_TITLES.values():
            problems.append((post_id, f"职务名称不能与固定列名（{'、'.join(FIELD_TITLES.values())}）相同，实际为 {show(title)}"))
        elif title.strip() in first_title:
            problems.append((post_id, f"职务名称 {show(title)} 与职务 {first_title[title.strip()]} 重复"))
        else:
            first_title[title.strip()] = post_id
    return problems


def check_units(units: Sequence[Any], posts: Mapping[str, str] | None,
                where: Callable[[int], str] = _where_in_file) -> list[UnitProblem]:
    """Every problem of a unit list (plain dicts with the keys of ``units.json``), in no particular order.

    ``posts`` is the post vocabulary (id -> title), or None when it could not be read (post ids are then
    not checked, so one broken file does not cascade). ``where(index)`` names another unit in a message:
    "第 4 个单位（/units/3）" for the file, "第 5 行" for a spreadsheet.
    """
    return _UnitChecks(units, posts, where).run()


class _UnitChecks:
    """The rules of one unit list; ``first_at`` resolves a code to the first unit carrying it."""

    def __init__(self, units: Sequence[Any], posts: Mapping[str, str] | None, where: Callable[[int], str]):
        self.records: list[Mapping[str, Any]] = [u if isinstance(u, Mapping) else {} for u in units]
        self.posts = posts
        self.where = where
        self.problems: list[UnitProblem] = []
        self.first_at: dict[str, int] = {}
        self.kinds = [KINDS.get(u["kind"]) if isinstance(u.get("kind"), str) else None for u in self.records]

    def add(self, index: int | None, field: str, message: str, key: str | None = None) -> None:
        self.problems.append(UnitProblem(index, field, message, key))

    def run(self) -> list[UnitProblem]:
        for index, unit in enumerate(self.records):
            code = _text(unit.get("code"))
            if code == "":
                self.add(index, "code", "代码不能为空")
            elif code is not None and code in self.first_at:
                self.add(index, "code", f"代码 {code} 重复：与{self.where(self.first_at[code])}相同")
            elif code is not None:
                self.first_at[code] = index
        roots: list[int] = []
        sibling_names: dict[tuple[str | None, str], int] = {}
        for index, unit in enumerate(self.records):
            kind = self.kinds[index]
            self._kind(index, _text(unit.get("kind")), kind)
            name = _text(unit.get("name"))
            if name is not None and not name.strip():
                self.add(index, "name", "名称不能为空")
            elif name is not None:
                sibling = (_ref(unit.get("parent")), name.strip())
                if sibling in sibling_names:
                    self.add(index, "name", f"名称 {show(name)} 与同一上级下的{self.where(sibling_names[sibling])}重复")
                sibling_names.setdefault(sibling, index)
            if kind is not None and not kind.parents:
                roots.append(index)
            parent_at = self._parent(index, unit, kind)
            code = _text(unit.get("code"))
            if kind is not None and code:
                problem = _code_problem(code, kind, self.records[parent_at] if parent_at is not None else None)
                if problem:
                    self.add(index, "code", problem)
            self._serves(index, _ref(unit.get("serves")), kind)
            self._phone(index, _ref(unit.get("phone")))
            self._posts(index, unit.get("posts"))
        root_titles = _kind_titles(k.id for k in _ROOT_KINDS)
        if not roots:
            self.add(None, "", f"缺少根单位：应有且只有一个类别为{root_titles}的单位")
        for index in roots[1:]:
            self.add(index, "kind", f"只能有一个根单位（{root_titles}），{self.where(roots[0])}已是根单位")
        return self.problems

    def _kind(self, index: int, kind_id: str | None, kind: Kind | None) -> None:
        if kind_id == "":
            self.add(index, "kind", "类别不能为空")
        elif kind_id is not None and kind is None:
            self.add(index, "kind", f"类别应为 {_kind_choices()} 之一，实际为 {show(kind_id)}")

    def _parent(self, index: int, unit: Mapping[str, Any], kind: Kind | None) -> int | None:
        """Check the parent (exists, comes earlier, of a kind this kind may sit under); its index if valid."""
        parent, code = _ref(unit.get("parent")), _text(unit.get("code"))
        if kind is not None and not kind.parents:
            if parent is not None:
                self.add(index, "parent", f"{kind.title}是根单位，不应有上级代码，实际为 {show(parent)}")
        elif unit.get("parent") in (None, ""):
            if kind is not None:
                self.add(index, "parent", f"缺少上级代码（{kind.title}的上级应为{_kind_titles(kind.parents)}）")
        elif parent is None:
            pass  # not a string: the meta-schema says so
        elif parent == code:
            self.add(index, "parent", f"上级代码不能是本单位自己的代码 {parent}")
        elif parent not in self.first_at:
            self.add(index, "parent", f"找不到上级单位 {parent}")
        elif self.first_at[parent] > index:
            self.add(index, "parent", f"上级单位 {parent} 应排在本单位之前，实际在{self.where(self.first_at[parent])}")
        else:
            parent_kind = self.kinds[self.first_at[parent]]
            if kind is not None and parent_kind is not None and parent_kind.id not in kind.parents:
                self.add(index, "parent", f"{kind.title}的上级应为{_kind_titles(kind.parents)}，"
                                          f"实际 {parent} 是{parent_kind.title}")
                return None
            return self.first_at[parent]
        return None

    def _serves(self, index: int, serves: str | None, kind: Kind | None) -> None:
        """The township a police station or a department's township office serves; nobody else names one."""
        if kind is None:
            return
        if not kind.serves_township:
            if serves is not None:
                self.add(index, "serves", f"{kind.title}不服务乡镇，不应填写服务乡镇代码，实际为 {show(serves)}")
        elif serves is None:
            self.add(index, "serves", f"缺少服务乡镇代码（{kind.title}应写明所服务的乡镇或街道）")
        elif serves not in self.first_at:
            self.add(index, "serves", f"找不到服务乡镇 {serves}")
        else:
            served = self.kinds[self.first_at[serves]]
            if served is not None and served.id not in TOWNSHIP_LEVEL:
                self.add(index, "serves", f"服务乡镇应为{_kind_titles(TOWNSHIP_LEVEL)}，实际 {serves} 是{served.title}")

    def _phone(self, index: int, phone: str | None) -> None:
        """An optional 联系电话 (the 附注 of a 请示 prints it): digits, hyphens, spaces, parentheses."""
        if phone is None:
            return
        if not PHONE.fullmatch(phone) or not any(c.isdigit() for c in phone):
            self.add(index, "phone", f"联系电话只能含数字、连字符、空格和括号，5–30 个字符（如 0311-86012345），"
                                     f"实际为 {show(phone)}")

    def _posts(self, index: int, unit_posts: Any) -> None:
        if not isinstance(unit_posts, Mapping):
            return
        for post_id, holder in unit_posts.items():
            if self.posts is not None and post_id not in self.posts:
                known = "、".join(f"{pid}（{title}）" for pid, title in self.posts.items()) or "无"
                self.add(index, "posts", f"未知的职务 {show(post_id)}（已定义的职务：{known}）", post_id)
            elif isinstance(holder, str) and not holder.strip():
                title = self.posts[post_id] if self.posts is not None else post_id
                self.add(index, "posts", f"职务「{title}」的任职人姓名不能为空", post_id)


def _code_problem(code: str, kind: Kind, parent: Mapping[str, Any] | None) -> str | None:
    """What is wrong with a unit's code, given its kind and its parent (None unless the parent is valid)."""
    if not kind.territorial:
        if UNIT_CODE.fullmatch(code):
            return None
        return (f"{kind.title}的代码应匹配 ^{UNIT_CODE.pattern}$（大写字母开头，只含大写字母、数字和连字符），"
                f"实际为 {show(code)}")
    if not DIVISION_CODE.fullmatch(code):
        return f"{kind.title}的代码应为 12 位数字的区划代码，实际为 {show(code)}"
    if not kind.parents:
        if COUNTY_CODE.fullmatch(code):
            return None
        return f"{kind.title}的代码应为 6 位县级区划代码加 000000，实际为 {show(code)}"
    parent_code = parent.get("code") if parent is not None else None
    segment = _SEGMENTS.get(parent.get("kind")) if parent is not None else None
    if segment is None or not (isinstance(parent_code, str) and DIVISION_CODE.fullmatch(parent_code)):
        return None  # the parent is missing or wrong itself: that is reported there
    start, end, segment_name = segment
    tail = "0" * (12 - end)
    if code[:start] == parent_code[:start] and code[start:end] != "000" and code[end:] == tail:
        return None
    return (f"{kind.title}的代码应为上级代码的前 {start} 位 {parent_code[:start]} + 3 位{segment_name}（非 000）"
            f"{'+ ' + tail if tail else ''}，实际为 {show(code)}")


def load_org(config_dir: Path) -> tuple[OrgSpec | None, list[ConfigError]]:
    """The org tree of ``config_dir/org/`` and every problem found in it.

    ``(None, [])`` when there is no ``org/`` folder; ``(None, errors)`` when anything is wrong;
    otherwise ``(OrgSpec, [])`` with the units in file order.
    """
    org_dir = Path(config_dir) / ORG_DIR
    if not org_dir.is_dir():
        return None, []
    posts_doc, errors = load_file(org_dir / "posts.json", POSTS_FILE, POSTS_META_VALIDATOR, _posts_problems)
    posts = _posts_of(posts_doc)
    units_doc, units_errors = load_file(
        org_dir / "units.json", UNITS_FILE, UNITS_META_VALIDATOR, lambda doc: _units_problems(doc, posts))
    errors += units_errors
    errors.sort(key=lambda e: (e.file, e.line, e.column, e.pointer, e.message))
    if errors:
        return None, errors
    units = tuple(
        OrgUnitSpec(code=u["code"], name=u["name"], kind=u["kind"], parent=_ref(u.get("parent")),
                    serves=_ref(u.get("serves")), posts=dict(u.get("posts", {})), phone=_ref(u.get("phone")))
        for u in units_doc["units"]
    )
    return OrgSpec(posts=dict(posts or {}), units=units), []


Problem = tuple[str, str]  # (JSON pointer, message)


def _posts_of(document: Any) -> dict[str, str] | None:
    """The post vocabulary, or None when posts.json is unusable (then post ids go unchecked)."""
    if not (isinstance(document, dict) and isinstance(document.get("posts"), dict)):
        return None
    return {k: v for k, v in document["posts"].items() if isinstance(v, str)}


def _posts_problems(document: Any) -> list[Problem]:
    posts = document.get("posts") if isinstance(document, dict) else None
    if not isinstance(posts, dict):
        return []
    return [(pointer_join("/posts", post_id), message) for post_id, message in check_posts(posts)]


def _units_problems(document: Any, posts: Mapping[str, str] | None) -> list[Problem]:
    units = document.get("units") if isinstance(document, dict) else None
    if not isinstance(units, list):
        return []
    problems = []
    for problem in check_units(units, posts):
        if problem.index is None:
            pointer = "/units"
        else:
            tokens = [problem.field] if problem.field else []
            if problem.key is not None:
                tokens.append(problem.key)
            pointer = pointer_join("/units", problem.index, *tokens)
        problems.append((pointer, problem.message))
    return problems


# --- the files' layout -----------------------------------------------------------------------------


def unit_record(unit: OrgUnitSpec) -> dict[str, Any]:
    """A unit as it is written in ``units.json``: optional keys only when they hold something."""
    record: dict[str, Any] = {"code": unit.code, "name": unit.name, "kind": unit.kind}
    if unit.parent is not None:
        record["parent"] = unit.parent
    if unit.serves is not None:
        record["serves"] = unit.serves
    if unit.phone is not None:
        record["phone"] = unit.phone
    if unit.posts:
        record["posts"] = dict(unit.posts)
    return record


def format_units_json(units: Iterable[OrgUnitSpec]) -> str:
    """``units.json``'s text: pretty JSON with one unit per line, so diffs show one line per changed unit."""
    lines = [json.dumps(unit_record(unit), ensure_ascii=False) for unit in units]
    if not lines:
        return '{\n  "units": []\n}\n'
    return '{\n  "units": [\n' + ",\n".join(f"    {line}" for line in lines) + "\n  ]\n}\n"


def format_posts_json(posts: Mapping[str, str]) -> str:
    """``posts.json``'s text."""
    return json.dumps({"posts": dict(posts)}, ensure_ascii=False, indent=2) + "\n"

"""The org tree as configuration (``config/org/``) and as a spreadsheet import.

Each ``configs/org_invalid/<case>/org/`` holds one broken org configuration and ``expected.txt`` the
exact ``str(ConfigError)`` lines in ConfigInvalid's order, like ``configs/invalid/`` for forms.
The shipped demo county must match the seed article's figures.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from jsonschema import Draft202012Validator
from openpyxl import Workbook

from server.errors import ConfigInvalid
from server.org.kinds import KINDS, SUBORDINATE_UNITS
from server.org.sheet import (
    ROW, SheetError, export_csv, export_xlsx, read_sheet, sheet_rows, units_from_sheet, write_units_json,
)
from server.settings import PROJECT_ROOT
from server.specs.model import OrgSpec, OrgUnitSpec
from server.specs.org_loader import (
    POSTS_META_SCHEMA, UNITS_META_SCHEMA, check_units, format_posts_json, format_units_json, load_org,
)

CONFIGS = Path(__file__).parent / "configs"
SHIPPED = PROJECT_ROOT / "config"
INVALID_CASES = sorted(p.name for p in (CONFIGS / "org_invalid").iterdir() if p.is_dir())
REQUIRED_CASES = {
    "bad_code_format", "code_inconsistent_with_parent", "unknown_parent", "parent_wrong_kind",
    "duplicate_code", "missing_serves", "unknown_post", "json_syntax", "two_roots", "bad_phone",
}
POSTS = {"party_secretary": "党委书记", "unit_head": "单位负责人", "station_head": "所长"}
HEADER = ["代码", "名称", "类别", "上级代码", "服务乡镇代码", "党委书记", "单位负责人", "所长"]
SMALL = [
    ["139901000000", "示范县", "县", "", "", "", "", ""],
    ["139901101000", "河口镇", "乡镇", "139901000000", "", "高卫东", "", ""],
    ["139901101201", "张庄村", "行政村", "139901101000", "", "", "", ""],
    ["139901001000", "城关街道", "subdistrict", "139901000000", "", "", "", ""],
    ["139901001001", "东风社区", "社区", "139901001000", "", "", "", ""],
    ["GA", "县公安局", "县直单位", "139901000000", "", "", "方晓强", ""],
    ["GA-PCS01", "河口派出所", "派出所", "GA", "139901101000", "", "", "杜玉新"],
]


def _quota(spec: OrgSpec) -> int:
    kinds = Counter(unit.kind for unit in spec.units)
    return 3 * kinds["village"] + 2 * kinds["community"] + sum(kinds[k] for k in SUBORDINATE_UNITS)


@pytest.fixture(scope="module")
def demo() -> OrgSpec:
    spec, errors = load_org(SHIPPED)
    assert [str(e) for e in errors] == []
    assert spec is not None
    return spec


# --- the shipped demo county -------------------------------------------------------------------------


def test_demo_county_matches_the_seed_figures(demo: OrgSpec) -> None:
    kinds = Counter(unit.kind for unit in demo.units)
    assert kinds["county"] == 1
    assert (kinds["township"], kinds["subdistrict"]) == (14, 3)
    assert kinds["village"] == 318
    assert _quota(demo) == 1242
    assert kinds["county_unit"] >= 20
    townships = {u.code for u in demo.units if u.kind in ("township", "subdistrict")}
    police = [u for u in demo.units if u.kind == "police_station"]
    assert {u.serves for u in police} == townships and len(police) == len(townships)


def test_demo_county_posts_are_filled(demo: OrgSpec) -> None:
    assert {"party_secretary", "deputy_secretary", "office_director", "unit_head", "station_head",
            "village_secretary"} <= set(demo.posts)
    for unit in demo.units:
        expected = {
            "township": {"party_secretary", "deputy_secretary", "office_director"},
            "subdistrict": {"party_secretary", "deputy_secretary", "office_director"},
            "county_unit": {"unit_head"}, "police_station": {"station_head"},
        }.get(unit.kind, set())
        assert expected <= set(unit.posts), unit
        assert all(name.strip() for name in unit.posts.values())


def test_demo_codes_follow_the_division_scheme(demo: OrgSpec) -> None:
    by_code = {unit.code: unit for unit in demo.units}
    for unit in demo.units:
        if unit.kind == "township":
            assert unit.code.startswith("1399011") and unit.code.endswith("000")
        elif unit.kind == "subdistrict":
            assert unit.code.startswith("1399010") and unit.code.endswith("000")
        elif unit.kind == "village":
            assert unit.code[:9] == unit.parent[:9] and int(unit.code[9:]) >= 200
        elif unit.kind == "community":
            assert unit.code[:9] == unit.parent[:9] and 1 <= int(unit.code[9:]) <= 199
        if unit.parent is not None:
            assert unit.kind != "county" and by_code[unit.parent].kind in KINDS[unit.kind].parents


def test_demo_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    generator = _generator()
    files = generator.render()
    for relative, text in files.items():
        assert (SHIPPED / relative).read_text(encoding="utf-8") == text, f"重新运行 tools/make_demo_org.py：{relative}"
    assert generator.render() == files  # deterministic
    assert generator.main(["--config-dir", str(tmp_path), "--check"]) == 1
    assert generator.main(["--config-dir", str(tmp_path)]) == 0
    assert generator.main(["--config-dir", str(tmp_path), "--check"]) == 0


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_org", PROJECT_ROOT / "tools" / "make_demo_org.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_units_file_has_one_unit_per_line(demo: OrgSpec) -> None:
    lines = (SHIPPED / "org" / "units.json").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(demo.units) + 4
    assert json.loads(lines[2].rstrip(",")) == {"code": "139901000000", "name": "示范县", "kind": "county"}


# --- loading and its errors --------------------------------------------------------------------------


def test_no_org_folder_is_no_org(tmp_path: Path) -> None:
    assert load_org(tmp_path) == (None, [])
    assert load_org(CONFIGS / "valid") == (None, [])


@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_org_reports_exactly(case: str) -> None:
    directory = CONFIGS / "org_invalid" / case
    expected = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()
    spec, errors = load_org(directory)
    assert spec is None
    assert [str(error) for error in errors] == expected
    assert [str(error) for error in ConfigInvalid(errors).errors] == expected


def test_every_required_invalid_case_exists() -> None:
    assert REQUIRED_CASES <= set(INVALID_CASES)


def test_small_org_loads_in_file_order(tmp_path: Path) -> None:
    spec = _small_spec()
    _write_config(tmp_path, spec)
    loaded, errors = load_org(tmp_path)
    assert errors == [] and loaded == spec
    assert loaded.units[6] == OrgUnitSpec("GA-PCS01", "河口派出所", "police_station", "GA", "139901101000",
                                          {"station_head": "杜玉新"})
    assert loaded.digest == spec.digest


def test_meta_schemas_are_valid_json_schemas() -> None:
    Draft202012Validator.check_schema(POSTS_META_SCHEMA)
    Draft202012Validator.check_schema(UNITS_META_SCHEMA)


def test_check_units_names_other_units_through_where() -> None:
    units = [{"code": "139901000000", "name": "示范县", "kind": "county"},
             {"code": "139901000000", "name": "重复", "kind": "county"}]
    messages = {(p.index, p.field, p.message) for p in check_units(units, {}, where=lambda i: f"〈{i}〉")}
    assert messages == {(1, "code", "代码 139901000000 重复：与〈0〉相同"),
                        (1, "kind", "只能有一个根单位（县），〈0〉已是根单位")}


# --- spreadsheet import ------------------------------------------------------------------------------


def _small_spec() -> OrgSpec:
    spec, errors = units_from_sheet(_rows(SMALL), POSTS)
    assert errors == [] and spec is not None
    return spec


def _rows(table: list[list[str]], header: list[str] = HEADER) -> list[dict[str, object]]:
    return [{**dict(zip(header, row)), ROW: number} for number, row in enumerate(table, start=2)]


def _write_config(config_dir: Path, spec: OrgSpec) -> None:
    (config_dir / "org").mkdir(parents=True, exist_ok=True)
    (config_dir / "org" / "posts.json").write_text(format_posts_json(spec.posts), encoding="utf-8")
    write_units_json(spec, config_dir)


def _xlsx(table: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in table:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(table: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    return buffer.getvalue()


def test_xlsx_and_csv_give_the_same_spec() -> None:
    expected = _small_spec()
    assert expected.units[2] == OrgUnitSpec("139901101201", "张庄村", "village", "139901101000")
    # Excel turns typed-in codes into numbers; they must read back as the same code.
    typed = [[int(cell) if cell.isdigit() else cell for cell in row] for row in SMALL]
    from_xlsx, errors = units_from_sheet(read_sheet(_xlsx([HEADER, *typed]), "组织机构.xlsx"), POSTS)
    assert errors == [] and from_xlsx == expected
    text = _csv([HEADER, *SMALL])
    for encoded in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        from_csv, errors = units_from_sheet(read_sheet(encoded, "组织机构.CSV"), POSTS)
        assert errors == [] and from_csv == expected


def test_gb18030_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(_csv([HEADER, *SMALL]).replace("\n", "\r\n").encode("gb18030"))
    rows = read_sheet(path, path.name)
    assert rows[0] == {**dict(zip(HEADER, SMALL[0])), ROW: 2}
    spec, errors = units_from_sheet(rows, POSTS)
    assert errors == [] and spec == _small_spec()


def test_demo_round_trips_through_xlsx_csv_and_json(demo: OrgSpec, tmp_path: Path) -> None:
    for data, name in ((export_xlsx(demo), "demo.xlsx"), (export_csv(demo), "demo.csv")):
        spec, errors = units_from_sheet(read_sheet(data, name), demo.posts)
        assert errors == [] and spec == demo
    _write_config(tmp_path, demo)
    assert (tmp_path / "org" / "units.json").read_text(encoding="utf-8") == format_units_json(demo.units)
    assert (tmp_path / "org" / "units.json").read_bytes() == (SHIPPED / "org" / "units.json").read_bytes()
    assert load_org(tmp_path) == (demo, [])


def test_bad_row_names_row_and_column() -> None:
    table = [list(row) for row in SMALL]
    table[2][3] = "139901999000"  # the village's parent, on spreadsheet row 4
    data = _xlsx([HEADER, *table])
    spec, errors = units_from_sheet(read_sheet(data, "units.xlsx"), POSTS)
    assert spec is None
    assert errors == ["第 4 行「上级代码」：找不到上级单位 139901999000"]


def test_every_bad_row_is_reported_at_once() -> None:
    table = [list(row) for row in SMALL]
    table[2][0] = "13990110120"        # row 4: 11 digits
    table[4][2] = "小区"                # row 6: unknown kind
    table[6][4] = ""                    # row 8: police station without the township it serves
    table[6][7] = ""
    table.insert(3, ["", "李营村", "行政村", "139901101000", "", "", "", ""])  # row 5: no code
    table.append(["GA", "县公安局", "县直单位", "139901000000", "", "", "", ""])  # row 10: duplicate
    spec, errors = units_from_sheet(_rows(table), POSTS)
    assert spec is None
    assert errors == [
        '第 4 行「代码」：行政村的代码应为 12 位数字的区划代码，实际为 "13990110120"',
        "第 5 行「代码」：代码不能为空",
        '第 7 行「类别」：类别应为 county（县）、township（乡镇）、subdistrict（街道）、village（行政村）、'
        'community（社区）、county_unit（县直单位）、unit_branch（县直单位下属单位）、police_station（派出所）、'
        'dept_office（乡镇站所） 之一，实际为 "小区"',
        "第 9 行「服务乡镇代码」：缺少服务乡镇代码（派出所应写明所服务的乡镇或街道）",
        "第 10 行「代码」：代码 GA 重复：与第 8 行相同",
        "第 10 行「名称」：名称 \"县公安局\" 与同一上级下的第 8 行重复",
    ]


def test_blank_rows_keep_the_spreadsheet_numbering() -> None:
    table: list[list[object]] = [HEADER, *SMALL[:2], [], [None] * 3, ["139901101202", "王庄村", "行政村", "139901999000"]]
    rows = read_sheet(_xlsx(table), "units.xlsx")
    assert [row[ROW] for row in rows] == [2, 3, 6]
    assert units_from_sheet(rows, POSTS) == (None, ["第 6 行「上级代码」：找不到上级单位 139901999000"])


def test_header_problems() -> None:
    rows = _rows([["139901000000", "示范县", "县"]], header=["代码", "单位名称", "类别"])
    assert units_from_sheet(rows, POSTS) == (None, [
        "第 1 行「单位名称」：未知的列（可用的列：代码、名称、类别、上级代码、服务乡镇代码、联系电话、党委书记、单位负责人、所长）",
        "第 1 行：缺少列「名称」",
    ])
    assert units_from_sheet([], POSTS) == (None, [
        "第 1 行：缺少列「代码」", "第 1 行：缺少列「名称」", "第 1 行：缺少列「类别」",
        "表格中没有单位：第 2 行起每行应为一个单位",
    ])


def test_unreadable_sheets_raise() -> None:
    with pytest.raises(SheetError, match="不支持的文件类型 .xls"):
        read_sheet(b"", "old.xls")
    with pytest.raises(SheetError, match="无法读取 Excel 文件"):
        read_sheet(b"not a zip", "broken.xlsx")
    with pytest.raises(SheetError, match="第 1 行应为列标题"):
        read_sheet(b"\n\n", "empty.csv")
    with pytest.raises(SheetError, match="列标题「名称」出现了不止一次"):
        read_sheet("代码,名称,名称\n".encode(), "twice.csv")
    with pytest.raises(SheetError, match="第 1 行第 3 列缺少列标题"):
        read_sheet("代码,名称\nGA,县公安局,多余\n".encode(), "extra.csv")


def test_export_layout(demo: OrgSpec) -> None:
    rows = sheet_rows(demo)
    assert rows[0][:6] == ["代码", "名称", "类别", "上级代码", "服务乡镇代码", "联系电话"]
    assert rows[0][6:] == list(demo.posts.values())
    assert rows[1][:3] == ["139901000000", "示范县", "县"]
    assert rows[2][:6] == ["139901001000", "城关街道", "街道", "139901000000", "", "0311-80016801"]


def test_demo_townships_have_a_phone(demo: OrgSpec) -> None:
    """The 附注 of a 请示 names the township's contact telephone (tools/make_demo_org.py, fictional)."""
    townships = [u for u in demo.units if u.kind in ("township", "subdistrict")]
    assert len(townships) == 17 and all(u.phone and u.phone.startswith("0311-8") for u in townships)
    assert len({u.phone for u in townships}) == 17
    assert all(u.phone is None for u in demo.units if u.kind not in ("township", "subdistrict"))


def test_phones_round_trip_through_the_sheet(tmp_path: Path) -> None:
    """A 联系电话 column is read, checked and written back; export + import loses no phone."""
    header = [*HEADER[:5], "联系电话", *HEADER[5:]]
    table = [[*row[:5], "", *row[5:]] for row in SMALL]
    table[1][5] = "0311-81016801"
    table[3][5] = "(0311) 80016801"
    spec, errors = units_from_sheet(_rows(table, header), POSTS)
    assert errors == [] and spec is not None
    assert [u.phone for u in spec.units] == [None, "0311-81016801", None, "(0311) 80016801", None, None, None]
    for data, name in ((export_xlsx(spec), "org.xlsx"), (export_csv(spec), "org.csv")):
        again, errors = units_from_sheet(read_sheet(data, name), POSTS)
        assert errors == [] and again == spec
    _write_config(tmp_path, spec)
    assert '"phone": "0311-81016801"' in (tmp_path / "org" / "units.json").read_text(encoding="utf-8")
    assert load_org(tmp_path) == (spec, [])
    # a sheet without the column still imports (no phones)
    spec, errors = units_from_sheet(_rows(SMALL), POSTS)
    assert errors == [] and all(u.phone is None for u in spec.units)


def test_a_bad_phone_names_row_and_column() -> None:
    header = [*HEADER[:5], "联系电话", *HEADER[5:]]
    table = [[*row[:5], "", *row[5:]] for row in SMALL]
    table[1][5] = "0311-8101 转 12"  # row 3
    table[6][5] = "110"               # row 8
    assert units_from_sheet(_rows(table, header), POSTS) == (None, [
        '第 3 行「联系电话」：联系电话只能含数字、连字符、空格和括号，5–30 个字符（如 0311-86012345），实际为 "0311-8101 转 12"',
        '第 8 行「联系电话」：联系电话只能含数字、连字符、空格和括号，5–30 个字符（如 0311-86012345），实际为 "110"',
    ])

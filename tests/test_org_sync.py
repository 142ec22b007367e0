"""The configured org tree in the database: publishing syncs it; sheet import is all-or-nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.org.models import OrgUnit
from server.org.service import unit_by_code
from server.settings import PROJECT_ROOT


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def _units(config: Path) -> Path:
    return config / "org" / "units.json"


def test_publish_syncs_tree_paths_and_posts(make_app, config_copy):
    app = make_app(config_dir=config_copy)
    with app.app_context():
        county = unit_by_code("139901000000")
        village = unit_by_code("139901101201")
        township = unit_by_code("139901101000")
        station = unit_by_code("GA-PCS01")
        assert county.path == f"/{county.id}/" and village.path == f"{township.path}{village.id}/"
        assert station.serves_id == unit_by_code("139901001000").id
        assert township.posts["party_secretary"]
        assert township.phone == "0311-81016801" and village.phone is None  # 联系电话 (the 请示's 附注)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit)) == 560


def test_renamed_and_removed_units_after_reload(make_app, config_copy):
    app = make_app(config_dir=config_copy)
    text = _units(config_copy).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if '"139901101202"' not in line]
    text = "\n".join(lines).replace('"name": "河口镇"', '"name": "河口新镇"') + "\n"
    text = text.replace('"0311-81016801"', '"0311-81019999"').replace(', "phone": "0311-80016801"', "")
    _units(config_copy).write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.expire_all()
        assert unit_by_code("139901101000").name == "河口新镇"
        assert unit_by_code("139901101000").phone == "0311-81019999"  # a changed phone is synced …
        assert unit_by_code("139901001000").phone is None               # … and a removed one cleared
        removed = unit_by_code("139901101202")
        assert removed is not None and removed.is_active is False  # kept: records may point at it


def _sheet(rows: list[list[str]], path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_sheet_import_all_or_nothing(make_app, config_copy, tmp_path):
    app = make_app(config_dir=config_copy)
    before = _units(config_copy).read_bytes()
    runner = app.test_cli_runner()
    exported = tmp_path / "org.xlsx"
    assert runner.invoke(args=["org", "export", str(exported)]).exit_code == 0

    import openpyxl

    rows = [list(r) for r in openpyxl.load_workbook(exported).active.iter_rows(values_only=True)]
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    header = rows[0]
    name_col, parent_col, phone_col = header.index("名称"), header.index("上级代码"), header.index("联系电话")
    assert rows[2][phone_col] == "0311-80016801"  # 城关街道's phone is exported …
    rows[5][name_col] = "新名字村"
    dongcheng = next(row for row in rows if row[0] == "139901002000")
    dongcheng[phone_col] = "0311-80029999"    # … and 东城街道's changed in the sheet
    bad = [list(r) for r in rows]
    bad[9][parent_col] = "139901999000"
    failed = runner.invoke(args=["org", "import", str(_sheet(bad, tmp_path / "bad.xlsx"))])
    assert failed.exit_code == 1
    assert "第 10 行「上级代码」" in failed.output and "导入失败，未做任何改动" in failed.output
    assert _units(config_copy).read_bytes() == before
    with app.app_context():
        assert db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "新名字村")) is None

    good = runner.invoke(args=["org", "import", str(_sheet(rows, tmp_path / "good.xlsx"))])
    assert good.exit_code == 0, good.output
    assert "已导入 560 个单位" in good.output
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "新名字村")) is not None
    assert "新名字村" in _units(config_copy).read_text(encoding="utf-8")
    text = _units(config_copy).read_text(encoding="utf-8")
    assert text.count('"phone": ') == 17 and '"phone": "0311-80016801"' in text  # no phone lost
    with app.app_context():
        assert unit_by_code("139901002000").phone == "0311-80029999"

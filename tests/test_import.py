"""Excel import into a ledger (issue 12, item 10): the export's layout reads back, every row is
validated like a typed form, all rows or none, errors name row, column and rule, a dry run previews,
records are numbered, audited and enter their workflow like any, bad files get a Chinese answer."""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.records import service, workbook
from server.records.export import export_workbook
from server.records.importer import import_sheet
from server.records.models import AuditEntry, Record
from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD, csrf_token, login_session, user_named

FULL = {"reported_on": "2026-05-01", "source": "visit", "summary": "=1+1", "people": 3,
        "visitor": {"name": "王五", "age": 40}, "steps": [{"what": "约谈摊主", "due": "2026-05-10"}, {"what": "回访"}],
        "handling": "transfer", "unit": "县公安局"}
PLAIN = {"reported_on": "2026-06-02", "source": "phone", "summary": "路灯不亮"}
HEADER = ["登记日期", "来源", "事由摘要", "人数", "来访人/姓名", "处置措施"]


def sheet(*rows: list[Any], header: list[Any] | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(header if header is not None else HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def incidents() -> list[Record]:
    return list(db.session.scalars(sa.select(Record).where(Record.form_id == "incident").order_by(Record.id)))


def texts(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in result.problems]


# -- round trip, values -------------------------------------------------------------------------------
def test_an_export_imports_back_as_the_same_data(app, user):
    originals = [service.create_record("incident", data, user) for data in (FULL, PLAIN)]
    content = export_workbook(service.registry().form("incident"), originals, user)
    result = import_sheet("incident", content, user, dry_run=False, filename="去年.xlsx")
    assert result.ok, texts(result)
    assert [r.data for r in result.created] == [FULL, PLAIN]  # "'=1+1" read back as the text typed


def test_values_as_clerks_type_them(app, user):
    from datetime import datetime

    content = sheet([datetime(2026, 3, 5), "电话", "=HYPERLINK(\"x\")", 12.0, "张三", "内容：巡逻，期限：2026/4/1"],
                    ["2026年3月6日", "letter", "夜市", "", "", ""])
    result = import_sheet("incident", content, user, dry_run=False)
    assert result.ok, texts(result)
    assert [r.data for r in result.created] == [
        {"reported_on": "2026-03-05", "source": "phone", "summary": "=HYPERLINK(\"x\")", "people": 12,
         "visitor": {"name": "张三"}, "steps": [{"what": "巡逻", "due": "2026-04-01"}]},
        {"reported_on": "2026-03-06", "source": "letter", "summary": "夜市"}]


# -- validation and all or none ----------------------------------------------------------------------
def test_one_bad_row_and_nothing_is_saved_with_row_column_and_rule(app, user):
    content = sheet(["2026-05-01", "来访", "甲", 3, "", ""],
                    ["2026-05-02", "来访", "乙", 3, "", ""],
                    ["2026-02-30", "邮件", "丙", 900, "", "巡逻两次"])
    result = import_sheet("incident", content, user, dry_run=False)
    assert texts(result) == [
        "第 4 行『登记日期』：不是有效的日期（如 2026-05-01，或 Excel 日期）：“2026-02-30”",
        "第 4 行『来源』：“邮件”不是可选项（可选：来访、电话、来信）",
        "第 4 行『处置措施』：第1行应写成“内容：…，期限：…”，多行之间用“；”分隔",
    ]
    assert incidents() == [] and result.created == []
    # rows that pass the cell reading go through the records service's validation
    result = import_sheet("incident", sheet(["2026-05-01", "来访", "甲", 900, "", ""]), user, dry_run=False)
    assert len(result.problems) == 1 and result.problems[0].row == 2 and result.problems[0].column == "人数"
    assert incidents() == []


def test_columns_unknown_repeated_and_missing_are_reported_once(app, user):
    content = sheet(["来访", "甲", "x", "y"], ["电话", "乙", "x", "y"], header=["来源", "摘要", "备注", "备注"])
    result = import_sheet("incident", content, user, dry_run=True)
    assert texts(result) == ["『摘要』：不认识的列：本台账没有这个标题（请对照“导出 Excel”的第一行）",
                             "『备注』：不认识的列：本台账没有这个标题（请对照“导出 Excel”的第一行）",
                             "『备注』：列标题重复，每一列只能出现一次",
                             "『登记日期』：缺少必填的列", "『事由摘要』：缺少必填的列"]


def test_a_masked_value_cannot_be_imported(app, user):
    result = import_sheet("incident", sheet(["2026-05-01", "来访", "（保密）", 1, "", ""]), user, dry_run=True)
    assert result.problems[0].column == "事由摘要" and "保密" in result.problems[0].message


def test_dry_run_previews_and_creates_nothing(app, user):
    rows = [["2026-05-01", "来访", f"第{i}件", i + 1, "", ""] for i in range(25)]
    result = import_sheet("incident", sheet(*rows), user, dry_run=True)
    assert result.ok and result.count == 25 and len(result.preview) == 20
    assert result.columns == HEADER and result.preview[0] == ["2", "2026-05-01", "来访", "第0件", "1", "", ""]
    assert incidents() == [] and db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                                                   .where(AuditEntry.action != "config_publish")) == 0


def test_row_cap_is_a_setting(app, user):
    app.config["SERVER_SETTINGS"].import_max_rows = 2
    rows = [["2026-05-01", "来访", "甲", 1, "", ""]] * 3
    assert texts(import_sheet("incident", sheet(*rows), user, dry_run=True)) == ["数据超过 2 行的上限，请分成几个文件导入"]
    assert import_sheet("incident", sheet(*rows[:2]), user, dry_run=True).ok


# -- permission and scope -----------------------------------------------------------------------------
def test_references_are_judged_in_the_importers_scope(app, user):
    from server.errors import NotAllowed

    theirs = service.create_record("incident", PLAIN, user)  # 城关镇's record
    content = sheet([theirs.number, "转办"], header=["原登记编号", "转办要求"])
    other = user_named("clerk_b")  # 河口镇 may not refer to it
    result = import_sheet("transfer", content, other, dry_run=True)
    assert texts(result) == [f"第 2 行『原登记编号』：找不到编号为 {theirs.number} 的《测试登记簿》记录"]
    assert import_sheet("transfer", content, user, dry_run=True).ok
    with pytest.raises(NotAllowed):
        import_sheet("incident", content, user_named("leader"), dry_run=True)


# -- the one write path: numbering, audit -----------------------------------------------------------
def test_imported_records_are_numbered_on_and_audited(app, user):
    first = service.create_record("incident", PLAIN, user)
    content = sheet(["2026-05-01", "来访", "甲", 1, "", ""], ["2026-05-02", "电话", "乙", 2, "", ""])
    result = import_sheet("incident", content, user, dry_run=False, filename="台账.xlsx")
    seqs = [int(r.number.rsplit("-", 1)[1]) for r in [first, *result.created]]
    assert seqs == [1, 2, 3]
    entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
    creates = [e for e in entries if e.action == "create"]
    assert [e.subject for e in creates] == [first.number, *(r.number for r in result.created)]
    assert creates[-1].user_id == user.id and creates[-1].diff  # with the data as diff, like any create
    imports = [e for e in entries if e.action == "import"]
    assert len(imports) == 1 and imports[0].detail == "从 Excel 导入 2 条（台账.xlsx）"


def test_a_refusal_while_saving_rolls_back_every_row(app, user, monkeypatch):
    from server.errors import FieldError, ValidationFailed

    real = service.insert_record
    calls = []

    def refuse_second(form, data, who, unit):  # type: ignore[no-untyped-def]
        calls.append(data)
        if len(calls) == 2:
            raise ValidationFailed([FieldError("/summary", "流程拒绝")])
        return real(form, data, who, unit)

    monkeypatch.setattr(service, "insert_record", refuse_second)
    content = sheet(["2026-05-01", "来访", "甲", 1, "", ""], ["2026-05-02", "电话", "乙", 2, "", ""])
    result = import_sheet("incident", content, user, dry_run=False)
    assert texts(result) == ["第 3 行『事由摘要』：流程拒绝"]
    assert incidents() == []
    monkeypatch.setattr(service, "insert_record", real)
    assert [r.number.endswith("-0001") for r in import_sheet("incident", content, user, dry_run=False).created] == [True, False]


# -- files that are no ledger sheet --------------------------------------------------------------------
def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("content, expected", [
    (b"", "文件是空的"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel（.xls）"),
    ("登记日期,来源\n2026-05-01,来访\n".encode(), "只能导入 Excel 工作簿（.xlsx）"),
    (b"PK\x03\x04broken", "文件已损坏"),
    (_zip({"word/document.xml": b"<w/>"}), "压缩包中没有 Excel 工作簿"),
    (_zip({"xl/workbook.xml": b"<not-a-workbook", "[Content_Types].xml": b"<x/>"}), "文件已损坏或不是有效的 Excel 工作簿"),
])
def test_bad_files_get_a_chinese_answer(app, user, content, expected):
    result = import_sheet("incident", content, user, dry_run=True)
    assert len(result.problems) == 1 and expected in str(result.problems[0]), texts(result)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(app, user, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 4000)  # a real sheet unpacks to more than that
    result = import_sheet("incident", sheet(["2026-05-01", "来访", "甲", 1, "", ""]), user, dry_run=True)
    assert "压缩炸弹" in texts(result)[0]


# -- the page ------------------------------------------------------------------------------------------
def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def test_the_page_uploads_previews_and_confirms(app, client):
    assert "导入 Excel" in client.get("/forms/incident/").get_data(as_text=True)
    assert "导入 Excel" not in _client(app, "leader").get("/forms/incident/").get_data(as_text=True)
    assert _client(app, "leader").get("/forms/incident/import").status_code == 403
    token = csrf_token(client)
    content = sheet(["2026-05-01", "来访", "甲", 1, "", ""], ["2026-05-02", "电话", "乙", 2, "", ""])
    response = client.post("/forms/incident/import", data={"csrf_token": token, "sheet": (io.BytesIO(content), "台账.xlsx")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "共 <strong>2</strong> 条记录可以导入" in html and "确认导入 2 条" in html
    assert incidents() == []
    kept = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    folder = Path(app.instance_path) / "imports"
    assert len(list(folder.glob(f"*-{kept}.xlsx"))) == 1
    # someone else cannot confirm this file
    other = _client(app, "clerk_b")
    response = other.post("/forms/incident/import/confirm", data={"csrf_token": csrf_token(other), "token": kept})
    assert response.status_code == 302 and incidents() == []
    response = client.post("/forms/incident/import/confirm", data={"csrf_token": token, "token": kept, "filename": "台账.xlsx"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/forms/incident/")
    assert [r.data["summary"] for r in incidents()] == ["甲", "乙"]
    assert list(folder.glob("*.xlsx")) == []  # the kept file is gone
    assert "已导入 2 条记录" in client.get("/forms/incident/").get_data(as_text=True)
    response = client.post("/forms/incident/import/confirm", data={"csrf_token": token, "token": kept})
    assert response.status_code == 302 and len(incidents()) == 2  # a second confirmation imports nothing


def test_the_page_shows_every_problem_and_keeps_nothing(app, client):
    content = sheet(["2026-05-01", "来访", "甲", 1, "", ""], ["昨天", "来访", "乙", 1, "", ""])
    response = client.post("/forms/incident/import", data={"csrf_token": csrf_token(client),
                                                           "sheet": (io.BytesIO(content), "a.xlsx")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何记录" in html
    assert "第 3 行『登记日期』：不是有效的日期" in html and 'name="token"' not in html
    assert not list((Path(app.instance_path) / "imports").glob("*.xlsx"))


# -- the API ----------------------------------------------------------------------------------------------
def test_the_api_dry_run_then_import(app, api):
    content = sheet(["2026-05-01", "来访", "甲", 1, "", ""])
    response = api.post("/api/v1/forms/incident/import?dry_run=1", data={"file": (io.BytesIO(content), "a.xlsx")},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["dry_run"] is True and body["count"] == 1 and body["created"] == [] and incidents() == []
    response = api.post("/api/v1/forms/incident/import", data={"file": (io.BytesIO(content), "a.xlsx")},
                        content_type="multipart/form-data")
    assert response.status_code == 201
    created = response.get_json()["created"]
    assert [c["number"] for c in created] == [r.number for r in incidents()]


def test_the_api_refusals(app, api):
    bad = sheet(["2026-05-01", "短信", "甲", 1, "", ""])
    response = api.post("/api/v1/forms/incident/import", data={"file": (io.BytesIO(bad), "a.xlsx")},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json() == {"errors": [{"row": 2, "column": "来源", "message": "“短信”不是可选项（可选：来访、电话、来信）",
                                               "text": "第 2 行『来源』：“短信”不是可选项（可选：来访、电话、来信）"}]}
    assert api.post("/api/v1/forms/incident/import?dry_run=yes").status_code == 422
    assert api.post("/api/v1/forms/incident/import", json={}).status_code == 422
    assert api.post("/api/v1/forms/nope/import", data={"file": (io.BytesIO(bad), "a.xlsx")}).status_code == 404
    # past the app's 2 MB cap but within the import's allowance: read and refused as no sheet, not 413
    big = b"x" * (3 * 1024 * 1024)
    response = api.post("/api/v1/forms/incident/import", data={"file": (io.BytesIO(big), "a.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 422 and "只能导入 Excel" in response.get_json()["errors"][0]["message"]
    huge = b"x" * (11 * 1024 * 1024)
    response = api.post("/api/v1/forms/incident/import", data={"file": (io.BytesIO(huge), "a.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 413
    assert incidents() == []


def test_the_api_refuses_a_user_who_may_not_create(app):
    from server.auth.service import create_token

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token('leader', 'tests')}"
    response = client.post("/api/v1/forms/incident/import", data={"file": (io.BytesIO(sheet()), "a.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 403


# -- a ledger with a workflow (shipped configuration) ---------------------------------------------------
def test_imported_records_of_a_workflow_ledger_start_in_its_initial_state(make_app, tmp_path):
    from server.auth.service import create_user

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    with app.app_context():
        clerk = create_user("chengguan", PASSWORD, role="township_staff", org_code="139901001000")
        from tests.test_flow_intake import VISIT

        original = service.create_record("visit_register", VISIT, clerk)
        content = export_workbook(service.registry().form("visit_register"), [original], clerk)
        result = import_sheet("visit_register", content, clerk, dry_run=False)
        assert result.ok, texts(result)
        imported = result.created[0]
        assert imported.data == original.data
        assert imported.workflow_id == original.workflow_id and imported.workflow_id
        assert imported.state == original.state and imported.state
        assert imported.number != original.number

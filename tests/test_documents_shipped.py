"""The official documents shipped in ``config/documents/`` issued from realistic records.

Each test builds the app on the real configuration, creates records from the ledger samples
(tests/test_ledgers_config.py, moved into the configured county: 南峪镇 → 河口镇, 130121… → 139901…),
issues the document and reads the PDF back: the 发文字号 follows the document's pattern, and the text
carries the record's values as people read them (choice titles, Chinese dates), never codes, ``None``
or template syntax.

Set ``DOC_SHOTS=/tmp/doc_shots`` to keep every issued PDF there for looking at the pages.
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.errors import NotAllowed, ValidationFailed
from server.extensions import db
from server.settings import PROJECT_ROOT
from tests import pdfcheck
from tests.test_ledgers_config import SAMPLES

COUNTY = "139901000000"       # 示范县
HEKOU = "139901101000"        # 河口镇
CHENGGUAN = "139901001000"    # 城关街道


# -- records ------------------------------------------------------------------------------------------
def sample(form_id: str) -> dict[str, Any]:
    """A ledger sample placed in the configured county (names and division codes)."""
    from server.forms.formats import id_check_char

    text = json.dumps(SAMPLES[form_id], ensure_ascii=False).replace("南峪", "河口").replace("130121", "139901")
    # identity numbers moved to the county keep a valid check character (GB 11643)
    text = re.sub(r'("id_number": ")(\d{17})[\dX]"', lambda m: f'{m[1]}{m[2]}{id_check_char(m[2])}"', text)
    return json.loads(text)


def drop_missing_refs(form_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Remove reference fields naming records that do not exist (samples refer to each other)."""
    from flask import current_app

    from server.extensions import db
    from server.forms import build_form, ref_values
    from server.records.models import Record

    model = build_form(current_app.extensions["registry"].form(form_id))
    for pointer, target, value in ref_values(model, data):
        if db.session.scalar(select(Record.id).where(Record.form_id == target, Record.number == value)) is None:
            *parents, last = pointer.strip("/").split("/")
            node: Any = data
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            del node[last]
    return data


def create(form_id: str, data: dict[str, Any], user: Any) -> Any:
    from server.records.service import create_record

    data = drop_missing_refs(form_id, copy.deepcopy(data))
    if user.org_unit is not None and user.org_unit.code == CHENGGUAN:
        data = in_chengguan(data)  # a clerk files places of their own township only
    if form_id == "key_area":  # at the stage its data belongs to (tests/keyareas.py)
        from tests.keyareas import area_at, state_for

        return area_at(data, state_for(data), user)
    return create_record(form_id, data, user)


def in_chengguan(data: Any) -> Any:
    """The samples' places (河口镇苏营村) moved to 城关街道 (东风社区), keys and everything else kept."""
    places = {"division_code": "139901001001", "village_code": "139901001001", "township_code": CHENGGUAN}
    if isinstance(data, dict):
        return {k: places[k] if k in places and isinstance(v, str) else in_chengguan(v) for k, v in data.items()}
    if isinstance(data, list):
        return [in_chengguan(item) for item in data]
    return data


def key_area(user: Any, **groups: Any) -> Any:
    """The key_area sample (an assessment record made first, as its 认定 refers to one); ``groups``
    replace whole top-level groups (``None`` removes one)."""
    assessment = create("assessment", sample("assessment"), user)
    data = sample("key_area")
    data["identification"]["assessment"] = assessment.number
    # the clerk names the township as 牵头单位 (a rule fills it only when empty); the 第一责任人 is the
    # township's party secretary, whom the responsibility rule writes over what was typed
    data["responsibility"]["lead_unit"] = "河口镇"
    for name, value in groups.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return create("key_area", data, user)


def first_responsible(record: Any) -> str:
    """Set by the responsibility rules from the township's posts (config/org/units.json)."""
    return record.data["responsibility"]["first_responsible"]


# -- users --------------------------------------------------------------------------------------------
@pytest.fixture
def env(make_app):  # type: ignore[no-untyped-def]
    """The app on the real config; a county clerk and a 河口镇 clerk."""
    from server.auth.service import create_user

    app = make_app(config_dir=PROJECT_ROOT / "config")
    with app.app_context():
        county = create_user("county", "Jiangbei-qiao-88", role="county_staff", org_code=COUNTY)
        township = create_user("hekou", "Jiangbei-qiao-88", role="township_staff", org_code=HEKOU)
        chengguan = create_user("chengguan", "Jiangbei-qiao-88", role="township_staff", org_code=CHENGGUAN)
        yield {"app": app, "county": county, "township": township, "chengguan": chengguan}


# -- checks -------------------------------------------------------------------------------------------
def number_regex(doc_id: str, short: str) -> str:
    from flask import current_app

    from server.documents.service import today

    pattern = current_app.extensions["registry"].document(doc_id).document["number"]
    out = re.escape(pattern).replace(r"\{issuer_short\}", re.escape(short)).replace(r"\{year\}", str(today().year))
    return "^" + out.replace(r"\{seq\}", r"[1-9]\d*") + "$"


def issued_text(row: Any, doc_id: str, short: str, shot: str = "") -> str:
    """Check the number, the PDF and its text; return the text (whitespace removed)."""
    assert re.match(number_regex(doc_id, short), row.number), row.number
    assert row.pdf.startswith(b"%PDF")
    assert row.state == "issued" and row.pages >= 1
    if os.environ.get("DOC_SHOTS"):
        folder = Path(os.environ["DOC_SHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{shot}{doc_id}{'' if row.seq == 1 else f'_{row.seq}'}.pdf").write_bytes(row.pdf)
    pdf = pdfcheck.Pdf(row.pdf)
    try:
        text = pdf.text()
    finally:
        pdf.close()
    assert row.number in text
    for bad in ("{{", "}}", "{%", "None", "Undefined", "undefined", "True", "False"):
        assert bad not in text, bad
    codes = re.findall(r"[a-z]+_[a-z_]+", text)
    assert not codes, f"stored codes printed: {codes}"
    gaps = re.findall(r"（）|[，、；：。][，、；。]|(?<![\d-])\d{4}-\d{2}(?!\d)", text)
    assert not gaps, f"traces of missing data or unformatted dates: {gaps}"
    return text


def assert_contains(text: str, *values: str) -> None:
    missing = [v for v in values if re.sub(r"\s+", "", v) not in text]
    assert not missing, f"missing from the document: {missing}"


# -- the documents ------------------------------------------------------------------------------------
def test_recommendation_letter(env):  # type: ignore[no-untyped-def]
    """A 研判 that recommends an area registers it at 线索; the 建议书 goes to its township's party committee."""
    from tests.keyareas import area_at, issue

    assessment = create("assessment", sample("assessment"), env["township"])
    data = {k: v for k, v in sample("key_area").items()
            if k in ("name", "area_type", "township_code", "village_code", "identification", "problems")}
    data["identification"] = {"discovery_source": "assessment", "assessment": assessment.number,
                              "basis": data["identification"]["basis"]}
    record = area_at(data, "clue", env["township"])
    row = issue("recommendation_letter", env["township"], record_id=record.id)
    text = issued_text(row, "recommendation_letter", "河口")
    assert record.number not in text and assessment.number not in text  # internal ledger numbers stay out of a 公文
    assert_contains(text, "河口镇社会治安综合治理中心", "关于将河口镇东岗村废弃砖厂周边列为社会治安重点地区集中整治的建议书",
                    "河口镇党委：", "河口镇苏营村河口镇东岗村废弃砖厂周边（治安复杂村居）", "黄赌毒、盗抢",
                    "废弃砖厂夜间聚赌", "两月内聚赌警情9起", "党（工）委书记任第一责任人", "特此建议。")
    assert "联席会议：" not in text

def test_listing_notice(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    record = key_area(env["township"])
    row = issue("listing_notice", env["county"], record_id=record.id)
    text = issued_text(row, "listing_notice", "示范")
    assert_contains(text, "示范县社会治安综合治理中心", "关于对河口镇东岗村废弃砖厂周边实行挂牌督办的通知",
                    "河口镇党委、政府：", "治安复杂村居", "黄赌毒、盗抢", "废弃砖厂夜间聚赌",
                    f"河口镇党委书记{first_responsible(record)}同志为第一责任人", "河口派出所所长赵立新同志", "2026年5月29日",
                    "2026年11月30日", "县级挂牌督办", "每月报送", "10个工作日内", "90%以上",
                    "附件：挂牌督办通知书签收回执", "签收回执")
    assert record.number not in text


def test_policy_numbers_in_the_wording_come_from_parameters(make_app, tmp_path):  # type: ignore[no-untyped-def]
    """Changing parameters.json (no template edit, no restart) changes what the notice says."""
    import json
    import shutil

    from server.auth.service import create_user
    from tests.keyareas import preview

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    with app.app_context():
        county = create_user("county", "Jiangbei-qiao-88", role="county_staff", org_code=COUNTY)
        township = create_user("hekou", "Jiangbei-qiao-88", role="township_staff", org_code=HEKOU)
        record = key_area(township)
        before = pdfcheck.Pdf(preview("listing_notice", county, record_id=record.id)).text()
        assert "90%以上" in before and "10个工作日内将整治方案" in before
        path = config / "rules" / "parameters.json"
        params = json.loads(path.read_text(encoding="utf-8"))
        params["parameters"]["satisfaction_threshold"]["value"] = 85
        params["parameters"]["listing_plan_working_days"]["value"] = 7
        path.write_text(json.dumps(params, ensure_ascii=False, indent=2), encoding="utf-8")
        app.extensions["registry"].publish_files("test")
        after = pdfcheck.Pdf(preview("listing_notice", county, record_id=record.id)).text()
        assert "85%以上" in after and "7个工作日内将整治方案" in after and "90%以上" not in after


def test_rectification_report(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    record = key_area(env["township"])
    row = issue("rectification_report", env["township"], record_id=record.id)
    text = issued_text(row, "rectification_report", "河口")
    assert_contains(text, "河口镇社会治安综合治理中心", "关于河口镇东岗村废弃砖厂周边整治工作情况的报告",
                    "县社会治安综合治理中心：", "河口字〔2026〕21号", "黄赌毒、盗抢",
                    "整治措施2项，其中已完成2项", "1.清查取缔赌博窝点。责任单位：河口派出所", "落实情况：已完成",
                    "2026年6月（责任单位报送）：完成清查和监控安装", "查阅台账、实地察看、群众座谈会",
                    "合格（建议摘牌）", "刑事案件（起）", "下降3", "群防群治力量（人）", "满意率93.33%",
                    "达到90%的验收标准", "2027年9月9日", "抄送：河口镇党委")
    assert record.number not in text


def test_extension_request_uses_the_latest_extension(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue
    from tests.test_survey import participants

    data = sample("key_area")
    acceptance = {**data["acceptance"], "issues": "部分村民反映夜间巡逻频次不够。",
                  "satisfaction_survey": {"survey_date": "2026-09-05", "venue": "东岗村委会",
                                          "participants": participants(18, 6, 6)}}
    acceptance.pop("conclusion")
    delisting = {"extensions": [
        {"approved_date": "2026-09-12", "approved_by": "河口镇党委", "reason": "监控尚未联网。",
         "new_deadline": "2026-10-31"},
        {"approved_date": "2026-11-02", "approved_by": "河口镇党委",
         "reason": "座谈会满意率未达标，群众对夜间巡逻仍有意见，需继续整治。", "new_deadline": "2027-02-28"},
    ]}
    record = key_area(env["township"], acceptance=acceptance, delisting=delisting,
                      consolidation=None)
    assert record.data["acceptance"]["conclusion"] == "extended"  # set by the acceptance rules
    row = issue("extension_request", env["township"], record_id=record.id)
    text = issued_text(row, "extension_request", "河口")
    assert_contains(text, "关于河口镇东岗村废弃砖厂周边延期整治的请示", "县社会治安综合治理中心：",
                    "经第1次延期，整治期限至2026年10月31日", "满意率80%", "低于90%的验收标准",
                    "不合格（延期整治）", "部分村民反映夜间巡逻频次不够", "群众对夜间巡逻仍有意见",
                    "经河口镇党委于2026年11月2日研究同意", "延长至2027年2月28日", "第2次延期", "妥否，请批示。")
    assert "监控尚未联网" not in text


def test_delisting_notice(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    record = key_area(env["township"])
    row = issue("delisting_notice", env["county"], record_id=record.id)
    text = issued_text(row, "delisting_notice", "示范")
    assert_contains(text, "示范县社会治安综合治理中心", "关于河口镇东岗村废弃砖厂周边验收合格予以摘牌的通知",
                    "河口镇党委、政府：", "2026年5月29日被实行县级挂牌督办", "查阅台账、实地察看、群众座谈会",
                    "刑事案件由3起降至0起", "群防群治力量达到12人", "东岗村委会", "满意率93.33%",
                    "验收报告编号为验收〔2026〕7号", "决定自2026年9月10日起", "2026年9月10日至2027年9月9日为巩固期",
                    "一年内又出现同样治安问题")
    assert "个工作日内撰写整治工作报告" not in text  # already filed (归档日期 is set)


def test_documents_refuse_a_record_without_what_they_need(env):  # type: ignore[no-untyped-def]
    from server.documents.service import prepare

    from tests.keyareas import in_stage

    listed = key_area(env["township"], acceptance=None, delisting=None, consolidation=None)
    with pytest.raises(ValidationFailed) as failed:  # a 摘牌通知 belongs to the 巩固期
        prepare("delisting_notice", env["county"], record_id=listed.id)
    assert [(e.pointer, e.message) for e in failed.value.errors] == [(
        "/record_id", "《摘牌通知》只能在「巩固期、销号」阶段生成，该记录现处于「挂牌督办」阶段")]
    in_stage("delisting_notice", listed.id, env["county"])
    with pytest.raises(ValidationFailed) as failed:
        prepare("delisting_notice", env["county"], record_id=listed.id)
    messages = {e.pointer: e.message for e in failed.value.errors}
    assert "摘牌日期" in messages["/delisting/delisted_date"] and "验收日期" in messages["/acceptance/acceptance_date"]
    in_stage("extension_request", listed.id, env["county"])
    with pytest.raises(ValidationFailed) as failed:
        prepare("extension_request", env["township"], record_id=listed.id)
    assert "延期记录" in str(failed.value)

    from tests.test_survey import participants

    low = {"participants": participants(18, 6, 6)}
    failed_acceptance = key_area(env["township"],
                                 acceptance={**sample("key_area")["acceptance"], "satisfaction_survey": low})
    assert failed_acceptance.data["acceptance"]["conclusion"] == "extended"  # the acceptance rules: 80% < 90%
    in_stage("delisting_notice", failed_acceptance.id, env["county"])
    with pytest.raises(ValidationFailed) as failed:  # 摘牌 only after 验收合格
        prepare("delisting_notice", env["county"], record_id=failed_acceptance.id)
    assert [e.pointer for e in failed.value.errors] == ["/acceptance/conclusion"]  # where the user fixes it
    assert "「验收结论」应为" in failed.value.errors[0].message and "摘牌通知" in failed.value.errors[0].message


def test_veto_decision_for_recurrence_and_for_overdue_rectification(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    recurred = key_area(env["township"], consolidation={
        "period_start": "2026-09-10", "period_end": "2027-09-09", "recurrence": True,
        "recurrence_date": "2026-11-20", "veto_proposal": "veto_and_accountability"})
    row = issue("veto_decision", env["county"], record_id=recurred.id)
    text = issued_text(row, "veto_decision", "示范")
    assert_contains(text, "示范县平安建设领导小组", "关于对河口镇实行社会治安综合治理“一票否决”的决定",
                    "各乡镇党委和人民政府", "黄赌毒、盗抢", "2026年9月10日验收摘牌", "2026年11月20日",
                    "验收摘牌后一年内同一问题复发", "一票否决并责任追究", "一年内，河口镇不得评选综合性荣誉称号",
                    f"第一责任人{first_responsible(recurred)}同志", "赵立新")

    listing = {**sample("key_area")["listing"], "listed_date": "2026-03-02", "rectification_deadline": "2026-09-30"}
    listing.pop("meeting")
    overdue = key_area(env["township"], listing=listing, acceptance=None, delisting=None,
                       consolidation=None)
    row = issue("veto_decision", env["county"], record_id=overdue.id)
    text = issued_text(row, "veto_decision", "示范")
    assert_contains(text, "2026年3月2日被实行县级挂牌督办", "整改期限已于2026年9月30日届满", "未通过验收")
    assert "复发" not in text


def test_monthly_statistics_counts_per_township(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    hekou, chengguan = env["township"], env["chengguan"]
    problem = sample("security_problem")
    problem.update(forms_key_area=False)
    problem.pop("formed_key_area")
    create("security_problem", problem, hekou)                                           # 5月, 已分流
    closed = create("security_problem", {**problem, "completed_date": "2026-05-20"}, hekou)
    closed.state = "archived"  # 已办结: the workflow's closed states count (its loop is tested in test_flow_intake)
    db.session.commit()
    create("security_problem", {**problem, "received_at": "2026-06-01T09:00:00+08:00"}, chengguan)  # 6月
    create("dispute", sample("dispute"), hekou)                                          # 6月
    create("dispute", {**sample("dispute"), "screening_date": "2026-05-26"}, chengguan)
    key_area(hekou)            # + its assessment (5月20日): 认定 5月28日, 挂牌 5月29日, 摘牌 9月
    key_area(chengguan, name="城关街道南关农贸市场周边",
             identification={"discovery_source": "screening", "identified_date": "2026-03-10"},
             listing={**sample("key_area")["listing"], "listed_date": "2026-03-12"},
             delisting={"delisted_date": "2026-05-15"})
    row = issue("monthly_statistics", env["county"], month="2026-05")
    rows = {r["unit"]: r["counts"] for r in row.data["rows"]}
    assert len(rows) == 17 and list(rows)[:3] == ["城关街道", "东城街道", "西城街道"]
    assert rows["河口镇"] == {"problems": 2, "problems_closed": 1, "disputes": 0, "assessments": 1, "identified": 1,
                             "listed": 1, "delisted": 0}
    assert rows["城关街道"] == {"problems": 0, "problems_closed": 0, "disputes": 1, "assessments": 1,
                              "identified": 0, "listed": 0, "delisted": 1}
    assert row.data["totals"] == {"problems": 2, "problems_closed": 1, "disputes": 1, "assessments": 2,
                                  "identified": 1, "listed": 1, "delisted": 1}
    text = issued_text(row, "monthly_statistics", "示范")
    assert_contains(text, "2026年5月社会治安重点地区排查整治情况统计表", "受理群众反映治安问题2件（其中已办结1件）",
                    "排查矛盾纠纷1件", "召开治安信息研判会2次", "新认定社会治安重点地区1处", "挂牌督办1处",
                    "验收摘牌1处", "河口镇2101110", "城关街道0011001", "合计2112111",
                    "高岗镇0000000")


def test_a_sparse_record_still_reads_well(env):  # type: ignore[no-untyped-def]
    """Only what the forms and the documents require: optional passages drop out without traces."""
    from tests.keyareas import issue
    from tests.keyareas import advance

    data = {
        "name": "城关街道南关农贸市场周边", "area_type": "venue", "township_code": CHENGGUAN,
        "identification": {"discovery_source": "screening", "identified_date": "2026-04-10"},
        "problems": {"categories": ["theft_robbery"], "description": "市场周边扒窃多发"},
        "responsibility": {"lead_unit": "城关街道", "first_responsible": "高卫东"},
        "rectification": {"measures": [{"measure": "增设巡逻岗", "unit": "城关派出所"}]},
        "listing": {"is_listed": True, "listed_date": "2026-04-15", "level": "county",
                    "notice_number": "示范综治督〔2026〕2号", "rectification_deadline": "2026-10-15",
                    "report_cycle": "bimonthly"},
        "delisting": {"extensions": [{"approved_date": "2026-10-13", "approved_by": "城关街道党工委",
                                      "new_deadline": "2026-12-31"}]},
    }
    record = create("key_area", data, env["chengguan"])
    texts = {}
    for doc_id, user, short in (("listing_notice", "county", "示范"), ("rectification_report", "chengguan", "城关"),
                                ("extension_request", "chengguan", "城关"), ("veto_decision", "county", "示范")):
        texts[doc_id] = issued_text(issue(doc_id, env[user], record_id=record.id), doc_id, short, shot="sparse_")
    assert_contains(texts["listing_notice"], "城关街道党工委、办事处：", "城关街道党工委书记高卫东同志为第一责任人",
                    "扒窃多发。", "每两月报送一次", "提请城关街道党工委批准延期整治")
    assert "基线数据" not in texts["listing_notice"] and "建议书" not in texts["listing_notice"]
    assert_contains(texts["rectification_report"], "我街道", "1.增设巡逻岗。责任单位：城关派出所。", "二、下一步工作")
    assert "整治工作进展" not in texts["rectification_report"] and "整治成效" not in texts["rectification_report"]
    assert_contains(texts["extension_request"], "整治任务尚未全部完成", "一、延期理由",
                    "经城关街道党工委于2026年10月13日研究同意", "延长至2026年12月31日")
    assert "验收" not in texts["extension_request"].split("一、延期理由")[0].replace("通过验收", "")
    assert "第1次延期" not in texts["extension_request"]
    assert_contains(texts["veto_decision"], "城关街道整治工作开展不力")  # deadline extended: not overdue yet

    from tests.test_survey import participants

    data = {"acceptance": {"acceptance_date": "2026-12-20", "conclusion": "passed", "satisfaction_survey": {
                "participants": participants(20, 0, 0)}},
            "delisting": {**record.data["delisting"], "delisted_date": "2026-12-25"}}
    record = advance(record.id, "consolidating", data, env["chengguan"])
    text = issued_text(issue("delisting_notice", env["county"], record_id=record.id), "delisting_notice", "示范",
                       shot="sparse_")
    assert_contains(text, "满意率100%", "决定自2026年12月25日起", "设一年巩固期", "10个工作日内撰写整治工作报告")


def test_who_may_issue(env):  # type: ignore[no-untyped-def]
    from server.auth.service import create_user
    from server.documents.service import prepare
    from tests.keyareas import in_stage, issue

    record = key_area(env["township"])
    police = create_user("police", "Jiangbei-qiao-88", role="department_staff", org_code="GA-PCS04")
    leader = create_user("leader", "Jiangbei-qiao-88", role="leader", org_code=COUNTY)
    for doc_id in ("listing_notice", "delisting_notice", "veto_decision"):
        with pytest.raises(NotAllowed):
            issue(doc_id, env["township"], record_id=record.id)  # county-level decisions
        with pytest.raises(NotAllowed):
            issue(doc_id, leader, record_id=record.id)
    with pytest.raises(NotAllowed):
        issue("monthly_statistics", env["township"], month="2026-05")
    for doc_id in ("rectification_report", "extension_request", "recommendation_letter"):
        with pytest.raises(NotAllowed):
            prepare(doc_id, police, record_id=record.id)
    # the county centre may prepare a township's report; the issuer stays the township
    in_stage("rectification_report", record.id, env["county"])
    assert prepare("rectification_report", env["county"], record_id=record.id).issuer.name == "河口镇"

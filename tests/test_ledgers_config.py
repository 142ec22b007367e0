"""The ten work ledgers (台账) in ``config/forms/``: valid schemas, one realistic record each, one refusal each.

Every form file must be a JSON Schema 2020-12 document; a realistic sample record per ledger must
validate (formats checked), and a broken variant of it must fail at the expected place with the
expected keyword. A few conventions of docs/forms.md are checked too (titles everywhere, refs to
existing forms, list/filter columns that exist, distinct menu positions).
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest

FORMS_DIR = Path(__file__).resolve().parent.parent / "config" / "forms"

LEDGERS = [
    "visit_register", "visit_transfer", "security_problem", "joint_meeting", "assessment", "dispute",
    "supervision", "follow_up", "officer_report", "officer_roster", "key_area", "monthly_inspection",
    "case_statistics",
]

HAN = re.compile(r"[\u4e00-\u9fff]")


def load(form_id: str) -> dict[str, Any]:
    return json.loads((FORMS_DIR / f"{form_id}.json").read_text(encoding="utf-8"))


def validator(form_id: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load(form_id), format_checker=jsonschema.FormatChecker())


# ----------------------------------------------------------------------------------- sample records

#: The questionnaire items of the 座谈会 survey (config/forms/key_area.json, /acceptance/satisfaction_survey).
SURVEY_ITEMS = ("security_change", "measures", "salient_problems", "patrol", "disputes", "overall")

SAMPLES: dict[str, dict[str, Any]] = {
    "case_statistics": {
        "month": "2026-05", "township_code": "139901101000", "criminal_cases": 7, "public_order_cases": 12,
        "police_incidents": 61, "source": "police_system", "compiled_by": "王建军",
    },
    "monthly_inspection": {
        "report_month": "2026-05",
        "inspecting_unit": "GA",
        "inspectors": "王建军、李明",
        "key_areas": [{"key_area": "ZD-130121000000-2026-007"}],
        "other_places": "东岗村网吧",
        "findings": [{"place": "东岗村网吧", "problem": "未落实实名登记", "suggestion": "责令限期整改"}],
        "previous_followup": "上月发现的 2 处隐患均已整改。",
        "signed_by": "张局长",
    },
    "visit_register": {
        "received_at": "2026-05-06T09:00:00+08:00",
        "source": "visit",
        "first_accept_person": "王建军",
        "visitor": {
            "anonymous": False,
            "name": "李秀英",
            "gender": "female",
            "id_number": "13012119720315405X",
            "address": "南峪镇东岗村三组",
            "phone": "13831123456",
        },
        "is_collective": True,
        "visitor_count": 4,
        "problem_category": "public_security",
        "summary": "村东废弃砖厂夜间常有外来人员聚集赌博，噪声扰民，近两月村里发生3起电动车被盗。",
        "demand": "请求派出所清查砖厂，加强夜间巡逻。",
        "location": {"division_code": "130121101203", "address": "东岗村东废弃砖厂", "longitude": 114.14,
                     "latitude": 38.03},
        "involves_security": True,
        "handling": "transfer",
        "handling_unit": "GA-PCS04",
        "deadline": "2026-05-21",
        "matter_type": "complaint",
    },
    "visit_transfer": {
        "original_record": "LF-130121101000-2026-0012",
        "transfer_date": "2026-05-06",
        "transferred_by": "王建军",
        "handling_unit": "GA-PCS04",
        "summary": "东岗村废弃砖厂夜间聚赌及电动车被盗问题，请依法清查并加强巡逻。",
        "requirements": "5个工作日内反馈清查情况，办结后书面回复中心。",
        "deadline": "2026-05-21",
        "signed_by": "赵立新",
        "signed_at": "2026-05-06T15:20:00+08:00",
        "chase_records": [
            {"date": "2026-05-18", "method": "phone", "content": "电话询问进度，答复已清查两次，正在落实监控。"},
        ],
        "extension_reason": "监控设备采购需走政府采购程序。",
        "extension_approver": "刘志强",
        "extension_deadline": "2026-06-05",
        "completed_date": "2026-06-03",
        "result": "清查砖厂3次，查处赌博人员7人；砖厂入口已安装视频监控2处，夜间巡逻纳入勤务。",
        "centre_review": "approve_close",
        "follow_up_result": "satisfied",
        "status": "completed",
    },
    "security_problem": {
        "received_at": "2026-05-08T16:30:00+08:00",
        "info_source": "info_officer",
        "officer_report": "XB-130121101000-2026-0031",
        "reporter": {"anonymous": False, "name": "张海涛", "phone": "15932112345", "confidential": True},
        "location": {"division_code": "130121101203", "address": "东岗村东废弃砖厂"},
        "in_key_area": False,
        "problem_category": "porn_gambling_drugs",
        "description": "每晚十点后砖厂内有十余人聚集赌博，有放哨人员，周边村民反映强烈。",
        "involved": "废弃砖厂；外村人员十余名",
        "verification": {"verifier": "赵立新", "date": "2026-05-09", "result": "confirmed",
                         "note": "夜间蹲守核实属实。"},
        "route_unit": "GA-PCS04",
        "measures": "联合清查，断电封闭砖厂，落实夜间巡逻。",
        "submit_assessment": True,
        "forms_key_area": True,
        "formed_key_area": "ZD-130121000000-2026-007",
    },
    "joint_meeting": {
        "session": "2026年第5次",
        "meeting_type": "regular",
        "meeting_date": "2026-05-28",
        "venue": "县综治中心三楼会议室",
        "chair": "孙卫东",
        "recorder": "马丽",
        "attendees": [
            {"unit": "县综治办", "name": "孙卫东", "position": "主任"},
            {"unit": "县公安局", "name": "郝建国", "position": "副局长"},
            {"unit": "县司法局", "name": "陈静", "position": "副局长"},
        ],
        "absentees": [{"unit": "县教育局", "name": "周明", "reason": "外出参加省培训"}],
        "topics": "一、通报5月份全县治安形势；二、审议第9、10期研判建议书；三、议定挂牌督办地区。",
        "previous_implementation": "上期议定3项事项均已落实。",
        "recommendation_letters": [{"key_area": "ZD-130121000000-2026-007", "opinion": "同意列为重点地区"}],
        "discussion": "公安局通报东岗村砖厂聚赌情况，建设局表示可配合拆除危旧厂房。",
        "resolutions": [
            {"matter": "县建设局牵头评估砖厂危旧厂房拆除", "responsible_unit": "县建设局",
             "responsible_person": "钱勇", "deadline": "2026-06-30"},
        ],
        "listing_decisions": [
            {
                "key_area": "ZD-130121000000-2026-007",
                "grounds": "建议〔2026〕4号；两月内聚赌警情9起、盗窃案件3起。",
                "level": "county",
                "acceptance_standard": "发案数、警情数下降，座谈会满意度达到90%以上。",
            }
        ],
        "signed": True,
    },
    "assessment": {
        "session": "2026年5月下半月",
        "date": "2026-05-20",
        "chair": "赵立新",
        "participants": [{"unit": "南峪派出所", "names": "赵立新、吴刚"}, {"unit": "南峪镇综治办", "names": "王建军"}],
        "period_start": "2026-05-06",
        "period_end": "2026-05-20",
        "info_summary": {"visits": 12, "security_problems": 9, "officer_reports": 17, "disputes": 6,
                         "police_incidents": 41, "criminal_cases": 5, "public_order_cases": 11,
                         "comparison": "警情环比上升12%，主要集中在东岗村。"},
        "situation_analysis": "全镇治安总体平稳，东岗村聚赌、盗窃警情集中。",
        "salient_problems": [
            {"place": "东岗村废弃砖厂", "division_code": "130121101203", "category": "porn_gambling_drugs",
             "description": "夜间聚众赌博", "evidence": "警情9起，信息员报送4条",
             "security_problem": "ZA-130121101000-2026-0018", "recommend": False},
        ],
        "risk_level": "high",
        "conclusion": "东岗村废弃砖厂周边已形成治安重点地区，建议重点整治并提请挂牌督办。",
        "recommended_measures": "清查取缔赌博窝点，封闭砖厂，安装视频监控，组建夜间巡逻队。",
        "letter_issued": True,
        "recommendation_letters": [
            {
                "number": "建议〔2026〕4号",
                "date": "2026-05-21",
                "addressee": "南峪镇党委",
                "area_name": "东岗村废弃砖厂周边",
                "division_code": "130121101203",
                "problems": "两月内聚赌警情9起、盗窃案件3起。",
                "causes": "厂房废弃无人管理，地处偏僻缺乏监控。",
                "measures": "清查、封闭、监控、巡逻。",
                "lead_unit": "南峪镇党委",
                "cooperating_units": "南峪派出所、县建设局",
                "proposed_deadline": "2026-08-31",
                "propose_listing": True,
                "submitted_to_meeting": True,
                "signed_by": "刘志强",
            }
        ],
    },
    "dispute": {
        "screening_date": "2026-06-02",
        "screener": "王建军",
        "source": "screening",
        "dispute_type": "homestead",
        "parties": [
            {"role": "applicant", "name": "杨树林", "gender": "male", "id_number": "130121196805124216",
             "phone": "13703112233", "address": "东岗村二组"},
            {"role": "respondent", "name": "杨树森", "gender": "male", "phone": "0311-82345678"},
        ],
        "involved_count": 2,
        "amount": 3000,
        "summary": "兄弟二人因宅基地界墙位置发生争执，曾有推搡。",
        "risk_level": "serious",
        "route_unit": "SF-SFS04",
        "mediation_method": "people",
        "mediation_records": [
            {"date": "2026-06-03", "mediator": "钱淑芬", "content": "现场丈量，向双方释明相关规定。"},
            {"date": "2026-06-05", "mediator": "钱淑芬", "content": "双方同意按原宅基地证界址重砌界墙。"},
        ],
        "mediation_result": "success",
        "agreement_number": "南峪调〔2026〕15号",
        "agreement_date": "2026-06-05",
        "agreement_content": "按宅基地证界址重砌界墙，费用双方各担一半。",
        "performance": "performed",
        "closed_date": "2026-06-05",
        "status": "closed",
    },
    "supervision": {
        "supervision_type": "listing",
        "source_type": "joint_meeting",
        "source_meeting": "LX-130121000000-2026-005",
        "supervised_unit": "139901101000",
        "first_responsible": "何平",
        "direct_responsible": "赵立新",
        "content": "对东岗村废弃砖厂周边实行挂牌督办，清除赌博窝点，落实技防和巡逻。",
        "issued_date": "2026-05-29",
        "deadline": "2026-11-30",
        "notice_number": "X综治督〔2026〕3号",
        "listed_key_area": "ZD-130121000000-2026-007",
        "first_report_due": "2026-06-12",
        "report_cycle": "monthly",
        "chase_records": [
            {"date": "2026-06-10", "method": "phone", "content": "提醒报送整改方案", "reply": "6月11日报送"},
        ],
        "progress_reports": [
            {"report_date": "2026-06-11", "report_type": "first_measures", "content": "整改方案已以镇党委文件印发。"},
        ],
        "conclusion": "in_progress",
    },
    "follow_up": {
        "item_type": "visit_register",
        "original_visit": "LF-130121101000-2026-0012",
        "visitee": "李秀英",
        "phone": "13831123456",
        "method": "phone",
        "follow_up_date": "2026-06-04",
        "staff": "马丽",
        "awareness": "aware",
        "satisfaction": "basically_satisfied",
        "opinions": "希望巡逻能长期坚持。",
        "reassign": False,
        "confidential": False,
    },
    "officer_report": {
        "officer": "XXY-130121101000-2026-0007",
        "reported_at": "2026-05-08T22:40:00+08:00",
        "report_method": "phone",
        "occurred_at": "2026-05-08T22:00:00+08:00",
        "location": {"division_code": "130121101203", "address": "东岗村东废弃砖厂"},
        "involved_persons": "外村男子十余人，其中一人驾驶冀A牌照黑色轿车",
        "involved_items": "扑克、现金",
        "info_category": "crime_clue",
        "content": "5月8日22时许，东岗村东废弃砖厂内十余人聚集赌博，门口有人放哨。",
        "urgency": "urgent",
        "verification": {
            "verification_unit": "南峪派出所",
            "verified_date": "2026-05-09",
            "verification_result": "confirmed",
            "is_first_report": True,
            "is_salient_problem": True,
        },
        "adoption": {
            "uses": ["assessment", "case_filed"],
            "reward_level": "major",
            "reward_amount": 500,
            "approver": "刘志强",
            "paid_date": "2026-06-15",
        },
    },
    "officer_roster": {
        "name": "张海涛",
        "gender": "male",
        "id_number": "130121198203114239",
        "phone": "15932112345",
        "quota_category": "village",
        "village_code": "130121101203",
        "appointed_date": "2026-05-01",
        "trainings": [{"date": "2026-05-10", "content": "信息报送要素与保密要求", "hours": 2}],
        "status": "active",
    },
    "key_area": {
        "name": "南峪镇东岗村废弃砖厂周边",
        "area_type": "complex_village",
        "township_code": "130121101000",
        "village_code": "130121101203",
        "scope": "东至东岗河，西至村东路，南至砖厂南墙，北至省道。",
        "identification": {
            "discovery_source": "assessment",
            "assessment": "YP-130121101000-2026-010",
            "recommendation_letter_number": "建议〔2026〕4号",
            "identified_date": "2026-05-28",
            "basis": "两月内聚赌警情9起、盗窃案件3起，群众来访2批次。",
        },
        "problems": {
            "categories": ["porn_gambling_drugs", "theft_robbery"],
            "description": "废弃砖厂夜间聚赌，周边电动车盗窃多发。",
            "baseline": {"criminal_cases": 3, "public_order_cases": 9, "police_incidents": 14, "hazards": 2,
                         "disputes": 1, "period": "2026年3月—4月", "sense_of_security": 71.5},
        },
        "responsibility": {
            "lead_unit": "南峪镇党委",
            "cooperating_units": "南峪派出所、县建设局、县市场监管局",
            "first_responsible": "何平",
            "first_responsible_position": "南峪镇党委书记",
            "direct_responsible": [{"name": "赵立新", "unit": "南峪派出所", "position": "所长"}],
            "county_leader": "县委常委、政法委书记 孙卫东",
        },
        "rectification": {
            "plan_document": "南峪字〔2026〕21号",
            "measures": [
                {"measure": "清查取缔赌博窝点", "unit": "南峪派出所", "deadline": "2026-06-15", "progress": "done"},
                {"measure": "砖厂入口安装视频监控2处", "unit": "南峪派出所", "deadline": "2026-06-30",
                 "progress": "done"},
            ],
            "planned_start": "2026-06-01",
            "planned_end": "2026-08-31",
            "monthly_progress": [
                {"month": "2026-06", "source": "self_report", "progress": "完成清查和监控安装。"},
            ],
        },
        "listing": {
            "is_listed": True,
            "listed_date": "2026-05-29",
            "level": "county",
            "meeting": "LX-130121000000-2026-005",
            "notice_number": "X综治督〔2026〕3号",
            "rectification_deadline": "2026-11-30",
            "first_report_date": "2026-06-11",
            "report_cycle": "monthly",
            "award_eligibility_suspended_until": "2026-09-10",
        },
        "acceptance": {
            "applied_date": "2026-08-25",
            "applying_unit": "南峪镇党委",
            "acceptance_date": "2026-09-05",
            "team_leader": "孙卫东",
            "methods": ["ledger_review", "site_inspection", "symposium"],
            "indicators": {"criminal_cases": 0, "public_order_cases": 1, "police_incidents": 3, "hazards": 0,
                           "disputes": 0, "grassroots_forces": 12, "prevention_facilities": 4},
            "satisfaction_survey": {"survey_date": "2026-09-05", "venue": "东岗村委会", "participants": [
                # 30 people, each answering the six items alike: 144 满意, 24 基本满意, 12 不满意 = 93.33 %
                {"group": group, "answers": dict.fromkeys(SURVEY_ITEMS, answer)}
                for group, answer, count in (("residents", "satisfied", 14), ("info_officer", "satisfied", 4),
                                             ("victim", "satisfied", 3), ("npc_deputy", "satisfied", 1),
                                             ("business", "satisfied", 2), ("residents", "basically_satisfied", 3),
                                             ("business", "basically_satisfied", 1), ("residents", "dissatisfied", 2))
                for _ in range(count)], "opinions": "希望夜间巡逻常态化。"},
            "conclusion": "passed",
        },
        "delisting": {
            "acceptance_report_number": "验收〔2026〕7号",
            "delisted_date": "2026-09-10",
            "archived_date": "2026-09-15",
        },
        "consolidation": {"period_start": "2026-09-10", "period_end": "2027-09-09", "recurrence": False},
    },
}


# ------------------------------------------------------------------------------- invalid variants

def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(path: tuple) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


def _both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        for c in changes:
            c(record)
    return change


# (form id, what is wrong, change, expected JSON path, expected keyword, expected text in the message)
INVALID = [
    ("case_statistics", "negative count", _set(("criminal_cases",), -1), "$.criminal_cases", "minimum", "-1"),
    ("monthly_inspection", "month written as 2026年5月", _set(("report_month",), "2026年5月"), "$.report_month",
     "pattern", "2026"),
    ("visit_register", "转办 without 承办单位", _drop(("handling_unit",)), "$", "required", "handling_unit"),
    ("visit_register", "集体访 with one visitor", _set(("visitor_count",), 1), "$.visitor_count", "minimum", "2"),
    ("visit_register", "承办单位 kept after 当场答复",
     _set(("handling",), "answered"), "$", "unevaluatedProperties", "handling_unit"),
    ("visit_transfer", "延期 without new deadline", _drop(("extension_deadline",)), "$", "dependentRequired",
     "extension_deadline"),
    ("visit_transfer", "退回重办 without reason", _set(("centre_review",), "return_redo"), "$", "required",
     "return_reason"),
    ("security_problem", "重点地区 flag without the area", _set(("in_key_area",), True), "$", "required", "key_area"),
    ("security_problem", "bad village code", _set(("location", "division_code"), "1301211012"),
     "$.location.division_code", "pattern", "1301211012"),
    ("joint_meeting", "挂牌督办决定 without 督办级别", _drop(("listing_decisions", 0, "level")),
     "$.listing_decisions[0]", "required", "level"),
    ("joint_meeting", "no attendees", _set(("attendees",), []), "$.attendees", "minItems", "[]"),
    ("assessment", "建议书 without number", _drop(("recommendation_letters", 0, "number")),
     "$.recommendation_letters[0]", "required", "number"),
    ("assessment", "建议书 flagged but missing", _drop(("recommendation_letters",)), "$", "required",
     "recommendation_letters"),
    ("dispute", "调解成功 without agreement", _drop(("agreement_content",)), "$", "required", "agreement_content"),
    ("dispute", "bad party phone", _set(("parties", 1, "phone"), "8234567"), "$.parties[1].phone", "pattern",
     "8234567"),
    ("supervision", "挂牌督办 without notice", _drop(("notice_number",)), "$", "required", "notice_number"),
    ("supervision", "问责建议 without reason", _set(("accountability_proposal",), "interview"), "$",
     "dependentRequired", "accountability_reason"),
    ("supervision", "source record missing", _drop(("source_meeting",)), "$", "required", "source_meeting"),
    ("follow_up", "不满意 without reason", _set(("satisfaction",), "dissatisfied"), "$", "required",
     "dissatisfaction_reason"),
    ("follow_up", "unknown satisfaction", _set(("satisfaction",), "ok"), "$.satisfaction", "oneOf", "ok"),
    ("officer_report", "adopted without a reward level", _drop(("adoption", "reward_level")), "$.adoption", "required",
     "reward_level"),
    ("officer_report", "no officer", _drop(("officer",)), "$", "required", "officer"),
    ("officer_roster", "village officer without village code", _drop(("village_code",)), "$", "required",
     "village_code"),
    ("officer_roster", "bad ID number", _set(("id_number",), "13012119820311423"), "$.id_number", "pattern",
     "13012119820311423"),
    ("key_area", "挂牌 without 挂牌日期", _drop(("listing", "listed_date")), "$.listing", "required", "listed_date"),
    ("key_area", "a typed satisfaction total", _set(("acceptance", "satisfaction_survey", "satisfied"), 24),
     "$.acceptance.satisfaction_survey", "unevaluatedProperties", "'satisfied'"),
    ("key_area", "复发 without 处理建议", _set(("consolidation", "recurrence"), True), "$.consolidation", "required",
     "veto_proposal"),
    ("key_area", "bad date", _set(("identification", "identified_date"), "2026-02-30"),
     "$.identification.identified_date", "format", "2026-02-30"),
]


# ------------------------------------------------------------------------------------------- tests

def test_all_ledgers_present():
    assert sorted(p.stem for p in FORMS_DIR.glob("*.json")) == sorted(LEDGERS)
    assert sorted(SAMPLES) == sorted(LEDGERS)


@pytest.mark.parametrize("form_id", LEDGERS)
def test_schema_is_valid_json_schema(form_id):
    schema = load(form_id)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert HAN.search(schema["title"]) and HAN.search(schema["description"])
    assert schema["unevaluatedProperties"] is False
    assert re.fullmatch(r"[a-z][a-z0-9_]{1,39}", form_id)


@pytest.mark.parametrize("form_id", LEDGERS)
def test_sample_record_validates(form_id):
    errors = [f"{e.json_path}: {e.message}" for e in validator(form_id).iter_errors(SAMPLES[form_id])]
    assert errors == []


@pytest.mark.parametrize(
    "form_id, case, change, path, keyword, text", INVALID, ids=[f"{c[0]}: {c[1]}" for c in INVALID]
)
def test_invalid_variant_is_refused(form_id, case, change, path, keyword, text):
    record = copy.deepcopy(SAMPLES[form_id])
    change(record)
    errors = list(validator(form_id).iter_errors(record))
    found = [(e.json_path, e.validator, e.message) for e in errors]
    assert any(p == path and k == keyword and text in m for p, k, m in found), found


def test_every_ledger_has_an_invalid_variant():
    assert {c[0] for c in INVALID} == set(LEDGERS)


# ------------------------------------------------------------------------------------ conventions

def _sections(schema: dict) -> list[dict]:
    """The object itself and its conditional branches (then/else, also inside allOf)."""
    found = [schema]
    for branch in ("then", "else"):
        if branch in schema:
            found += _sections(schema[branch])
    for sub in schema.get("allOf", []):
        found += _sections(sub)
    return found


def _fields(schema: dict, prefix: str = ""):
    """Every declared field (also nested, in rows and in conditional branches): (path, field schema)."""
    for section in _sections(schema):
        for name, field in section.get("properties", {}).items():
            path = f"{prefix}{name}"
            yield path, field
            if field.get("type") == "object":
                yield from _fields(field, path + "/")
            items = field.get("items", {})
            if field.get("type") == "array" and items.get("type") == "object":
                yield from _fields(items, path + "[]/")


def _top_fields(schema: dict) -> dict[str, dict]:
    return {name: f for s in _sections(schema) for name, f in s.get("properties", {}).items()}


def _resolve(schema: dict, column: str) -> dict | None:
    node: dict | None = schema
    for part in column.split("/"):
        node = _top_fields(node).get(part) if node else None
    return node


@pytest.mark.parametrize("form_id", LEDGERS)
def test_fields_follow_conventions(form_id):
    schema = load(form_id)
    for path, field in _fields(schema):
        assert HAN.search(field.get("title", "")), f"{path} has no Chinese title"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", path.rsplit("/", 1)[-1]), path
        for choice_holder in (field, field.get("items", {})):
            for choice in choice_holder.get("oneOf", []):
                assert set(choice) == {"const", "title"} and HAN.search(choice["title"]), path
                assert re.fullmatch(r"[a-z][a-z0-9_]*", choice["const"]), path
        ref = field.get("x-ui", {}).get("ref")
        if ref:
            assert ref in LEDGERS, f"{path} refers to unknown form {ref}"
        if field.get("type") == "integer":
            assert "minimum" in field, path
        if field.get("type") == "object" or field.get("items", {}).get("type") == "object":
            target = field if field.get("type") == "object" else field["items"]
            assert target.get("unevaluatedProperties") is False, path


@pytest.mark.parametrize("form_id", LEDGERS)
def test_list_and_filters_name_real_fields(form_id):
    schema = load(form_id)
    ui = schema["x-ui"]
    assert 4 <= len(ui["list"]) <= 6
    for column in ui["list"]:
        assert _resolve(schema, column) is not None, column
    for name in ui["filters"]:
        field = _resolve(schema, name)
        assert field is not None, name
        assert "oneOf" in field or "org" in field.get("x-ui", {}) or field.get("format") in ("date", "date-time"), name


def test_menu_order_and_number_patterns():
    forms = {fid: load(fid)["x-form"] for fid in LEDGERS}
    assert sorted(f["menu_order"] for f in forms.values()) == list(range(1, len(LEDGERS) + 1))
    patterns = [f["number_pattern"] for f in forms.values()]
    assert len(set(patterns)) == len(patterns)
    for pattern in patterns:
        assert "{org_code}" in pattern and "{year}" in pattern and "{seq" in pattern


def test_visit_transfer_refers_to_visit_register():
    assert load("visit_transfer")["properties"]["original_record"]["x-ui"]["ref"] == "visit_register"
    assert load("officer_report")["properties"]["officer"]["x-ui"]["ref"] == "officer_roster"

"""The configuration studio (/admin/config): drafts, inline errors, parameters as a form, previews,
publishing with a diff and a note, conflicts between administrators, restore, and releases that export
to files ``config check`` accepts and import back."""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from tests.conftest import PASSWORD, session_client, user_named
from tests.test_admin import token_of

PROJECT_CONFIG = Path(__file__).parent.parent / "config"
PARAMS = "rules/parameters.json"


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG, target)
    return target


@pytest.fixture
def studio(make_app, config_copy):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=config_copy)
    with app.app_context():
        from server.auth.service import create_user

        create_user("admin", PASSWORD, role="county_admin", org_code="139901000000", display_name="管理员甲")
        create_user("admin2", PASSWORD, role="county_admin", org_code="139901000000", display_name="管理员乙")
        create_user("county", PASSWORD, role="county_staff", org_code="139901000000", display_name="县综治办")
    app.test_client().get("/api/v1/health")  # the first request publishes the files: release 1
    return app


def post(client, url: str, data: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": token_of(client, "/admin/config/"), **data}, **kwargs)


def live_text(app, path: str) -> str:  # type: ignore[no-untyped-def]
    from server.specs import releases

    with app.app_context():
        return releases.tree_of(releases.latest_release())[path]


def latest_seq(app) -> int:  # type: ignore[no-untyped-def]
    from server.specs import releases

    with app.app_context():
        return releases.latest_release().seq


def test_only_county_administrators_enter(studio):
    assert session_client(studio, "admin").get("/admin/config/").status_code == 200
    assert session_client(studio, "county").get("/admin/config/").status_code == 403
    assert session_client(studio, "county").get("/admin/config/parameters").status_code == 403
    assert studio.test_client().get("/admin/config/").status_code == 302  # to the login page


def test_the_index_lists_every_kind_with_chinese_titles(studio):
    html = session_client(studio, "admin").get("/admin/config/").get_data(as_text=True)
    for title in ("台账（表单）", "规则与参数", "流程", "公文", "组织机构", "工作日历", "统计分析",
                  "社会治安重点地区整治", "挂牌督办通知书（模板）", "政策参数"):
        assert title in html
    assert "当前发布版本" in html and "版本 1" in html


def test_parameters_form_saves_a_draft_that_changes_one_value(studio):
    admin = session_client(studio, "admin")
    page = admin.get("/admin/config/parameters").get_data(as_text=True)
    assert "验收满意率阈值" in page and "范围 50–100" in page and "座谈会满意率达到此值" in page
    bad = post(admin, "/admin/config/parameters", {"satisfaction_threshold": "101", "relisting_window_days": "一年"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "应在 50–100 之间" in html and "应为整数" in html
    assert 'value="101"' in html and 'value="一年"' in html  # what was typed is kept
    ok = post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    assert ok.status_code == 302
    publish_page = admin.get("/admin/config/publish").get_data(as_text=True)
    assert '-      &#34;value&#34;: 90,' in publish_page and '+      &#34;value&#34;: 85,' in publish_page
    assert live_text(studio, PARAMS).count('"value": 90') == 1  # nothing published yet


def test_a_broken_edit_shows_the_errors_at_their_lines_and_cannot_be_published(studio):
    admin = session_client(studio, "admin")
    text = live_text(studio, "forms/dispute.json").replace('"type": "object"', '"type": "objekt"', 1)
    saved = post(admin, "/admin/config/file", {"path": "forms/dispute.json", "text": text})
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    problems = re.search(r'<script type="application/json" id="config-problems">(.*?)</script>', html, re.S).group(1)
    assert '"line": ' in problems and "objekt" in problems
    assert "此文件有" in html and "处错误" in html
    refused = post(admin, "/admin/config/publish", {"note": "试试", "release": "1"})
    assert refused.status_code == 422 and "未发布" in refused.get_data(as_text=True)
    assert latest_seq(studio) == 1


def test_publish_needs_a_note_and_makes_a_version_with_audit(studio):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    no_note = post(admin, "/admin/config/publish", {"note": " ", "release": "1"})
    assert no_note.status_code == 422 and "请填写发布说明" in no_note.get_data(as_text=True)
    done = post(admin, "/admin/config/publish", {"note": "县委政法委会议决定降至85%", "release": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/config/releases/2")
    assert '"value": 85' in live_text(studio, PARAMS)
    with studio.app_context():
        from server.records.models import AuditEntry

        registry = studio.extensions["registry"]
        registry.refresh()
        assert registry.live.rules.values["satisfaction_threshold"] == 85
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "config_publish",
                                                             AuditEntry.object_id == 2))
        assert entry.user_id == user_named("admin").id and "县委政法委会议决定降至85%" in entry.detail and PARAMS in entry.detail
    assert "没有未发布的草稿" in admin.get("/admin/config/publish").get_data(as_text=True)


def test_restore_publishes_an_earlier_version_again(studio):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(admin, "/admin/config/publish", {"note": "降至85", "release": "1"})
    page = admin.get("/admin/config/releases/1").get_data(as_text=True)
    assert "恢复为版本 1 的内容" in page
    restored = post(admin, "/admin/config/releases/1", {"note": "恢复原阈值", "release": "2"})
    assert restored.status_code == 302
    assert latest_seq(studio) == 3 and '"value": 90' in live_text(studio, PARAMS)
    with studio.app_context():
        from server.records.models import AuditEntry
        from server.specs import releases

        assert releases.release(3).restored_from == 1 and releases.release(3).source == "restore"
        assert db.session.scalar(sa.select(AuditEntry.detail).where(AuditEntry.action == "config_restore")).startswith(
            "恢复为版本 1 的内容")


def test_two_administrators_on_one_file_are_told(studio):
    first, second = session_client(studio, "admin"), session_client(studio, "admin2")
    post(first, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    page = second.get(f"/admin/config/file?path={PARAMS}").get_data(as_text=True)
    assert "管理员甲" in page and "也有此文件未发布的草稿" in page
    post(second, "/admin/config/parameters", {"relisting_window_days": "300"})
    assert post(first, "/admin/config/publish", {"note": "降至85", "release": "1"}).status_code == 302
    # the second administrator's draft started from version 1's file, which has moved on
    refused = post(second, "/admin/config/publish", {"note": "缩短复发期限", "release": "2"})
    assert refused.status_code == 422 and "已有新的发布版本" in refused.get_data(as_text=True)
    page = second.get(f"/admin/config/file?path={PARAMS}").get_data(as_text=True)
    assert "已核对，以我的草稿为准" in page
    post(second, f"/admin/config/file/accept?path={PARAMS}", {})
    assert post(second, "/admin/config/publish", {"note": "缩短复发期限", "release": "2"}).status_code == 302
    published = live_text(studio, PARAMS)
    # the second draft was made before the first publish: it carries 90, and its author chose it knowingly
    assert '"value": 300' in published and '"value": 90,' in published


def test_of_two_publishes_at_once_one_wins_and_the_other_is_told(studio):
    first, second = session_client(studio, "admin"), session_client(studio, "admin2")
    post(first, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(second, "/admin/config/file", {"path": "dashboard.json",
                                          "text": live_text(studio, "dashboard.json").replace("统计", "统计 ", 1)})
    # both reviewed their diffs against version 1; the first publishes
    assert post(first, "/admin/config/publish", {"note": "甲", "release": "1"}).status_code == 302
    late = post(second, "/admin/config/publish", {"note": "乙", "release": "1"})
    assert late.status_code == 409 and "版本 2 已经发布" in late.get_data(as_text=True)
    assert latest_seq(studio) == 2
    assert post(second, "/admin/config/publish", {"note": "乙", "release": "2"}).status_code == 302
    assert latest_seq(studio) == 3


def test_concurrent_publishes_through_the_service_leave_one_winner(studio):
    """Two publishers who both reviewed version 1, racing: exactly one release 2, the other refused."""
    import threading

    from server.specs.releases import ReleaseConflict
    from server.studio.drafts import save, workspace
    from server.studio.publish import publish_drafts

    with studio.app_context():
        for name, value in (("admin", "85"), ("admin2", "88")):
            user = user_named(name)
            space = workspace(user.id)
            text = space.live[PARAMS].replace('"value": 90', f'"value": {value}', 1)
            save(space, user.id, PARAMS, text, None)
        db.session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(name: str) -> None:
        with studio.app_context():
            user = user_named(name)
            barrier.wait()
            try:
                outcomes.append(f"published {publish_drafts(user, name, 1)}")
            except ReleaseConflict:
                db.session.rollback()
                outcomes.append("told")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("admin", "admin2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["published 2", "told"]
    assert latest_seq(studio) == 2


def test_a_draft_saved_from_a_stale_tab_is_refused(studio):
    admin = session_client(studio, "admin")
    text = live_text(studio, "dashboard.json")
    post(admin, "/admin/config/file", {"path": "dashboard.json", "text": text.replace("统计", "统计1", 1)})
    post(admin, "/admin/config/file", {"path": "dashboard.json", "text": text.replace("统计", "统计2", 1),
                                       "version": "1"})
    stale = post(admin, "/admin/config/file", {"path": "dashboard.json", "text": text.replace("统计", "统计3", 1),
                                               "version": "1"})
    assert stale.status_code == 409 and "已在别处（另一个窗口）保存过" in stale.get_data(as_text=True)
    assert "统计3" in stale.get_data(as_text=True)  # what was typed stays on the page


@pytest.mark.parametrize("text, message", [("{\x00}", "参数 text"), ("x" * (2 * 1024 * 1024 + 1), "超过")])
def test_bad_draft_text_is_refused_by_name(studio, text, message):
    admin = session_client(studio, "admin")
    response = post(admin, "/admin/config/file", {"path": "dashboard.json", "text": text})
    assert response.status_code in (400, 413, 422)  # a NUL is refused for every form by server.http.inputs
    assert message in response.get_data(as_text=True) or response.status_code == 413


@pytest.mark.parametrize("path", ["../etc/passwd.json", "/abs.json", "forms/.hidden.json", "forms/x.py", ""])
def test_paths_outside_the_configuration_are_not_files(studio, path):
    assert session_client(studio, "admin").get(f"/admin/config/file?path={path}").status_code == 404


def test_form_preview_renders_the_draft_and_checks_what_is_typed(studio):
    import json

    admin = session_client(studio, "admin")
    schema = json.loads(live_text(studio, "forms/dispute.json"))
    schema["properties"]["mediator_phone"] = {"type": "string", "title": "调解员联系电话", "maxLength": 20}
    schema.setdefault("required", []).append("mediator_phone")
    post(admin, "/admin/config/file", {"path": "forms/dispute.json",
                                       "text": json.dumps(schema, ensure_ascii=False, indent=2)})
    page = admin.get("/admin/config/preview/form/dispute").get_data(as_text=True)
    assert "调解员联系电话" in page and "按草稿生成" in page
    tried = post(admin, "/admin/config/preview/form/dispute", {})
    assert "调解员联系电话" in tried.get_data(as_text=True) and "x-error" in tried.get_data(as_text=True)


def accepted_area(app, satisfied: int, dissatisfied: int) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A key area of 城关街道 after its 座谈会 (``satisfied`` of ``satisfied + dissatisfied`` 满意), as the
    county office recorded it: the acceptance rules have decided. (id, number)"""
    from tests.keyareas import area_at
    from tests.test_survey import AREA, IDENTIFY, PLAN, survey

    data = {**AREA, **IDENTIFY, **PLAN, "identification": {**AREA["identification"], **IDENTIFY["identification"]},
            "acceptance": {
        "applied_date": "2026-05-20", "applying_unit": "城关街道", "acceptance_date": "2026-06-01",
        "team_leader": "县综治中心副主任", "satisfaction_survey": survey(satisfied, 0, dissatisfied)}}
    with app.app_context():
        record = area_at(data, "acceptance_applied", user_named("county"))
        return record.id, record.number


def test_simulation_lists_the_records_whose_decisions_would_change(studio):
    near, number = accepted_area(studio, 13, 2)  # 86.67 %: below 90, above 85
    accepted_area(studio, 19, 1)  # 95 %: passes either way
    accepted_area(studio, 8, 2)  # 80 %: fails either way
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    page = admin.get("/admin/config/simulate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "会改变的有 1 处" in html
    assert f'href="/records/{near}">{number}</a>' in html
    assert "规则『验收结论』：满意率低于阈值，须申请延期整治 → 满意率达到阈值，验收合格" in html
    assert admin.get("/admin/config/simulate?on=2026-13-01").status_code == 422


def test_the_schema_for_completion_is_the_one_config_check_uses(studio):
    admin = session_client(studio, "admin")
    body = admin.get("/admin/config/schema?path=workflows/key_area.json").get_json()
    from server.specs.workflows_loader import WORKFLOW_META

    assert body == WORKFLOW_META.schema
    assert admin.get("/admin/config/schema?path=documents/listing_notice/template.html").status_code == 404


# -- releases as files ---------------------------------------------------------------------------------

def test_export_then_config_check_then_import(studio, tmp_path):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(admin, "/admin/config/publish", {"note": "降至85", "release": "1"})
    runner = studio.test_cli_runner()
    out = tmp_path / "exported"
    result = runner.invoke(args=["config", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert '"value": 85' in (out / PARAMS).read_text(encoding="utf-8")
    zipped = admin.get("/admin/config/releases/2/export.zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert "config/rules/parameters.json" in names and "config/forms/dispute.json" in names

    from server import create_app

    checker = create_app({"config_dir": out, "database_url": f"sqlite:///{tmp_path}/check.db", "instance_dir": tmp_path})
    checked = checker.test_cli_runner().invoke(args=["config", "check"])
    assert checked.exit_code == 0 and "配置有效" in checked.output

    # edit the exported files and import them back as a zip: a new release, the same as the files
    text = (out / PARAMS).read_text(encoding="utf-8").replace('"value": 85', '"value": 80', 1)
    (out / PARAMS).write_text(text, encoding="utf-8")
    archive = tmp_path / "edited.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in out.rglob("*"):
            if path.is_file():
                z.write(path, f"config/{path.relative_to(out).as_posix()}")
    imported = runner.invoke(args=["config", "import", str(archive), "--note", "按文件修改"])
    assert imported.exit_code == 0, imported.output
    assert latest_seq(studio) == 3 and '"value": 80' in live_text(studio, PARAMS)
    again = runner.invoke(args=["config", "export", str(tmp_path / "again.zip")])
    assert again.exit_code == 0
    with zipfile.ZipFile(tmp_path / "again.zip") as z:
        assert z.read("config/rules/parameters.json").decode("utf-8") == text


def test_import_refuses_a_broken_configuration_with_every_error(studio, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(PROJECT_CONFIG, bad)
    (bad / "forms" / "dispute.json").write_text('{"title": "坏", "type": "strng"}', encoding="utf-8")
    result = studio.test_cli_runner().invoke(args=["config", "import", str(bad), "--note", "坏"])
    assert result.exit_code == 1 and "forms/dispute.json:1:" in result.output and "未导入" in result.output
    assert latest_seq(studio) == 1


@pytest.mark.parametrize("entries, message", [
    ({"config/../evil.json": "{}"}, "相对路径"),
    ({"config/forms/x.py": "print()"}, "只接受"),
])
def test_import_refuses_a_zip_with_entries_outside_the_configuration(studio, tmp_path, entries, message):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, text in entries.items():
            z.writestr(name, text)
    result = studio.test_cli_runner().invoke(args=["config", "import", str(archive), "--note", "x"])
    assert result.exit_code != 0 and message in result.output


def test_startup_does_not_undo_a_studio_publish_with_stale_files(studio, make_app, config_copy):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(admin, "/admin/config/publish", {"note": "降至85", "release": "1"})
    restarted = make_app(config_dir=config_copy)  # a process started on the folder still at version 1
    restarted.test_client().get("/api/v1/health")
    assert latest_seq(restarted) == 2
    with restarted.app_context():
        assert restarted.extensions["registry"].live.rules.values["satisfaction_threshold"] == 85
    # `config reload` would undo the studio's change: refused unless forced
    refused = restarted.test_cli_runner().invoke(args=["config", "reload"])
    assert refused.exit_code == 1 and "config export" in refused.output
    # a folder edited by hand without being brought up to date is not published either, at start or reload
    edit = (config_copy / PARAMS).read_text(encoding="utf-8").replace('"value": 365', '"value": 300', 1)
    (config_copy / PARAMS).write_text(edit, encoding="utf-8")
    make_app(config_dir=config_copy).test_client().get("/api/v1/health")
    assert latest_seq(studio) == 2 and '"value": 90' not in live_text(studio, PARAMS).split("relisting")[0]
    # exported from the live version, then edited: published at start, with the studio's change kept
    assert studio.test_cli_runner().invoke(args=["config", "export", str(config_copy)]).exit_code == 0
    assert (config_copy / ".release").read_text().strip() == "2"
    edit = (config_copy / PARAMS).read_text(encoding="utf-8").replace('"value": 365', '"value": 300', 1)
    (config_copy / PARAMS).write_text(edit, encoding="utf-8")
    make_app(config_dir=config_copy).test_client().get("/api/v1/health")
    assert latest_seq(studio) == 3
    assert '"value": 85' in live_text(studio, PARAMS) and '"value": 300' in live_text(studio, PARAMS)
    # a further edit and `config reload` (the live version now comes from these files): published
    (config_copy / PARAMS).write_text(edit.replace('"value": 300', '"value": 200', 1), encoding="utf-8")
    reloaded = studio.test_cli_runner().invoke(args=["config", "reload"])
    assert reloaded.exit_code == 0, reloaded.output
    assert '"value": 200' in live_text(studio, PARAMS)


def test_publishes_from_files_and_the_command_line_are_audited(studio, config_copy):
    from server.records.models import AuditEntry

    edit = (config_copy / PARAMS).read_text(encoding="utf-8").replace('"value": 365', '"value": 300', 1)
    (config_copy / PARAMS).write_text(edit, encoding="utf-8")
    result = studio.test_cli_runner().invoke(args=["config", "reload", "--by", "ops", "--note", "复发期限改为300天"])
    assert result.exit_code == 0, result.output
    with studio.app_context():
        entries = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "config_publish")
                                          .order_by(AuditEntry.id)))
        assert [e.object_id for e in entries] == [1, 2]  # the start's release 1 too
        assert entries[1].detail == "配置文件，ops。复发期限改为300天"


def test_a_page_opened_before_a_colleague_published_does_not_undo_the_publish(studio):
    first, second = session_client(studio, "admin"), session_client(studio, "admin2")
    path = "dashboard.json"
    page = second.get(f"/admin/config/file?path={path}").get_data(as_text=True)
    base = re.search(r'name="base" value="([0-9a-f]{64})"', page).group(1)
    shown = live_text(studio, path)
    post(first, "/admin/config/file", {"path": path, "text": shown.replace("统计", "统计甲", 1)})
    assert post(first, "/admin/config/publish", {"note": "甲", "release": "1"}).status_code == 302
    # the second administrator saves what their page showed, plus their own edit
    post(second, "/admin/config/file", {"path": path, "text": shown.replace("统计", "统计乙", 1), "base": base})
    refused = post(second, "/admin/config/publish", {"note": "乙", "release": "2"})
    assert refused.status_code == 422 and "已有新的发布版本" in refused.get_data(as_text=True)
    assert "统计甲" in live_text(studio, path)


def test_the_parameters_form_keeps_a_value_published_after_it_was_opened(studio):
    first, second = session_client(studio, "admin"), session_client(studio, "admin2")
    shown = {"satisfaction_threshold": "90", "relisting_window_days": "365"}
    was = {f"was-{k}": v for k, v in shown.items()}
    post(first, "/admin/config/parameters", {"relisting_window_days": "300"})
    assert post(first, "/admin/config/publish", {"note": "甲", "release": "1"}).status_code == 302
    # the second page still shows 365; its author changes only the threshold
    post(second, "/admin/config/parameters", {**shown, **was, "satisfaction_threshold": "85"})
    assert post(second, "/admin/config/publish", {"note": "乙", "release": "2"}).status_code == 302
    text = live_text(studio, PARAMS)
    assert '"value": 300' in text and '"value": 85' in text
    # both changed the same value: the second is told, with both values
    clash = post(first, "/admin/config/parameters", {**was, "satisfaction_threshold": "88",
                                                     "was-satisfaction_threshold": "90"})
    assert clash.status_code == 422 and "已被改为 85（原为 90）" in clash.get_data(as_text=True)


def test_publishing_keeps_a_draft_saved_again_meanwhile(studio):
    from server.studio import drafts
    from server.studio.publish import publish_drafts

    with studio.app_context():
        user = user_named("admin")
        space = drafts.workspace(user.id)
        drafts.save(space, user.id, "dashboard.json", space.live["dashboard.json"].replace("统计", "统计1", 1), None)
        db.session.commit()
        original = drafts.drop_published

        def later_save(user_id, versions):  # another tab saves between the check and the commit
            with studio.app_context():
                other = drafts.workspace(user_id)
                drafts.save(other, user_id, "dashboard.json", other.drafts["dashboard.json"].text + " ", 1)
                db.session.commit()
            original(user_id, versions)

        drafts.drop_published = later_save
        try:
            if db.engine.dialect.name == "sqlite":
                pytest.skip("SQLite holds the publish's write lock: the other tab waits until it commits")
            publish_drafts(user, "甲", 1)
        finally:
            drafts.drop_published = original
        remaining = drafts.workspace(user.id).drafts
        assert list(remaining) == ["dashboard.json"] and remaining["dashboard.json"].text.endswith(" ")


@pytest.mark.parametrize("path", ["forms/" + "a" * 300 + ".json", "/".join(["forms"] + ["abcdefghij"] * 25) + ".json",
                                  "junk/whatever.json", "forms/名字.json"])
def test_paths_the_configuration_cannot_hold_are_refused(studio, path):
    admin = session_client(studio, "admin")
    assert admin.get("/admin/config/file", query_string={"path": path, "new": "1"}).status_code == 404
    assert post(admin, "/admin/config/file", {"path": path, "text": "{}"}).status_code == 404
    assert admin.get("/admin/config/").status_code == 200


def test_a_form_value_that_is_not_a_number_is_a_conflict_not_an_error(studio):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    response = post(admin, "/admin/config/publish", {"note": "x", "release": "²"})
    assert response.status_code == 409


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zips_that_are_not_configuration_are_refused_by_name():
    from server.specs.releases import TreeError, unzip_tree

    bomb = _zip({f"config/forms/f{i}.json": b" " * (1024 * 1024) for i in range(21)})
    assert len(bomb) < 200_000
    with pytest.raises(TreeError, match="解压后超过 20 MB"):
        unzip_tree(bomb)
    stored = _zip({"config/forms/a.json": b'{"title": "x"}'}, zipfile.ZIP_STORED)
    damaged = stored.replace(b'{"title": "x"}', b'{"title": "y"}')
    with pytest.raises(TreeError, match="无法从压缩包中读出"):
        unzip_tree(damaged)
    with pytest.raises(TreeError, match="不是 zip"):
        unzip_tree(b"PK\x03\x04 not really")
    assert unzip_tree(_zip({"config/forms/a.json": b"{}", "config/.release": b"7\n"})) == ({"forms/a.json": "{}"}, 7)


def test_an_old_export_imported_after_a_later_publish_is_told(studio, tmp_path):
    from server.specs import releases

    admin = session_client(studio, "admin")
    exported = admin.get("/admin/config/releases/1/export.zip").data
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(admin, "/admin/config/publish", {"note": "降至85", "release": "1"})
    tree, seq = releases.unzip_tree(exported)
    assert seq == 1
    tree["dashboard.json"] = tree["dashboard.json"].replace("统计", "统计改", 1)
    edited = releases.zip_tree(tree, seq)
    # in the browser: the stale parameters file is drafted as begun from version 1, so it shows as moved on
    post(admin, "/admin/config/import", {"archive": (io.BytesIO(edited), "c.zip")}, content_type="multipart/form-data")
    refused = post(admin, "/admin/config/publish", {"note": "导入", "release": "2"})
    assert refused.status_code == 422 and PARAMS in refused.get_data(as_text=True)
    # on the command line: refused unless forced
    (tmp_path / "c.zip").write_bytes(edited)
    result = studio.test_cli_runner().invoke(args=["config", "import", str(tmp_path / "c.zip"), "--note", "导入"])
    assert result.exit_code == 1 and "不是从版本 2 导出的" in result.output
    assert '"value": 85' in live_text(studio, PARAMS)
def identified_area(app) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A key area of 城关街道 just identified (the stage of the 建议书). (id, number)"""
    from tests.keyareas import area_at
    from tests.test_survey import AREA, IDENTIFY

    data = {**AREA, **IDENTIFY, "identification": {**AREA["identification"], **IDENTIFY["identification"]}}
    with app.app_context():
        record = area_at(data, "identified", user_named("county"))
        return record.id, record.number


def test_a_document_previews_from_the_draft_template_as_a_draft_pdf(studio):
    from tests import pdfcheck

    area, number = identified_area(studio)
    admin = session_client(studio, "admin")
    path = "documents/recommendation_letter/template.html"
    template = live_text(studio, path)
    edited = template.replace("<p>特此建议。</p>", "<p>请于十个工作日内书面反馈核实意见。</p>\n<p>特此建议。</p>")
    assert edited != template
    post(admin, "/admin/config/file", {"path": path, "text": edited})
    page = admin.get("/admin/config/preview/document/recommendation_letter").get_data(as_text=True)
    assert f'<option value="{area}"' in page and number in page
    pdf = admin.get(f"/admin/config/preview/document/recommendation_letter?record={area}")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = pdfcheck.Pdf(pdf.data).text().replace("\n", "")
    assert "请于十个工作日内书面反馈核实意见" in text and f"〔{date.today().year}〕号" in text  # no number taken
    # the live template is unchanged until published
    with studio.app_context():
        assert "书面反馈" not in studio.extensions["registry"].document("recommendation_letter").template
    wrong_stage = admin.get(f"/admin/config/preview/document/listing_notice?record={area}")
    assert wrong_stage.status_code == 422 and "阶段生成" in wrong_stage.get_data(as_text=True)


def test_a_broken_template_is_an_error_at_its_line(studio):
    admin = session_client(studio, "admin")
    path = "documents/recommendation_letter/template.html"
    broken = live_text(studio, path).replace("{% endblock %}", "{% endblok %}", 1)
    html = post(admin, "/admin/config/file", {"path": path, "text": broken}).get_data(as_text=True)
    problems = re.search(r'id="config-problems">(.*?)</script>', html, re.S).group(1)
    assert '"line": ' in problems and "此文件有" in html


def test_a_zip_imported_in_the_browser_becomes_drafts(studio):
    from server.specs import releases

    admin = session_client(studio, "admin")
    with studio.app_context():
        tree = releases.tree_of(releases.latest_release())
    tree[PARAMS] = tree[PARAMS].replace('"value": 90', '"value": 88', 1)
    del tree["dashboard.json"]
    response = post(admin, "/admin/config/import", {"archive": (io.BytesIO(releases.zip_tree(tree, 1)), "c.zip")},
                    content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/config/publish")
    page = admin.get("/admin/config/publish").get_data(as_text=True)
    assert "&#34;value&#34;: 88" in page and "dashboard.json" not in page.split("与当前发布版本的差异")[1]
    bad = post(admin, "/admin/config/import", {"archive": (io.BytesIO(b"not a zip"), "c.zip")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "不是 zip 压缩包" in bad.get_data(as_text=True)


def test_an_org_sheet_import_after_a_studio_publish_keeps_the_studio_change(studio):
    admin = session_client(studio, "admin")
    post(admin, "/admin/config/parameters", {"satisfaction_threshold": "85"})
    post(admin, "/admin/config/publish", {"note": "降至85", "release": "1"})
    sheet = admin.get("/admin/org-import/export.xlsx").data
    response = admin.post("/admin/org-import/", data={"csrf_token": token_of(admin, "/admin/org-import/"),
                                                      "sheet": (io.BytesIO(sheet), "单位表.xlsx")},
                          content_type="multipart/form-data")
    assert "已导入" in response.get_data(as_text=True)
    assert '"value": 85' in live_text(studio, PARAMS)  # the import started from the live release, not the folder


def test_a_new_file_is_added_from_the_studio(studio):
    """The 2027 holidays, which the calendar package does not know yet, added as calendar/2027.json."""
    import json

    admin = session_client(studio, "admin")
    path = "calendar/2027.json"
    assert admin.get(f"/admin/config/file?path={path}").status_code == 404  # not a file until created
    page = admin.get(f"/admin/config/file?path={path}&new=1")
    assert page.status_code == 200 and "新文件" in page.get_data(as_text=True)
    text = json.dumps({"holidays": ["2027-01-01", {"from": "2027-02-06", "to": "2027-02-12", "title": "春节"}],
                       "workdays": ["2027-02-20"], "source": "国务院办公厅关于2027年部分节假日安排的通知"},
                      ensure_ascii=False, indent=2)
    saved = post(admin, "/admin/config/file", {"path": path, "text": text})
    assert "检查通过" in saved.get_data(as_text=True)
    assert post(admin, "/admin/config/publish", {"note": "2027年节假日安排", "release": "1"}).status_code == 302
    assert live_text(studio, path) == text
    with studio.app_context():
        calendar = studio.extensions["registry"].live.calendar
        assert not calendar.is_working_day(date(2027, 2, 8)) and calendar.is_working_day(date(2027, 2, 20))


@pytest.mark.parametrize("url", ["/admin/config/releases/2147483648", "/admin/config/releases/99999999999999999999",
                                 "/admin/config/releases/7/export.zip", "/admin/config/preview/form/nope",
                                 "/admin/config/preview/document/nope"])
def test_what_names_nothing_is_404(studio, url):
    assert session_client(studio, "admin").get(url).status_code == 404

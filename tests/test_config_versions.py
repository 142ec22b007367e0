"""Publishing configuration: versions in the database, reload without restart, broken edits refused."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server import create_app
from server.errors import ConfigInvalid
from server.extensions import db
from tests.conftest import CONFIG_DIR, _seed_org_and_users
from tests.test_records import GOOD


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def _retitle(config: Path, title: str) -> None:
    path = config / "forms" / "incident.json"
    schema = json.loads(path.read_text())
    schema["title"] = title
    path.write_text(json.dumps(schema, ensure_ascii=False))


def _api(app):  # type: ignore[no-untyped-def]
    from server.auth.service import create_token

    with app.app_context():
        _seed_org_and_users()
        token = create_token("clerk")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_reload_publishes_to_running_servers_without_restart(make_app, config_copy):
    serving = make_app(config_dir=config_copy)
    api = _api(serving)
    record_id = api.post("/api/v1/forms/incident/records", json=GOOD).get_json()["id"]
    admin = make_app(config_dir=config_copy)  # another process: the one running `config reload`

    _retitle(config_copy, "改名后的登记簿")
    result = admin.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output
    assert "incident" in result.output

    forms = {f["id"]: f for f in api.get("/api/v1/forms").get_json()}
    assert forms["incident"] == {"id": "incident", "title": "改名后的登记簿", "version": 2}
    assert forms["transfer"]["version"] == 1
    assert api.get("/api/v1/health").get_json()["config_version"].startswith("2-")
    # the old record keeps the version it was saved under; a new one gets the new version
    assert api.get(f"/api/v1/records/{record_id}").get_json()["form_version"] == 1
    assert api.post("/api/v1/forms/incident/records", json=GOOD).get_json()["form_version"] == 2


def test_broken_edit_is_refused_and_old_version_keeps_serving(make_app, config_copy, monkeypatch):
    serving = make_app(config_dir=config_copy)
    api = _api(serving)
    (config_copy / "forms" / "incident.json").write_text('{"title": "坏", "type": "strng"')
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # the admin's `flask config reload` process
    result = make_app(config_dir=config_copy).test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 1
    assert "forms/incident.json:1:" in result.output and "未发布" in result.output
    assert api.get("/api/v1/forms/incident").get_json()["title"] == "测试登记簿"
    assert api.post("/api/v1/forms/incident/records", json=GOOD).status_code == 201


def test_development_file_watch_reloads_on_save(make_app, config_copy):
    serving = make_app(config_dir=config_copy, watch_config_files=True)
    api = _api(serving)
    assert api.get("/api/v1/forms/incident").get_json()["version"] == 1
    _retitle(config_copy, "保存即生效")
    body = api.get("/api/v1/forms/incident").get_json()
    assert (body["title"], body["version"]) == ("保存即生效", 2)
    (config_copy / "forms" / "incident.json").write_text("{")
    assert api.get("/api/v1/forms/incident").get_json()["title"] == "保存即生效"


def test_same_files_publish_no_new_version(make_app, config_copy):
    make_app(config_dir=config_copy)
    app = make_app(config_dir=config_copy)
    result = app.test_cli_runner().invoke(args=["config", "reload"])
    assert "有变化的表单：无" in result.output
    with app.app_context():
        assert app.extensions["registry"].form("incident").version == 1


def test_server_refuses_to_start_on_invalid_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    bad = tmp_path / "config"
    (bad / "forms").mkdir(parents=True)
    (bad / "forms" / "broken.json").write_text('{"type": "object"}')
    with pytest.raises(ConfigInvalid) as caught:
        create_app({"config_dir": bad, "database_url": f"sqlite:///{tmp_path}/x.db", "instance_dir": tmp_path})
    assert "forms/broken.json:1:1" in str(caught.value)


def test_config_check_command(app):
    result = app.test_cli_runner().invoke(args=["config", "check"])
    assert result.exit_code == 0 and "配置有效：2 个表单" in result.output


def test_config_check_reports_all_errors(make_app, config_copy):
    (config_copy / "forms" / "incident.json").write_text('{"title": 1, "type": "object", "properties": {}}')
    (config_copy / "forms" / "transfer.json").write_text("{")
    app = make_app(config_dir=CONFIG_DIR)
    app.extensions["registry"].config_dir = config_copy
    result = app.test_cli_runner().invoke(args=["config", "check"])
    assert result.exit_code == 1
    assert "forms/incident.json:1:" in result.output and "forms/transfer.json:1:" in result.output


def test_shipped_configuration_is_valid():
    from server.settings import PROJECT_ROOT
    from server.specs import load_config

    forms = load_config(PROJECT_ROOT / "config").forms
    assert len(forms) == 13 and forms["key_area"].title == "社会治安重点地区排查整治台账"

"""User and token commands, and the demo county."""
from __future__ import annotations

import sqlalchemy as sa

from server.auth.models import User
from server.extensions import db


def test_user_create_reads_password_from_stdin_and_can_log_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "wang", "--password-stdin", "--org", "999901001000"],
                           input="long-enough-1\n")
    assert result.exit_code == 0, result.output
    from server.auth.service import authenticate

    assert authenticate("wang", "long-enough-1") is not None
    assert authenticate("wang", "wrong") is None
    short = runner.invoke(args=["user", "create", "li", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "密码至少 8 位" in short.output
    dup = runner.invoke(args=["user", "create", "wang", "--password-stdin"], input="long-enough-1\n")
    assert dup.exit_code != 0 and "已存在" in dup.output


def test_token_create_prints_token_last_and_it_works(app):
    result = app.test_cli_runner().invoke(args=["token", "create", "clerk"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    response = app.test_client().get("/api/v1/forms", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert app.test_cli_runner().invoke(args=["token", "create", "nobody"]).exit_code != 0


def test_demo_load_runs_once(make_app):
    from server.org.models import OrgUnit
    from server.settings import PROJECT_ROOT

    app = make_app(config_dir=PROJECT_ROOT / "config")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and "已载入示范县" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "未添加示范用户" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 8
        kinds = dict(db.session.execute(sa.select(OrgUnit.kind, sa.func.count()).group_by(OrgUnit.kind)).all())
        assert kinds["township"] + kinds["subdistrict"] == 17 and kinds["village"] == 318
        quota = 3 * kinds["village"] + 2 * kinds["community"] + sum(
            kinds[k] for k in ("unit_branch", "police_station", "dept_office"))
        assert quota == 1242

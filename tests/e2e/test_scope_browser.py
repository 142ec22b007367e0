"""A township user logs in, sees only that township's records, and cannot open another's by URL."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

BASE = {"reported_on": "2026-05-01", "source": "visit", "visitor": {"name": "王五"}}


def test_township_user_sees_only_own_township(page, live_server):
    from playwright.sync_api import expect

    own = live_server.create_record("incident", dict(BASE, summary="城关夜市噪音"), username="clerk")
    other = live_server.create_record("incident", dict(BASE, summary="河口码头斗殴"), username="clerk_b")
    with live_server.app.app_context():
        import sqlalchemy as sa

        from server.extensions import db
        from server.records.models import Record

        other_id = db.session.scalar(sa.select(Record.id).where(Record.number == other))
        db.session.remove()

    page.goto("/login")
    page.fill("#username", "clerk")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("共 1 条").first).to_be_visible()

    page.goto("/forms/incident/")
    table = page.locator("table.record-list")
    expect(table).to_contain_text(own)
    expect(table).not_to_contain_text(other)
    page.goto("/forms/incident/?q=码头")
    expect(page.get_by_text("没有符合条件的记录")).to_be_visible()

    response = page.goto(f"/records/{other_id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("河口码头斗殴")
    assert page.goto(f"/records/{other_id}/history").status == 404
    assert page.goto(f"/records/{other_id}/edit").status == 404

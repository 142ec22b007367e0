"""A township clerk makes an official document from a record in the browser: preview, issue,
download, revoke."""
from __future__ import annotations

import hashlib
from typing import Any, Iterator

import pytest

from server.extensions import db
from tests.conftest import PASSWORD
from tests.documents_fixtures import GOOD_INCIDENT, documents_config
from tests.e2e.conftest import LiveServer, serve

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server(make_app, tmp_path) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The live server of tests/e2e/conftest.py, on the test documents configuration."""
    with serve(make_app(config_dir=documents_config(tmp_path / "config"))) as live:
        yield live


def _record_id(live_server: LiveServer, number: str) -> int:
    import sqlalchemy as sa

    from server.records.models import Record

    with live_server.app.app_context():
        record_id = db.session.scalar(sa.select(Record.id).where(Record.number == number))
        db.session.remove()
    return int(record_id)


def test_preview_issue_download_and_revoke(page: Any, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    number = live_server.create_record("incident", GOOD_INCIDENT, username="clerk")
    record_id = _record_id(live_server, number)
    page.goto("/login")
    page.fill("#username", "clerk")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"/records/{record_id}")
    section = page.locator("section.x-documents")
    expect(section).to_contain_text("生成文书")
    expect(section).to_contain_text("尚未签发")

    row = section.locator("li", has_text="测试事项处理通知")
    preview = row.get_by_role("link", name="预览")
    draft = page.request.get(live_server.url + preview.get_attribute("href"))
    assert draft.status == 200 and draft.headers["content-type"] == "application/pdf"
    assert draft.body().startswith(b"%PDF")

    row.locator("summary", has_text="签发").click()
    row.get_by_role("button", name="确认签发《测试事项处理通知》").click()
    year = __import__("datetime").date.today().year
    expect(page.locator("body")).to_contain_text(f"城关综治测〔{year}〕1号")
    detail_url = page.url
    sha = page.locator("body").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载").first.click()
    path = download_info.value.path()
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() in sha

    page.get_by_role("button", name="撤销").click()
    expect(page.locator("#reason-error")).to_be_visible()
    page.fill("#reason", "受文单位写错")
    page.get_by_role("button", name="撤销").click()
    expect(page.locator("body")).to_contain_text("已撤销")
    expect(page.locator("body")).to_contain_text("受文单位写错")

    page.goto(f"/records/{record_id}")
    issued = page.locator("table.x-issued")
    expect(issued).to_contain_text(f"城关综治测〔{year}〕1号")
    expect(issued).to_contain_text("已撤销")
    assert page.url != detail_url

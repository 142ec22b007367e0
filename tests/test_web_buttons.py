"""Pages offer only what the user may do: every link and form on every page a role reaches answers not-403.

A leader who sees 登记 on nineteen pages, each answering 403, or an information officer offered an
empty 文书登记 learns to distrust the system. The pages ask the same permission functions the services
enforce; this test crawls the shipped configuration (the demo county's org tree, one user per demo
role, a record of every ledger) as each role and follows every ``<a href>`` and form action.
"""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from server.demo import DEMO_USERS
from server.errors import ValidationFailed
from server.settings import PROJECT_ROOT
from tests.conftest import session_client
from tests.test_ledgers_config import SAMPLES

SKIP_PREFIXES = ("/static/", "/vendor/")
MAX_PAGES = 400  # per role; far more than the distinct pages a role can reach


class _Targets(HTMLParser):
    """The ``<a href>`` targets and forms (action, method, hidden inputs) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "hidden": {}})
        elif tag == "input" and a.get("type") == "hidden" and self.forms and a.get("name"):
            self.forms[-1]["hidden"][a["name"]] = a.get("value") or ""


def _pattern(url: str) -> str:
    """One representative per kind of page: digits become N, query values are dropped; but every
    record's own page, since each ledger's record offers other buttons (documents, workflow steps)."""
    parts = urlsplit(url)
    if re.fullmatch(r"/records/\d+", parts.path):
        return parts.path
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def _local(base: str, href: str) -> str | None:
    if href.startswith(("#", "mailto:", "javascript:")):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if path.startswith(SKIP_PREFIXES) else path


def crawl(client: Any) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """GET every page reachable from ``/`` (one per pattern); POST each other post form once with only
    its hidden inputs (the CSRF token), except 退出 and the admin's own forms. Returns the pages'
    statuses and the (page, target, status) of every target answering 403."""
    seen: dict[str, int] = {}
    posts: dict[str, tuple[str, str, dict[str, str]]] = {}
    forbidden: list[tuple[str, str, int]] = []
    queue: deque[tuple[str, str]] = deque([("", "/")])
    while queue and len(seen) < MAX_PAGES:
        source, url = queue.popleft()
        if _pattern(url) in seen:
            continue
        response = client.get(url)
        seen[_pattern(url)] = response.status_code
        if response.status_code == 403:
            forbidden.append((source, url, 403))
        if response.status_code in (301, 302, 303) and (target := _local(url, response.headers["Location"])):
            queue.append((url, target))  # a leader's / leads to the dashboard
            continue
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        targets = _Targets()
        targets.feed(response.get_data(as_text=True))
        for href in targets.links:
            if (target := _local(url, href)) is not None:
                queue.append((url, target))
        for form in targets.forms:
            target = _local(url, form["action"]) if form["action"] else url
            if target is None:
                continue
            if form["method"] == "get":
                queue.append((url, target))
            elif target.split("?")[0] != "/logout" and not target.startswith("/admin"):
                posts.setdefault(_pattern(target), (url, target, form["hidden"]))
    # a page that answered its GET (登记, 修改) takes its POST under the same permission: post the others
    for pattern, (url, target, hidden) in posts.items():
        if pattern not in seen and client.post(target, data=hidden).status_code == 403:
            forbidden.append((url, f"POST {target}", 403))
    return seen, forbidden


def _in_demo_county(value: Any) -> Any:
    """A ledger sample with its places moved into the demo county's 河口镇 (130121101… there, 139901101… here)."""
    if isinstance(value, dict):
        return {k: _in_demo_county(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_demo_county(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"130121\d{6}", value):
        return "139901" + value[6:]
    return value


def _refs(app, form_id: str, data: Any) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from server.forms import build_form, ref_values

    with app.app_context():
        return ref_values(build_form(app.extensions["registry"].form(form_id)), data)


def _opening(app, form_id: str, data: Any) -> Any:  # type: ignore[no-untyped-def]
    """A sample as it is first registered: without the sections of later workflow states (x-ui.states),
    which a new record may not fill."""
    from server.records.stages import closed_sections

    with app.app_context():
        closed = closed_sections(app.extensions["registry"].form(form_id))
    return {k: v for k, v in data.items() if k not in closed}


def _replaced(data: Any, pointer: str, value: str | None) -> Any:
    """``data`` with the value at ``pointer`` replaced (None: the member left out)."""
    head, _, rest = pointer.lstrip("/").partition("/")
    if isinstance(data, list):
        return [(_replaced(v, "/" + rest, value) if rest else value) if str(i) == head else v
                for i, v in enumerate(data)]
    if not rest and value is None:
        return {k: v for k, v in data.items() if k != head}
    return {**data, head: _replaced(data[head], "/" + rest, value) if rest else value}


def _build_site(make_app):  # type: ignore[no-untyped-def]
    """The shipped configuration, one user per demo role (the test password, no forced change) and a
    record of every ledger (the samples of test_ledgers_config, registered by the county office)."""
    from server.auth.service import create_user
    from server.extensions import db
    from server.records import service
    from tests.conftest import PASSWORD, user_named

    app = make_app(config_dir=PROJECT_ROOT / "config")
    with app.app_context():
        for username, label, role, org in DEMO_USERS:
            create_user(username, PASSWORD, role=role, org_code=org, display_name=label)
        county = user_named("county")
        numbers: dict[str, str] = {}
        pending = dict(SAMPLES)
        while pending:  # a form once the records its references name exist
            ready = [f for f, sample in pending.items() if all(t in numbers for _, t, _ in _refs(app, f, sample))]
            for form_id in ready or list(pending):  # in a cycle, any that saves without its open references
                data = _opening(app, form_id, _in_demo_county(pending[form_id]))
                for pointer, target, _ in _refs(app, form_id, data):
                    data = _replaced(data, pointer, numbers.get(target))
                try:
                    numbers[form_id] = service.create_record(form_id, data, county).number
                except ValidationFailed:
                    assert not ready, form_id
                    continue
                del pending[form_id]
                if not ready:
                    break
            else:
                assert ready, f"no ledger sample saves: {list(pending)}"
        db.session.commit()
        db.session.remove()
    return app


def test_no_rendered_button_or_link_answers_403_for_any_demo_role(make_app, monkeypatch):
    from server.documents import service as documents
    from server.documents.pdf import RenderResult

    # permissions, scope and data are checked before rendering; the PDF itself is not this test's concern
    monkeypatch.setattr(documents, "_render", lambda prepared: RenderResult(pdf=b"%PDF-1.7 stub", pages=1))
    app = _build_site(make_app)
    # the administrator last: nothing it might change can then disturb another role's crawl
    order = sorted(DEMO_USERS, key=lambda u: u[2] == "county_admin")
    reached: dict[str, dict[str, int]] = {}
    for username, _, _, _ in order:
        with app.app_context():
            seen, forbidden = crawl(session_client(app, username))
        assert forbidden == [], (username, forbidden)
        assert [p for p, status in seen.items() if status >= 500] == [], username
        reached[username] = seen
    # the crawl really went somewhere: each role reached its ledgers, staff their record pages
    for username in ("county", "chengguan", "pcs01", "leader", "xinxiyuan", "admin"):
        assert any(p.startswith("/forms/") for p in reached[username]), username
    for username in ("county", "hekou", "leader"):
        assert any(re.fullmatch(r"/records/\d+", p) for p in reached[username]), username
    assert any(p.endswith("preview.pdf") for p in reached["county"])  # record pages' document buttons
    assert "/forms/security_problem/new" in reached["hekou"]
    assert not any(p.endswith("/new") for p in reached["leader"])
    assert not any(p.startswith("/documents") for p in reached["xinxiyuan"])
    assert "/records/N/edit" not in reached["leader"]


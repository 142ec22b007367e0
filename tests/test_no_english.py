"""No English on the pages (issue 12 item 3): what each role reads is Chinese.

Every role's pages — home, ledger lists, a record's detail with its 为什么 and timeline, its history,
the inbox, registers, documents, and the administrator's users, units, audit log and records — are
fetched after a matter went through routing (so history, decisions and audit rows exist), and their
visible text (not tags, scripts, styles or attribute values: ids belong in ``title`` for hover) is
scanned for Latin words. Only the tokens in :data:`ALLOWED` may appear, and the record numbers the
county's numbering patterns make. The scan itself is tested on a page that says ``rule_update``.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import login_session, user_named
from tests.test_flow_intake import PROBLEM, VISIT, at, clients, config_copy, go, register  # noqa: F401 (fixtures)
from tests.keyareas import area_at
from tests.test_rules_policies import KEY_AREA

#: Latin tokens a Chinese office reads without trouble.
ALLOWED = frozenset({"API", "PDF", "Excel", "JSON", "ID", "X", "QQ", "CSV", "OK", "A4", "GB", "T", "WPS", "App"})
#: Data, not wording: login names (the header names who is signed in) and the guessable passwords the
#: change-password page warns of.
DATA = frozenset({"county", "chengguan", "hekou", "pcs01", "pcs04", "leader", "admin",
                  "q2w3e4r", "qq123456", "woaini1314"})
#: Record numbers (``XFDJ-139901001000-2026-0001``) and document numbers are identifiers people quote.
RECORD_NUMBER = re.compile(r"\b[A-Z]{2,6}-[0-9A-Z-]+\b")
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside script/style and hidden elements (data for scripts),
    the labels of buttons and the placeholders of inputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_tags: list[str] = []  # open elements whose content is not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = "display:none" in (values.get("style") or "").replace(" ", "") or "hidden" in values \
            or "d-none" in (values.get("class") or "").split() or values.get("type") == "hidden"
        if self._skip_tags or tag in ("script", "style", "template") or hidden:  # data for scripts, not text
            self._skip_tags.append(tag)
            return
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")
        for name in ("placeholder",):
            if values.get(name):
                self.parts.append(values[name] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tags and self._skip_tags[-1] == tag:
            self._skip_tags.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip_tags:
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    """The Latin words of a page's visible text that are not allowed."""
    parser = _Text()
    parser.feed(html)
    text = RECORD_NUMBER.sub(" ", " ".join(parser.parts))
    return sorted({w for w in LATIN.findall(text) if w not in ALLOWED | DATA and w.rstrip(".") not in ALLOWED})


def test_the_scan_finds_identifiers_and_spares_hover_titles():
    assert english_words('<p>修改 <span title="rule_update">按规则修改</span></p>') == []
    assert english_words("<p>rule_update（第 1 版）</p><p>状态 active</p>") == ["active", "rule_update"]
    assert english_words("<p>导出 Excel，下载 PDF，编号 XFDJ-139901001000-2026-0001</p>") == []
    assert english_words("<script>var active = 1;</script><p>正常</p>") == []
    assert english_words('<input type="submit" value="Save">') == ["Save"]


PAGES_ALL = ["/", "/inbox", "/registers", "/documents/", "/account/password", "/year-end", "/reporting/monthly",
             "/dashboard/"]
ADMIN_PAGES = ["/admin/", "/admin/users/", "/admin/tokens/", "/admin/units/", "/admin/audit/", "/admin/records/"]


def _web(clients, username: str):  # type: ignore[no-untyped-def]
    client = clients.app.test_client()
    session_id = clients.run(lambda: login_session(user_named(username)))
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    return client


@pytest.fixture
def matter(clients):  # type: ignore[no-untyped-def]
    """A visit routed to the 派出所, a problem the routing rules decide, a key area the responsibility
    rules fill in (history, 为什么, audit rows), and the administrator the fixture lacks."""
    from server.auth.service import create_user

    clients.run(lambda: create_user("admin", "Jiangbei-qiao-88", role="county_admin", org_code="139901000000",
                                    display_name="管理员"))
    with at("2026-11-02"):
        rid = register(clients["chengguan"], data=VISIT)["id"]
        go(clients["chengguan"], rid, "route", {"handling_unit": "GA-PCS01"})
        problem = register(clients["chengguan"], "security_problem", PROBLEM)["id"]  # routing rules: 为什么
        # a listed key area: responsibility rules (按规则修改), its timers, its documents
        area = clients.run(lambda: area_at(KEY_AREA, "listed", user_named("county")).id)
    return [rid, problem, area]


@pytest.mark.parametrize("username", ["county", "chengguan", "pcs01", "leader", "admin"])
def test_every_page_of_every_role_is_chinese(clients, matter, username):
    web = _web(clients, username)
    pages = list(PAGES_ALL)
    home = web.get("/", follow_redirects=True)  # a leader starts on the dashboard
    assert home.status_code == 200
    pages += sorted(set(re.findall(r'href="(/forms/[a-z_]+/)"', home.get_data(as_text=True))))
    dashboard = web.get("/dashboard/").get_data(as_text=True)  # the lists behind its numbers
    pages += sorted(set(h.replace("&amp;", "&") for h in re.findall(r'href="(/dashboard/figures/[^"]+)"', dashboard)))[:12]
    if username != "admin":
        pages += [page for rid in matter for page in (f"/records/{rid}", f"/records/{rid}/history")]
    else:
        pages += ADMIN_PAGES
    found = {}
    for page in pages:
        response = web.get(page, follow_redirects=True)
        if response.status_code in (403, 404):
            continue
        assert response.status_code == 200, page
        words = english_words(response.get_data(as_text=True))
        if words:
            found[page] = words
    assert found == {}
    if username == "county":  # the pages scanned hold what used to be English
        assert "规则集<span" in web.get(f"/records/{matter[1]}").get_data(as_text=True)
        assert "按规则修改" in web.get(f"/records/{matter[2]}/history").get_data(as_text=True)

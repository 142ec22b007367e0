"""A tiny documents configuration for tests, and an app built on it (reusable by any test module).

``tests/configs/app`` has forms only. ``documents_config(tmp)`` copies it, adds the documents kept as
files in ``tests/configs/documents/`` (``incident_letter``: made from an ``incident`` record, issued by
the record's unit as ``城关综治测〔2026〕1号``, mapping a list's last item) and three more:

* ``incident_notice`` — made from one ``incident`` record; issued by the record's township
  (城关镇 -> ``城关综测〔2026〕1号``); township_staff (township level) and county_staff may issue,
  county_staff alone may revoke.
* ``monthly_report`` — a statistics document: the month's ``incident`` records per township.
* ``broken_notice`` — made from ``incident`` records, but its template always fails to render
  (a ``*`` the sandbox refuses), for the "nothing issued, message shown" paths.

Use the ``doc_app`` fixture (import it into a test module: ``from tests.documents_fixtures import
doc_app``), or call ``build_doc_app(make_app, tmp_path)`` yourself.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.conftest import CONFIG_DIR

GOOD_INCIDENT: dict[str, Any] = {
    "reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音扰民", "people": 3,
    "visitor": {"name": "王五"}, "steps": [{"what": "约谈摊主", "due": "2026-05-10"}]}

INCIDENT_NOTICE = {
    "title": "事件处置告知书",
    "description": "测试用：由一条登记记录生成。",
    "source": {"form": "incident"},
    "fields": {
        "record_number": "$record.number",
        "unit": "$record.unit",
        "reported_on": "/reported_on",
        "source": "/source",
        "summary": "/summary",
        "visitor": "/visitor/name",
    },
    "data": {
        "type": "object",
        "required": ["record_number", "unit", "summary"],
        "properties": {
            "record_number": {"type": "string", "title": "记录编号"},
            "unit": {"type": "string", "title": "登记单位"},
            "reported_on": {"type": "string", "title": "登记日期"},
            "source": {"type": "string", "title": "来源"},
            "summary": {"type": "string", "title": "事由摘要"},
            "visitor": {"type": "string", "title": "来访人"},
        },
    },
    "issuer": {"unit": "record_township", "name": "{unit}综治中心", "short": "{unit_short}"},
    "number": "{issuer_short}综测〔{year}〕{seq}号",
    "permissions": {
        "issue": [{"role": "township_staff", "levels": ["township"]}, {"role": "county_staff", "levels": ["county"]}],
        "revoke": [{"role": "township_staff", "levels": ["township"]}, {"role": "county_staff", "levels": ["county"]}],
    },
    "max_pages": 5,
}
INCIDENT_TEMPLATE = """{% extends "gbt9704.html" %}
{% block addressee %}县社会治安综合治理中心{% endblock %}
{% block body %}
<p>{{ data.unit }}登记的事件（记录 {{ data.record_number }}）：{{ data.summary }}。</p>
{% if data.reported_on is defined %}<p>登记日期：{{ data.reported_on | cn_date }}；来源：{{ data.source | default("") }}。</p>{% endif %}
{% if data.visitor is defined %}<p>来访人：{{ data.visitor }}。</p>{% endif %}
<p>特此告知。</p>
{% endblock %}
"""

MONTHLY_REPORT = {
    "title": "事件登记月报",
    "source": {"statistics": {"rows": "children", "columns": [
        {"key": "incidents", "title": "登记事件", "form": "incident", "date": "/reported_on"},
        {"key": "visits", "title": "其中来访", "form": "incident", "date": "/reported_on",
         "where": {"/source": "visit"}}]}},
    "data": {"type": "object", "required": ["month", "rows"],
             "properties": {"month": {"type": "string"}, "rows": {"type": "array"}}},
    "issuer": {"unit": "user", "name": "{unit}综治中心", "short": "{unit_short}"},
    "number": "{issuer_short}综月〔{year}〕{seq}号",
    "permissions": {"issue": [{"role": "county_staff", "levels": ["county"]},
                              {"role": "township_staff", "levels": ["township"]}]},
}
MONTHLY_TEMPLATE = """{% extends "gbt9704.html" %}
{% block body %}
<p>{{ data.month_text }}{{ data.unit }}事件登记情况如下：</p>
<table><tr><th>单位</th>{% for c in data.columns %}<th>{{ c.title }}</th>{% endfor %}</tr>
{% for r in data.rows %}<tr><td>{{ r.unit }}</td>{% for c in data.columns %}<td>{{ r.counts[c.key] }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endblock %}
"""

BROKEN_NOTICE = dict(INCIDENT_NOTICE, title="无法排版的告知书", number="{issuer_short}综坏〔{year}〕{seq}号")
BROKEN_TEMPLATE = """{% extends "gbt9704.html" %}
{% block body %}<p>{{ "字" * 200000 }}</p>{% endblock %}
"""

DOCUMENTS = {
    "incident_notice": (INCIDENT_NOTICE, INCIDENT_TEMPLATE),
    "monthly_report": (MONTHLY_REPORT, MONTHLY_TEMPLATE),
    "broken_notice": (BROKEN_NOTICE, BROKEN_TEMPLATE),
}


STATIC_DOCUMENTS = Path(__file__).parent / "configs" / "documents"


def documents_config(target: Path, documents: dict[str, tuple[dict[str, Any], str]] | None = None) -> Path:
    """A copy of ``tests/configs/app`` at ``target`` with ``documents/<id>/`` folders added (the static
    ones too, unless ``documents`` names exactly which)."""
    shutil.copytree(CONFIG_DIR, target)
    if documents is None:
        shutil.copytree(STATIC_DOCUMENTS, target / "documents")
    for doc_id, (document, template) in (DOCUMENTS if documents is None else documents).items():
        folder = target / "documents" / doc_id
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "document.json").write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
        (folder / "template.html").write_text(template, encoding="utf-8")
    return target


def build_doc_app(make_app: Callable[..., Any], tmp_path: Path, **overrides: Any):  # type: ignore[no-untyped-def]
    """An app on the documents config with the conftest org and users; returns it (no context pushed)."""
    from tests.conftest import _seed_org_and_users

    config = documents_config(tmp_path / "doc_config")
    app = make_app(config_dir=config, **overrides)
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        problems = app.extensions.get("config_errors")
        assert not problems, problems
        static = {p.name for p in STATIC_DOCUMENTS.iterdir() if p.is_dir()}
        assert set(app.extensions["registry"].live.documents) == set(DOCUMENTS) | static
    return app


@pytest.fixture
def doc_app(make_app, tmp_path):  # type: ignore[no-untyped-def]
    """Like conftest's ``app`` (an app context stays pushed), on the documents config."""
    app = build_doc_app(make_app, tmp_path)
    with app.app_context():
        yield app


def user_client(app, username: str):  # type: ignore[no-untyped-def]
    """A browser session logged in as ``username``."""
    from tests.conftest import login_session, user_named

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def api_client(app, username: str):  # type: ignore[no-untyped-def]
    """A test client sending a bearer token of ``username``."""
    import server.auth.service as auth_service

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {auth_service.create_token(username, 'tests')}"
    return client


def make_record(username: str = "clerk", **changes: Any):  # type: ignore[no-untyped-def]
    """An ``incident`` record created by ``username`` (needs an app context)."""
    from server.records import service
    from tests.conftest import user_named

    return service.create_record("incident", {**GOOD_INCIDENT, **changes}, user_named(username))

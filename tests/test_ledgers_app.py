"""The shipped ledgers inside the running app: each page renders, each sample survives the page."""
from __future__ import annotations

import pytest

from server.forms import build_form, render_readonly, validate
from server.settings import PROJECT_ROOT
from tests.test_forms_render import round_trip
from tests.test_ledgers_config import LEDGERS, SAMPLES


@pytest.fixture(scope="module")
def ledger_forms():  # type: ignore[no-untyped-def]
    from server.specs import load_config

    return load_config(PROJECT_ROOT / "config").forms


@pytest.mark.parametrize("form_id", LEDGERS)
def test_sample_round_trips_through_the_page(ledger_forms, form_id):
    model = build_form(ledger_forms[form_id])
    sample = SAMPLES[form_id]
    assert validate(model, sample) == []
    assert round_trip(model, sample) == sample
    assert "<script" not in str(render_readonly(model, sample))


def test_every_ledger_page_renders_in_the_app(make_app):
    app = make_app(config_dir=PROJECT_ROOT / "config")
    with app.app_context():
        from server.auth.service import create_user
        from tests.conftest import PASSWORD, login_session

        session_id = login_session(create_user("clerk", PASSWORD, role="county_staff", org_code="139901000000"))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    home = client.get("/").get_data(as_text=True)
    for form_id in LEDGERS:
        title = app.extensions["registry"].form(form_id).title
        assert title in home
        for url in (f"/forms/{form_id}/new", f"/forms/{form_id}/", f"/forms/{form_id}/export.xlsx"):
            assert client.get(url).status_code == 200, url

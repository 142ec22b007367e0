"""Places by name: org fields (``x-ui.org``) show names with the code on hover, and place fields
(``x-ui.org.scoped``) take only live units of the user's own area, checked by the records service.

The app runs on the demo county's org tree (``config/org/``: 城关街道 → 东风社区, 河口镇 → 阎洼村) and
one test form, ``tests/configs/places/forms/place_report.json``.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD, csrf_token, login_session

PLACES = Path(__file__).parent / "configs" / "places"
DONGFENG = "139901001001"    # 东风社区, beneath 城关街道
CHENGGUAN = "139901001000"   # 城关街道
YANWA = "139901101201"       # 阎洼村, beneath 河口镇
USERS = [("county", "county_staff", "139901000000"), ("chengguan", "township_staff", CHENGGUAN),
         ("hekou", "township_staff", "139901101000"), ("pcs01", "department_staff", "GA-PCS01")]


def place_config(target: Path) -> Path:
    """The test form next to the demo county's org tree."""
    shutil.copytree(PLACES, target)
    shutil.copytree(PROJECT_ROOT / "config" / "org", target / "org")
    return target


@pytest.fixture
def places(make_app, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=place_config(tmp_path / "config"))
    with app.app_context():
        from server.auth.service import create_user

        for name, role, org in USERS:
            create_user(name, PASSWORD, role=role, org_code=org, display_name=name)
        yield app


def client_of(app, username: str):  # type: ignore[no-untyped-def]
    from tests.conftest import user_named

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


def save(username: str, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    from server.records import service
    from tests.conftest import user_named

    return service.create_record("place_report", data, user_named(username))


def report(code: str, **extra: Any) -> dict[str, Any]:
    return {"summary": "夜间聚赌", "location": {"division_code": code}, **extra}


def errors_of(exc: Any) -> dict[str, str]:
    return {e.pointer: e.message for e in exc.value.errors}


def test_township_clerk_files_a_village_of_the_own_township(places):
    record = save("chengguan", report(DONGFENG))
    assert record.data["location"]["division_code"] == DONGFENG  # the code is what is stored


def test_a_village_of_another_township_is_refused_naming_the_field(places):
    from server.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        save("chengguan", report(YANWA))
    assert errors_of(caught) == {
        "/location/division_code": "“发生地点/乡镇/村（社区）”只能选择城关街道及其下辖的单位，阎洼村不在您的辖区内"}


def test_another_township_itself_is_refused_too(places):
    from server.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        save("hekou", report(CHENGGUAN))
    assert "只能选择河口镇及其下辖的单位，城关街道不在您的辖区内" in errors_of(caught)["/location/division_code"]


def test_unknown_code_is_refused(places):
    from server.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        save("county", report("130121100201"))  # the old placeholder: not a unit of this county
    assert list(errors_of(caught)) == ["/location/division_code"]


def test_county_staff_may_choose_any_place(places):
    assert save("county", report(YANWA)).data["location"]["division_code"] == YANWA
    assert save("county", report(DONGFENG)).data["location"]["division_code"] == DONGFENG


def test_a_police_station_files_places_of_the_township_it_serves(places):
    from server.errors import ValidationFailed
    from server.records.places import place_area
    from tests.conftest import user_named

    assert place_area(user_named("pcs01")).name == "城关街道"
    with pytest.raises(ValidationFailed):
        save("pcs01", report(YANWA))


def test_routing_fields_are_not_limited_to_the_area(places):
    record = save("chengguan", report(DONGFENG, route_unit="GA"))  # 县公安局 is not beneath 城关街道
    assert record.data["route_unit"] == "GA"


def test_a_stored_place_is_not_judged_again_on_edit(places):
    """A unit a matter was routed to saves it with the place it came with; only a change is judged."""
    from server.errors import ValidationFailed
    from server.records import service
    from tests.conftest import user_named

    record = save("hekou", report(YANWA))
    form = places.extensions["registry"].form("place_report")
    edited = dict(record.data, summary="聚赌已查处")
    service.check(form, edited, user_named("chengguan"), previous=record.data)
    with pytest.raises(ValidationFailed):
        service.check(form, edited, user_named("chengguan"))


def test_web_form_keeps_the_choice_and_names_the_field(places):
    client = client_of(places, "chengguan")
    response = client.post("/forms/place_report/new", data={
        "csrf_token": csrf_token(client), "summary": "夜间聚赌", "location/division_code": YANWA})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“发生地点/乡镇/村（社区）”只能选择城关街道及其下辖的单位，阎洼村不在您的辖区内" in html
    assert f'<option value="{YANWA}" selected>河口镇 · 阎洼村</option>' in html  # what was chosen stays


def test_the_picker_lists_units_by_name_with_their_township(places):
    html = client_of(places, "chengguan").get("/forms/place_report/new").get_data(as_text=True)
    assert 'data-org-picker=""' in html
    assert f'<option value="{DONGFENG}">城关街道 · 东风社区</option>' in html
    assert f'<option value="{CHENGGUAN}">城关街道</option>' in html  # a township has no parent shown
    assert "orgpicker.js" in html


def test_list_detail_history_and_export_show_names_with_the_code_on_hover(places):
    from server.records import service
    from tests.conftest import user_named

    record = save("chengguan", report(DONGFENG, route_unit="GA"))
    service.update_record(record.id, dict(record.data, location={"division_code": CHENGGUAN}),
                          user_named("chengguan"), 1)
    client = client_of(places, "chengguan")
    listing = client.get("/forms/place_report/").get_data(as_text=True)
    assert f'<span class="x-org" title="{CHENGGUAN}">城关街道</span>' in listing
    assert '<span class="x-org" title="GA">县公安局</span>' in listing
    detail = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert f'<span class="x-org" title="{CHENGGUAN}">城关街道</span>' in detail
    assert f">{CHENGGUAN}<" not in detail
    history = client.get(f"/records/{record.id}/history").get_data(as_text=True)
    assert "东风社区" in history and "城关街道" in history and f">{DONGFENG}<" not in history
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/forms/place_report/export.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert rows[1][header.index("发生地点/乡镇/村（社区）")] == "城关街道"
    assert rows[1][header.index("分流单位")] == "县公安局"


def test_shipped_place_fields_are_org_fields_of_places():
    """Every shipped township/village code field is picked by name from the org tree, and scoped
    except where a visitor from anywhere may come (首问负责: the 来访 register)."""
    import json

    found = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if path.endswith(("division_code", "township_code", "village_code", "community_code")):
                found[path] = node
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}/{index}")

    for file in sorted((PROJECT_ROOT / "config" / "forms").glob("*.json")):
        walk(json.loads(file.read_text("utf-8")), file.stem)
    fields = {p: f for p, f in found.items() if isinstance(f, dict) and f.get("type") == "string"}
    assert len(fields) == 11  # case_statistics added its township
    for path, field in fields.items():
        org = field["x-ui"]["org"]
        assert set(org["kinds"]) <= {"township", "subdistrict", "village", "community"}, path
        assert bool(org.get("scoped")) is (not path.startswith("visit_register")), path
        assert "placeholder" not in field["x-ui"], path


def test_a_village_must_lie_in_the_township_chosen_beside_it(places):
    """``x-ui.org.within``: 阎洼村 filed under 城关街道 is refused for everyone, county staff included (the
    ledger would count it for the wrong township); a matching pair passes; a stored pair is not judged again."""
    from server.errors import ValidationFailed
    from server.records import service
    from tests.conftest import user_named

    with pytest.raises(ValidationFailed) as caught:
        save("county", report(YANWA, township=CHENGGUAN, village=YANWA))
    assert errors_of(caught) == {"/village": "“村（社区）”应为城关街道下辖的单位，阎洼村属于河口镇"}
    record = save("county", report(DONGFENG, township=CHENGGUAN, village=DONGFENG))
    form = places.extensions["registry"].form("place_report")
    with pytest.raises(ValidationFailed) as moved:  # changing the township alone is judged too
        service.check(form, dict(record.data, township="139901101000"), user_named("county"), previous=record.data)
    assert list(errors_of(moved)) == ["/village"]
    service.check(form, dict(record.data, summary="已处理"), user_named("county"), previous=record.data)

"""The OpenAPI document (issue 13, item 10): valid OpenAPI 3.1, every registered /api/v1 route and
nothing else, each form's data schema linked to its routes, exact error shapes, If-Match as the
server behaves, the bearer scheme."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from werkzeug.exceptions import MethodNotAllowed, NotFound

from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.test_records import GOOD

PREFIX = "/api/v1"


def _document(api) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _example(schema: dict[str, Any]) -> str:
    """A value of a path parameter, to ask the URL map which route a documented path is."""
    if schema.get("enum"):
        return str(schema["enum"][0])
    return "1" if schema.get("type") == "integer" else "abc"


def _concrete(path: str, operation: dict[str, Any]) -> str:
    params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
    return PREFIX + re.sub(r"\{(\w+)\}", lambda m: _example(params[m.group(1)]["schema"]), path)


def _routes_match_the_document(app, doc: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    adapter = app.url_map.bind("localhost")
    covered: set[tuple[str, str]] = set()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            url = _concrete(path, operation)
            try:
                endpoint, _ = adapter.match(url, method=method.upper())
            except (NotFound, MethodNotAllowed):
                pytest.fail(f"documented but not served: {method.upper()} {path}")
            assert endpoint.startswith("api."), (path, endpoint)
            covered.add((endpoint, method.upper()))
    served = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX + "/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - covered == set(), "served but not documented"


def test_the_document_is_valid_openapi_3_1_and_matches_the_routes(app, api):
    doc = _document(api)
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # openapi-spec-validator: the structure, every $ref resolving
    _routes_match_the_document(app, doc)


@pytest.fixture
def shipped(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    with app.app_context():
        from server.auth.service import create_token, create_user

        create_user("county", PASSWORD, role="county_staff", org_code="139901000000")
        token = create_token("county")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return app, client


def test_the_shipped_configuration_gives_a_valid_exact_document(shipped):
    """Twelve ledgers, workflows, rules and documents: still valid, still every route."""
    app, api = shipped
    doc = _document(api)
    validate(doc)
    _routes_match_the_document(app, doc)
    for form_id in app.extensions["registry"].live.forms:
        operations = doc["paths"][f"/forms/{form_id}/records"]
        body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/form_{form_id}"}
    transition = doc["paths"]["/records/{record_id}/transitions/{transition_id}"]["post"]
    assert "route" in transition["parameters"][1]["schema"]["enum"]
    visits = {p["name"]: p["schema"] for p in doc["paths"]["/forms/visit_register/records"]["get"]["parameters"]}
    assert "registered" in visits["state"]["enum"] and "-created_at" in visits["sort"]["enum"]


def test_each_forms_data_schema_is_the_one_the_server_validates_with(app, api):
    doc = _document(api)
    schema = doc["components"]["schemas"]["form_incident"]
    assert "x-ui" not in str(schema) and "x-form" not in str(schema) and "$schema" not in schema
    assert schema["properties"]["visitor"]["properties"]["name"]["maxLength"] == 200  # the default length
    assert schema["then"]["properties"]["unit"]["maxLength"] == 200
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(GOOD)
    assert not validator.is_valid({**GOOD, "visitor": {"name": "王" * 201}})
    assert not validator.is_valid({**GOOD, "unknown": 1})
    assert api.post(f"{PREFIX}/forms/incident/records", json=GOOD).status_code == 201
    put = doc["paths"]["/records/{record_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/form_incident"} in put["anyOf"]


def test_local_refs_of_a_form_resolve_inside_its_component(make_app, tmp_path: Path):
    forms = tmp_path / "config" / "forms"
    forms.mkdir(parents=True)
    (forms / "with_defs.json").write_text("""{
      "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "引用",
      "$defs": {"person": {"type": "object", "title": "人", "properties": {"name": {"type": "string", "title": "姓名"}}}},
      "properties": {"who": {"$ref": "#/$defs/person", "title": "当事人"}},
      "x-form": {"permissions": {"read": [{"role": "county_staff"}]}}
    }""", encoding="utf-8")
    app = make_app(config_dir=tmp_path / "config")
    with app.app_context():
        from server.auth.service import create_token, create_user

        create_user("county", PASSWORD, role="county_staff")
        token = create_token("county")
    doc = app.test_client().get(f"{PREFIX}/openapi.json", headers={"Authorization": f"Bearer {token}"}).get_json()
    component = doc["components"]["schemas"]["form_with_defs"]
    assert component["properties"]["who"]["$ref"] == "#/components/schemas/form_with_defs/$defs/person"
    validate(doc)
    within = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/form_with_defs",
                                              "components": doc["components"]})  # refs resolve as in the document
    assert within.is_valid({"who": {"name": "张三"}}) and not within.is_valid({"who": {"name": 5}})
    assert not within.is_valid({"who": {"name": "张" * 201}})


def test_error_schemas_are_exact(app, api, token):
    schemas = _document(api)["components"]["schemas"]

    def check(name: str, body: Any) -> bool:
        return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                                "components": {"schemas": schemas}}).is_valid(body)

    missing = api.get(f"{PREFIX}/records/999").get_json()
    assert check("Error", missing) and not check("ValidationErrors", missing)
    invalid = api.post(f"{PREFIX}/forms/incident/records", json={"source": "nope"}).get_json()
    assert check("ValidationErrors", invalid) and not check("Error", invalid)
    assert not check("ValidationErrors", {}) and not check("ValidationErrors", {"errors": [{"pointer": "/a"}]})
    assert not check("Error", {"error": "x"}) and not check("Error", {"error": "x", "message": "y", "z": 1})
    record = api.post(f"{PREFIX}/forms/incident/records", json=GOOD).get_json()
    stale = api.put(f"{PREFIX}/records/{record['id']}", json=GOOD, headers={"If-Match": '"7"'})
    assert stale.status_code == 409
    assert check("Conflict", stale.get_json()) and not check("Error", stale.get_json())
    assert stale.get_json()["current_version"] == 1


def test_if_match_is_documented_as_the_server_behaves(api):
    doc = _document(api)
    put = doc["paths"]["/records/{record_id}"]["put"]
    if_match = next(p for p in put["parameters"] if p["name"] == "If-Match")
    assert if_match["in"] == "header" and not if_match["required"]  # missing: 428, not a malformed request
    assert {"409", "428", "422", "404"} <= set(put["responses"])
    record = api.post(f"{PREFIX}/forms/incident/records", json=GOOD).get_json()
    url = f"{PREFIX}/records/{record['id']}"
    assert api.put(url, json=GOOD).status_code == 428
    assert api.put(url, json=GOOD, headers={"If-Match": "*"}).status_code == 428
    assert api.put(url, json=GOOD, headers={"If-Match": "²"}).status_code == 400  # malformed: never ignored
    assert not re.fullmatch(if_match["schema"]["pattern"], "²")
    assert api.put(f"{PREFIX}/records/999", json=GOOD).status_code == 404  # 404 before 428
    etag = api.get(url).headers["ETag"]
    assert re.fullmatch(doc["paths"]["/records/{record_id}"]["get"]["responses"]["200"]["headers"]["ETag"]
                        ["schema"]["pattern"], etag)
    for accepted in (etag, "1", 'W/"1"', "*"):
        assert re.fullmatch(if_match["schema"]["pattern"], accepted), accepted
    changed = {**GOOD, "people": 4}
    assert api.put(url, json=changed, headers={"If-Match": etag}).status_code == 200  # "1" → version 2
    stale = api.put(url, json={**GOOD, "people": 5}, headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2


def test_the_bearer_scheme_covers_everything_but_health(api, anon):
    doc = _document(api)
    assert doc["components"]["securitySchemes"] == {"bearer": {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearer"]["description"]}}
    assert doc["security"] == [{"bearer": []}]
    open_paths = {path for path, ops in doc["paths"].items() for op in ops.values() if op.get("security") == []}
    assert open_paths == {"/health"}
    assert anon.get(f"{PREFIX}/health").status_code == 200
    assert anon.get(f"{PREFIX}/openapi.json").status_code == 401  # it names the county's units: a user only

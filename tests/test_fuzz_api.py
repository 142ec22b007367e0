"""Fuzzing the API (issue 13, item 11): schemathesis sends requests generated from our own OpenAPI
document, with a token of each role, to the app in-process (WSGI) on the test database.

Every answer must be documented and conform: no 5xx, the status code listed for the operation, the
content type it names, a body matching its schema, the headers it promises. Requests are valid
by the document (positive) and, fewer, deliberately invalid (negative: wrong types, missing
fields, values out of range, no token). Writes are fuzzed too (new records of every ledger,
updates, transitions, closing inbox items, issuing documents): the database is a throwaway copy
with the shipped configuration and a few matters under way.

Requests are generated from the served document with two changes that only widen what they reach:
integer ids are drawn from the first ``ID_REACH`` (where records, inbox items and documents exist;
drawn from 1 … 2⁶³−1 every one would be a 404), and the ledgers that chain many conditional sections
(``allOf`` of ``if``/``then``), whose bodies schemathesis cannot generate, get bodies generated
without the conditions. Response schemas are untouched, so answers are checked exactly.

Bounded and reproducible: a fixed number of examples per operation, mode and role, no deadline,
derandomized (the same requests on every run), no example database, no shrinking (a failure is
reported with its request as curl). The number of requests is printed (``-s``) and recorded as the
``fuzz_requests`` property; ``FUZZ_EXAMPLES=20`` makes a deeper run.
"""
from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup, UnsupportedSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.test_flow_intake import PROBLEM, VISIT  # the same two matters the intake tests walk

OPENAPI = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
#: Examples per operation and role: valid requests, then invalid ones (``FUZZ_EXAMPLES=20`` for a
#: deeper run; the default keeps the test near a minute on two cores).
_SCALE = int(os.environ.get("FUZZ_EXAMPLES", "3"))
EXAMPLES = {GenerationMode.POSITIVE: _SCALE, GenerationMode.NEGATIVE: max(2, _SCALE * 2 // 3)}
#: Integer ids are drawn from 1 … ID_REACH (see the module doc).
ID_REACH = 40
#: One user per role, in the units of the demo county (config/org/units.json).
USERS = {
    "county_admin": ("admin", "139901000000"),
    "county_staff": ("county", "139901000000"),
    "leader": ("leader", "139901000000"),
    "township_staff": ("chengguan", "139901001000"),
    "department_staff": ("pcs01", "GA-PCS01"),
    "info_officer": ("xinxiyuan", "139901001001"),
}


@pytest.fixture
def county(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The shipped configuration, a user of every role, and a few matters already under way."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    app = make_app(config_dir=config)
    tokens = {}
    with app.app_context():
        from server.auth.service import create_token, create_user

        for role, (username, unit) in USERS.items():
            create_user(username, PASSWORD, role=role, org_code=unit, display_name=username)
            tokens[role] = create_token(username)
    clerk = _client(app, tokens["township_staff"])
    for form, data in (("visit_register", VISIT), ("visit_register", VISIT), ("security_problem", PROBLEM)):
        assert clerk.post(f"/api/v1/forms/{form}/records", json=data).status_code == 201
    routed = clerk.post("/api/v1/records/1/transitions/route", json={"fields": {"handling_unit": "GA-PCS01"}})
    assert routed.status_code == 200, routed.get_json()
    return app, tokens


def _client(app, token: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _without_conditions(node: Any) -> Any:
    """A body schema without ``if``/``then``/``else``, for the ledgers schemathesis cannot generate."""
    if isinstance(node, list):
        return [_without_conditions(n) for n in node]
    if not isinstance(node, dict):
        return node
    return {k: _without_conditions(v) for k, v in node.items() if k not in ("if", "then", "else")}


def _generation_document(document: dict[str, Any], *, conditions: bool) -> dict[str, Any]:
    """The document requests are generated from: ids within reach, and (``conditions=False``) form
    bodies without conditions. Response schemas are untouched, so answers are checked exactly."""
    reach = copy.deepcopy(document)
    for operations in reach["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"].endswith("_id") and parameter["schema"].get("type") == "integer":
                    parameter["schema"] = {**parameter["schema"], "maximum": ID_REACH}
    if not conditions:
        schemas = reach["components"]["schemas"]
        for name in [n for n in schemas if n.startswith("form_")]:
            schemas[name] = _without_conditions(schemas[name])
    return reach


def _fuzz(operation: Any, mode: GenerationMode, call: Callable[[Any], Any]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        call(case)

    run()


def test_every_operation_answers_as_documented_for_every_role(county, record_property):
    """One app and database for all roles (setting up the county costs more than a role's requests);
    a failure names the role, the operation and the request (as curl)."""
    app, tokens = county
    sent: dict[str, int] = {}
    failures: list[str] = []
    for role, token in tokens.items():
        sent[role] = fuzz_role(app, token, failures, label=role)
    record_property("fuzz_requests", sum(sent.values()))
    print(f"\nfuzz: {sum(sent.values())} requests ({', '.join(f'{r} {n}' for r, n in sent.items())}), "
          f"{len(failures)} failing")
    assert not failures, "\n\n".join(failures)
    operations = len(_operations(app, tokens["county_staff"])[0])
    assert operations >= 40  # every ledger's two routes, records, flow, documents, registers, inbox
    assert min(sent.values()) >= EXAMPLES[GenerationMode.POSITIVE] * operations


def _operations(app, token: str) -> tuple[list[Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The operations to fuzz, and the same operations generated without form conditions."""
    document = _client(app, token).get(OPENAPI).get_json()
    schemas = [schemathesis.openapi.from_dict(_generation_document(document, conditions=c)) for c in (True, False)]
    for schema in schemas:
        schema.app = app
    operations = [r.ok() for r in schemas[0].get_all_operations()]
    fallback = {op.label: op for op in (r.ok() for r in schemas[1].get_all_operations())}
    return operations, fallback


def fuzz_role(app, token: str, failures: list[str], label: str, only: set[str] | None = None) -> int:  # type: ignore[no-untyped-def]
    """Every operation (or those in ``only``) in both modes with ``token``; failures are appended,
    the number of requests sent is returned."""
    headers = {"Authorization": f"Bearer {token}"}
    operations, fallback = _operations(app, token)
    sent = 0

    def call(case: Any) -> None:
        nonlocal sent
        response = case.call(app=app, headers=headers)
        sent += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    for operation in operations:
        if only is not None and operation.label not in only:
            continue
        for mode in EXAMPLES:
            try:
                try:
                    _fuzz(operation, mode, call)
                except UnsupportedSchema:
                    _fuzz(fallback[operation.label], mode, call)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong (no parameters)
            except (Exception, FailureGroup) as exc:  # noqa: BLE001 — every operation is tried, all failures reported
                failures.append(f"[{label}] {operation.label} ({mode.value}): {type(exc).__name__}: {exc}")
    return sent


def test_the_fuzzer_reports_server_errors_and_undocumented_answers(app, token):
    """The harness itself can fail: a 500 and a body the document does not describe are caught."""
    from flask import jsonify

    app.view_functions["api.health"] = lambda: jsonify({"status": "ok"})  # config_version missing
    app.view_functions["api.forms"] = lambda: (jsonify({"error": "boom", "message": "出错"}), 500)
    failures: list[str] = []
    sent = fuzz_role(app, token, failures, label="clerk", only={"GET /health", "GET /forms", "GET /me"})
    assert sent >= 3
    assert any(f.startswith("[clerk] GET /health (positive)") and "config_version" in f for f in failures), failures
    assert any(f.startswith("[clerk] GET /forms (positive)") and "500" in f for f in failures), failures
    assert not any("GET /me" in f for f in failures), failures

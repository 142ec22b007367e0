"""Configuration loading: exact error reports for broken forms, and positions in JSON text.

Each ``configs/invalid/<case>/`` holds the files of one broken configuration and ``expected.txt``,
the exact ``str(ConfigError)`` lines in ConfigInvalid's order: messages are part of the interface
(people read them in the CLI and on pages), so any change to them must show up in review.
No Flask app is needed: loading configuration is plain functions over files.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from server.errors import ConfigInvalid
from server.specs.jsonpos import (
    parse_json, parse_with_positions, pointer_join, position_of, unescape_token,
)
from server.specs.loader import load_config
from server.specs.metaschema import FORM_META_SCHEMA, WIDGETS
from server.specs.model import canonical_digest

CONFIGS = Path(__file__).parent / "configs"
INVALID_CASES = sorted(p.name for p in (CONFIGS / "invalid").iterdir() if p.is_dir())
REQUIRED_CASES = {
    "json_syntax", "unknown_type", "missing_title", "bad_schema_keyword_value", "unknown_x_ui_key",
    "bad_widget_for_type", "unknown_ref", "order_names_missing_field", "list_names_missing_field",
    "filter_not_choice_or_date", "duplicate_choice_const", "bad_number_pattern",
    "required_missing_property", "bad_file_name", "several_errors_in_two_files", "document_errors",
    "document_issuer_posts",
}


@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_config_reports_exactly(case: str) -> None:
    directory = CONFIGS / "invalid" / case
    expected = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()
    with pytest.raises(ConfigInvalid) as caught:
        load_config(directory)
    assert [str(error) for error in caught.value.errors] == expected
    assert str(caught.value) == "\n".join(expected)


def test_every_required_invalid_case_exists() -> None:
    assert REQUIRED_CASES <= set(INVALID_CASES)


def test_several_files_report_all_errors_at_once() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(CONFIGS / "invalid" / "several_errors_in_two_files")
    files = [error.file for error in caught.value.errors]
    assert files == sorted(files) and set(files) == {"forms/case_register.json", "forms/visit_register.json"}


def test_broken_form_still_counts_as_ref_target() -> None:
    """case_register is broken; visit_register's ref to it is not reported (no cascade)."""
    with pytest.raises(ConfigInvalid) as caught:
        load_config(CONFIGS / "invalid" / "unknown_ref")
    refs = [e.message for e in caught.value.errors if e.pointer.endswith("/x-ui/ref")]
    assert refs == ['x-ui.ref 指向不存在的表单 "nope"（现有表单：case_register、visit_register）']


def test_issuer_posts_are_not_checked_when_the_org_tree_is_broken(tmp_path: Path) -> None:
    """documents' issuer.signed_by / issuer.contact name posts of org/posts.json; when that file is
    broken only its own error is reported (no cascade), and a missing org/ leaves them unchecked too."""
    import shutil

    config = tmp_path / "config"
    shutil.copytree(CONFIGS / "invalid" / "document_issuer_posts", config)
    shutil.rmtree(config / "documents" / "bad_types")
    (config / "org" / "posts.json").write_text('{"posts": ', encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config)
    assert {e.file for e in caught.value.errors} == {"org/posts.json"}
    shutil.rmtree(config / "org")
    assert sorted(load_config(config).documents) == ["upward_request"]


def test_valid_config_loads() -> None:
    config = load_config(CONFIGS / "valid")
    assert sorted(config.forms) == ["person_register", "visit_register"]
    visit = config.forms["visit_register"]
    assert (visit.id, visit.title, visit.path, visit.menu_order) == (
        "visit_register", "来访登记", "forms/visit_register.json", 1)
    assert visit.digest == canonical_digest(visit.schema)
    assert visit.schema["properties"]["related_person"]["x-ui"]["ref"] == "person_register"


def test_valid_config_uses_every_widget() -> None:
    """The valid example doubles as the documentation's test: it should exercise every widget."""
    config = load_config(CONFIGS / "valid")
    text = json.dumps([form.schema for form in config.forms.values()])
    assert {w for w in WIDGETS if f'"widget": "{w}"' in text} == set(WIDGETS)


def test_valid_form_is_a_plain_json_schema() -> None:
    schema = load_config(CONFIGS / "valid").forms["visit_register"].schema
    validator = Draft202012Validator(schema)
    record = {
        "visit_time": "2026-05-01T09:30", "source": "letter", "visitor": {"name": "张三"},
        "summary": "反映欠薪", "handling": "transfer", "target_unit": "劳动监察大队", "letter_no": "X1",
    }
    assert list(validator.iter_errors(record)) == []
    assert {e.validator for e in validator.iter_errors({**record, "handling": "on_site"})} == {
        "unevaluatedProperties"}  # target_unit belongs to the inactive section


def test_digest_is_stable_across_key_order(tmp_path: Path) -> None:
    schema = json.loads((CONFIGS / "valid" / "forms" / "person_register.json").read_text(encoding="utf-8"))
    digests = []
    for name, document in (("one", schema), ("two", _reverse_keys(schema))):
        (tmp_path / name / "forms").mkdir(parents=True)
        text = json.dumps(document, ensure_ascii=False, indent=1)
        (tmp_path / name / "forms" / "person_register.json").write_text(text, encoding="utf-8")
        config = load_config(tmp_path / name)
        digests.append((config.forms["person_register"].digest, config.digest))
    assert list(_reverse_keys(schema)) != list(schema)
    assert digests[0] == digests[1]


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reverse_keys(v) for k, v in reversed(value.items())}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def test_empty_forms_directory_is_an_empty_config(tmp_path: Path) -> None:
    (tmp_path / "forms").mkdir()
    assert load_config(tmp_path).forms == {}


def test_missing_forms_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(tmp_path)
    assert [str(e) for e in caught.value.errors] == ["forms:1:1: /: 缺少表单目录 forms/"]


def test_meta_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(FORM_META_SCHEMA)


# --- jsonpos -------------------------------------------------------------------------------------


def test_positions_of_nested_objects_and_arrays() -> None:
    text = '{\n  "a": {"b": [10, {"c": null}]},\n  "d": true\n}'
    document, positions = parse_with_positions(text)
    assert document == json.loads(text)
    assert positions == {
        "": (1, 1), "/a": (2, 8), "/a/b": (2, 14), "/a/b/0": (2, 15), "/a/b/1": (2, 19),
        "/a/b/1/c": (2, 25), "/d": (3, 8),
    }


def test_columns_count_characters_not_bytes() -> None:
    text = '{"名称": "来访登记", "类型": ["甲", "乙"], "😀": 1}'
    _, positions = parse_with_positions(text)
    assert positions["/名称"] == (1, 8)
    assert positions["/类型/1"] == (1, text.index('"乙"') + 1) == (1, 28)
    assert positions["/😀"] == (1, text.index("1}") + 1) == (1, 39)


def test_keys_are_escaped_in_pointers() -> None:
    _, positions = parse_with_positions('{"a/b": {"~c": 1, "": 2}}')
    assert set(positions) == {"", "/a~1b", "/a~1b/~0c", "/a~1b/"}
    assert pointer_join("", "a/b", "~c", 0) == "/a~1b/~0c/0"
    assert unescape_token("a~1b~0c") == "a/b~c"


def test_strings_with_delimiters_and_escapes() -> None:
    text = '{"a": "x\\"}],{", "b": [" ] ", "\\u4e2d"], "c": -1.5e+3}'
    document, positions = parse_with_positions(text)
    assert document["b"] == [" ] ", "中"]
    assert positions["/b/1"] == (1, text.index('"\\u4e2d"') + 1) == (1, 31)
    assert positions["/c"] == (1, text.index("-1.5") + 1) == (1, 47)


def test_leading_whitespace_and_crlf() -> None:
    _, positions = parse_with_positions('\r\n  {\r\n "a":\r\n\t[]}')
    assert positions == {"": (2, 3), "/a": (4, 2)}


def test_syntax_error_keeps_json_position() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        parse_with_positions('{\n  "a": 1\n  "b": 2\n}')
    assert (caught.value.lineno, caught.value.colno) == (3, 3)


def test_nan_is_not_json() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        parse_with_positions('{"a": [1, -Infinity]}')
    assert (caught.value.lineno, caught.value.colno) == (1, 11)


def test_duplicate_keys_keep_the_last_value() -> None:
    parsed = parse_json('{"a": {"x": 1},\n "a": 2}')
    assert parsed.document == {"a": 2}
    assert parsed.duplicate_keys == ["/a"]
    assert parsed.positions == {"": (1, 1), "/a": (2, 7)}


def test_position_of_falls_back_to_nearest_parent() -> None:
    _, positions = parse_with_positions('{"a": {"b": [1]}}')
    assert position_of(positions, "/a/b/0") == (1, 14)
    assert position_of(positions, "/a/b/7/x") == (1, 13)
    assert position_of(positions, "/missing") == (1, 1)
    assert position_of({}, "/a") == (1, 1)


def _pointers(value: Any, pointer: str = "") -> set[str]:
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    return {pointer}.union(*(_pointers(v, pointer_join(pointer, k)) for k, v in children))


@pytest.mark.parametrize("name", ["person_register", "visit_register"])
def test_every_value_of_a_real_form_has_a_position(name: str) -> None:
    text = (CONFIGS / "valid" / "forms" / f"{name}.json").read_text(encoding="utf-8")
    document, positions = parse_with_positions(text)
    assert set(positions) == _pointers(document)
    lines = text.split("\n")
    for pointer, (line, column) in positions.items():
        assert lines[line - 1][column - 1] in '{["-0123456789tfn', pointer

"""A transition's dialog: the form fields it asks for, as a small form of their own.

The dialog is a JSON Schema cut from the record's form (the fields at the transition's ``dialog``
pointers, nested as in the form, conditional sections included), so it renders, parses and validates
with the same machinery as a ledger page. What it returns is merged into the record's data at those
pointers; the whole record is then validated against its form before anything is saved.
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Mapping

from server.errors import FieldError
from server.forms import FormModel, compile_schema
from server.forms.pointers import get_path, split_pointer
from server.rules.apply import set_pointer
from server.specs.fieldpaths import all_properties
from server.specs.model import FormSpec, canonical_digest
from server.workflow.definition import Transition

_cache: dict[str, FormModel] = {}
_lock = threading.Lock()


def dialog_schema(form: FormSpec, transition: Transition) -> dict[str, Any]:
    """The schema of the dialog: each dialog field where the form has it, required ones marked."""
    root: dict[str, Any] = {"type": "object", "title": transition.label, "properties": {}}
    for pointer in transition.dialog:
        tokens = split_pointer(pointer)
        node, schema = root, form.schema
        for depth, token in enumerate(tokens):
            schema = all_properties(schema).get(token, {}) if isinstance(schema, dict) else {}
            if depth == len(tokens) - 1:
                node["properties"][token] = copy.deepcopy(schema)
            else:
                child = node["properties"].setdefault(token, {"type": "object", "title": schema.get("title", token),
                                                              "properties": {}})
                node = child
    for pointer in transition.requires:
        tokens = split_pointer(pointer)
        node = root
        for token in tokens[:-1]:
            node = node["properties"].get(token) or {}
        if tokens and tokens[-1] in node.get("properties", {}):
            node.setdefault("required", [])
            if tokens[-1] not in node["required"]:
                node["required"].append(tokens[-1])
    return root


def dialog_model(form: FormSpec, transition: Transition) -> FormModel | None:
    """The compiled dialog (None when the transition asks for no fields), cached by content."""
    if not transition.dialog:
        return None
    schema = dialog_schema(form, transition)
    key = canonical_digest(schema)
    with _lock:
        model = _cache.get(key)
    if model is None:
        model = compile_schema(schema, key)
        with _lock:
            if len(_cache) > 256:
                _cache.clear()
            _cache[key] = model
    return model


def dialog_values(data: Mapping[str, Any], transition: Transition) -> dict[str, Any]:
    """The record's current values of the dialog fields (the dialog opens with them filled in)."""
    values: dict[str, Any] = {}
    for pointer in transition.dialog:
        value = get_path(data, pointer)
        if value is not None:
            set_pointer(values, pointer, value)
    return values


def unexpected_fields(fields: Mapping[str, Any], transition: Transition, prefix: str = "") -> list[FieldError]:
    """Values the transition does not ask for (the API names each by pointer, under ``/fields``)."""
    errors = []
    for key, value in fields.items():
        pointer = f"{prefix}/{key}"
        if pointer in transition.dialog:
            continue
        if isinstance(value, dict) and any(d.startswith(pointer + "/") for d in transition.dialog):
            errors += unexpected_fields(value, transition, pointer)
        else:
            asked = "、".join(transition.dialog) or "无"
            errors.append(FieldError(f"/fields{pointer}", f"“{transition.label}”不填写此字段（可填：{asked}）"))
    return errors


def merge(data: Mapping[str, Any], fields: Mapping[str, Any], transition: Transition) -> dict[str, Any]:
    """A copy of ``data`` with each dialog field replaced by what the dialog returned (a blank value
    clears the field)."""
    merged = copy.deepcopy(dict(data))
    for pointer in transition.dialog:
        value = get_path(fields, pointer)
        if value in (None, "", [], {}):
            _remove(merged, pointer)
        else:
            set_pointer(merged, pointer, value)
    return merged


def _remove(data: dict[str, Any], pointer: str) -> None:
    tokens = split_pointer(pointer)
    node: Any = data
    for token in tokens[:-1]:
        node = node.get(token) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(tokens[-1], None)

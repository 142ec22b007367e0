"""A compiled form: validator plus field tree, built once per schema digest and shared.

Compiling a validator and walking a schema costs far more than a request should spend, and
configuration only changes by reload (which brings new digests), so models are cached by digest.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

from jsonschema import Draft202012Validator

from server.forms.fields import Field
from server.forms.formats import make_format_checker
from server.forms.lengths import with_default_lengths
from server.forms.pointers import is_index, split_pointer
from server.forms.tree import build_tree

if TYPE_CHECKING:  # the specs package imports its loader; keep this module importable alone
    from server.specs.model import FormSpec

#: x-ui.errors keys tried after the error's own keyword (authors write "required", not "dependentRequired").
ERROR_ALIASES = {
    "dependentRequired": "required", "enum": "oneOf", "const": "oneOf", "anyOf": "oneOf",
    "unevaluatedProperties": "additionalProperties", "additionalProperties": "unevaluatedProperties",
}
_CACHE_SIZE = 256
_cache: dict[str, "FormModel"] = {}
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class FormModel:
    """Everything the page, the API and exports need about one schema. Treat as immutable."""

    schema: Mapping[str, Any] = field(repr=False)
    digest: str
    root: Field = field(repr=False)
    validator: Draft202012Validator = field(repr=False)
    by_path: Mapping[str, Field] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        return self.root.title

    @cached_property
    def has_refs(self) -> bool:
        """Any ``x-ui.ref`` field: a save of a form without one looks no record up (most ledgers)."""
        return any(f.ref for f in _index(self.root).values())

    def field_at(self, pointer: str) -> Field | None:
        """The field addressed by a pointer or input name, with or without row indices.

        ``/rows/0/item``, ``rows/0/item`` and ``rows/item`` all name the same field; ``""`` is
        the root. Anything inside a multi-choice or list field resolves to that field.
        """
        current = self.root
        for token in split_pointer(pointer):
            if current.kind == "rows" and is_index(token):
                continue
            if current.kind in ("multi", "lines"):
                return current
            child = current.child(token) if current.kind in ("object", "rows") else None
            if child is None:
                return None
            current = child
        return current

    def custom_message(self, pointer: str, keyword: str) -> str | None:
        """The ``x-ui.errors`` text of the field at ``pointer`` for ``keyword``, if the form has one.

        A string applies to every error of the field; an object maps keywords (``ref`` included,
        for the server's record-number check) to messages.
        """
        found = self.field_at(pointer)
        custom = found.ui.get("errors") if found is not None else None
        if isinstance(custom, str) and custom:
            return custom
        if isinstance(custom, Mapping):
            for key in (keyword, ERROR_ALIASES.get(keyword)):
                if key and isinstance(custom.get(key), str) and custom[key]:
                    return str(custom[key])
        return None


def build_form(spec: "FormSpec") -> FormModel:
    """The (cached) model of a form spec; keyed by its content digest (and org tree, for org fields)."""
    key = spec.model_key
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    model = compile_schema(spec.schema, spec.digest)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        return _cache.setdefault(key, model)


def _choices_as_enums(node: Any) -> Any:
    """The schema the validator runs: choice lists (``oneOf`` of ``{const, title}``) become ``enum``.

    Same meaning (consts are unique, so exactly one branch matches), but jsonschema checks an enum in
    one step instead of building and discarding an error per non-matching branch: validation of a
    ledger record got several times faster. Messages are unchanged (enum and oneOf read alike).
    """
    if isinstance(node, list):
        return [_choices_as_enums(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    copied = {key: _choices_as_enums(value) for key, value in node.items()}
    choices = node.get("oneOf")
    if isinstance(choices, list) and choices and all(
            isinstance(c, Mapping) and "const" in c and set(c) <= {"const", "title", "description"} for c in choices):
        del copied["oneOf"]
        copied["enum"] = [c["const"] for c in choices]
    return copied


def compile_schema(schema: Mapping[str, Any], digest: str = "") -> FormModel:
    """Build a model without the cache (for checks of configuration that is not loaded yet).

    The model works on the schema with default text lengths added (:mod:`server.forms.lengths`),
    so the page, the validator and the API agree on every limit."""
    schema = with_default_lengths(schema)
    root = build_tree(schema)
    validator = Draft202012Validator(_choices_as_enums(schema), format_checker=make_format_checker())
    return FormModel(schema=schema, digest=digest, root=root, validator=validator,
                     by_path=_index(root))


def _index(root: Field) -> dict[str, Field]:
    found: dict[str, Field] = {}
    stack = [root]
    while stack:
        current = stack.pop()
        found[current.path] = current
        stack.extend(current.children)
    return found

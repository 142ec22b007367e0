"""Which fields appear as list columns, list filters and export columns, with Chinese labels.

Columns are addressed by *path* (``visitor/name``: a pointer without indices or leading slash) so
that the list page can read them with :func:`server.forms.pointers.get_path`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from server.forms.fields import SCALAR_KINDS, Field
from server.forms.model import FormModel
from server.forms.pointers import split_pointer

DEFAULT_LIST_COLUMNS = 4
_FILTER_KINDS = {"choice": "choice", "date": "date", "datetime": "datetime"}


@dataclass(frozen=True)
class Filter:
    """A list filter: a choice (``choices`` = (const, title) pairs) or a date/datetime range."""

    path: str
    label: str
    kind: str
    choices: tuple[tuple[Any, str], ...] = ()


def label_of(form: FormModel, path: str) -> str | None:
    """Titles along ``path`` joined by ``/`` (``来访人/姓名``); None when the path is unknown."""
    titles = []
    current = form.root
    for token in split_pointer(path):
        child = current.child(token) if current.kind in ("object", "rows") else None
        if child is None:
            return None
        titles.append(child.title)
        current = child
    return "/".join(titles) if titles else None


def list_columns(form: FormModel) -> list[tuple[str, str]]:
    """(path, label) of the list page's columns: root ``x-ui.list``, else the first 4 scalars."""
    configured = _root_ui(form).get("list")
    if isinstance(configured, list):
        paths = [p for p in configured if isinstance(p, str) and not _in_rows(form, p)]
        return [(p, label) for p in paths if (label := label_of(form, p)) is not None]
    simple = [f for f in form.root.children if f.kind in SCALAR_KINDS and not f.in_section]
    return [(f.path, f.title) for f in simple[:DEFAULT_LIST_COLUMNS]]


def title_paths(form: FormModel) -> list[str]:
    """Paths whose values, joined by " · ", name a record to people (王建华, not its number): root
    ``x-ui.title``, else the first list column. A reference to the record shows this title."""
    configured = _root_ui(form).get("title")
    if isinstance(configured, list):
        return [p for p in configured if isinstance(p, str) and label_of(form, p) is not None and not _in_rows(form, p)]
    return [path for path, _ in list_columns(form)[:1]]


def filter_fields(form: FormModel) -> list[Filter]:
    """Root ``x-ui.filters`` that name a choice, date or date-time field (others are skipped)."""
    configured = _root_ui(form).get("filters")
    result = []
    for path in configured if isinstance(configured, list) else ():
        field = form.by_path.get(path) if isinstance(path, str) else None
        if field is None or field.kind not in _FILTER_KINDS or _in_rows(form, path):
            continue
        result.append(Filter(path, label_of(form, path) or field.title,
                             _FILTER_KINDS[field.kind], field.choices))
    return result


def export_columns(form: FormModel) -> list[tuple[str, str]]:
    """(path, label) of every leaf outside arrays, plus each array of rows as one column."""
    return list(_leaves(form.root, ""))


def _leaves(container: Field, label: str) -> Iterator[tuple[str, str]]:
    for child in container.children:
        full = f"{label}/{child.title}" if label else child.title
        if child.kind == "object":
            yield from _leaves(child, full)
        else:
            yield child.path, full


def _in_rows(form: FormModel, path: str) -> bool:
    current = form.root
    for token in split_pointer(path):
        if current.kind == "rows":
            return True
        child = current.child(token) if current.kind == "object" else None
        if child is None:
            return False
        current = child
    return False


def _root_ui(form: FormModel) -> Mapping[str, Any]:
    ui = form.schema.get("x-ui")
    return ui if isinstance(ui, Mapping) else {}

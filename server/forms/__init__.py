"""Forms from JSON Schema: one compiled model per schema, rendered, parsed, validated, displayed.

Conventions are in ``docs/forms.md``. Typical request flow::

    form = build_form(spec)
    data = parse_submission(form, request.form)
    errors = validate(form, data)          # + ref checks using ref_values() / message_for()
    html = render_fields(form, data, {e.pointer: e.message for e in errors}, lookup_url=...)
"""
from server.errors import FieldError
from server.forms.columns import Filter, export_columns, filter_fields, label_of, list_columns, title_paths
from server.forms.display import describe_change, display_cell, display_value, format_value, iter_values, ref_values, search_text, shorten
from server.forms.fields import Field, Section
from server.forms.formats import is_date, is_datetime
from server.forms.model import FormModel, build_form, compile_schema
from server.forms.parse import parse_submission
from server.forms.pointers import get_path
from server.forms.readonly import render_readonly
from server.forms.render import render_fields
from server.forms.validate import message_for, validate

__all__ = [
    "Field", "FieldError", "Filter", "FormModel", "Section",
    "build_form", "compile_schema", "describe_change", "display_cell", "display_value", "export_columns", "filter_fields",
    "format_value", "get_path", "is_date", "is_datetime", "iter_values", "label_of",
    "list_columns", "message_for", "parse_submission", "ref_values", "render_fields", "title_paths",
    "render_readonly", "search_text", "shorten", "validate",
]

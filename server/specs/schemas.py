"""The meta-schema ``config check`` validates each kind of file with, by the file's path: the studio's
editor completes property names and values from it."""
from __future__ import annotations

from typing import Any


def schema_for(path: str) -> dict[str, Any] | None:
    """The JSON Schema of the file at ``path`` under ``config/`` (None for a kind without one)."""
    from server.specs.calendar_loader import CALENDAR_META_VALIDATOR
    from server.specs.dashboard_loader import DASHBOARD_META_VALIDATOR
    from server.specs.documents_loader import DOCUMENT_META
    from server.specs.facts_loader import FACTS_META
    from server.specs.metaschema import FORM_META_VALIDATOR
    from server.specs.org_loader import POSTS_META_VALIDATOR, UNITS_META_VALIDATOR
    from server.specs.rules_loader import PARAMETERS_META, RULESET_META
    from server.specs.workflows_loader import WORKFLOW_META

    folder = path.split("/", 1)[0]
    validator = {
        "rules/parameters.json": PARAMETERS_META, "org/units.json": UNITS_META_VALIDATOR,
        "org/posts.json": POSTS_META_VALIDATOR, "dashboard.json": DASHBOARD_META_VALIDATOR,
    }.get(path) or {
        "forms": FORM_META_VALIDATOR, "rules": RULESET_META, "facts": FACTS_META, "workflows": WORKFLOW_META,
        "calendar": CALENDAR_META_VALIDATOR,
    }.get(folder)
    if validator is None and folder == "documents" and path.endswith("/document.json"):
        validator = DOCUMENT_META
    return dict(validator.schema) if validator is not None else None

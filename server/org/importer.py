"""Importing the org tree from a spreadsheet: validate every row, then publish it as configuration.

All or nothing: a sheet with any bad row changes neither ``config/org/units.json`` nor the database,
and the errors name each row and column. A good sheet replaces the units file of the live release and is
published like any configuration edit (a release, kept with the others).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from server.errors import ConfigInvalid
from server.org.sheet import SheetError, read_sheet, units_from_sheet, write_units_json
from server.specs import releases
from server.specs.model import OrgSpec
from server.specs.org_loader import format_units_json, load_org

UNITS_FILE = "org/units.json"


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    units: int = 0
    version: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def import_sheet(source: bytes | str | Path | BinaryIO, filename: str, registry: Any,
                 published_by: str) -> ImportResult:
    """Publish the sheet's units as ``org/units.json`` over the live release (whatever else the studio
    published stays). The folder's units file is rewritten too when the folder held the live release,
    so that a folder kept in step stays in step; a folder behind the database is left for
    ``config export`` to bring up to date."""
    config_dir = Path(registry.config_dir)
    tree = releases.live_tree(config_dir)
    with releases.materialised(tree) as folder:
        org, config_errors = load_org(folder)
    if org is None:
        return ImportResult(errors=[str(e) for e in config_errors] or ["配置中没有 org/ 目录，无法导入单位"])
    try:
        rows = read_sheet(source, filename)
    except SheetError as exc:
        return ImportResult(errors=[str(exc)])
    spec, errors = units_from_sheet(rows, org.posts)
    if spec is None:
        return ImportResult(errors=errors)
    in_step = releases.read_tree(config_dir) == tree
    changed = {**tree, UNITS_FILE: format_units_json(spec.units)}
    try:
        result = registry.publish(releases.load_tree(changed), published_by, changed, source="import",
                                  note=f"导入单位表 {filename}")
    except ConfigInvalid as exc:
        return ImportResult(errors=[str(e) for e in exc.errors])
    if in_step:
        write_units_json(spec, config_dir)
    return ImportResult(units=len(spec.units), version=result.config.version)


def live_org(registry: Any) -> OrgSpec | None:
    """The org tree of the live release (what ``org export`` and the admin's download write out)."""
    with releases.materialised(releases.live_tree(Path(registry.config_dir))) as folder:
        return load_org(folder)[0]

"""Importing the org tree from a spreadsheet: validate every row, then publish it as configuration.

All or nothing: a sheet with any bad row changes neither ``config/org/units.json`` nor the database,
and the errors name each row and column. A good sheet replaces the units file and is published like
any configuration edit, so files and database never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from server.errors import ConfigInvalid
from server.org.sheet import SheetError, read_sheet, units_from_sheet, write_units_json
from server.specs.org_loader import load_org


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
    config_dir = Path(registry.config_dir)
    org, config_errors = load_org(config_dir)
    if org is None:
        return ImportResult(errors=[str(e) for e in config_errors] or ["配置中没有 org/ 目录，无法导入单位"])
    try:
        rows = read_sheet(source, filename)
    except SheetError as exc:
        return ImportResult(errors=[str(exc)])
    spec, errors = units_from_sheet(rows, org.posts)
    if spec is None:
        return ImportResult(errors=errors)
    units_file = config_dir / "org" / "units.json"
    previous = units_file.read_bytes()
    write_units_json(spec, config_dir)
    try:
        result = registry.publish_files(published_by)
    except ConfigInvalid as exc:
        units_file.write_bytes(previous)
        return ImportResult(errors=[str(e) for e in exc.errors])
    return ImportResult(units=len(spec.units), version=result.config.version)

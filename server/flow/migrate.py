"""Moving open records to the live version of their workflow (``flask workflows migrate``).

Open records keep the workflow version they started under; a county changes a procedure for
matters already under way only on purpose. States keep their id when the new version has it, or
are mapped with ``--map old=new``; a record whose state maps to nothing is listed and left alone.
Records of the form that never entered a workflow (saved before the form opted in) are in state
``active`` and are taken in the same way (``--map active=<state>``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import or_, select

from server.db import write_transaction
from server.extensions import db
from server.flow import service
from server.records import service as records
from server.records.models import Record


@dataclass
class MigrateResult:
    moved: list[tuple[str, str, str]] = field(default_factory=list)    # (number, old state, new state)
    unmapped: list[tuple[str, str]] = field(default_factory=list)      # (number, state)


def migrate(workflow_id: str, state_map: dict[str, str], dry_run: bool = False) -> MigrateResult:
    registry = current_app.extensions["registry"]
    live = registry.live.workflows.get(workflow_id)
    if live is None:
        raise ValueError(f"流程 {workflow_id} 不存在（已发布的流程：{'、'.join(registry.live.workflows) or '无'}）")
    seq = registry.live.workflow_seqs[workflow_id]
    unknown = sorted(set(state_map.values()) - set(live.states))
    if unknown:
        raise ValueError(f"新版本中没有状态 {'、'.join(unknown)}（现有：{'、'.join(live.states)}）")
    candidates = db.session.scalars(select(Record).where(or_(
        (Record.workflow_id == workflow_id) & (Record.workflow_version != seq),
        (Record.form_id == live.form) & Record.workflow_id.is_(None))).order_by(Record.id))
    result = MigrateResult()
    for record in list(candidates):
        current = service.workflow_of(record)
        if current is not None and not (current.state(record.state) and current.state(record.state).open):
            continue  # closed matters stay on the version they were closed under
        new = state_map.get(record.state) or (record.state if record.state in live.states else None)
        if new is None:
            result.unmapped.append((record.number, record.state))
            continue
        result.moved.append((record.number, record.state, new))
        if not dry_run:
            with write_transaction():
                service.move_to_version(records.locked_record(record.id), live, seq, new)
    return result

"""What a draft would look like before it is published: a ledger's generated form, a document as a 草稿
PDF for a record the administrator picks. (What it would do to the records that exist is
``server.flow.simulate``.) Nothing is stored."""
from __future__ import annotations


from flask import current_app
from sqlalchemy import select

from server.auth.models import User
from server.documents import service as documents
from server.errors import NotFound
from server.extensions import db
from server.records.models import Record
from server.specs.model import ConfigSet, FormSpec
from server.studio.catalog import kind_of

RECORD_CHOICES = 50


def form(config: ConfigSet, form_id: str) -> FormSpec:
    """The draft's form as staff would see it (org fields offering today's units)."""
    spec = config.forms.get(form_id)
    if spec is None:
        raise NotFound(form_id)
    return current_app.extensions["registry"].with_org(spec)


def document_pdf(config: ConfigSet, doc_id: str, user: User, record_id: int | None, month: str | None) -> bytes:
    """The draft document as a 草稿 PDF (watermarked, no number taken), for one record or month."""
    return documents.preview(doc_id, user, record_id, month, draft=config)


def document_records(config: ConfigSet, doc_id: str) -> list[tuple[int, str, str]]:
    """Records a draft document can be previewed with: (id, number, state), newest first, those in the
    document's stages first."""
    spec = config.documents.get(doc_id)
    if spec is None or spec.is_statistics:
        return []
    rows = db.session.execute(select(Record.id, Record.number, Record.state).where(Record.form_id == spec.form)
                              .order_by(Record.id.desc()).limit(RECORD_CHOICES * 4)).all()
    rows.sort(key=lambda r: not spec.applies_in(r.state))
    return [(r.id, r.number, r.state or "") for r in rows[:RECORD_CHOICES]]


def changed_kinds(live: dict[str, str], tree: dict[str, str]) -> set[str]:
    """Which kinds of configuration a draft touches (what previews to offer)."""
    return {kind_of(p) for p in set(live) | set(tree) if live.get(p) != tree.get(p)}


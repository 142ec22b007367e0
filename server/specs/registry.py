"""The live configuration of one process, published to and refreshed from the database.

Files are where administrators author configuration; the database is where a *published* version
lives, so that every process (gunicorn workers, several machines) serves the same one. Publishing
(`config reload`, server start, or a file change in development) validates the files first: a broken
edit publishes nothing and the old version keeps serving. Each process notices a new version by
polling one row at most every ``poll_seconds``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import events
from server.db import write_transaction
from server.errors import ConfigInvalid, NotFound
from server.org.fields import expand_org_fields, has_org_fields
from server.org.models import OrgUnit
from server.org.service import sync_org
from server.extensions import db
from server.specs import releases
from server.specs.loader import load_config
from server.specs.releases import Tree
from server.documents.models import DocumentTemplateVersion
from server.specs.model import ConfigSet, DocumentSpec, FormSpec, RulesSpec, canonical_digest
from server.specs.models import ConfigRelease, ConfigState, FormVersion
from server.flow.models import WorkflowVersion
from server.workflow.calendar import WorkCalendar, YearDays
from server.workflow.definition import Workflow, build_workflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveConfig:
    """What a process serves: the published sequence, its digest, the live forms, rules, documents,
    workflows (live version of each, with its sequence number) and the working-day calendar."""

    seq: int = 0
    digest: str = ""
    forms: dict[str, FormSpec] = field(default_factory=dict)
    rules: RulesSpec | None = None
    documents: dict[str, DocumentSpec] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    workflow_seqs: dict[str, int] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    dashboard: dict[str, Any] | None = None

    @property
    def version(self) -> str:
        return f"{self.seq}-{self.digest[:12]}"


@dataclass(frozen=True)
class PublishResult:
    config: LiveConfig
    changed_forms: list[str]
    release: int | None = None  # the new release's number; None when the files were those of the live one


class Registry:
    """Thread-safe holder of a process's :class:`LiveConfig` (swapped whole, never mutated)."""

    def __init__(self, config_dir: Path, poll_seconds: float = 2.0, watch_files: bool = False):
        self.config_dir = config_dir
        self.poll_seconds = poll_seconds
        self.watch_files = watch_files
        self.pending: ConfigSet | None = None
        self.pending_tree: Tree | None = None
        #: Audits a release made without a ``within`` of its own (files at start or saved, the command line,
        #: an org sheet import); set by the app, since the audit log is not this package's.
        self.on_release: Callable[[ConfigRelease], None] | None = None
        self.live = LiveConfig()
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._files_stamp = self._stamp()
        self._history: dict[tuple[str, int], FormSpec] = {}
        self._workflow_history: dict[tuple[str, int], Workflow] = {}
        self._org: tuple[dict[str, tuple[str, str, str]], str] = ({}, "")

    # -- loading and publishing -------------------------------------------------------------
    def load_files(self) -> ConfigSet:
        """Validate the configuration files (raises ConfigInvalid with every error)."""
        config = load_config(self.config_dir)
        self._files_stamp = self._stamp()
        return config

    def load_pending(self) -> None:
        """At start: validate the files, to be published by the first request unless they are stale."""
        self.pending = self.load_files()
        self.pending_tree = releases.read_tree(self.config_dir)

    def publish(self, config: ConfigSet, published_by: str = "", tree: Tree | None = None, *,
                source: str = "files", note: str = "", expect_release: int | None = None,
                restored_from: int | None = None,
                within: Callable[[ConfigRelease | None], None] | None = None) -> PublishResult:
        """Store new form versions and make ``config`` the live one, in one transaction; ``tree`` (the files
        ``config`` was loaded from) becomes a release. With ``expect_release``, refuse (ReleaseConflict)
        when another release went live after the one the publisher reviewed. ``within`` runs in the same
        transaction with the new release (the studio's audit entry and the drafts it removes)."""
        changed: list[str] = []
        with write_transaction():
            state = db.session.get(ConfigState, 1, with_for_update=True, populate_existing=True)  # publishers queue here
            if expect_release is not None:
                latest = releases.latest_release()
                if (latest.seq if latest else 0) != expect_release:
                    raise releases.ReleaseConflict(expect_release, latest.seq if latest else 0)
            for form in config.forms.values():
                if _publish_form(form, published_by):
                    changed.append(form.id)
            if state is None:
                state = ConfigState(id=1, seq=0, digest="", form_ids=[])
                db.session.add(state)
            if config.org is not None:
                changed.extend(["org"] if sync_org(config.org) else [])
            if state.digest != config.digest or changed:
                state.seq += 1
                state.digest = config.digest
                state.form_ids = sorted(config.forms)
                state.rules = config.rules.to_json() if config.rules is not None else None
                state.documents = {d: spec.to_json() for d, spec in sorted(config.documents.items())}
                for spec in config.documents.values():
                    _publish_document(spec)
                state.workflows = {w: {"seq": _publish_workflow(spec, published_by), "form": spec.form}
                                   for w, spec in sorted(config.workflows.items())}
                state.calendar = config.calendar_json
                state.dashboard = config.dashboard
            made = (releases.record_release(tree, state.seq, source, published_by, note, restored_from)
                    if tree is not None else None)
            if within is not None:
                within(made)
            elif made is not None and self.on_release is not None:
                self.on_release(made)
        self.pending = None
        self._adopt_from_db(force=True)
        forms = [c for c in changed if c != "org"]
        if forms:
            events.publish(events.FORMS_PUBLISHED, form_ids=forms)
        return PublishResult(self.live, changed, made.seq if made is not None else None)

    def publish_files(self, published_by: str = "", source: str = "files", note: str = "",
                      within: Callable[[ConfigRelease | None], None] | None = None) -> PublishResult:
        tree = releases.read_tree(self.config_dir)
        return self.publish(self.load_files(), published_by, tree, source=source, note=note, within=within)

    # -- per request --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Cheap check, throttled: adopt a version another process published; watch files in dev."""
        now = time.monotonic()
        if now - self._checked_at < self.poll_seconds and self.live.seq:
            return
        with self._lock:
            self._checked_at = now
            if self.pending is not None:
                self._publish_pending()
                return
            if self.watch_files and self._stamp() != self._files_stamp:
                self._publish_changed_files()
            self._adopt_from_db()

    def _publish_pending(self) -> None:
        """Publish what this process validated at start, unless that would undo a later release unseen
        (:func:`releases.behind`: a machine whose folder was not brought up to date after a publish in the
        studio; ``config reload --force`` publishes such files on purpose). Another process may be
        doing the same."""
        live = releases.behind(self.pending_tree, releases.folder_release(self.config_dir)) \
            if self.pending_tree is not None else None
        if live is not None:
            log.warning("config/ 中的文件落后于当前发布版本 %s（%s），未发布；继续使用数据库中的版本"
                        "（flask config export 可把当前版本写回文件）", live.seq, releases.SOURCE_TITLES[live.source])
            self.pending = self.pending_tree = None
            self._adopt_from_db(force=True)
            return
        try:
            self.publish(self.pending, "startup", self.pending_tree)
        except IntegrityError:  # a sibling worker published the same version a moment earlier
            db.session.rollback()
            self.pending = None
            self._adopt_from_db(force=True)

    def _publish_changed_files(self) -> None:
        try:
            tree = releases.read_tree(self.config_dir)
            live = releases.behind(tree, releases.folder_release(self.config_dir), exact_copies=False)
            if live is not None:
                self._files_stamp = self._stamp()
                log.error("配置文件已修改，但当前版本 %s 是%s发布的，发布这些文件会撤销它：未发布"
                          "（flask config export 写回文件后再修改）", live.seq, releases.SOURCE_TITLES[live.source])
                return
            result = self.publish(self.load_files(), "file-watch", tree)
            log.warning("配置已重新加载：%s", ", ".join(result.changed_forms) or "无表单变化")
        except (ConfigInvalid, releases.TreeError) as exc:
            log.error("配置文件有错误，继续使用旧版本：\n%s", exc)

    def _adopt_from_db(self, force: bool = False) -> None:
        state = db.session.get(ConfigState, 1)
        if state is None or (state.seq == self.live.seq and not force):
            return
        self._org = _org_index()
        self._history.clear()
        forms = {}
        for form_id in state.form_ids:
            latest = db.session.scalars(
                select(FormVersion).where(FormVersion.form_id == form_id).order_by(FormVersion.seq.desc()).limit(1)
            ).first()
            if latest is not None:
                forms[form_id] = _spec_of(latest, self._org)
        rules = RulesSpec.from_json(state.rules) if state.rules else None
        if rules is not None:
            from server.rules.service import compile_rules

            compile_rules(rules, version=str(state.seq))
        documents = {d: DocumentSpec.from_json(d, doc) for d, doc in (state.documents or {}).items()}
        seqs = {w: entry["seq"] for w, entry in (state.workflows or {}).items()}
        workflows = {w: self._workflow(w, seq) for w, seq in seqs.items()}
        self.live = LiveConfig(seq=state.seq, digest=state.digest, forms=forms, rules=rules, documents=documents,
                               workflows=workflows, workflow_seqs=seqs, calendar=_calendar(state.calendar or {}),
                               dashboard=state.dashboard)

    def adopt_published(self) -> None:
        """Serve the version published in the database, publishing nothing (CLI commands such as
        ``rules tick`` from cron: they act on what the servers serve, not on unpublished file edits)."""
        with self._lock:
            self._adopt_from_db()

    def reload_org(self) -> None:
        """Re-read the org units offered by org fields (after units were added outside a publish)."""
        with self._lock:
            self._adopt_from_db(force=True)

    # -- lookups ------------------------------------------------------------------------------
    def with_org(self, form: FormSpec) -> FormSpec:
        """``form`` (a draft's, not published) with its org fields offering the live org units."""
        if not has_org_fields(form.schema):
            return form
        units, org_digest = self._org
        return FormSpec(id=form.id, title=form.title, schema=expand_org_fields(form.schema, units),
                        digest=form.digest, version=form.version, org_digest=org_digest)

    def form(self, form_id: str) -> FormSpec:
        spec = self.live.forms.get(form_id)
        if spec is None:
            raise NotFound(form_id)
        return spec

    def document(self, doc_id: str) -> DocumentSpec:
        spec = self.live.documents.get(doc_id)
        if spec is None:
            raise NotFound(doc_id)
        return spec

    def forms(self) -> list[FormSpec]:
        return sorted(self.live.forms.values(), key=lambda f: (f.menu_order, f.id))

    def form_version(self, form_id: str, seq: int) -> FormSpec:
        """A form as it was at version ``seq`` (records are shown with the version they were saved under)."""
        live = self.live.forms.get(form_id)
        if live is not None and live.version == seq:
            return live
        key = (form_id, seq)
        if key not in self._history:
            row = db.session.scalars(
                select(FormVersion).where(FormVersion.form_id == form_id, FormVersion.seq == seq)
            ).first()
            if row is None:
                raise NotFound(f"{form_id}@{seq}")
            spec = _spec_of(row, self._org)
            self._history[key] = spec
            return spec
        return self._history[key]

    def workflow(self, workflow_id: str, seq: int | None = None) -> Workflow:
        """A workflow as published at version ``seq`` (default: the live one); open records keep theirs."""
        if seq is None or self.live.workflow_seqs.get(workflow_id) == seq:
            live = self.live.workflows.get(workflow_id)
            if live is None:
                raise NotFound(workflow_id)
            return live
        return self._workflow(workflow_id, seq)

    def workflow_for_form(self, form_id: str) -> Workflow | None:
        """The live workflow of a form that opted in with ``x-form.workflow`` (None otherwise)."""
        spec = self.live.forms.get(form_id)
        name = spec.schema.get("x-form", {}).get("workflow") if spec is not None else None
        return self.live.workflows.get(name) if name else None

    def _workflow(self, workflow_id: str, seq: int) -> Workflow:
        key = (workflow_id, seq)
        cached = self._workflow_history.get(key)
        if cached is None:
            row = db.session.scalar(select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id,
                                                                  WorkflowVersion.seq == seq))
            if row is None:
                raise NotFound(f"{workflow_id}@{seq}")
            cached = build_workflow(workflow_id, row.form_id, row.definition, row.digest)
            self._workflow_history[key] = cached
        return cached

    def _stamp(self) -> tuple[tuple[str, float], ...]:
        if not self.config_dir.is_dir():
            return ()
        return tuple(
            (str(p), p.stat().st_mtime) for p in sorted(self.config_dir.rglob("*"))
            if p.is_file() and p.suffix in releases.SUFFIXES
        )


def _publish_form(form: FormSpec, published_by: str) -> bool:
    latest = db.session.execute(
        select(FormVersion.seq, FormVersion.digest)
        .where(FormVersion.form_id == form.id)
        .order_by(FormVersion.seq.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.digest == form.digest:
        return False
    seq = (latest.seq if latest else 0) + 1
    db.session.add(
        FormVersion(form_id=form.id, seq=seq, digest=form.digest, title=form.title,
                    schema=form.schema, published_by=published_by)
    )
    db.session.flush()
    return True


def _publish_document(spec: DocumentSpec) -> None:
    """Keep every document version ever published: issued documents name the one they were made with."""
    exists = db.session.scalar(select(DocumentTemplateVersion.id).where(
        DocumentTemplateVersion.doc_id == spec.id, DocumentTemplateVersion.digest == spec.digest))
    if exists is None:
        db.session.add(DocumentTemplateVersion(doc_id=spec.id, digest=spec.digest, document=spec.document,
                                               template=spec.template))
        db.session.flush()


def _publish_workflow(spec: Workflow, published_by: str) -> int:
    """Keep every workflow version: records started under one stay on it until migrated."""
    latest = db.session.execute(select(WorkflowVersion.seq, WorkflowVersion.digest)
                                .where(WorkflowVersion.workflow_id == spec.id)
                                .order_by(WorkflowVersion.seq.desc()).limit(1)).first()
    if latest is not None and latest.digest == spec.digest:
        return latest.seq
    seq = (latest.seq if latest else 0) + 1
    db.session.add(WorkflowVersion(workflow_id=spec.id, seq=seq, digest=spec.digest, form_id=spec.form,
                                   definition=dict(spec.document)))
    db.session.flush()
    return seq


def _calendar(doc: dict[str, Any]) -> WorkCalendar:
    years = {int(year): YearDays(year=int(year), holidays=frozenset(map(date.fromisoformat, days["holidays"])),
                                 workdays=frozenset(map(date.fromisoformat, days["workdays"])))
             for year, days in doc.items()}
    return WorkCalendar(years)


def _spec_of(row: FormVersion, org: tuple[dict[str, tuple[str, str, str]], str]) -> FormSpec:
    """The FormSpec of a published version; org fields offer the live org units as choices."""
    if not has_org_fields(row.schema):
        return FormSpec(id=row.form_id, title=row.title, schema=row.schema, digest=row.digest, version=row.seq)
    units, org_digest = org
    return FormSpec(id=row.form_id, title=row.title, schema=expand_org_fields(row.schema, units),
                    digest=row.digest, version=row.seq, org_digest=org_digest)


def _org_index() -> tuple[dict[str, tuple[str, str, str]], str]:
    """Active units (code -> name, kind, parent's name below the county) in configuration order, and a digest.

    The parent's name lets the picker tell apart villages of two townships with the same name."""
    rows = db.session.execute(
        select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id)
        .where(OrgUnit.is_active.is_(True)).order_by(OrgUnit.id)).all()
    parents = {unit_id: (name, kind) for unit_id, name, kind in db.session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind).where(OrgUnit.is_active.is_(True)))}
    units = {}
    for code, name, kind, parent_id in rows:
        parent_name, parent_kind = parents.get(parent_id, ("", "county"))
        units[code] = (name, kind, "" if parent_kind == "county" else parent_name)
    return units, canonical_digest(units)

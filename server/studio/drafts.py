"""Administrators' drafts: unpublished edits of single files, each over the live release.

A draft remembers the live file it started from. When a release changes that file before the draft is
published (another administrator published first), the draft has *moved on* and is not published until
its author has looked at the other change, so nobody overwrites a colleague's edit unknowingly. Two
administrators drafting the same file are each shown the other's draft.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from server.auth.models import User
from server.extensions import db
from server.specs import releases
from server.specs.models import ConfigDraft, ConfigRelease
from server.specs.releases import Tree, check_path, text_digest


class DraftError(ValueError):
    """A draft that cannot be saved as it is (the message says why, in Chinese)."""


class DraftConflict(Exception):
    """The draft was saved elsewhere (another tab) after this page was opened."""

    def __init__(self, current: int):
        super().__init__("此草稿已在别处（另一个窗口）保存过，你提交的内容未保存；下方保留了你的内容，"
                         "请复制后刷新页面再合并")
        self.current = current


@dataclass
class Workspace:
    """What one administrator works on: the live release and their drafts over it."""

    release: ConfigRelease | None
    live: Tree
    drafts: dict[str, ConfigDraft] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        return self.release.seq if self.release is not None else 0

    @property
    def tree(self) -> Tree:
        merged = dict(self.live)
        merged.update({path: draft.text for path, draft in self.drafts.items()})
        return merged

    def text(self, path: str) -> str | None:
        draft = self.drafts.get(path)
        return draft.text if draft is not None else self.live.get(path)

    def moved_on(self) -> list[str]:
        """Drafted files a release has changed since the draft began."""
        return [path for path, draft in sorted(self.drafts.items())
                if draft.base_digest != (text_digest(self.live[path]) if path in self.live else "")]


def workspace(user_id: int) -> Workspace:
    live = releases.latest_release()
    tree = releases.tree_of(live) if live is not None else {}
    drafts = {d.path: d for d in db.session.scalars(select(ConfigDraft).where(ConfigDraft.user_id == user_id))}
    return Workspace(live, tree, drafts)


DRAFT_MAX_BYTES = 1536 * 1024  # below the 2 MB request cap, so that the page can say it


def save(space: Workspace, user_id: int, path: str, text: str, expected_version: int | None,
         base: str | None = None) -> ConfigDraft | None:
    """Keep ``text`` as the user's draft of ``path`` (None, and no draft, when it is the live text again).

    ``base`` is the digest of the live file the page was showing when the user began ("" for a new file):
    a draft begun on a page opened before a colleague's publish is based on what the user saw, so it
    shows as moved on instead of silently undoing that publish. ``expected_version`` is the draft
    version the page was showing (DraftConflict when another tab saved since). The caller commits."""
    try:
        check_path(path)
    except releases.TreeError as exc:
        raise DraftError(str(exc)) from None
    if "\x00" in text:
        raise DraftError("文件中不能含有 NUL 字符（\\0）")
    if len(text.encode("utf-8")) > DRAFT_MAX_BYTES:
        raise DraftError(f"文件超过 {DRAFT_MAX_BYTES // 1024} KB")
    text = text.replace("\r\n", "\n")
    draft = space.drafts.get(path)
    if draft is not None and expected_version is not None and draft.version != expected_version:
        raise DraftConflict(draft.version)
    live = space.live.get(path)
    if text == live and (base is None or base == (text_digest(live) if live is not None else "")):
        if draft is not None:
            _delete(draft)
            del space.drafts[path]
        return None
    if draft is None:
        draft = ConfigDraft(user_id=user_id, path=path, text=text, base_release=space.seq,
                            base_digest=base if base is not None else (text_digest(live) if live is not None else ""))
        db.session.add(draft)
        space.drafts[path] = draft
    else:
        draft.text = text
    try:
        db.session.flush()  # the version column makes this UPDATE … WHERE version = the one read
    except (IntegrityError, StaleDataError):  # another tab created or saved the same draft a moment ago
        db.session.rollback()
        raise DraftConflict(0) from None
    return draft


def _delete(draft: ConfigDraft) -> None:
    db.session.delete(draft)
    try:
        db.session.flush()
    except StaleDataError:  # saved again by another tab meanwhile: that newer draft stays
        db.session.rollback()
        raise DraftConflict(0) from None


def discard(space: Workspace, path: str | None = None) -> None:
    """Drop one draft, or all of them. The caller commits."""
    for draft_path in [path] if path is not None else list(space.drafts):
        draft = space.drafts.pop(draft_path, None)
        if draft is not None:
            db.session.delete(draft)


def accept_live(space: Workspace, path: str) -> None:
    """The author has seen the release that changed ``path`` and keeps their draft over it."""
    draft = space.drafts.get(path)
    if draft is not None:
        draft.base_digest = text_digest(space.live[path]) if path in space.live else ""
        draft.base_release = space.seq


def others(user_id: int, path: str) -> list[tuple[str, datetime]]:
    """Other administrators with a draft of ``path``: (name, when they last saved it)."""
    rows = db.session.execute(select(User, ConfigDraft.updated_at).join(ConfigDraft, ConfigDraft.user_id == User.id)
                              .where(ConfigDraft.path == path, ConfigDraft.user_id != user_id)
                              .order_by(ConfigDraft.updated_at.desc()))
    return [(user.label, at) for user, at in rows]


def drop_published(user_id: int, versions: dict[str, int]) -> None:
    """Remove the drafts just published, each only if it is still the version that was published (a tab
    that saved again meanwhile keeps its newer draft)."""
    for path, version in versions.items():
        db.session.execute(delete(ConfigDraft).where(ConfigDraft.user_id == user_id, ConfigDraft.path == path,
                                                     ConfigDraft.version == version))

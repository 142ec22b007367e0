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
        super().__init__(f"此草稿已在别处保存过（当前第 {current} 稿），你提交的内容未保存；请复制你的修改后刷新页面")
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


def save(space: Workspace, user_id: int, path: str, text: str, expected_version: int | None) -> ConfigDraft | None:
    """Keep ``text`` as the user's draft of ``path`` (None, and no draft, when it is the live text again).
    The caller commits."""
    try:
        check_path(path)
    except releases.TreeError as exc:
        raise DraftError(str(exc)) from None
    if "\x00" in text:
        raise DraftError("文件中不能含有 NUL 字符（\\0）")
    if len(text.encode("utf-8")) > releases.MAX_FILE_BYTES:
        raise DraftError(f"文件超过 {releases.MAX_FILE_BYTES // 1024 // 1024} MB")
    text = text.replace("\r\n", "\n")
    draft = space.drafts.get(path)
    if draft is not None and expected_version is not None and draft.version != expected_version:
        raise DraftConflict(draft.version)
    if text == space.live.get(path):
        if draft is not None:
            db.session.delete(draft)
            del space.drafts[path]
        return None
    if draft is None:
        base = space.live.get(path)
        draft = ConfigDraft(user_id=user_id, path=path, text=text, base_release=space.seq, version=1,
                            base_digest=text_digest(base) if base is not None else "")
        db.session.add(draft)
        space.drafts[path] = draft
    else:
        draft.text = text
        draft.version += 1
    db.session.flush()
    return draft


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


def drop_all(user_id: int) -> None:
    db.session.execute(delete(ConfigDraft).where(ConfigDraft.user_id == user_id))

"""Checking an administrator's draft as ``config check`` would, and publishing or restoring a release.

Every publish and restore names the release it was reviewed against: of two administrators publishing
at once, the second is told (``ReleaseConflict``) instead of silently replacing what the first published.
The audit entry, the new release and the removal of the published drafts are one transaction.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app

from server.audit import log_event
from server.auth.models import User
from server.errors import ConfigError, ConfigInvalid
from server.specs import releases
from server.specs.model import ConfigSet
from server.specs.models import ConfigRelease
from server.specs.releases import Tree, tree_digest
from server.studio import drafts

NOTE_LIMIT = 500


class PublishRefused(ValueError):
    """Nothing was published; the message says why in Chinese."""


@dataclass(frozen=True)
class Checked:
    """A tree as ``config check`` sees it: the loaded configuration, or every error."""

    config: ConfigSet | None
    errors: list[ConfigError]
    warnings: list[str]

    def errors_in(self, path: str) -> list[ConfigError]:
        return [e for e in self.errors if e.file == path]

    def errors_elsewhere(self, path: str) -> list[ConfigError]:
        return [e for e in self.errors if e.file != path]


_cache: OrderedDict[str, Checked] = OrderedDict()
_cache_lock = threading.Lock()


def check(tree: Tree) -> Checked:
    """Validate ``tree`` (half a second for the whole county's configuration, so the last few are kept)."""
    key = tree_digest(tree)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        config = releases.load_tree(tree)
        checked = Checked(config, [], list(config.warnings))
    except ConfigInvalid as exc:
        checked = Checked(None, list(exc.errors), [])
    with _cache_lock:
        _cache[key] = checked
        while len(_cache) > 8:
            _cache.popitem(last=False)
    return checked


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise PublishRefused("请填写发布说明：改了什么、为什么改")
    if len(note) > NOTE_LIMIT:
        raise PublishRefused(f"发布说明不能超过 {NOTE_LIMIT} 字")
    if "\x00" in note:
        raise PublishRefused("发布说明中不能含有 NUL 字符")
    return note


def publish_drafts(user: User, note: str, expect_release: int) -> int:
    """Publish the user's drafts over the live release as the next release; its number."""
    note = _note(note)
    space = drafts.workspace(user.id)
    if not space.drafts:
        raise PublishRefused("你没有未发布的草稿")
    moved = space.moved_on()
    if moved:
        raise PublishRefused(f"{'、'.join(moved)} 在你开始编辑后已有新的发布版本；请先在文件页面查看并确认后再发布")
    checked = check(space.tree)
    if checked.config is None:
        raise PublishRefused(f"草稿有 {len(checked.errors)} 处错误，未发布；请先改正")
    paths = sorted(space.drafts)
    versions = {path: draft.version for path, draft in space.drafts.items()}

    def record(made: ConfigRelease | None) -> None:
        drafts.drop_published(user.id, versions)
        if made is not None:
            log_event("config_publish", "config_release", object_id=made.seq, user_id=user.id,
                      subject=f"配置版本 {made.seq}", detail=f"{note}\n修改的文件：{'、'.join(paths)}")

    result = current_app.extensions["registry"].publish(
        checked.config, user.username, space.tree, source="studio", note=note, expect_release=expect_release,
        within=record)
    if result.release is None:
        raise PublishRefused("草稿与当前发布版本相同，没有可发布的修改")
    return result.release


def restore(user: User, seq: int, note: str, expect_release: int) -> int:
    """Publish release ``seq``'s files again as the next release; its number."""
    note = _note(note)
    row = releases.release(seq)
    if row is None:
        raise PublishRefused(f"没有版本 {seq}")
    tree = releases.tree_of(row)
    checked = check(tree)
    if checked.config is None:  # a file kind whose checks have grown stricter since that release
        raise PublishRefused(f"版本 {seq} 按现在的检查有 {len(checked.errors)} 处错误，不能恢复："
                             + "；".join(str(e) for e in checked.errors[:3]))

    def record(made: ConfigRelease | None) -> None:
        if made is not None:
            log_event("config_restore", "config_release", object_id=made.seq, user_id=user.id,
                      subject=f"配置版本 {made.seq}", detail=f"恢复为版本 {seq} 的内容。{note}")

    result = current_app.extensions["registry"].publish(
        checked.config, user.username, tree, source="restore", note=note, expect_release=expect_release,
        restored_from=seq, within=record)
    if result.release is None:
        raise PublishRefused(f"版本 {seq} 与当前发布版本相同，无需恢复")
    return result.release

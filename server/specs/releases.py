"""Releases: every published configuration kept whole, as the files it was made of.

The live configuration is compiled from files (``config/``, or an administrator's draft in the studio).
A release keeps those files, by content, so that any version can be shown, compared, exported as a
folder or zip that ``config check`` accepts, imported back, or restored, and so that the files on disk
and the published version in the database can always be told apart or brought back together.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import re
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import func, select

from server.extensions import db
from server.specs.loader import load_config
from server.specs.model import ConfigSet, canonical_digest
from server.specs.models import ConfigBlob, ConfigRelease

Tree = dict[str, str]  # path under config/ ("forms/dispute.json") -> the file's text

SUFFIXES = (".json", ".html", ".css")
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TREE_BYTES = 20 * 1024 * 1024  # a whole configuration (the county's is 0.6 MB): a zip bomb stops here
MAX_FILES = 1000
TOP_FOLDERS = {"forms", "rules", "facts", "workflows", "documents", "org", "calendar"}
TOP_FILES = {"dashboard.json"}
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")
MAX_PATH = 200  # config_drafts.path
#: Written beside an export (folder or zip): the release it holds, so that an import or a reload of it
#: after a later publish can tell that it would undo that publish. Hidden: no loader reads it.
MANIFEST = ".release"

SOURCE_TITLES = {"files": "配置文件", "studio": "配置工作台", "restore": "恢复旧版本", "import": "导入"}


class TreeError(ValueError):
    """A folder or zip that is not a configuration tree (the message names the entry)."""


class ReleaseConflict(Exception):
    """Another publish got in first: the version the administrator reviewed is no longer the live one."""

    def __init__(self, expected: int, current: int):
        super().__init__(f"在你查看差异之后，版本 {current} 已经发布（你查看的是版本 {expected}）；"
                         "请重新查看与当前版本的差异后再发布")
        self.expected, self.current = expected, current


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tree_digest(tree: Tree) -> str:
    return canonical_digest({path: text_digest(text) for path, text in tree.items()})


def check_path(path: str) -> str:
    """A file path of a tree, or TreeError: relative, in a folder the loaders read (or a known top-level
    file), plain names (letters, digits, ``_ . -``; not hidden), a known suffix, short enough to store."""
    parts = path.split("/")
    if len(path) > MAX_PATH or not all(_PART.fullmatch(p) for p in parts):
        raise TreeError(f"{path[:MAX_PATH]}：文件路径应为 config/ 下的相对路径，由字母、数字、下划线、点和连字符组成")
    if not path.endswith(SUFFIXES):
        raise TreeError(f"{path}：只接受 {'、'.join(SUFFIXES)} 文件")
    if not (parts[0] in TOP_FOLDERS and len(parts) > 1 or path in TOP_FILES):
        raise TreeError(f"{path}：配置文件应在 {'、'.join(sorted(TOP_FOLDERS))} 目录中，或为 {'、'.join(TOP_FILES)}")
    return path


def is_config_path(path: str) -> bool:
    try:
        check_path(path)
    except TreeError:
        return False
    return True


def _decode(path: str, data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise TreeError(f"{path}：文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TreeError(f"{path}：文件应为 UTF-8 编码，第 {exc.start + 1} 个字节无法解码") from None


def read_tree(config_dir: Path) -> Tree:
    """The configuration files of a folder (other files, hidden ones and editor back-ups are not part of it)."""
    root = Path(config_dir)
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and is_config_path(rel):
            tree[rel] = _decode(rel, path.read_bytes())
            if len(tree) > MAX_FILES:
                raise TreeError(f"配置文件超过 {MAX_FILES} 个")
    return tree


def folder_release(config_dir: Path) -> int | None:
    """The release a folder was exported from (its manifest), if it says."""
    try:
        text = (Path(config_dir) / MANIFEST).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def export_folder(tree: Tree, seq: int, target: Path) -> None:
    """Make ``target`` hold exactly ``tree`` (configuration files it lacks are removed) and its manifest."""
    stale = set(read_tree(target)) - set(tree) if target.exists() else set()
    for path in stale:
        (target / path).unlink()
    write_tree(tree, target)
    (target / MANIFEST).write_text(f"{seq}\n", encoding="utf-8")


def write_tree(tree: Tree, target: Path) -> None:
    """Write the files of ``tree`` under ``target`` (which must not hold another configuration)."""
    for path, text in tree.items():
        out = Path(target) / check_path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def zip_tree(tree: Tree, seq: int | None = None, folder: str = "config") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(tree.items()):
            archive.writestr(f"{folder}/{path}", text.encode("utf-8"))
        if seq is not None:
            archive.writestr(f"{folder}/{MANIFEST}", f"{seq}\n")
    return buffer.getvalue()


def unzip_tree(data: bytes) -> tuple[Tree, int | None]:
    """The tree in a zip made by :func:`zip_tree` (or by zipping a config folder by hand) and the release
    its manifest names: entries may sit under one top folder; anything but configuration files is refused
    by name; sizes are checked before anything is read; nothing is extracted to disk."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise TreeError("上传的文件不是 zip 压缩包") from None
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) > MAX_FILES:
            raise TreeError(f"压缩包中的文件超过 {MAX_FILES} 个")
        if sum(e.file_size for e in entries) > MAX_TREE_BYTES:
            raise TreeError(f"压缩包解压后超过 {MAX_TREE_BYTES // 1024 // 1024} MB")
        names = [e.filename for e in entries]
        tops = {n.split("/", 1)[0] for n in names}
        strip = len(tops) == 1 and all("/" in n for n in names) and not tops & (TOP_FOLDERS | TOP_FILES)
        tree: Tree = {}
        seq = None
        for entry in entries:
            path = entry.filename.split("/", 1)[1] if strip else entry.filename
            if entry.file_size > MAX_FILE_BYTES:
                raise TreeError(f"{path[:MAX_PATH]}：文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
            if path == MANIFEST:
                text = _read(archive, entry, path).strip()
                seq = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
                continue
            tree[check_path(path)] = _decode(path, _read(archive, entry, path))
    if not tree:
        raise TreeError("压缩包中没有配置文件")
    return tree, seq


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, path: str) -> bytes:
    try:
        return archive.read(entry)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError, OSError) as exc:
        raise TreeError(f"{path[:MAX_PATH]}：无法从压缩包中读出（{type(exc).__name__}：损坏、加密或不支持的压缩方式）") from None


@contextmanager
def materialised(tree: Tree) -> Iterator[Path]:
    """A temporary folder holding ``tree``, for the loaders (which read folders)."""
    with tempfile.TemporaryDirectory(prefix="config-") as tmp:
        write_tree(tree, Path(tmp))
        yield Path(tmp)


def load_tree(tree: Tree) -> ConfigSet:
    """Validate a tree exactly as ``config check`` validates a folder (raises ConfigInvalid)."""
    with materialised(tree) as folder:
        return load_config(folder)


def live_tree(config_dir: Path) -> Tree:
    """The files of the live release; the folder's before anything was published."""
    row = latest_release()
    return tree_of(row) if row is not None else read_tree(config_dir)


# -- stored releases ---------------------------------------------------------------------------------

def latest_release() -> ConfigRelease | None:
    return db.session.scalars(select(ConfigRelease).order_by(ConfigRelease.seq.desc()).limit(1)).first()


def release(seq: int) -> ConfigRelease | None:
    return db.session.scalars(select(ConfigRelease).where(ConfigRelease.seq == seq)).first()


def releases(limit: int = 50) -> list[ConfigRelease]:
    return list(db.session.scalars(select(ConfigRelease).order_by(ConfigRelease.seq.desc()).limit(limit)))


def seen(tree: Tree) -> ConfigRelease | None:
    """The latest release made of exactly these files, if any."""
    return db.session.scalars(select(ConfigRelease).where(ConfigRelease.tree_digest == tree_digest(tree))
                              .order_by(ConfigRelease.seq.desc()).limit(1)).first()


def behind(tree: Tree, manifest: int | None, *, exact_copies: bool = True) -> ConfigRelease | None:
    """The live release that publishing ``tree`` would undo unseen, or None when publishing it is safe.

    ``tree`` is behind when it is exactly an earlier release (a folder not brought up to date after a later
    publish; ``exact_copies``), or when the live release was made elsewhere than in files (the studio, an
    import, a restore) and ``tree`` was not exported from it (``manifest``, the release a folder or zip was
    exported from). Files are where a folder's own edits come from, so a live release made from files
    does not hold a folder back."""
    latest = latest_release()
    if latest is None or latest.tree_digest == tree_digest(tree):
        return None
    if exact_copies:
        known = seen(tree)
        if known is not None and known.seq != latest.seq:
            return latest
    if latest.source == "files" or manifest == latest.seq:
        return None
    return latest


def tree_of(row: ConfigRelease) -> Tree:
    texts = dict(db.session.execute(select(ConfigBlob.digest, ConfigBlob.text)
                                    .where(ConfigBlob.digest.in_(set(row.tree.values())))).all())
    return {path: texts[digest] for path, digest in sorted(row.tree.items())}


def record_release(tree: Tree, config_seq: int, source: str, published_by: str, note: str = "",
                   restored_from: int | None = None) -> ConfigRelease | None:
    """Store ``tree`` as the next release, inside the publishing transaction (the caller holds the
    ConfigState row lock, so sequence numbers are taken one at a time). Nothing when the files are
    those of the latest release already."""
    latest = latest_release()
    digest = tree_digest(tree)
    if latest is not None and latest.tree_digest == digest:
        return None
    blobs = {text_digest(text): text for text in tree.values()}
    have = set(db.session.scalars(select(ConfigBlob.digest).where(ConfigBlob.digest.in_(set(blobs)))))
    db.session.add_all(ConfigBlob(digest=d, text=t) for d, t in blobs.items() if d not in have)
    seq = (db.session.scalar(select(func.max(ConfigRelease.seq))) or 0) + 1
    row = ConfigRelease(seq=seq, tree={p: text_digest(t) for p, t in sorted(tree.items())}, tree_digest=digest,
                        config_seq=config_seq, source=source, note=note, restored_from=restored_from,
                        published_by=published_by)
    db.session.add(row)
    db.session.flush()
    return row


# -- comparing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str  # added | removed | changed
    lines: list[str]  # unified diff, without the two header lines

    @property
    def status_title(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改"}[self.status]


def diff_trees(old: Tree, new: Tree, context: int = 3) -> list[FileDiff]:
    """File by file, what ``new`` changes in ``old`` (unchanged files left out)."""
    diffs = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        lines = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(),
                                          lineterm="", n=context))[2:]
        diffs.append(FileDiff(path, status, lines))
    return diffs

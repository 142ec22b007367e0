"""``manifest.json``: the backup's table of contents, and the check a restore makes before anything else.

The manifest is written last, so a folder without one is an interrupted backup. It names every file
with its size and SHA-256, so a truncated copy or a flipped bit is found before the database is
touched; the Alembic revision, so a backup is never loaded under a schema it was not made with; and
the row count of every table, which the restore compares with what it loaded.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from server.backup import BackupError

MANIFEST = "manifest.json"
FORMAT = 1  # raised when the layout of a backup folder changes


@dataclass(frozen=True)
class FileEntry:
    """One file of the backup, by its path inside the backup folder (``/`` separated)."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str  # ISO 8601, UTC
    app_version: str
    alembic_revision: str
    database: dict[str, Any]  # kind, file, and the versions of the server and the tool that made the copy
    rows: dict[str, int]  # every table of the database -> its rows when the copy was taken
    files: list[FileEntry] = field(default_factory=list)
    format: int = FORMAT

    def files_under(self, folder: str) -> list[FileEntry]:
        """The entries inside the backup's ``folder`` (``config``, ``fonts``)."""
        return [entry for entry in self.files if entry.path.startswith(folder + "/")]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def entry_for(root: Path, path: Path) -> FileEntry:
    return FileEntry(path.relative_to(root).as_posix(), path.stat().st_size, sha256_of(path))


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``; a missing or malformed one is refused."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} 中没有 {MANIFEST}：这不是一份完整的备份（备份可能在写完前中断）")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise BackupError(f"{MANIFEST} 的格式版本为 {raw.get('format')!r}，本程序只认识 {FORMAT}")
        files = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in raw["files"]]
        return Manifest(created_at=str(raw["created_at"]), app_version=str(raw["app_version"]),
                        alembic_revision=str(raw["alembic_revision"]), database=dict(raw["database"]),
                        rows={str(k): int(v) for k, v in raw["rows"].items()}, files=files)
    except BackupError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{path} 已损坏，无法读取（{exc}）：请换一份备份") from exc


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Every file the manifest names is there, with its size and SHA-256; all problems at once."""
    problems = []
    for entry in manifest.files:
        path = folder / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            problems.append(f"{entry.path}：清单中的路径不在备份目录内")
        elif not path.is_file():
            problems.append(f"{entry.path}：文件不存在")
        elif path.stat().st_size != entry.size:
            problems.append(f"{entry.path}：大小应为 {entry.size} 字节，实际为 {path.stat().st_size} 字节")
        elif sha256_of(path) != entry.sha256:
            problems.append(f"{entry.path}：SHA-256 校验值不符，文件已被改动或损坏")
    if problems:
        raise BackupError("备份校验失败，未做任何改动：\n" + "\n".join(problems))

"""The files that live outside the database: the configuration folder and the county's fonts.

``config/`` is where the live configuration is published from — a server publishes its files when it
starts — so a restored database beside other files (a fresh checkout's shipped county) would be
overwritten by them at the next start. ``FONTS_DIR`` holds the licensed 仿宋_GB2312 and the like that
documents are set in. Both are copied into the backup as ``config/`` and ``fonts/``.

A restore puts a folder back only when its content differs from the backup's; the folder it replaces
is moved aside as ``<name>.before-restore-<time>``, never deleted. A folder the backup lacks (no fonts
were installed) is left alone. What is left out on purpose: the secret key (``instance/secret_key``
or ``SECRET_KEY``; a new one only means signing in again), logs, and the SQLite file itself, which the
database copy covers.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from server.backup.manifest import FileEntry, sha256_of

PRIVATE = 0o600  # a backup holds personal data: files readable by the owner only


def files_in(folder: Path) -> list[Path]:
    """The regular files under ``folder`` (symlinks followed), sorted; none when it does not exist."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file())


def copy_folder(source: Path, backup: Path, name: str) -> list[Path]:
    """Copy the files of ``source`` to ``backup/name``; return the copies."""
    copies = []
    for path in files_in(source):
        target = backup / name / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        os.chmod(target, PRIVATE)
        copies.append(target)
    return copies


def _same_content(folder: Path, entries: list[FileEntry], name: str) -> bool:
    current = {path.relative_to(folder).as_posix(): path for path in files_in(folder)}
    wanted = {entry.path[len(name) + 1:]: entry for entry in entries}
    return current.keys() == wanted.keys() and all(
        current[rel].stat().st_size == entry.size and sha256_of(current[rel]) == entry.sha256
        for rel, entry in wanted.items())


def _aside(target: Path) -> Path:
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    moved, n = target.with_name(f"{target.name}.before-restore-{stamp}"), 1
    while moved.exists():
        n += 1
        moved = target.with_name(f"{target.name}.before-restore-{stamp}-{n}")
    target.rename(moved)
    return moved


def put_back(backup: Path, entries: list[FileEntry], name: str, target: Path) -> tuple[bool, Path | None]:
    """Make ``target`` hold exactly the backup's ``name/`` files. Returns whether anything was written
    and where the folder it replaced was moved (None when there was none)."""
    if not entries or _same_content(target, entries, name):
        return False, None
    moved = _aside(target) if target.exists() else None
    for entry in entries:
        path = target / entry.path[len(name) + 1:]
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup / entry.path, path)
    return True, moved

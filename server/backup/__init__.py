"""Backup and restore: ``flask backup DIR`` and ``flask restore DIR``.

A backup is a folder that makes the server whole again: the whole database (records, audit, the
issued PDFs, the 发文字号 counters, the published configuration versions, users and sessions —
every table there is, none named here, so tables added by later migrations are included without a
change), a copy of the configuration folder (a server publishes its files at start, so a restored
database beside the shipped files would be overwritten by them) and of the county's licensed fonts,
and ``manifest.json`` with the size and SHA-256 of every file, the Alembic revision and the row count
of every table. PostgreSQL is dumped with ``pg_dump -Fc`` in one snapshot with the counts; SQLite is
copied with its online backup API, so both are safe while the server runs.

A restore checks everything it can before it touches anything (files, database kind, revision,
client tools, an empty target) and refuses with a Chinese message that says what to do; after loading
it compares every table's rows with the manifest.
"""
from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message (Chinese) is for the operator."""

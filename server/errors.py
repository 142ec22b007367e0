"""Errors shared across the server, and their HTTP meaning.

Configuration errors and validation errors are data, not strings: each carries *where* the problem
is (file + JSON pointer + line:column, or the field's JSON pointer) so that the CLI, the pages and the
API can all point the user at it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConfigError:
    """One problem in one configuration file.

    ``file`` is relative to the configuration directory (``forms/visit_register.json``);
    ``pointer`` is the JSON pointer of the offending value ("" for the whole document);
    ``line``/``column`` are 1-based and point at that value in the file.
    """

    file: str
    pointer: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.pointer or '/'}: {self.message}"


class ConfigInvalid(Exception):
    """Raised when configuration does not load; holds every error found, not only the first."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.column, e.pointer, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class FieldError:
    """A validation problem of one field, addressed by JSON pointer into the record's data."""

    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


class ValidationFailed(Exception):
    """The data does not satisfy its form: 422 in the API, field messages on the page."""

    status = 422

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.pointer}: {e.message}" for e in errors))


class NotFound(Exception):
    """The object does not exist, or the user may not know it exists (404 either way)."""

    status = 404


class NotAllowed(Exception):
    """The user is known but may not do this (403)."""

    status = 403


@dataclass
class Conflict(Exception):
    """Someone else saved first: the client's version is stale (409); nothing was written."""

    current_version: int
    expected_version: int | None = None
    status: int = field(default=409, init=False)

    def __str__(self) -> str:
        return f"记录已被他人修改（当前版本 {self.current_version}），请刷新后重新编辑"

"""The only URL fetcher WeasyPrint gets: files below the allowed folders and ``data:`` URLs.

A default WeasyPrint reads any ``file://`` path (``<link rel=attachment href=file:///etc/passwd>``
embeds the file in the PDF) and calls any ``http://`` host, so a template or a value that became
markup could read the server's files or reach intranet services. Here every other scheme, a remote
file host, a path outside the folders (``..`` and symlinks are resolved first), a non-file and an
oversized file are refused, and redirects are off. Refusals are remembered so a render can report them.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

MAX_BYTES = 40_000_000  # CJK fonts are 5–20 MB


class AssetOnlyFetcher(URLFetcher):
    """Serve regular files below ``roots``; refuse everything else (and note what was refused)."""

    def __init__(self, roots: list[Path], max_bytes: int = MAX_BYTES):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, timeout=2,
                         fail_on_errors=False)
        self.roots = [Path(r).resolve() for r in roots if r]
        self.max_bytes = max_bytes
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)  # decoded in memory, no I/O
        path = self._allowed_path(url) if scheme == "file" and parts.netloc in ("", "localhost") else None
        if path is None:
            self.refused.append(url[:200])
            raise ValueError(f"URL refused: {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type})

    def _allowed_path(self, url: str) -> Path | None:
        try:
            path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        except (OSError, ValueError):
            return None
        if not any(path.is_relative_to(root) for root in self.roots):
            return None
        if not path.is_file() or path.stat().st_size > self.max_bytes:
            return None
        return path

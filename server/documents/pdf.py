"""HTML -> PDF with WeasyPrint, as one render worker runs it.

One ``FontConfiguration`` and one parsed stylesheet are kept per process (built on first use, after
the worker started): that saves about a quarter of a one-page render and keeps memory flat. A render
fails, rather than printing boxes, when any character had no glyph in the font chosen for it
(WeasyPrint records them per font; the extracted text alone does not show such "tofu").
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.documents.fetcher import AssetOnlyFetcher
from server.documents.fonts import font_face_css
from server.documents.sandbox import LAYOUT_DIR, make_environment

STYLESHEET = LAYOUT_DIR / "gbt9704.css"
MAX_HTML_CHARS = 2_000_000


class RenderError(Exception):
    """A document could not be made; ``str()`` is a message for the user (Chinese)."""


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    fonts: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class Renderer:
    """Per-process WeasyPrint state for one fonts folder."""

    def __init__(self, fonts_dir: Path | None = None):
        self.fonts_dir = Path(fonts_dir) if fonts_dir else None
        self._font_config: Any = None
        self._stylesheet: Any = None
        self._fetcher: AssetOnlyFetcher | None = None
        self._environments: dict[tuple[tuple[str, str], ...], Any] = {}  # compiled templates, per source

    def _ensure(self) -> None:
        if self._stylesheet is not None:
            return
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self._fetcher = AssetOnlyFetcher([LAYOUT_DIR] + ([self.fonts_dir] if self.fonts_dir else []))
        self._font_config = FontConfiguration()
        css = font_face_css(self.fonts_dir) + "\n" + STYLESHEET.read_text(encoding="utf-8")
        self._stylesheet = CSS(string=css, base_url=LAYOUT_DIR.as_uri() + "/", url_fetcher=self._fetcher,
                               font_config=self._font_config)

    def html(self, templates: dict[str, str], template: str, context: dict[str, Any]) -> str:
        """The document's HTML: its template (extending the shared layout) in the limited sandbox."""
        from jinja2 import TemplateError

        key = tuple(sorted(templates.items()))
        env = self._environments.get(key)
        if env is None:
            if len(self._environments) >= 32:
                self._environments.clear()
            env = self._environments[key] = make_environment(templates)
        try:
            html = env.get_template(template).render(**context)
        except TemplateError as exc:
            raise RenderError(f"文书模板出错：{exc}") from exc
        if len(html) > MAX_HTML_CHARS:
            raise RenderError(f"文书内容过长（{len(html)} 个字符，上限 {MAX_HTML_CHARS}）")
        return html

    def pdf(self, html: str, max_pages: int) -> RenderResult:
        from weasyprint import HTML

        self._ensure()
        fetcher = AssetOnlyFetcher(self._fetcher.roots)  # per render: its refusals are this render's
        document = HTML(string=html, base_url=LAYOUT_DIR.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=[self._stylesheet], font_config=self._font_config)
        if len(document.pages) > max_pages:
            raise RenderError(f"文书共 {len(document.pages)} 页，超过 {max_pages} 页的上限")
        data = document.write_pdf()
        missing = sorted({chr(cp) for font in document.fonts.values() for cp in font.missing})
        if missing:
            shown = "、".join(f"{c}（U+{ord(c):04X}{_name(c)}）" for c in missing[:20])
            raise RenderError(f"以下字符没有可用字体，无法排版：{shown}。请改用常用字或在字体目录中加入含这些字的字体")
        fonts = sorted({font.family.decode() if isinstance(font.family, bytes) else str(font.family)
                        for font in document.fonts.values()})
        return RenderResult(pdf=data, pages=len(document.pages), fonts=fonts, refused=list(fetcher.refused))

    def render(self, templates: dict[str, str], template: str, context: dict[str, Any],
               max_pages: int) -> RenderResult:
        return self.pdf(self.html(templates, template, context), max_pages)


def _name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"，{name}" if name else ""


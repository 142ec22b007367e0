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
from server.documents.justify import justify_paragraphs
from server.documents.sandbox import LAYOUT_DIR, make_environment

STYLESHEET = LAYOUT_DIR / "gbt9704.css"
MAX_HTML_CHARS = 2_000_000
# Set by gbt9704.html: the 版记 and an empty marker where the text (with its 附件) ends; the context key
# that tells the layout to put the 版记 on a page of its own (see Renderer.render).
COLOPHON_ID, TEXT_END_ID, BACK_PAGE = "gbt9704-colophon", "gbt9704-end", "gbt9704_back_page"


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
        """One HTML document as it is laid out (no 版记 placement pass: see :meth:`render`)."""
        self._ensure()
        fetcher = AssetOnlyFetcher(self._fetcher.roots)  # per render: its refusals are this render's
        return self._finish(self._layout(html, fetcher), max_pages, fetcher)

    def _layout(self, html: str, fetcher: AssetOnlyFetcher) -> Any:
        from weasyprint import HTML

        return HTML(string=justify_paragraphs(html), base_url=LAYOUT_DIR.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=[self._stylesheet], font_config=self._font_config)

    def _finish(self, document: Any, max_pages: int, fetcher: AssetOnlyFetcher) -> RenderResult:
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
        """Render, then move the 版记 to an even page if it landed on an odd one.

        GB/T 9704 7.4.1 puts the 版记 on the document's last side, the back of the last sheet (an even
        page). Whether the 正文 ends on an odd or an even page is only known after layout, so a document
        whose 版记 fell on an odd page is laid out a second time with the 版记 on a page of its own after
        a ``break-before: left`` (a blank page in between when the 正文 ended on an even page; blank
        pages, and the 版记 page after one, carry no page number, 7.5).
        """
        self._ensure()
        fetcher = AssetOnlyFetcher(self._fetcher.roots)
        document = self._layout(self.html(templates, template, {**context, BACK_PAGE: ""}), fetcher)
        back = back_page(document)
        if back:
            document = self._layout(self.html(templates, template, {**context, BACK_PAGE: back}), fetcher)
        return self._finish(document, max_pages, fetcher)


def back_page(document: Any) -> str:
    """How the 版记 must move: "" where it is (an even page, or no 版记 at all), "after-text" onto the
    even page that follows an odd last page of text, "after-blank" past a blank page after an even one."""
    pages = {name: i + 1 for i, page in enumerate(document.pages) for name in page.anchors}
    colophon, end = pages.get(COLOPHON_ID), pages.get(TEXT_END_ID)
    if colophon is None or end is None or colophon % 2 == 0:
        return ""
    return "after-text" if end % 2 == 1 else "after-blank"


def _name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"，{name}" if name else ""


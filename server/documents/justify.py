"""Flush right margins for Chinese paragraphs: spaces WeasyPrint can stretch, of no width of their own.

GB/T 9704 text fills the 版心 line by line (5.2.3: 28 字 a line, 撑满版心). WeasyPrint justifies only at
spaces (U+0020, U+00A0), and Chinese has none, so a line ended short wherever the next piece could not
start it: a run of digits ("2026年"), or a character kept with the "，" after it (避头点). That left lines
up to 2 字 short in every paragraph.

The fix: between the characters of a body paragraph where a line may break anyway, put a space, and
give spaces a negative ``word-spacing`` equal to their own advance (gbt9704.css, ``p.justified``): the
line breaks and widths stay exactly those of the unspaced text, and WeasyPrint's justification now
spreads a line's missing width over its ~27 spaces (a few hundredths of a 字 each). No space goes
where a line must not break: before closing punctuation, after opening punctuation, inside runs of
Latin letters and digits, between the two halves of "——" or "……". Spaces the text already had are
kept visible (a ``span.word-space`` with normal spacing).

Only plain ``<p>`` elements (optionally with ``class="note"`` or a ``style``) are touched: they are set
in the body font the ``word-spacing`` was measured for; headings and tables are left alone.
"""
from __future__ import annotations

import re

CLOSING = set("，。、；：？！）》」』】〕〉…—”’％%·．,.;:?!)]}")
OPENING = set("（《「『【〔〈“‘([{")
JUSTIFY_SPACE = " "
_PARAGRAPH = re.compile(r'<p(?: class="(note)")?( style="[^"<>]*")?>(.*?)</p>', re.S)
_TOKEN = re.compile(r"(<[^>]*>|&#?\w+;)")


def _joined(left: str, right: str) -> bool:
    """True where no break may fall between two characters (so no stretchable space goes there)."""
    if right in CLOSING or left in OPENING:
        return True
    word = set("-./:")
    if left.isascii() and right.isascii() and (left.isalnum() or left in word) and (right.isalnum() or right in word):
        return True
    return left == right and left in "—…"


def space_text(text: str) -> str:
    """One text run (no markup) with stretchable spaces where a line may break."""
    out: list[str] = []
    for i, char in enumerate(text):
        if char == " ":
            out.append('<span class="word-space"> </span>')
            continue
        out.append(char)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt and nxt != " " and not char.isspace() and not _joined(char, nxt):
            out.append(JUSTIFY_SPACE)
    return "".join(out)


def _space_inner(inner: str) -> str:
    """A paragraph's content: text between tags and entities gets spaces; a tag or an entity is kept
    whole, and spaced as the character it stands for would be (entities) or not at all (tags)."""
    parts = [p for p in _TOKEN.split(inner) if p]
    out: list[str] = []
    for k, part in enumerate(parts):
        if part.startswith("<"):
            out.append(part)
            continue
        if part.startswith("&"):
            out.append(part)
            nxt = parts[k + 1] if k + 1 < len(parts) else ""
            if nxt and not nxt.startswith("<") and not nxt.startswith(" ") and nxt[0] not in CLOSING:
                out.append(JUSTIFY_SPACE)
            continue
        spaced = space_text(part.replace("\n", " "))
        nxt = parts[k + 1] if k + 1 < len(parts) else ""
        if nxt.startswith("&") and part[-1:] not in OPENING and part[-1:] != " ":
            spaced += JUSTIFY_SPACE
        out.append(spaced)
    return "".join(out)


def justify_paragraphs(html: str) -> str:
    """The document's HTML with stretchable spaces in its body paragraphs."""
    def spaced(m: re.Match[str]) -> str:
        classes = " ".join(c for c in (m.group(1), "justified") if c)
        return f'<p class="{classes}"{m.group(2) or ""}>{_space_inner(m.group(3))}</p>'

    return _PARAGRAPH.sub(spaced, html)

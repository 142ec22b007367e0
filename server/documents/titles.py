"""Title lines of a 公文: broken at phrase boundaries and balanced (GB/T 9704-2012 7.3.1: 回行时要做到
词意完整，排列对称，长短适宜).

The browser-style line breaking WeasyPrint does breaks Chinese anywhere, which left a lone "区" on a
title's last line and split "雷/沟". Here the template says where a title may break: ``<wbr>``
between its fixed phrases (关于对…<wbr>实行挂牌督办的通知), and the ``phrases`` filter splits a place
name after its administrative or feature suffix (河口镇 / 东岗村 / 废弃砖厂 / 周边). ``title_lines``
then picks, among the breaks at those points, the fewest lines that fit the title's width, and of
those the most even ones: the longest line as short as possible, where a line longer than the one
above it counts its excess against the choice (the 正梯形 or 菱形 the standard's practice prefers).

A word segmenter (jieba and its 20 MB dictionary loaded in every render worker) was not needed:
titles are the template's fixed phrases plus one place name, and a place name's words end in a
small set of suffix characters.
"""
from __future__ import annotations

import html
import itertools
import re

from markupsafe import Markup, escape

# A 2号 (22 pt) title in the 156 mm 版心 less 1 字 at each side (gbt9704.css h1.title): 18 characters.
TITLE_CHARS = 18.0
# A place name may break after these characters (镇、村、厂、周边 …) …
SUFFIXES = set("省市县区镇乡村居组路街巷道厂场站园港湾桥")
LEVELS = set("省市县区镇乡村街")          # 河口镇, 城关街道: no break before the level itself
ATTACHED = ("周边", "及周边", "附近", "一带", "地区", "区域")  # belong to the word before them
# … but not inside these words.
KEEP_TOGETHER = ("街道", "区域", "村居", "场所", "村委", "路口", "街区", "道口", "口岸", "市场", "县城", "园区",
                 "边境", "港口", "站点", "组织")
_BREAK = re.compile(r"<wbr\s*/?>|<br\s*/?>", re.I)


def width(text: str) -> float:
    """Width in 字: a half-width character (digits, Latin) counts one half."""
    return sum(0.5 if ord(c) < 0x2E80 and c not in "“”‘’—…" else 1.0 for c in text)


def name_phrases(name: str) -> list[str]:
    """A place name's words: 河口镇东岗村废弃砖厂周边 -> 河口镇 / 东岗村 / 废弃砖厂 / 周边."""
    words, start = [], 0
    for i, char in enumerate(name[:-1]):
        pair = name[i:i + 2]
        if char in SUFFIXES and i + 1 - start >= 2 and pair not in KEEP_TOGETHER and name[i + 1] not in LEVELS:
            words.append(name[start:i + 1])
            start = i + 1
    words.append(name[start:])
    merged: list[str] = []
    for word in words:
        if merged and (word in ATTACHED or len(word) < 2):
            merged[-1] += word
        else:
            merged.append(word)
    return merged


def phrases(value: str) -> Markup:
    """Jinja filter: the name with ``<wbr>`` where a title may break."""
    return Markup("<wbr>").join(escape(w) for w in name_phrases(str(value)))


def header_phrases(value: str) -> Markup:
    """Jinja filter: a table header whose spaces mark where it may wrap (``群众反映 治安问题 （件）``), each
    phrase kept whole. Without a space the cell wraps anywhere, as before; the spaces themselves print as
    nothing, so a configured header reads the same on paper as a header written without them."""
    words = str(value).split()
    if len(words) < 2:
        return escape(str(value).strip())
    return Markup("<wbr>").join(Markup('<span class="phrase">{}</span>').format(w) for w in words)


def _chunks(text: str, limit: float) -> list[str]:
    """A phrase wider than a line, cut into even pieces (the last resort)."""
    count = max(1, -(-int(width(text) * 2) // int(limit * 2)))
    size = -(-len(text) // count)
    return [text[i:i + size] for i in range(0, len(text), size)]


def balance(parts: list[str], limit: float = TITLE_CHARS) -> list[str]:
    """The parts joined into the fewest lines no wider than ``limit``, as even as possible."""
    atoms = [piece for part in parts if part for piece in (_chunks(part, limit) if width(part) > limit else [part])]
    if not atoms:
        return []
    n = len(atoms)
    for lines in range(1, n + 1):
        best: tuple[float, float, list[str]] | None = None
        for cuts in itertools.combinations(range(1, n), lines - 1):
            bounds = (0, *cuts, n)
            texts = ["".join(atoms[a:b]) for a, b in zip(bounds, bounds[1:])]
            widths = [width(t) for t in texts]
            if max(widths) > limit:
                continue
            # the shortest longest line, where a line longer than the one above it costs its excess
            # (an inverted trapezoid): 关于X周边 / 延期整治的请示 rather than 关于X / 周边延期整治的请示
            growth = sum(max(0.0, b - a) for a, b in zip(widths, widths[1:]))
            key = (max(widths) + growth, max(widths))
            if best is None or key < best[:2]:
                best = (*key, texts)
        if best is not None:
            return best[2]
        if n > 12 and lines > 4:  # combinatorial bound: titles have a handful of phrases
            break
    return ["".join(atoms)]


def title_lines(value: str) -> Markup:
    """Jinja filter: a title's markup (phrases separated by ``<wbr>``, or ``<br>``) as balanced lines
    joined by ``<br>``."""
    parts = [html.unescape(p).strip() for p in _BREAK.split(str(value))]
    return Markup("<br>").join(escape(line) for line in balance([p for p in parts if p]))

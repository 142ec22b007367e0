"""Measuring helpers for generated PDFs: GB/T 9704-2012 geometry, colours, fonts and text.

Tests import it as ``from tests import pdfcheck`` (pytest run as ``python -m pytest`` from the project
root, like the other test helpers) and wrap the bytes of a rendered PDF once::

    pdf = pdfcheck.Pdf(result.pdf)
    pdf.page_sizes()                       # [(595.28, 841.89), ...] in pt
    pdf.lines(0)                           # 16 pt text lines of page 1, top to bottom
    pdf.page_number(1)                     # "— 2 —" with its box and size, or None
    pdf.fonts()                            # embedded / subset state of every font
    pdf.text()                             # upright text of the whole document, whitespace removed
    pdf.first_red_row_mm(0)                # raster scan (pdftoppm) for ink positions

Conventions: pages are 0-based indexes; coordinates are in pt from the paper's top-left corner
(pdfplumber's ``x0``/``x1``/``top``/``bottom``) unless a name ends in ``_mm``. Character boxes are
pdfplumber's em boxes (what the font says, not the ink); raster helpers measure ink.
Geometry is vector data first (pdfplumber, pypdf) and ``pdftoppm`` rasters where the vector form is
ambiguous (glyph ink, borders WeasyPrint paints as even-odd filled rings).
"""
from __future__ import annotations

import io
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable

import pdfplumber
import pypdf

MM = 72 / 25.4                 # pt per mm
ZI = 156 * MM / 28             # one 字 of 3号 body text: 156 mm / 28 = 15.79 pt
HANG = 225 * MM / 22           # one 行: 225 mm / 22 = 28.95 pt
A4 = (210 * MM, 297 * MM)      # (595.28, 841.89) pt
# 版心 (text block) in mm from the paper's left/top edge, odd (right-hand) and even pages.
BLOCK_TOP_MM, BLOCK_BOTTOM_MM = 37.0, 262.0
BLOCK_X_MM = {"odd": (28.0, 184.0), "even": (26.0, 182.0)}
PAGE_NUMBER_RE = re.compile(r"^—\s*(\d+)\s*—$")


def mm(points: float) -> float:
    """pt -> mm."""
    return points / MM


def pt(millimetres: float) -> float:
    """mm -> pt."""
    return millimetres * MM


def block_x_mm(page_index: int) -> tuple[float, float]:
    """Left and right edge (mm) of the 版心 on a page: odd pages (index 0, 2, …) 28–184, even 26–182."""
    return BLOCK_X_MM["odd" if page_index % 2 == 0 else "even"]


def is_red(color: Any) -> bool:
    """True for a red fill colour as pdfplumber reports it (RGB, CMYK or gray tuples/numbers)."""
    if color is None:
        return False
    if isinstance(color, (int, float)):
        return False
    c = tuple(float(v) for v in color)
    if len(c) == 3:
        r, g, b = c
        return r >= 0.7 and g <= 0.25 and b <= 0.25
    if len(c) == 4:  # CMYK: red is M and Y high, C and K low (GB/T 9704 6.3: ≥ Y80 % M80 %)
        cy, ma, ye, k = c
        return ma >= 0.8 and ye >= 0.8 and cy <= 0.2 and k <= 0.2
    return False


def is_black(color: Any) -> bool:
    """True for black text colour (gray 0, RGB 0,0,0 or CMYK K=1)."""
    if color is None:
        return True  # the PDF default fill colour is black
    if isinstance(color, (int, float)):
        return float(color) <= 0.05
    c = tuple(float(v) for v in color)
    if len(c) == 1:
        return c[0] <= 0.05
    if len(c) == 3:
        return max(c) <= 0.05
    if len(c) == 4:
        return c[3] >= 0.95 or min(c[:3]) >= 0.95
    return False


@dataclass
class Line:
    """Characters sharing a baseline (``baseline`` in pt from the paper top), sorted left to right."""

    baseline: float
    chars: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0(self) -> float:
        return min(c["x0"] for c in self.chars)

    @property
    def x1(self) -> float:
        return max(c["x1"] for c in self.chars)

    @property
    def top(self) -> float:
        return min(c["top"] for c in self.chars)

    @property
    def bottom(self) -> float:
        return max(c["bottom"] for c in self.chars)

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def fonts(self) -> set[str]:
        return {font_family(c["fontname"]) for c in self.chars}

    def __len__(self) -> int:
        return len(self.chars)


@dataclass
class PageNumber:
    """The "— n —" folio of a page: its text, number, box (pt) and font size."""

    text: str
    number: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    fontnames: set[str]
    chars: list[dict]


@dataclass
class FontInfo:
    """A font object of the PDF (per page resource, deduplicated by name)."""

    name: str            # /BaseFont as written, e.g. "ABCDEF+FandolFang"
    subtype: str         # /Type0, /TrueType, /Type1, /Type3 …
    embedded: bool       # a /FontFile, /FontFile2 or /FontFile3 stream is present (Type3: always)
    file_key: str | None  # which one
    subset: bool         # the name has a 6-capital-letter subset tag "ABCDEF+"

    @property
    def family(self) -> str:
        return font_family(self.name)


def font_family(fontname: str) -> str:
    """``"ABCDEF+Noto-Serif-CJK-SC-Bold"`` -> ``"Noto-Serif-CJK-SC-Bold"`` (the subset tag removed)."""
    return re.sub(r"^[A-Z]{6}\+", "", fontname or "")


def group_lines(chars: Iterable[dict], tolerance: float = 1.0) -> list[Line]:
    """Group characters into lines by baseline (``matrix[5]``), top to bottom, each sorted by x.

    Two characters are on the same line when their baselines differ by at most ``tolerance`` pt.
    """
    items = []
    for c in chars:
        page_height = c.get("_page_height")
        baseline = (page_height - c["matrix"][5]) if page_height is not None else c["bottom"]
        items.append((baseline, c))
    items.sort(key=lambda it: it[0])
    lines: list[Line] = []
    for baseline, c in items:
        if lines and baseline - lines[-1].baseline <= tolerance:
            lines[-1].chars.append(c)
        else:
            lines.append(Line(baseline=baseline, chars=[c]))
    for line in lines:
        line.chars.sort(key=lambda c: c["x0"])
    return lines


class Pdf:
    """One PDF's bytes, opened lazily with pdfplumber and pypdf; rasters are made with ``pdftoppm``."""

    def __init__(self, data: bytes):
        self.data = data
        self._tmp: tempfile.TemporaryDirectory | None = None

    # -- opening ---------------------------------------------------------------------------------
    @cached_property
    def plumber(self) -> pdfplumber.PDF:
        return pdfplumber.open(io.BytesIO(self.data))

    @cached_property
    def reader(self) -> pypdf.PdfReader:
        return pypdf.PdfReader(io.BytesIO(self.data))

    @property
    def page_count(self) -> int:
        return len(self.plumber.pages)

    def page(self, index: int) -> Any:
        """The pdfplumber page (0-based)."""
        return self.plumber.pages[index]

    def __enter__(self) -> "Pdf":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close pdfplumber and remove the temporary copy used for rasters."""
        if "plumber" in self.__dict__:
            self.plumber.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- pages and characters -----------------------------------------------------------------------
    def page_sizes(self) -> list[tuple[float, float]]:
        """(width, height) of every page in pt (A4 is 595.28 × 841.89)."""
        return [(float(p.width), float(p.height)) for p in self.plumber.pages]

    def chars(self, index: int, *, size: float | None = None, upright: bool | None = True,
              tolerance: float = 0.1) -> list[dict]:
        """pdfplumber chars of a page. ``upright=True`` (default) keeps only unrotated text (drops the
        草稿 watermark), ``False`` only rotated text, ``None`` all; ``size`` keeps only chars of that font
        size (± tolerance). Each char gets ``_page_height`` so lines can be grouped by baseline."""
        page = self.page(index)
        out = []
        for c in page.chars:
            if upright is not None and is_upright(c) != upright:
                continue
            if size is not None and abs(float(c["size"]) - size) > tolerance:
                continue
            c = dict(c)
            c["_page_height"] = float(page.height)
            out.append(c)
        return out

    def page_number(self, index: int) -> PageNumber | None:
        """The page's folio "— n —": the lowest upright text line, if it matches that pattern."""
        lines = group_lines(self.chars(index), tolerance=2.0)
        if not lines:
            return None
        last = lines[-1]
        text = re.sub(r"\s+", " ", last.text).strip()
        m = PAGE_NUMBER_RE.match(text)
        if not m:
            return None
        return PageNumber(text=text, number=int(m.group(1)), x0=last.x0, x1=last.x1, top=last.top,
                          bottom=last.bottom, size=max(float(c["size"]) for c in last.chars),
                          fontnames={font_family(c["fontname"]) for c in last.chars}, chars=last.chars)

    def body_chars(self, index: int) -> list[dict]:
        """Upright, non-blank chars of a page except its page number (identified by its text, not by
        position, so a char outside the 版心 is still reported)."""
        folio = self.page_number(index)
        skip = {id_key(c) for c in folio.chars} if folio else set()
        return [c for c in self.chars(index) if id_key(c) not in skip and c["text"].strip()]

    def body_bbox(self, index: int) -> tuple[float, float, float, float] | None:
        """(x0, top, x1, bottom) in pt of all body chars of a page, or None for a page without text."""
        chars = self.body_chars(index)
        if not chars:
            return None
        return (min(c["x0"] for c in chars), min(c["top"] for c in chars),
                max(c["x1"] for c in chars), max(c["bottom"] for c in chars))

    def lines(self, index: int, size: float = 16.0, tolerance: float = 1.0) -> list[Line]:
        """Lines (distinct baselines) of the page's body chars of ``size`` pt, top to bottom."""
        chars = [c for c in self.body_chars(index) if abs(float(c["size"]) - size) <= 0.1]
        return group_lines(chars, tolerance=tolerance)

    @staticmethod
    def pitches(lines: list[Line]) -> list[float]:
        """Distances between consecutive baselines (pt)."""
        return [b.baseline - a.baseline for a, b in zip(lines, lines[1:])]

    @staticmethod
    def slots(line: Line, left: float) -> float:
        """How many 字 (15.79 pt) from ``left`` (pt) to the line's right edge."""
        return (line.x1 - left) / ZI

    def full_lines(self, index: int, size: float = 16.0, slack: float = 0.5) -> list[Line]:
        """16 pt lines whose right edge reaches the 版心's right edge (within ``slack`` 字): the lines
        a justified paragraph filled, whose character count is the chars per line."""
        right = pt(block_x_mm(index)[1])
        return [ln for ln in self.lines(index, size) if ln.x1 >= right - slack * ZI]

    def outside_block(self, index: int, slack_mm: float = 0.6) -> list[dict]:
        """Body chars of any size (tables, 版记, headings; not the folio) lying outside the 版心, more
        than ``slack_mm`` beyond one of its edges."""
        left, right = block_x_mm(index)
        return [c for c in self.body_chars(index)
                if mm(c["x0"]) < left - slack_mm or mm(c["x1"]) > right + slack_mm
                or mm(c["top"]) < BLOCK_TOP_MM - slack_mm or mm(c["bottom"]) > BLOCK_BOTTOM_MM + slack_mm]

    def colophon_pages(self) -> list[int]:
        """Pages whose last 14 pt line is the 版记's "…印发" row."""
        found = []
        for i in range(self.page_count):
            rows = self.lines(i, size=14.0)
            if rows and rows[-1].text.replace(" ", "").endswith("印发"):
                found.append(i)
        return found

    def short_continued_lines(self, slack: float = 0.5) -> list[tuple[int, Line]]:
        """16 pt lines that a paragraph continues after (the next line, on the same page at one line's
        pitch or the first line of the next page, starts flush at the 版心's left edge) but that end
        more than ``slack`` 字 before the 版心's right edge: ragged right margins. A paragraph's last
        line is followed by an indented line or a gap, so it is not counted; neither are centred or
        right-aligned lines (署名, 成文日期), which do not start at the left edge or its 2 字 indent."""
        short = []
        pages = [(i, self.lines(i)) for i in range(self.page_count)]
        for n, (i, lines) in enumerate(pages):
            left, right = pt(block_x_mm(i)[0]), pt(block_x_mm(i)[1])
            for k, line in enumerate(lines):
                if k + 1 < len(lines):
                    nxt, nxt_left = lines[k + 1], left
                    if abs(nxt.baseline - line.baseline - HANG) > 1.0:
                        continue
                elif n + 1 < len(pages) and pages[n + 1][1]:
                    nxt, nxt_left = pages[n + 1][1][0], pt(block_x_mm(i + 1)[0])
                    if re.fullmatch(r"附件\d*", nxt.text):
                        continue
                else:
                    continue
                starts = line.x0 - left
                if abs(nxt.x0 - nxt_left) > 1.0 or not (-1.0 <= starts <= 2 * ZI + 1.0):
                    continue
                if line.x1 < right - slack * ZI:
                    short.append((i, line))
        return short

    def widows(self) -> list[tuple[int, Line]]:
        """Pages (after the first) that open with a paragraph's last line alone: a 16 pt line flush at
        the 版心's left edge (so it continues a paragraph of the page before) that no flush line follows
        at one line's pitch (a gap, an indented line, the 署名, or nothing comes next)."""
        found = []
        for i in range(1, self.page_count):
            lines = self.lines(i)
            if not lines:
                continue
            first, left = lines[0], pt(block_x_mm(i)[0])
            if abs(first.x0 - left) > 1.0 or re.fullmatch(r"附件\d*", first.text):
                continue
            if len(lines) > 1 and abs(lines[1].baseline - first.baseline - HANG) <= 1.0 \
                    and abs(lines[1].x0 - left) <= 1.0:
                continue  # the paragraph goes on below it
            found.append((i, first))
        return found

    def find_line(self, index: int, pattern: str, size: float | None = None) -> Line | None:
        """The first upright line (any size unless given) whose text matches the regex ``pattern``."""
        chars = [c for c in self.chars(index)
                 if c["text"].strip() and (size is None or abs(float(c["size"]) - size) <= 0.1)]
        for line in group_lines(chars, tolerance=2.0):
            if re.search(pattern, line.text):
                return line
        return None

    # -- colours and graphics ---------------------------------------------------------------------------
    def red_chars(self, index: int) -> list[dict]:
        """Upright chars with a red fill colour."""
        return [c for c in self.chars(index) if is_red(c.get("non_stroking_color"))]

    def red_rects(self, index: int) -> list[dict]:
        """Filled rectangles painted red (e.g. the 版头's red rule)."""
        return [r for r in self.page(index).rects
                if (r.get("fill") and is_red(r.get("non_stroking_color")))
                or (r.get("stroke") and is_red(r.get("stroking_color")))]

    def rects(self, index: int) -> list[dict]:
        """All pdfplumber rects of a page (WeasyPrint borders are even-odd rings: an outer and an inner
        rect per ring, possibly painted more than once)."""
        return list(self.page(index).rects)

    # -- text ---------------------------------------------------------------------------------------------
    def text(self, *, page_numbers: bool = False) -> str:
        """The document's upright text, page by page in reading order, all whitespace removed
        (rotated text such as the 草稿 watermark is left out; folios only if ``page_numbers``)."""
        parts = []
        for index in range(self.page_count):
            chars = self.chars(index) if page_numbers else self.body_chars(index)
            for line in group_lines(chars, tolerance=3.0):
                parts.append(line.text)
        return re.sub(r"\s+", "", "".join(parts))

    def all_text(self) -> str:
        """Every char of the document including rotated ones (the 草稿 watermark), whitespace removed."""
        return re.sub(r"\s+", "", "".join(c["text"] for p in self.plumber.pages for c in p.chars))

    # -- fonts ---------------------------------------------------------------------------------------------
    def fonts(self) -> list[FontInfo]:
        """Every font the pages use (descendant fonts of Type0 fonts are reported under the Type0's
        name), with whether its program is embedded and subset."""
        seen: dict[str, FontInfo] = {}
        for page in self.reader.pages:
            resources = page.get("/Resources")
            for font in _fonts_in(resources):
                name = str(font.get("/BaseFont", ""))
                if name in seen:
                    continue
                subtype = str(font.get("/Subtype", ""))
                descriptor = None
                if subtype == "/Type0":
                    descendants = font.get("/DescendantFonts")
                    if descendants:
                        descriptor = descendants.get_object()[0].get_object().get("/FontDescriptor")
                else:
                    descriptor = font.get("/FontDescriptor")
                file_key = None
                if descriptor is not None:
                    descriptor = descriptor.get_object()
                    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                        if key in descriptor:
                            file_key = key
                            break
                embedded = file_key is not None or subtype == "/Type3"
                seen[name] = FontInfo(name=name.lstrip("/"), subtype=subtype, embedded=embedded,
                                      file_key=file_key, subset=bool(re.match(r"^/?[A-Z]{6}\+", name)))
        return list(seen.values())

    # -- rasters (pdftoppm) -------------------------------------------------------------------------------
    def _path(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pdfcheck-")
            (Path(self._tmp.name) / "doc.pdf").write_bytes(self.data)
        return Path(self._tmp.name) / "doc.pdf"

    def raster(self, index: int, dpi: float, crop_mm: tuple[float, float, float, float] | None = None,
               gray: bool = False) -> Any:
        """A PIL image of a page (or of ``crop_mm`` = (x, y, width, height) in mm) at ``dpi``.
        Pixel (0, 0) is the crop's top-left corner; convert rows back with :meth:`row_mm`."""
        from PIL import Image

        cmd = ["pdftoppm", "-f", str(index + 1), "-l", str(index + 1), "-r", str(dpi), "-singlefile"]
        if crop_mm is not None:
            x, y, w, h = (round(v / 25.4 * dpi) for v in crop_mm)
            cmd += ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
        cmd += ["-gray"] if gray else []
        cmd += ["-png", str(self._path())]
        out = subprocess.run(cmd, check=True, capture_output=True, timeout=60).stdout
        image = Image.open(io.BytesIO(out))
        image.load()
        return image

    def ink_rows_mm(self, index: int, dpi: float, crop_mm: tuple[float, float, float, float],
                    pixel: Callable[[tuple[int, ...]], bool]) -> list[float]:
        """The y (mm from the paper top, pixel row tops) of the rows inside ``crop_mm`` where at least
        one pixel satisfies ``pixel((r, g, b))``."""
        image = self.raster(index, dpi, crop_mm).convert("RGB")
        width, height = image.size
        data = image.load()
        y0 = round(crop_mm[1] / 25.4 * dpi)
        rows = []
        for y in range(height):
            if any(pixel(data[x, y]) for x in range(width)):
                rows.append((y0 + y) * 25.4 / dpi)
        return rows

    def first_red_row_mm(self, index: int, dpi: float = 150,
                         crop_mm: tuple[float, float, float, float] | None = None) -> float | None:
        """mm from the paper top of the first pixel row containing red ink (default: whole page)."""
        crop = crop_mm or (0, 0, 210, 297)
        rows = self.ink_rows_mm(index, dpi, crop, red_pixel)
        return rows[0] if rows else None

    def dark_runs_mm(self, index: int, x_mm: float, dpi: float = 600,
                     y_range_mm: tuple[float, float] = (0, 297), width_mm: float = 0.5,
                     threshold: int = 128) -> list[tuple[float, float]]:
        """Vertical runs of dark (black or gray, not red) pixels in a thin column at ``x_mm``:
        [(top_mm, bottom_mm), …]. Used for horizontal black rules (the 版记's): each rule crossing
        the column is one run. A pixel is dark when all its channels are below ``threshold``."""
        crop = (x_mm - width_mm / 2, y_range_mm[0], width_mm, y_range_mm[1] - y_range_mm[0])
        image = self.raster(index, dpi, crop).convert("RGB")
        width, height = image.size
        data = image.load()
        y0 = round(crop[1] / 25.4 * dpi)
        runs: list[tuple[float, float]] = []
        start = None
        for y in range(height + 1):
            dark = y < height and sum(max(data[x, y]) < threshold for x in range(width)) * 2 > width
            if dark and start is None:
                start = y
            elif not dark and start is not None:
                runs.append(((y0 + start) * 25.4 / dpi, (y0 + y) * 25.4 / dpi))
                start = None
        return runs

    def horizontal_rules_mm(self, index: int, dpi: float = 600, min_width_mm: float = 150,
                            y_range_mm: tuple[float, float] = (0, 297)) -> list[dict]:
        """Horizontal black rules at least ``min_width_mm`` long: found as dark runs in columns near
        both 版心 edges and its centre, kept where all three agree (a rule crosses the whole width).
        Returns [{"top": mm, "bottom": mm, "thickness": mm, "x0": mm, "x1": mm}, …] top to bottom;
        x0/x1 come from the vector rects that overlap the rule (ink without one is not a rule)."""
        left, right = block_x_mm(index)
        columns = [left + 1.0, (left + right) / 2, right - 1.0]
        per_column = [self.dark_runs_mm(index, x, dpi, y_range_mm) for x in columns]
        rules = []
        for top, bottom in per_column[1]:
            if all(any(abs(t - top) < 0.2 and abs(b - bottom) < 0.2 for t, b in runs) for runs in per_column):
                xs = [(r["x0"], r["x1"]) for r in self.page(index).rects
                      if r["top"] <= pt(bottom) and r["bottom"] >= pt(top)]
                if not xs:  # ink without a painted rectangle: glyph strokes that happen to line up
                    continue
                x0, x1 = mm(min(x for x, _ in xs)), mm(max(x for _, x in xs))
                if x1 - x0 < min_width_mm:
                    continue
                rules.append({"top": top, "bottom": bottom, "thickness": bottom - top, "x0": x0, "x1": x1})
        return rules


def is_upright(c: dict) -> bool:
    """True for a char drawn without rotation or skew. (pdfplumber's own ``upright`` flag is True for
    any text less than 45° off horizontal, e.g. the watermark rotated by 30°.)"""
    m = c["matrix"]
    return abs(m[1]) < 1e-3 and abs(m[2]) < 1e-3 and m[0] > 0 and m[3] > 0


def red_pixel(rgb: tuple[int, ...]) -> bool:
    """A clearly red pixel (the 标志, red rule): strong R, weak G and B."""
    r, g, b = rgb[:3]
    return r >= 150 and g <= 90 and b <= 90


def dark_pixel(rgb: tuple[int, ...]) -> bool:
    """A dark (black text or rule) pixel."""
    return max(rgb[:3]) < 110


def id_key(c: dict) -> tuple:
    return (c["text"], round(c["x0"], 2), round(c["top"], 2), c["fontname"])


def _fonts_in(resources: Any) -> list[Any]:
    """Font dictionaries of a resources dictionary, including those of form XObjects (recursively)."""
    out = []
    if resources is None:
        return out
    resources = resources.get_object()
    fonts = resources.get("/Font")
    if fonts is not None:
        out.extend(f.get_object() for f in fonts.get_object().values())
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for xo in xobjects.get_object().values():
            xo = xo.get_object()
            if xo.get("/Subtype") == "/Form" and "/Resources" in xo:
                out.extend(_fonts_in(xo["/Resources"]))
    return out

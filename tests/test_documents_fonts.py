"""Fonts: a county's licensed 仿宋_GB2312 in FONTS_DIR wins over the free substitutes; without it the
free ones are used, and nothing falls back to a font outside the stacks."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.documents.fonts import family_names, font_face_css
from server.documents.pdf import Renderer

KAI = Path("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf")
DOC = {"title": "字体测试", "mark": "示范县社会治安综合治理中心", "number": "示综治〔2026〕1号",
       "signer": "示范县社会治安综合治理中心", "date": "2026年11月29日", "printer": "示范县社会治安综合治理中心",
       "printed_date": "2026年11月29日", "draft": False}
TEMPLATE = {"t.html": '{% extends "gbt9704.html" %}{% block body %}<h2>一、标题</h2><h3>（一）小标题</h3>'
                      "<p>正文使用仿宋，这一段用于检查字体。</p>{% endblock %}"}


def _licensed_font(folder: Path) -> Path:
    """A stand-in for a licensed 仿宋_GB2312: a free font file renamed to that family."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(KAI))
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "仿宋_GB2312"
        elif record.nameID == 6:
            record.string = "FangSong_GB2312"
    path = folder / "fs_gb2312.ttf"
    font.save(str(path))
    return path


@pytest.mark.skipif(not KAI.is_file(), reason="fonts-arphic-gkai00mp is installed by make setup")
def test_a_licensed_font_in_fonts_dir_comes_first(tmp_path):
    path = _licensed_font(tmp_path)
    assert "仿宋_GB2312" in family_names(path)
    css = font_face_css(tmp_path)
    assert '"仿宋_GB2312"' in css and path.as_uri() in css
    result = Renderer(tmp_path).render(TEMPLATE, "t.html", {"doc": DOC}, 5)
    assert "仿宋_GB2312" in result.fonts and "FandolFang" not in result.fonts
    assert result.refused == []


def test_free_substitutes_without_fonts_dir(tmp_path):
    result = Renderer(tmp_path / "none").render(TEMPLATE, "t.html", {"doc": DOC}, 5)
    allowed = {"FandolFang", "FandolSong", "Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL KaitiM GB"}
    assert set(result.fonts) <= allowed, result.fonts
    assert "FandolFang" in result.fonts or "Noto Serif CJK SC" in result.fonts
    assert "Noto Sans CJK SC" in result.fonts and "AR PL KaitiM GB" in result.fonts  # 黑体 and 楷体 headings


def test_unreadable_files_in_fonts_dir_are_skipped(tmp_path):
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    (tmp_path / "notes.txt").write_text("x")
    assert font_face_css(tmp_path) == ""
    assert Renderer(tmp_path).render(TEMPLATE, "t.html", {"doc": DOC}, 5).pdf.startswith(b"%PDF")

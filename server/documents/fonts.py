"""Which fonts documents use, and a county's licensed fonts from ``FONTS_DIR``.

The stylesheet names each role as a stack: the commercial font first (仿宋_GB2312, 方正小标宋简体,
楷体_GB2312, 黑体, 宋体), then the free substitutes Debian provides (FandolFang from the Makefile,
Noto CJK, AR PL KaitiM GB). Files a county drops into ``FONTS_DIR`` are declared here as
``@font-face`` rules under their own family names, so they win wherever the stack names them. Each
file is declared for normal and bold weight: a 小标宋 is already heavy and must not be made bolder.
"""
from __future__ import annotations

from pathlib import Path

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def font_files(fonts_dir: Path | None) -> list[Path]:
    if fonts_dir is None or not Path(fonts_dir).is_dir():
        return []
    return sorted(p for p in Path(fonts_dir).iterdir() if p.is_file() and p.suffix.lower() in FONT_SUFFIXES)


def family_names(path: Path) -> list[str]:
    """The family names a font file declares (every language), read with fontTools."""
    from fontTools.ttLib import TTCollection, TTFont

    fonts = TTCollection(str(path)).fonts if path.suffix.lower() == ".ttc" else [TTFont(str(path), lazy=True)]
    names: list[str] = []
    for font in fonts:
        for record in font["name"].names:
            if record.nameID in (1, 16):
                try:
                    name = record.toUnicode().strip()
                except UnicodeDecodeError:
                    continue
                if name and name not in names:
                    names.append(name)
    return names


def font_face_css(fonts_dir: Path | None) -> str:
    rules = []
    for path in font_files(fonts_dir):
        try:
            names = family_names(path)
        except Exception:  # an unreadable file must not stop documents; the stack falls back
            continue
        for name in names:
            family = name.replace("\\", "").replace('"', "")
            for weight in ("normal", "bold"):
                rules.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
                             f'src: url("{path.resolve().as_uri()}"); }}')
    return "\n".join(rules)

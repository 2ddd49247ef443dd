"""The book's fonts: every printed character checked against them, and EPUB subsets of them."""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from .errors import PublishError
from .layouts import FontFace

# Layout features kept in EPUB subsets: punctuation widths (halt/palt, vhal/vpal) and vertical forms.
KEEP_FEATURES = ["halt", "palt", "vhal", "vpal", "vert", "vrt2", "kern", "vkrn", "locl", "ccmp",
                 "fwid", "hwid", "pwid"]
IGNORED = set(" \t\n\r")


@dataclass(frozen=True)
class Placed:
    """A piece of text that will be printed, and where it comes from (for the error message)."""
    text: str
    file: Path | str
    line: int | None = None


@cache
def _cmap(path: Path) -> frozenset[int]:
    if not path.is_file():
        raise PublishError("font file not found", path,
                           hint="fonts/ holds the book's fonts; see fonts/README.md to regenerate them")
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def check_coverage(pieces: list[Placed], faces: list[FontFace]) -> None:
    """Every character must be in every face (any text may be set bold): a gap is an error, never a fallback."""
    covered = frozenset.intersection(*(_cmap(f.path) for f in faces))
    for piece in pieces:
        for ch in piece.text:
            if ch not in IGNORED and ord(ch) not in covered:
                raise PublishError(
                    f"character {ch} (U+{ord(ch):04X}) is in none of the book's fonts "
                    f"({', '.join(f.path.name for f in faces if ord(ch) not in _cmap(f.path))})",
                    piece.file, piece.line,
                    hint="replace it with a character the fonts have, or add a font that has it to layouts/fonts.yaml",
                )


def subset_woff2(face: FontFace, text: str) -> bytes:
    """A WOFF2 font with just the glyphs for `text`, keeping the punctuation and vertical features."""
    options = subset.Options()
    options.layout_features = KEEP_FEATURES
    options.flavor = "woff2"
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(face.path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) - IGNORED)))
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()

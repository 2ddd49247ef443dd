"""The book's fonts: every printed character checked against them, and EPUB subsets of them."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from fontTools.ttLib import TTFont

from .errors import PublishError
from .layouts import FontFace
from .output import write_atomic

# Layout features kept in EPUB subsets: punctuation widths (halt/palt, vhal/vpal), vertical forms and
# kerning. Nothing else: HarfBuzz keeps every glyph a kept feature can reach, and `locl` or `fwid`
# would pull in other locales' forms and alternate widths for every character.
KEEP_FEATURES = ["halt", "palt", "vhal", "vpal", "vert", "vrt2", "kern", "vkrn"]
IGNORED = set("\t\n\r")   # layout whitespace; the space itself is a glyph the subsets keep


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


def _tag(name: str) -> int:
    return int.from_bytes(name.encode("ascii"), "big")


def subset_woff2(face: FontFace, text: str, cache: Path | None = None) -> bytes:
    """A WOFF2 font with just the glyphs for `text`, keeping the punctuation and vertical features.

    HarfBuzz subsets in milliseconds; the WOFF2 (Brotli) step takes seconds, so results are cached
    by font file, character set and feature list."""
    chars = "".join(sorted(set(text) - IGNORED))
    key = hashlib.sha256("\0".join([str(face.path.stat().st_size), face.path.name, chars,
                                     *KEEP_FEATURES]).encode()).hexdigest()[:32]
    cached = cache / f"{key}.woff2" if cache else None
    if cached and cached.is_file():
        return cached.read_bytes()
    request = hb.SubsetInput()
    for ch in chars:
        request.unicode_set.add(ord(ch))
    request.layout_feature_tag_set.clear()
    for feature in KEEP_FEATURES:
        request.layout_feature_tag_set.add(_tag(feature))
    request.flags = hb.SubsetFlags.NO_HINTING
    subset_face = hb.subset(hb.Face(hb.Blob.from_file_path(str(face.path))), request)
    font = TTFont(io.BytesIO(subset_face.blob.data))
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    data = out.getvalue()
    if cached:
        write_atomic(cached, data)
    return data

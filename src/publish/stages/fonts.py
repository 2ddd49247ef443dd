"""The book's fonts: every printed character checked against them, and EPUB subsets of them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb

from ..errors import PublishError
from .layouts import FontFace

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
    return frozenset(_face(path).unicodes)


def check_coverage(pieces: list[Placed], faces: list[FontFace]) -> None:
    """Every character must be in every face (any text may be set bold): a gap is an error, never a fallback."""
    covered = frozenset.intersection(*(_cmap(f.path) for f in faces)) | {ord(ch) for ch in IGNORED}
    for piece in pieces:
        if covered.issuperset(map(ord, piece.text)):   # the whole piece at C speed; else find the culprit
            continue
        for ch in piece.text:
            if ord(ch) not in covered:
                raise PublishError(
                    f"character {ch} (U+{ord(ch):04X}) is in none of the book's fonts "
                    f"({', '.join(f.path.name for f in faces if ord(ch) not in _cmap(f.path))})",
                    piece.file, piece.line,
                    hint="replace it with a character the fonts have, or add a font that has it to layouts/fonts.yaml",
                )


def _tag(name: str) -> int:
    return int.from_bytes(name.encode("ascii"), "big")


def subset_otf(face: FontFace, text: str) -> bytes:
    """An OpenType font with just the glyphs for `text`, keeping the punctuation and vertical features.

    Plain OpenType, not WOFF2: HarfBuzz subsets in milliseconds while WOFF2's Brotli (quality 11) takes
    seconds per font for 10 % fewer bytes than the EPUB's own zip compression gets; and OpenType is read
    by older reading systems (Adobe RMSDK) that do not know WOFF2."""
    request = hb.SubsetInput()
    for ch in sorted(set(text) - IGNORED):
        request.unicode_set.add(ord(ch))
    request.layout_feature_tag_set.clear()
    for feature in KEEP_FEATURES:
        request.layout_feature_tag_set.add(_tag(feature))
    request.flags = hb.SubsetFlags.NO_HINTING
    return hb.subset(_face(face.path), request).blob.data


@cache
def _face(path: Path) -> hb.Face:
    return hb.Face(hb.Blob.from_file_path(str(path)))

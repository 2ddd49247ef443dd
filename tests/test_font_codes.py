"""Fonts embedded to the letter of ISO 32000: every code drawn resolves, as Ghostscript, MuPDF and RIPs
read it (code → CID → CFF charset → glyph), to the glyph of the character its ToUnicode gives."""
from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from publish.checks import font_codes
from publish.checks.preflight import preflight

FONTS = Path(__file__).resolve().parents[1] / "fonts"
KINDS = ["pdf", "cover", "screen"]
EDITIONS = ["zh-Hans", "zh-Hant"]


@pytest.mark.parametrize("font", sorted(FONTS.glob("*.otf")), ids=lambda p: p.name)
def test_committed_subsets_have_the_identity_charset(font):
    top = TTFont(font, lazy=True)["CFF "].cff.topDictIndex[0]
    charset = list(top.charset)
    assert hasattr(top, "ROS") and len(charset) > 8000
    assert [name for gid, name in enumerate(charset) if gid and name != f"cid{gid:05d}"] == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("book", ["manuscript_build", "sample_build"])
def test_every_code_of_every_pdf_resolves_to_its_glyph(request, book, edition, kind):
    with pikepdf.open(request.getfixturevalue(book)[edition, kind]) as pdf:
        report = font_codes.check(pdf)
    assert report.fonts >= 1 and report.codes >= 20
    assert report.problems == []


def _shuffle_charset(pdf: pikepdf.Pdf) -> str:
    """Give the regular face's glyphs each other's CIDs (reversed), as a renumbering subsetter does."""
    for font in pdf.pages[2].Resources.Font.values():
        if "Bold" not in str(font.BaseFont):
            break
    stream = font.DescendantFonts[0].FontDescriptor.FontFile3
    program = TTFont(io.BytesIO(stream.read_bytes()))
    top = program["CFF "].cff.topDictIndex[0]
    names = list(top.charset)
    shuffled = [names[0]] + list(reversed(names[1:]))
    strings = top.CharStrings
    strings.charStrings = {new: strings.charStrings[old] for old, new in zip(names, shuffled)}
    top.charset = shuffled
    program.setGlyphOrder(shuffled)
    out = io.BytesIO()
    program.save(out)
    stream.write(out.getvalue())
    return str(font.BaseFont)


def test_a_shuffled_charset_is_found_and_named(manuscript_build, tmp_path):
    broken = tmp_path / "shuffled.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        name = _shuffle_charset(pdf)
        pdf.save(broken)
    with pikepdf.open(broken) as pdf:
        report = font_codes.check(pdf)
    assert not report.passed
    first = report.problems[0]
    assert name in first and "code <" in first and "→ CID" in first and "glyph" in first
    fonts = {r.check: r for r in preflight(broken)}["fonts"]
    assert not fonts.passed and "do not resolve to their glyph" in fonts.detail and name in fonts.detail


def test_a_code_on_notdef_is_named(manuscript_build, tmp_path):
    """A font program with fewer glyphs than the codes name: those codes land on .notdef (boxes)."""
    broken = tmp_path / "notdef.pdf"
    with pikepdf.open(manuscript_build["zh-Hant", "cover"]) as pdf:
        font = next(iter(pdf.pages[0].Resources.Font.values()))
        descendant = font.DescendantFonts[0]
        descendant.FontDescriptor.FontFile3.write(_tiny_font())
        pdf.save(broken)
    with pikepdf.open(broken) as pdf:
        report = font_codes.check(pdf)
    assert not report.passed and ".notdef" in report.problems[0]


def _tiny_font() -> bytes:
    """The TC face cut to its first 100 glyphs: every higher code names a glyph it lacks."""
    from fontTools import subset
    program = TTFont(FONTS / "NotoSerifCJKtc-Regular.otf")
    subsetter = subset.Subsetter(subset.Options())
    subsetter.populate(gids=list(range(100)))
    subsetter.subset(program)
    out = io.BytesIO()
    program.save(out)
    return out.getvalue()


def test_a_glyph_without_outline_is_named(manuscript_build, tmp_path):
    """MuPDF's failure: the glyph is found but draws nothing (here: its charstring emptied)."""
    broken = tmp_path / "blank.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        font = next(f for f in pdf.pages[2].Resources.Font.values() if "Bold" not in str(f.BaseFont))
        stream = font.DescendantFonts[0].FontDescriptor.FontFile3
        program = TTFont(io.BytesIO(stream.read_bytes()))
        strings = program["CFF "].cff.topDictIndex[0].CharStrings
        blank = strings[".notdef"].__class__(bytes([14]))            # endchar only
        blank.private, blank.globalSubrs = strings["cid00001"].private, strings["cid00001"].globalSubrs
        for name in list(strings.keys())[1:]:
            strings[name] = blank
        out = io.BytesIO()
        program.save(out)
        stream.write(out.getvalue())
        pdf.save(broken)
    with pikepdf.open(broken) as pdf:
        report = font_codes.check(pdf)
    assert not report.passed and "draws nothing" in report.problems[0]

"""One cover design: the e-book's cover image and the printed cover from one front template
(layouts/cover/front.*) and one colour specification (layouts/cover/colours.yaml, sRGB); the printed
CMYK is each colour's conversion through the book's output intent."""
from __future__ import annotations

import io
import shutil
import zipfile

import pikepdf
import pytest
from PIL import Image

from conftest import SAMPLE, build_book
from publish.stages import layouts, manuscript, press
from publish.stages.cover_print import printed_colours
from publish.errors import PublishError
from publish.tools.proofsheet import covers_side_by_side


def _fills(cover_pdf) -> list[tuple[float, ...]]:
    """The CMYK fills the cover page sets, in order."""
    with pikepdf.open(cover_pdf) as pdf:
        return [tuple(float(v) for v in operands) for operands, op in pikepdf.parse_content_stream(pdf.pages[0])
                if str(op) == "scn" and len(operands) == 4]


def _inks(css_colour: str) -> tuple[float, ...]:
    return tuple(float(v) for v in css_colour.removeprefix("device-cmyk(").removesuffix(")").split())


def _epub_cover(epub) -> Image.Image:
    with zipfile.ZipFile(epub) as z:
        return Image.open(io.BytesIO(z.read("EPUB/images/cover.png"))).convert("RGB")


def test_the_printed_colours_are_the_specified_ones_through_the_output_intent(manuscript_build):
    colours = layouts.cover_colours(None)
    printed = printed_colours(colours, press.DEFAULT_ICC)
    # worked through FOGRA39 (perceptual) once by hand with ImageCms: #8e1b1b is C0 M98.4 Y90.6 K47.1
    assert _inks(printed["ground"]) == pytest.approx((0, 0.9843, 0.9059, 0.4706), abs=1e-4)
    assert _inks(printed["type"]) == (0, 0, 0, 0)   # white is paper: knocked out
    for name in ("zh-Hans", "zh-Hant"):
        fills = _fills(manuscript_build[name, "cover"])
        assert fills[0] == pytest.approx(_inks(printed["ground"]), abs=1e-4), "the ground, drawn first"
        assert any(fill == pytest.approx(_inks(printed["rule"]), abs=1e-4) for fill in fills), "the gold rule"
        assert (0, 0.95, 0.85, 0.1) not in fills   # the print cover's own red of old
        assert _epub_cover(manuscript_build[name, "epub"]).getpixel((10, 10)) == (0x8e, 0x1b, 0x1b)


def test_a_books_own_colours_change_both_covers(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    (book / "layouts" / "cover").mkdir(parents=True)
    (book / "layouts" / "cover" / "colours.yaml").write_text(
        'ground: "#1b3f8e"\ntype: "#ffffff"\nrule: "#e0b050"\n', encoding="utf-8")
    built = build_book(book, tmp_path / "out", edition_names=["zh-Hans"])
    blue = printed_colours({"ground": "#1b3f8e"}, press.DEFAULT_ICC)["ground"]
    assert _fills(built["zh-Hans", "cover"])[0] == pytest.approx(_inks(blue), abs=1e-4)
    assert _epub_cover(built["zh-Hans", "epub"]).getpixel((10, 10)) == (0x1b, 0x3f, 0x8e)
    # make proof's picture: the printed ground, seen through the output intent, is the image's ground
    side_by_side = Image.open(covers_side_by_side(built["zh-Hans", "cover"], tmp_path)).convert("RGB")
    printed = side_by_side.getpixel((side_by_side.width // 4, side_by_side.height // 2 + 60))
    on_screen = side_by_side.getpixel((side_by_side.width - 40, side_by_side.height // 2))
    assert on_screen == (0x1b, 0x3f, 0x8e)
    assert max(abs(a - b) for a, b in zip(printed, on_screen)) <= 16, (printed, on_screen)


def test_a_colour_that_is_not_srgb_hex_names_its_line(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    (book / "layouts" / "cover").mkdir(parents=True)
    (book / "layouts" / "cover" / "colours.yaml").write_text('ground: "#8e1b1b"\ntype: cmyk(0 0 0 0)\n',
                                                              encoding="utf-8")
    with pytest.raises(PublishError) as error:
        layouts.cover_colours(manuscript.load(book).layouts)
    assert (error.value.message, error.value.line) == ("colour 'type' must be sRGB as #rrggbb", 2)

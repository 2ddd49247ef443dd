"""Proof sheets from a real print PDF: one PNG per page, a contact sheet of spreads, trim and bleed drawn."""
from __future__ import annotations

import subprocess
import sys

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from conftest import SAMPLE, build_book
from publish.tools import proofsheet
from publish.tools.proofsheet import make_sheets, spreads

BLEED_PT = 3 / 25.4 * 72    # 3 mm


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheets")
    # the screen PDF: page = trim, no bleed (the print PDF has one)
    return build_book(SAMPLE, out, formats=("pdf",), edition_names=["zh-Hans"])[("zh-Hans", "screen")]


def pixels(path, colour) -> int:
    with Image.open(path) as image:
        return dict((c, n) for n, c in image.convert("RGB").getcolors(1 << 24)).get(colour, 0)


def test_spreads_put_page_one_alone_on_the_right():
    assert spreads(1) == [(None, 0)]
    assert spreads(4) == [(None, 0), (1, 2), (3, None)]
    assert spreads(5) == [(None, 0), (1, 2), (3, 4)]


def test_pages_contact_sheet_and_small_spread(sample_pdf, tmp_path):
    sheets = make_sheets(sample_pdf, tmp_path)
    pdf = pdfium.PdfDocument(sample_pdf)
    assert len(sheets.pages) == len(pdf) > 4
    width, height = pdf[0].get_size()
    with Image.open(sheets.pages[0]) as page:    # 144 dpi: a Chinese character ≈ 20 px high
        assert abs(page.width - width * proofsheet.PAGE_SCALE) <= 1
        assert abs(page.height - height * proofsheet.PAGE_SCALE) <= 1
    with Image.open(sheets.contact) as contact:
        rows = -(-len(spreads(len(pdf))) // proofsheet.SPREADS_PER_ROW)
        assert contact.height > rows * proofsheet.THUMB_HEIGHT
        assert contact.width > proofsheet.SPREADS_PER_ROW * 2 * proofsheet.THUMB_HEIGHT * width / height
    # No bleed in this PDF: page edges drawn, no trim line.
    assert pixels(sheets.contact, proofsheet.EDGE) > len(pdf) * 2 * proofsheet.THUMB_HEIGHT
    assert pixels(sheets.contact, proofsheet.TRIM) == 0
    assert sheets.spread.stat().st_size <= proofsheet.SMALL_SPREAD


def test_trim_and_bleed_boxes_are_drawn(sample_pdf, tmp_path):
    bled = tmp_path / "bled.pdf"
    with pikepdf.open(sample_pdf) as pdf:
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.MediaBox)
            page.TrimBox = pikepdf.Array([x0, y0, x1, y1])
            box = pikepdf.Array([x0 - BLEED_PT, y0 - BLEED_PT, x1 + BLEED_PT, y1 + BLEED_PT])
            page.MediaBox = box
            page.BleedBox = box
        pdf.save(bled)
    sheets = make_sheets(bled, tmp_path / "out")
    trim = pixels(sheets.contact, proofsheet.TRIM)
    # Every thumbnail's trim box outline: at least its four sides' length in pixels.
    count = len(pdfium.PdfDocument(bled))
    assert trim > count * 2 * proofsheet.THUMB_HEIGHT
    assert pixels(sheets.contact, proofsheet.BLEED) > count * 2 * proofsheet.THUMB_HEIGHT
    assert pixels(sheets.contact, proofsheet.EDGE) == 0
    # The page PNGs show the bleed too: the media box, wider than the trim.
    with Image.open(sheets.pages[0]) as page, pikepdf.open(sample_pdf) as original:
        assert page.width > float(original.pages[0].MediaBox[2]) * proofsheet.PAGE_SCALE + 10


def test_missing_pdf_is_a_user_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "publish.cli", "sheets", "--out", str(tmp_path), "nope.pdf"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("nope.pdf: error: file not found")

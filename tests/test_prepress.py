"""What a prepress operator flags, measured on this book's built files with pikepdf: the PDF/X keys in
the Info dictionary as in the XMP, no links on paper, one subset name per font program across the book's
files, no colour space declared unused. (Crop marks: test_press.py; the preflight lines: test_preflight.py.)"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

import pikepdf
import pytest

from conftest import EPOCH

EDITIONS = ["zh-Hans", "zh-Hant"]
PRINT_FILES = [(name, kind) for name in EDITIONS for kind in ("pdf", "cover")]
ALL_FILES = [(name, kind) for name in EDITIONS for kind in ("pdf", "cover", "screen")]


def _xmp(pdf: pikepdf.Pdf) -> str:
    return pdf.Root.Metadata.read_bytes().decode("utf-8")


@pytest.mark.parametrize("name, kind", PRINT_FILES)
def test_pdfx_version_is_in_the_info_dictionary_as_in_the_xmp(manuscript_build, name, kind):
    with pikepdf.open(manuscript_build[name, kind]) as pdf:
        info, xmp = pdf.trailer.Info, _xmp(pdf)
        assert str(info.get("/GTS_PDFXVersion")) == "PDF/X-4"
        assert set(re.findall(r"GTS_PDFXVersion>([^<]+)<", xmp)) == {"PDF/X-4"}
        # PDF/X-4 has no conformance key: neither place names one
        assert "/GTS_PDFXConformance" not in info and "GTS_PDFXConformance" not in xmp
        epoch = datetime.fromtimestamp(int(EPOCH), timezone.utc)
        assert str(info.CreationDate) == str(info.ModDate) == "D:" + epoch.strftime("%Y%m%d%H%M%SZ")
        for key in ("CreateDate", "ModifyDate", "MetadataDate"):
            assert datetime.fromisoformat(re.search(rf"<xmp:{key}>([^<]+)<", xmp).group(1)) == epoch


@pytest.mark.parametrize("name", EDITIONS)
def test_links_are_in_the_screen_pdf_only(manuscript_build, name):
    def links(kind):
        with pikepdf.open(manuscript_build[name, kind]) as pdf:
            return [a for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == "/Link"]
    assert links("pdf") == [] and links("cover") == []
    assert len(links("screen")) >= 1


def _programs_by_subset_name(path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                leaf = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = leaf.FontDescriptor
                program = next(descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor)
                names = {str(font.BaseFont), str(leaf.BaseFont), str(descriptor.FontName)}
                assert len(names) == 1, names
                found.setdefault(names.pop()[1:], set()).add(hashlib.sha256(program.read_bytes()).hexdigest())
    return found


def test_a_subset_name_is_one_font_program_across_the_books_files(manuscript_build):
    """Interior, cover and screen PDF of both editions: a name never stands for two programs. The
    cover's subsets hold other glyphs than the interior's (so WeasyPrint's naming, from the font's
    description alone, gave two programs one name)."""
    programs: dict[str, set[str]] = {}
    by_font: dict[str, set[str]] = {}
    for key in ALL_FILES:
        for name, digests in _programs_by_subset_name(manuscript_build[key]).items():
            assert re.fullmatch(r"[A-Z]{6}\+\S+", name), name
            programs.setdefault(name, set()).update(digests)
            by_font.setdefault(name.split("+")[1], set()).update(digests)
    assert all(len(digests) == 1 for digests in programs.values()), programs
    assert max(len(digests) for digests in by_font.values()) >= 3, "interior and cover subsets differ"


@pytest.mark.parametrize("name, kind", ALL_FILES)
def test_no_colour_space_is_declared_unused(manuscript_build, name, kind):
    """Each name in a page's /ColorSpace resources is selected (cs, CS) by that page's content."""
    with pikepdf.open(manuscript_build[name, kind]) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            assert not page.Resources.get("/XObject"), "no forms here: the page's own stream is all it draws"
            declared = set(page.Resources.get("/ColorSpace", {}).keys())
            selected = {str(operands[0]) for operands, op in pikepdf.parse_content_stream(page)
                        if str(op) in ("cs", "CS")}
            assert declared <= selected, (number, declared - selected)

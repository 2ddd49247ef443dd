"""The print shop's files, read back independently with pikepdf: PDF/X output intent, boxes, marks, no RGB,
padding, the cover's spine and barcode; and the book.yaml keys that set them."""
from __future__ import annotations

import re
import shutil

import pikepdf
import pytest

from conftest import MANUSCRIPT, SAMPLE, build_book
from extract import pdf_body_text
from publish.stages import binding, cover_print, manuscript, press
from publish.errors import PublishError
from publish.stages.layouts import LAYOUTS

EDITIONS = ["zh-Hans", "zh-Hant"]
MM = 72 / 25.4
RGB_SPACES = {"/DeviceRGB", "/CalRGB"}


def _mm(value) -> float:
    return float(value) / MM


def _book(tmp_path, extra: str, layouts: dict[str, str] | None = None):
    """A copy of the sample book with lines added to its book.yaml (and optional layout overrides)."""
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + extra, encoding="utf-8")
    for name, text in (layouts or {}).items():
        (book / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (book / "layouts" / name).write_text(text, encoding="utf-8")
    return book


def _colour_spaces(pdf: pikepdf.Pdf) -> set[str]:
    """Every colour space family named anywhere in the file: resources, images, groups, shadings."""
    found = set()
    for obj in pdf.objects:
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        for key in ("/ColorSpace", "/CS"):
            value = obj.get(key)
            if isinstance(value, pikepdf.Name):
                found.add(str(value))
            elif isinstance(value, pikepdf.Array) and len(value) and isinstance(value[0], pikepdf.Name):
                found.add(str(value[0]) + (f"/N{int(value[1].N)}" if value[0] == "/ICCBased" else ""))
            elif isinstance(value, pikepdf.Dictionary):
                for space in value.values():
                    if isinstance(space, pikepdf.Array):
                        found.add(str(space[0]) + (f"/N{int(space[1].N)}" if space[0] == "/ICCBased" else ""))
                    else:
                        found.add(str(space))
    return found


def _operators(pdf: pikepdf.Pdf) -> set[str]:
    """Operators of every page and form XObject content stream."""
    ops = set()
    streams = [page for page in pdf.pages]
    streams += [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
    for stream in streams:
        ops |= {str(op) for _, op in pikepdf.parse_content_stream(stream)}
    return ops


@pytest.mark.parametrize("kind", ["pdf", "cover"])
@pytest.mark.parametrize("name", EDITIONS)
def test_print_files_are_pdfx_cmyk_with_trim_and_bleed(manuscript_build, name, kind):
    book = manuscript.load(MANUSCRIPT)
    with pikepdf.open(manuscript_build[name, kind]) as pdf:
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFX"
        assert int(intents[0].DestOutputProfile.N) == 4
        # the profile file itself, byte for byte (WeasyPrint alone embeds LittleCMS's rewrite of it)
        assert intents[0].DestOutputProfile.read_bytes() == press.DEFAULT_ICC.read_bytes()
        assert b"PDF/X-4" in pdf.Root.Metadata.read_bytes()
        width, height = book.trim_mm
        if kind == "cover":   # back and front: 12 pages are saddle-stitched, no spine panel (test_binding.py)
            width = 2 * width
        for page in pdf.pages:
            x0, y0, x1, y1 = map(_mm, page.TrimBox)
            assert (x1 - x0, y1 - y0) == pytest.approx((width, height), abs=0.01)
            b0, c0, b1, c1 = map(_mm, page.BleedBox)
            assert (x0 - b0, y0 - c0, b1 - x1, c1 - y1) == pytest.approx((3, 3, 3, 3), abs=0.01)
            m0, n0, m1, n1 = map(_mm, page.MediaBox)
            assert m0 < b0 and n0 < c0 and m1 > b1 and n1 > c1, "room for the marks outside the bleed"
        assert not _operators(pdf) & {"rg", "RG"}
        spaces = _colour_spaces(pdf)
        assert not spaces & RGB_SPACES and "/ICCBased/N3" not in spaces, spaces


@pytest.mark.parametrize("kind", ["pdf", "cover"])
@pytest.mark.parametrize("name", EDITIONS)
def test_crop_marks_are_in_the_registration_colour_outside_the_bleed(manuscript_build, name, kind):
    """Stroked in the Separation /All (every plate), tint 1 giving 100 % of C, M, Y and K; the cover has
    fold marks too."""
    folds = []
    if kind == "cover":   # the fold: this book's 12 pages are saddle-stitched, the cover has no spine panel
        book = manuscript.load(MANUSCRIPT)
        folds = [book.trim_mm[0] * MM]
    with pikepdf.open(manuscript_build[name, kind]) as pdf:
        for page in pdf.pages:
            trim = [float(v) for v in page.TrimBox]
            bleed = [float(v) for v in page.BleedBox]
            marks = pikepdf.parse_content_stream(page.Contents[-1])   # the stream press.py appends
            selected = [str(o[0]) for o, op in marks if str(op) == "CS"]
            assert len(selected) == 1 and [list(map(float, o)) for o, op in marks if str(op) == "SCN"] == [[1]]
            space = page.Resources.ColorSpace[selected[0]]
            assert [str(space[0]), str(space[1]), str(space[2])] == ["/Separation", "/All", "/DeviceCMYK"]
            tint = space[3]
            assert int(tint.FunctionType) == 2 and [float(v) for v in tint.C1] == [1, 1, 1, 1]
            assert [float(v) for v in tint.C0] == [0, 0, 0, 0] and float(tint.N) == 1
            assert not {str(op) for _, op in marks} & {"K", "k", "G", "g", "RG", "rg"}
            points = [tuple(map(float, o)) for o, op in marks if str(op) in ("m", "l")]
            assert len(points) == (16 if kind == "pdf" else 20)   # the cover: 2 fold marks at the fold
            for x, y in points:
                outside_x = x <= bleed[0] + 0.01 or x >= bleed[2] - 0.01
                outside_y = y <= bleed[1] + 0.01 or y >= bleed[3] - 0.01
                assert outside_x or outside_y, (x, y)
                on_line = [abs(x - trim[0]), abs(x - trim[2]), abs(y - trim[1]), abs(y - trim[3]),
                           *(abs(x - trim[0] - fold) for fold in folds)]
                assert min(on_line) < 0.01, "a mark extends a trim line or a fold"


def test_padding_fills_signatures():
    assert [press.padding(n, 4) for n in (11, 12, 13)] == [1, 0, 3]
    assert press.padding(17, 16) == 15 and press.padding(32, 32) == 0


@pytest.fixture(scope="module")
def signature_builds(tmp_path_factory):
    """The sample book with an ISBN and a thick paper, padded to 16 and to 32 pages (the second in X-1a),
    perfect-bound: a 4 and an 8 mm spine."""
    builds = {}
    for signature, pdfx in ((16, "x-4"), (32, "x-1a")):
        tmp = tmp_path_factory.mktemp(f"sig{signature}")
        book = _book(tmp, f"isbn: 978-0-306-40615-7\nprint:\n  signature: {signature}\n  caliper_mm: 0.5\n"
                          f"  pdfx: {pdfx}\n  binding: perfect\n")
        builds[signature] = build_book(book, tmp / "out", formats=["pdf"], edition_names=["zh-Hans"])
    return builds


@pytest.mark.parametrize("signature", [16, 32])
def test_pages_are_padded_at_the_end_and_the_spine_follows(signature_builds, signature):
    outputs = signature_builds[signature]
    with pikepdf.open(outputs["zh-Hans", "pdf"]) as pdf:
        count = len(pdf.pages)
        # every content stream holds bytes (Ghostscript reports an empty Flate stream as an error)
        assert all(stream.read_raw_bytes() for page in pdf.pages for stream in page.Contents)
    assert count == signature
    # the sample's text ends on page 11 (after its colophon-less last chapter): the rest is blank
    assert pdf_body_text(outputs["zh-Hans", "pdf"], 11, None, margin_pt=0).strip() == ""
    assert pdf_body_text(outputs["zh-Hans", "pdf"], 10, 10).strip() != ""
    with pikepdf.open(outputs["zh-Hans", "cover"]) as cover:
        x0, _, x1, _ = map(_mm, cover.pages[0].TrimBox)
    assert x1 - x0 == pytest.approx(2 * 140 + count / 2 * 0.5, abs=0.01)
    assert binding.spine_mm("perfect", count, 0.5) == count / 4


def test_x1a_is_pdf_14_without_transparency(signature_builds):
    with pikepdf.open(signature_builds[32]["zh-Hans", "pdf"]) as pdf:
        assert pdf.pdf_version == "1.4"
        assert str(pdf.trailer.Info.GTS_PDFXVersion) == "PDF/X-1:2003"   # ISO 15930-4's spelling
        assert str(pdf.trailer.Info.GTS_PDFXConformance) == "PDF/X-1a:2003"
        xmp = pdf.Root.Metadata.read_bytes().decode()   # the XMP says the same
        assert set(re.findall(r"GTS_PDFXVersion>([^<]+)<", xmp)) == {"PDF/X-1:2003"}
        assert set(re.findall(r"GTS_PDFXConformance>([^<]+)<", xmp)) == {"PDF/X-1a:2003"}
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                assert "/SMask" not in obj or obj.SMask == "/None"
                assert float(obj.get("/ca", 1)) == 1 and float(obj.get("/CA", 1)) == 1
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert images and all(o.ColorSpace == "/DeviceCMYK" for o in images)


def test_cover_barcode_is_the_isbn_in_k_bars(signature_builds):
    """The bars are read back from the cover's content stream: the K rectangles, whose left edges and
    widths, in modules, must spell the EAN-13 of the ISBN."""
    with pikepdf.open(signature_builds[16]["zh-Hans", "cover"]) as pdf:
        page = pdf.pages[0]
        fill, rects = None, []
        for operands, op in pikepdf.parse_content_stream(page):
            if str(op) in ("scn", "k"):
                fill = tuple(float(v) for v in operands)
            elif str(op) == "re":
                rects.append((fill, [float(v) for v in operands]))
    # WeasyPrint draws each background twice (clip, then fill) in its own units: dedupe, and measure
    # in modules, the narrowest bar being one
    bars = sorted({tuple(r) for colour, r in rects if colour == (0, 0, 0, 1)})
    assert len(bars) == 30                       # an EAN-13 has 30 bars
    module = min(width for _, _, width, _ in bars)
    left = min(x for x, _, _, _ in bars)
    modules = ["0"] * 95
    for x, _, width, _ in bars:
        start = round((x - left) / module)
        modules[start:start + round(width / module)] = "1" * round(width / module)
    assert "".join(modules) == cover_print.ean13_modules("9780306406157")


def test_ean13_symbol_structure():
    modules = cover_print.ean13_modules("9780306406157")
    assert len(modules) == 95 and modules[:3] == modules[-3:] == "101" and modules[45:50] == "01010"
    # first digit 9: digits 2–7 in L G G L G L parity; "7" in L is 0111011, "8" in G is 0001001
    assert modules[3:10] == "0111011" and modules[10:17] == "0001001"


@pytest.mark.parametrize("yaml, message", [
    ("isbn: 978-0-306-40615-8\n", "check digit is 8, should be 7"),
    ("isbn: 12345\n", "is not an ISBN-13"),
    ("print: {pdfx: x-3}\n", "unknown print.pdfx 'x-3'"),
    ("print: {signature: 8}\n", "print.signature must be one of 4, 16, 32"),
    ("print: {bleed_mm: 20}\n", "print.bleed_mm must be a number from 0 to 10"),
    ("print: {caliper: 0.1}\n", "unknown key in print: 'caliper'"),
    ("print: {icc: book.yaml}\n", "is not a CMYK profile"),
])
def test_bad_print_settings_name_the_line(tmp_path, yaml, message):
    book = _book(tmp_path, yaml)
    line = len((SAMPLE / "book.yaml").read_text(encoding="utf-8").splitlines()) + 1
    with pytest.raises(PublishError) as error:
        manuscript.load(book)
    assert message in error.value.message
    assert error.value.line == line


def test_an_image_under_300_dpi_is_an_error_naming_it(tmp_path):
    """A layout that stretches images across the text block prints the sample's 900 px figure at 216 dpi."""
    html = (LAYOUTS / "print" / "book.html.j2").read_text(encoding="utf-8")
    book = _book(tmp_path, "", {"print/book.html.j2": html.replace("</style>", "img { width: 100%; }\n</style>")})
    with pytest.raises(PublishError) as error:
        build_book(book, tmp_path / "out", formats=["pdf"], edition_names=["zh-Hans"])
    assert "image '../images/figure.png' prints at 2" in error.value.message
    assert "print needs 300 dpi" in error.value.message
    assert str(error.value.file).endswith("chapters/03.md")
    assert not (tmp_path / "out" / "sample-book.zh-Hans.pdf").exists()


@pytest.mark.parametrize("name", EDITIONS)
def test_screen_pdf_is_rgb_tagged_with_links_and_outline(manuscript_build, name):
    """Also the negative control of the probes above: the screen PDF's black is RGB, and they see it."""
    with pikepdf.open(manuscript_build[name, "screen"]) as pdf:
        assert "rg" in _operators(pdf) and not {"k", "K"} & _operators(pdf)   # the print layout's K, as sRGB
        assert "/OutputIntents" not in pdf.Root
        assert pdf.Root.MarkInfo.Marked and "/StructTreeRoot" in pdf.Root
        assert b"pdfuaid:part" in pdf.Root.Metadata.read_bytes()
        width, height = manuscript.load(MANUSCRIPT).trim_mm
        for page in pdf.pages:   # no bleed: the page is the trim
            assert [round(float(v) / press.MM, 1) for v in page.MediaBox] == [0, 0, width, height]
            assert [float(v) for v in page.MediaBox] == [float(v) for v in page.get("/TrimBox", page.MediaBox)]
        links = [a for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == "/Link"]
        assert links and all("/Dest" in a or "/A" in a for a in links)
        with pdf.open_outline() as tree:
            assert len(tree.root) >= 2

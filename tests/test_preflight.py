"""publish preflight: passes on the built print files, and each check fails on a PDF broken in its way."""
from __future__ import annotations

import re
import zlib

import pikepdf
import pytest

from conftest import SAMPLE, build_book
from publish import cli
from publish.checks.preflight import preflight

EDITIONS = ["zh-Hans", "zh-Hant"]
CHECKS = ["pdfx", "output-intent", "boxes", "no-rgb", "fonts", "image-dpi", "page-count", "marks", "info-pdfx",
          "no-links", "colour-spaces", "subset-tags", "qpdf", "separations", "renders"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The sample book's print PDF (12 pages, one CMYK image placed at 300 dpi)."""
    out = tmp_path_factory.mktemp("preflight")
    return build_book(SAMPLE, out, formats=["pdf"], edition_names=["zh-Hans"])["zh-Hans", "pdf"]


def _results(path, **kwargs) -> dict[str, tuple[bool, str]]:
    results = preflight(path, **kwargs)
    assert [r.check for r in results] == CHECKS
    return {r.check: (r.passed, r.detail) for r in results}


@pytest.mark.parametrize("kind", ["pdf", "cover"])
@pytest.mark.parametrize("name", EDITIONS)
def test_preflight_passes_on_the_books_print_files(manuscript_build, name, kind):
    results = _results(manuscript_build[name, kind])
    assert all(passed for passed, _ in results.values()), results
    assert results["pdfx"][1] == "PDF/X-4"
    assert results["output-intent"][1] == "/GTS_PDFX FOGRA39, ICC profile /N 4"
    assert "bleed 3 mm" in results["boxes"][1]


def _image(pdf: pikepdf.Pdf, colour_space, components: int, size: int = 8) -> pikepdf.Stream:
    return pdf.make_stream(zlib.compress(bytes(size * size * components)), Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Image, Width=size, Height=size, BitsPerComponent=8,
                           ColorSpace=colour_space, Filter=pikepdf.Name.FlateDecode)


def _draw(pdf: pikepdf.Pdf, page: pikepdf.Page, content: bytes, **resources) -> None:
    """Append `content` to the page, with resources of its own (WeasyPrint's pages share theirs)."""
    own = pikepdf.Dictionary(dict(page.Resources.items()))
    for kind, entries in resources.items():
        own[f"/{kind}"] = pikepdf.Dictionary({**dict(own.get(f"/{kind}", {}).items()), **entries})
    page.obj.Resources = own
    page.contents_add(pdf.make_stream(content))


def _rgb_operator(pdf):
    _draw(pdf, pdf.pages[3], b"1 0 0 rg 0 0 10 10 re f\n")


def _rgb_image(pdf):
    _draw(pdf, pdf.pages[3], b"q 1.5 0 0 1.5 0 0 cm /RGBImage Do Q\n",   # 8 px over 1.5 pt: 384 dpi
          XObject={"/RGBImage": _image(pdf, pikepdf.Name.DeviceRGB, 3)})


def _rgb_icc_in_a_form(pdf):
    """An sRGB-like ICC space (N 3) selected with cs inside a form XObject, two levels from the page."""
    icc = pdf.make_stream(b"\0" * 128, N=3)
    inner = pdf.make_stream(b"/Cs cs 1 0 0 scn 0 0 5 5 re f\n", Type=pikepdf.Name.XObject,
                            Subtype=pikepdf.Name.Form, BBox=[0, 0, 10, 10],
                            Resources=pikepdf.Dictionary(ColorSpace=pikepdf.Dictionary(
                                Cs=pikepdf.Array([pikepdf.Name.ICCBased, icc]))))
    outer = pdf.make_stream(b"/Inner Do\n", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                            BBox=[0, 0, 10, 10], Resources=pikepdf.Dictionary(
                                XObject=pikepdf.Dictionary(Inner=inner)))
    _draw(pdf, pdf.pages[3], b"/Outer Do\n", XObject={"/Outer": outer})


def _rgb_shading(pdf):
    shading = pikepdf.Dictionary(ShadingType=2, ColorSpace=pikepdf.Name.DeviceRGB, Coords=[0, 0, 10, 0],
                                 Function=pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[1, 0, 0],
                                                             C1=[0, 0, 1], N=1))
    _draw(pdf, pdf.pages[3], b"/Sh0 sh\n", Shading={"/Sh0": shading})


def _rgb_pattern(pdf):
    pattern = pdf.make_stream(b"0 1 0 rg 0 0 2 2 re f\n", PatternType=1, PaintType=1, TilingType=1,
                              BBox=[0, 0, 4, 4], XStep=4, YStep=4, Resources=pikepdf.Dictionary())
    _draw(pdf, pdf.pages[3], b"/Pattern cs /P0 scn 0 0 10 10 re f\n", Pattern={"/P0": pattern})


def _no_pdfx(pdf):
    for key in ("/GTS_PDFXVersion", "/GTS_PDFXConformance"):
        if key in pdf.trailer.Info:
            del pdf.trailer.Info[key]
    pdf.Root.Metadata.write(re.sub(rb"GTS_PDFXVersion", b"Nothing", pdf.Root.Metadata.read_bytes()))


def _rgb_output_intent(pdf):
    """An RGB profile as the output intent (a profile of its own: the CMYK one also backs device-cmyk)."""
    pdf.Root.OutputIntents[0].DestOutputProfile = pdf.make_stream(b"\0" * 128, N=3)


def _missing_trimbox(pdf):
    del pdf.pages[5].obj["/TrimBox"]


def _unembedded_font(pdf):
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if key in obj:
                    del obj[key]
            return


def _low_resolution_image(pdf):
    """A 8 × 8 px grey image drawn 1 inch wide: 8 dpi."""
    _draw(pdf, pdf.pages[3], b"q 72 0 0 72 0 0 cm /Tiny Do Q\n",
          XObject={"/Tiny": _image(pdf, pikepdf.Name.DeviceGray, 1)})


def _odd_page_count(pdf):
    del pdf.pages[-1]


def _marks_in_k(pdf):
    """Page 4's crop marks stroked in 100 % K: only the Black plate would carry them."""
    marks = pdf.pages[3].Contents[-1]
    marks.write(marks.read_bytes().replace(b"/Registration CS 1 SCN", b"0 0 0 1 K"))


def _pdfx_only_in_xmp(pdf):
    del pdf.trailer.Info["/GTS_PDFXVersion"]


def _a_link(pdf):
    """A link on the contents page, as WeasyPrint writes one."""
    pdf.pages[4].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[50, 400, 370, 420], BS={"/W": 0},
        Dest=pikepdf.String("ch01")))]))


def _unused_colour_space(pdf):
    """WeasyPrint's Lab space, declared on every page (the pages share one resource dictionary)."""
    pdf.pages[0].Resources.ColorSpace["/lab-d50"] = pikepdf.Array([pikepdf.Name.Lab, pikepdf.Dictionary(
        WhitePoint=[0.9643, 1, 0.8251], Range=[-125, 125, -125, 125])])


BREAKAGES = [
    (_no_pdfx, "pdfx", "no GTS_PDFXVersion"),
    (_rgb_output_intent, "output-intent", "/N 3"),
    (_missing_trimbox, "boxes", "no TrimBox/BleedBox on page(s) 6"),
    (_rgb_operator, "no-rgb", "page 4: rg operator"),
    (_rgb_image, "no-rgb", "page 4 image /RGBImage: /DeviceRGB"),
    (_rgb_icc_in_a_form, "no-rgb", "page 4 form /Outer form /Inner: colour space /Cs"),
    (_rgb_shading, "no-rgb", "page 4: shading /Sh0"),
    (_rgb_pattern, "no-rgb", "page 4 pattern /P0: rg operator"),
    (_unembedded_font, "fonts", "not embedded: /"),
    (_low_resolution_image, "image-dpi", "page 4 image /Tiny at 8 dpi (need 300)"),
    (_odd_page_count, "page-count", "11 pages, not a multiple of 4"),
    (_marks_in_k, "marks", "not in the registration colour (/Separation /All): page 4: 8 in /DeviceCMYK"),
    (_pdfx_only_in_xmp, "info-pdfx", "no GTS_PDFXVersion in the Info dictionary"),
    (_a_link, "no-links", "1 link annotation(s), on page(s) 5"),
    (_unused_colour_space, "colour-spaces", "page(s) 1, 2, 3, 4, 5, 6, 7, 8 … declare unused /lab-d50"),
]


# No GTS_PDFXVersion anywhere is also none in the Info dictionary. RGB drawn on a page set in K inks
# the colour plates too (an RGB image does not: a page placing images may ink any plate); a font not
# embedded is substituted by Ghostscript, which says so, and not drawn at all by MuPDF.
ALSO_FAILS = {_no_pdfx: ["info-pdfx"], _unembedded_font: ["separations", "renders"],
              **dict.fromkeys([_rgb_operator, _rgb_icc_in_a_form, _rgb_shading, _rgb_pattern], ["separations"])}


@pytest.mark.parametrize("breakage, check, detail", BREAKAGES, ids=[b[0].__name__.strip("_") for b in BREAKAGES])
def test_each_check_fails_on_its_breakage(good, tmp_path, breakage, check, detail):
    assert all(passed for passed, _ in _results(good).values())
    broken = tmp_path / "broken.pdf"
    with pikepdf.open(good) as pdf:
        breakage(pdf)
        pdf.save(broken)
    results = _results(broken)
    assert results[check][0] is False, results[check]
    assert detail in results[check][1]
    failed = [name for name, (passed, _) in results.items() if not passed]
    assert failed == [check] + ALSO_FAILS.get(breakage, []), "only its own check fails"


def test_info_pdfx_fails_on_info_and_xmp_that_disagree(good, tmp_path):
    """The XMP saying another version than the Info dictionary, and a modification date an hour off."""
    broken = tmp_path / "disagree.pdf"
    with pikepdf.open(good) as pdf:
        pdf.Root.Metadata.write(pdf.Root.Metadata.read_bytes().replace(b">PDF/X-4<", b">PDF/X-1:2003<"))
        pdf.trailer.Info.ModDate = pikepdf.String(str(pdf.trailer.Info.ModDate).replace("Z", "+01'00'"))
        pdf.save(broken)
    passed, detail = _results(broken)["info-pdfx"]
    assert not passed
    assert "GTS_PDFXVersion Info PDF/X-4, XMP PDF/X-1:2003" in detail and "ModDate D:" in detail


def test_subset_tags_fail_on_one_name_for_two_programs(good, tmp_path):
    """The sample's cover with its subsets renamed as the interior's: each file alone passes, together
    both fail (the cover's programs hold other glyphs)."""
    cover = good.with_name(good.name.replace(".pdf", ".cover.pdf"))
    with pikepdf.open(good) as interior:
        names = {str(f.BaseFont).split("+")[1]: str(f.BaseFont) for f in interior.objects
                 if isinstance(f, pikepdf.Dictionary) and f.get("/Type") == "/Font" and "+" in str(f.get("/BaseFont"))}
    renamed = tmp_path / "renamed.cover.pdf"
    with pikepdf.open(cover) as pdf:
        for font in [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)]:
            for key in ("/BaseFont", "/FontName"):
                if "+" in str(font.get(key, "")):
                    font[key] = pikepdf.Name(names[str(font[key]).split("+")[1]])
        pdf.save(renamed)
    assert preflight(renamed)[CHECKS.index("subset-tags")].passed
    assert [r.passed for r in preflight(good, together=[good, cover]) if r.check == "subset-tags"] == [True]
    for path in (good, renamed):
        result = preflight(path, together=[good, renamed])[CHECKS.index("subset-tags")]
        assert not result.passed and "name(s) 2 different programs across 2 files" in result.detail, result


def test_qpdf_fails_on_a_damaged_file(good, tmp_path):
    """A wrong startxref offset: readers repair it silently, qpdf --check reports it."""
    data = good.read_bytes()
    offset = data.rindex(b"startxref")
    broken = tmp_path / "damaged.pdf"
    broken.write_bytes(data[:offset] + re.sub(rb"startxref\s+\d+", b"startxref\n123", data[offset:]))
    passed, detail = _results(broken)["qpdf"]
    assert not passed and detail.startswith("exit ") and "WARNING" in detail


def test_signature_option(good):
    assert _results(good, signature=4)["page-count"][0]
    assert not _results(good, signature=16)["page-count"][0]


def test_command_exit_codes(good, tmp_path, capsys):
    assert cli.main(["preflight", str(good)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(CHECKS) and all(line.startswith("pass") for line in lines)
    broken = tmp_path / "short.pdf"
    with pikepdf.open(good) as pdf:
        _odd_page_count(pdf)
        pdf.save(broken)
    assert cli.main(["preflight", str(broken)]) == 1
    assert "FAIL  page-count" in capsys.readouterr().out
    assert cli.main(["preflight", str(tmp_path / "missing.pdf")]) == 2
    assert "error: file not found" in capsys.readouterr().err

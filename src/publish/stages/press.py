"""Stage 4b: the print shop's PDF. WeasyPrint writes PDF/X with the CMYK output intent and K text
(layouts/print/press.css.j2); this module checks image resolution on the laid-out pages, then, with
pikepdf, converts images to CMYK, pads the pages to the signature, sets the BleedBox, draws crop marks
in the registration colour, names the PDF/X version in the Info dictionary and removes link annotations.

WeasyPrint's own `marks: crop` are stroked in RGB black inside the bleed, and its BleedBox is capped at
10 pt from the trim: so the page box gets room for the bleed and the marks, and the marks and the
BleedBox are drawn and set here.
"""
from __future__ import annotations

import hashlib
import io
import re
import uuid
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pikepdf
from PIL import Image as PILImage, ImageCms

from . import pdf_tidy
from ..errors import PublishError
from .layouts import LAYOUTS
from .manuscript import Manuscript, PrintSpec

MM = 72 / 25.4                 # PDF points per millimetre
DEFAULT_ICC = LAYOUTS / "print" / "icc" / "FOGRA39.icc"
MIN_DPI = 300
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25
VARIANTS = {"x-4": "pdf/x-4", "x-1a": "pdf/x-1a"}
# GTS_PDFXVersion and GTS_PDFXConformance as each standard spells them (ISO 15930-7, 15930-4); PDF/X-4
# has no conformance key.
PDFX_KEYS = {"x-4": ("PDF/X-4", None), "x-1a": ("PDF/X-1:2003", "PDF/X-1a:2003")}
REGISTRATION = "/Registration"   # the marks' colour space in the page resources


def icc_path(spec: PrintSpec) -> Path:
    return spec.icc or DEFAULT_ICC


def mark_offset_mm(spec: PrintSpec) -> float:
    """Crop marks start outside the bleed, and never nearer the trim than 3 mm."""
    return max(spec.bleed_mm, 3.0)


def media_margin_mm(spec: PrintSpec) -> float:
    """MediaBox beyond the trim on every side: bleed, then the marks, then 1 mm of paper."""
    return mark_offset_mm(spec) + MARK_LENGTH_MM + 1.0


def css_context(spec: PrintSpec) -> dict:
    """What layouts/print/press.css.j2 needs."""
    return {"icc": icc_path(spec).resolve().as_uri(), "margin_mm": round(media_margin_mm(spec), 3)}


def resolution_check(book: Manuscript):
    """An `inspect` for pdf.render: every raster image must print at MIN_DPI or more at its placed
    size; the error names the image and its chapter."""
    sources = {image.path: (chapter, image) for chapter in book.chapters for image in chapter.images}

    def walk(box):
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    def inspect(rendered):
        for page in rendered.pages:
            for box in walk(page._page_box):
                replacement = getattr(box, "replacement", None)
                if replacement is None or not hasattr(replacement, "height") or box.width <= 0:
                    continue
                dpi = min(replacement.width / (box.width / 96), replacement.height / (box.height / 96))
                if dpi + 0.5 < MIN_DPI:
                    src = box.element.get("src", "")
                    chapter, image = sources.get(Path(unquote(urlsplit(src).path)), (None, None))
                    mm = f"{box.width / 96 * 25.4:.0f} × {box.height / 96 * 25.4:.0f} mm"
                    need = f"{round(box.width / 96 * MIN_DPI)} × {round(box.height / 96 * MIN_DPI)}"
                    raise PublishError(
                        f"image {image.src if image else src!r} prints at {dpi:.0f} dpi "
                        f"({replacement.width} × {replacement.height} px over {mm}); print needs {MIN_DPI} dpi",
                        chapter.path if chapter else book.root, hint=f"use an image of at least {need} px, "
                        "or let the layout print it smaller")
    return inspect


def _is_rgb(colour_space) -> bool:
    if colour_space is None:
        return False
    if isinstance(colour_space, pikepdf.Array):
        family = str(colour_space[0])
        if family == "/ICCBased":
            return int(colour_space[1].get("/N", 0)) == 3
        if family == "/Indexed":
            return _is_rgb(colour_space[1])
        return False
    return str(colour_space) in ("/DeviceRGB", "/CalRGB")


def _to_cmyk(pdf: pikepdf.Pdf, spec: PrintSpec) -> None:
    """RGB images become CMYK through the output profile (perceptual). PDF/X-1a allows no
    transparency: there, an image's soft mask is flattened onto white paper first."""
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.getOpenProfile(str(icc_path(spec))),
                                        "RGB", "CMYK")
    for obj in list(pdf.objects):
        if not (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
                and _is_rgb(obj.get("/ColorSpace"))):
            continue
        rgb = pikepdf.PdfImage(obj).as_pil_image().convert("RGB")
        if spec.pdfx == "x-1a" and "/SMask" in obj:
            alpha = pikepdf.PdfImage(obj.SMask).as_pil_image().convert("L")
            rgb = PILImage.composite(rgb, PILImage.new("RGB", rgb.size, "white"), alpha)
            del obj["/SMask"]
        cmyk = ImageCms.applyTransform(rgb, transform)
        obj.write(zlib.compress(cmyk.tobytes()), filter=pikepdf.Name.FlateDecode)
        obj.ColorSpace = pikepdf.Name.DeviceCMYK
        obj.BitsPerComponent = 8
        for key in ("/DecodeParms", "/Decode", "/Intent"):
            if key in obj:
                del obj[key]


def _registration_colour(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """The registration colour: the Separation named All, which a RIP puts on every plate (tint 1 is
    100 % of each of C, M, Y and K)."""
    tint = pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[1, 1, 1, 1], N=1)
    return pdf.make_indirect(pikepdf.Array([pikepdf.Name.Separation, pikepdf.Name.All,
                                            pikepdf.Name.DeviceCMYK, tint]))


def _crop_marks(trim: list[float], spec: PrintSpec, folds: tuple[float, ...]) -> bytes:
    """0.25 pt strokes in the registration colour on the trim lines, outside the bleed: eight at the
    corners, and a fold mark above and below each fold (`folds`: points from the left trim edge; a
    cover's spine edges)."""
    x0, y0, x1, y1 = trim
    gap, length = mark_offset_mm(spec) * MM, MARK_LENGTH_MM * MM
    lines = [(x0 + fold, y, x0 + fold, y + sign * length) for fold in folds
             for y, sign in ((y0 - gap, -1), (y1 + gap, 1))]
    for y in (y0, y1):
        lines += [(x0 - gap - length, y, x0 - gap, y), (x1 + gap, y, x1 + gap + length, y)]
    for x in (x0, x1):
        lines += [(x, y0 - gap - length, x, y0 - gap), (x, y1 + gap, x, y1 + gap + length)]
    path = "".join(f"{a:.3f} {b:.3f} m {c:.3f} {d:.3f} l S\n" for a, b, c, d in lines)
    return f"q {REGISTRATION} CS 1 SCN {MARK_WIDTH_PT} w [] 0 d\n{path}Q\n".encode()


def padding(pages: int, signature: int) -> int:
    """Blank pages to add so the count fills whole signatures."""
    return -pages % signature


def _stable_document_id(pdf: pikepdf.Pdf) -> None:
    """WeasyPrint's PDF/X XMP names the document with a random xmp.did UUID, and its /ID hashes it: every
    build would differ. The UUID is derived from what the pages draw; qpdf makes the /ID again on saving."""
    digest = hashlib.sha256()
    for page in pdf.pages:
        for stream in page.obj.Contents if isinstance(page.obj.Contents, pikepdf.Array) else [page.obj.Contents]:
            digest.update(stream.read_bytes())
    stable = f"xmp.did:{uuid.UUID(bytes=digest.digest()[:16], version=4)}".encode()
    pdf.Root.Metadata.write(re.sub(rb"xmp\.did:[0-9a-f-]{36}", stable, pdf.Root.Metadata.read_bytes()))
    del pdf.trailer["/ID"]


def _pdfx_identification(pdf: pikepdf.Pdf, spec: PrintSpec) -> None:
    """The PDF/X version (and X-1a's conformance) in the Info dictionary, which older RIPs read, and the
    same words in the XMP. WeasyPrint writes PDF/X-4's only in the XMP, with a conformance key X-4 does
    not have, and X-1a's as "PDF/X-1a:2003" for both keys."""
    version, conformance = PDFX_KEYS[spec.pdfx]
    pdf.trailer.Info.GTS_PDFXVersion = pikepdf.String(version)
    xmp = re.sub(rb"(<pdfx(?:id)?:GTS_PDFXVersion>)[^<]*", rb"\g<1>" + version.encode(),
                 pdf.Root.Metadata.read_bytes())
    if conformance:
        pdf.trailer.Info.GTS_PDFXConformance = pikepdf.String(conformance)
        xmp = re.sub(rb"(<pdfx:GTS_PDFXConformance>)[^<]*", rb"\g<1>" + conformance.encode(), xmp)
    else:
        if "/GTS_PDFXConformance" in pdf.trailer.Info:
            del pdf.trailer.Info["/GTS_PDFXConformance"]
        xmp = re.sub(rb"<pdfx:GTS_PDFXConformance>[^<]*</pdfx:GTS_PDFXConformance>", b"", xmp)
    pdf.Root.Metadata.write(xmp)


def _without_links(page: pikepdf.Page) -> None:
    """Links are for screens (the screen PDF has them): on paper they are invisible rectangles a
    preflight flags, inside the trim."""
    kept = [a for a in page.obj.get("/Annots", []) if a.get("/Subtype") != "/Link"]
    if kept:
        page.obj.Annots = pikepdf.Array(kept)
    elif "/Annots" in page.obj:
        del page.obj["/Annots"]


def finish(data: bytes, spec: PrintSpec, signature: int, folds: tuple[float, ...] = (),
           pages_finished: bool = False) -> bytes:
    """WeasyPrint's PDF/X → the file for the print shop (images CMYK, pages padded to a multiple of
    `signature`, boxes, marks, PDF/X keys, no links, subsets named by their programs, images by their data,
    no unused colour spaces). `pages_finished`: finish_pages did the pages (stages/pieces.py finishes each
    piece's in its own process)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf_tidy.name_images_by_data(pdf)   # before the document ID, which hashes the content streams
        _stable_document_id(pdf)
        _pdfx_identification(pdf, spec)
        last, registration = pdf.pages[-1], _registration_colour(pdf)
        if not pages_finished:
            _finish_pages(pdf, spec, folds, registration)
        for _ in range(padding(len(pdf.pages), signature)):
            # No content stream of its own: qpdf writes an empty one as 0 bytes with /FlateDecode, which
            # Ghostscript reports as "error reading a stream".
            pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
                Type=pikepdf.Name.Page, MediaBox=last.MediaBox, TrimBox=last.TrimBox,
                Resources=pikepdf.Dictionary())))
            _finish_page(pdf, pdf.pages[-1], spec, folds, registration)
        pdf_tidy.name_subsets_by_program(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True)   # see pdf.render's `compress`
    return out.getvalue()


def finish_pages(data: bytes, spec: PrintSpec) -> bytes:
    """A piece of a print interior (stages/pieces.py), its pages finished as `finish` finishes a whole
    book's, compressed; `finish(pages_finished=True)` does the rest on the joined file."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        _finish_pages(pdf, spec, (), _registration_colour(pdf))
        out = io.BytesIO()
        pdf.save(out, compress_streams=True)
    return out.getvalue()


def _finish_pages(pdf: pikepdf.Pdf, spec: PrintSpec, folds: tuple[float, ...], registration: pikepdf.Object) -> None:
    """Images in CMYK, each page finished, no colour space declared that nothing selects (a padding page
    selects its marks' only)."""
    _to_cmyk(pdf, spec)
    for page in pdf.pages:
        _finish_page(pdf, page, spec, folds, registration)
    pdf_tidy.drop_unused_colour_spaces(pdf)


def _finish_page(pdf: pikepdf.Pdf, page: pikepdf.Page, spec: PrintSpec, folds: tuple[float, ...],
                 registration: pikepdf.Object) -> None:
    """No links, a bleed box, crop marks in the registration colour."""
    _without_links(page)
    if "/ColorSpace" not in page.Resources:
        page.Resources.ColorSpace = pikepdf.Dictionary()
    page.Resources.ColorSpace[REGISTRATION] = registration   # WeasyPrint's pages share one dictionary
    trim = [float(v) for v in page.TrimBox]
    bleed = spec.bleed_mm * MM
    page.BleedBox = pikepdf.Array([trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed])
    # The page's own stream leaves its transformation in force: isolate it before the marks.
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    page.contents_add(pdf.make_stream(b"Q\n" + _crop_marks(trim, spec, folds)))

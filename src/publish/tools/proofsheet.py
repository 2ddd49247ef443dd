"""Proof sheets to look at: each page of a print PDF at a readable size, a contact sheet of its
spreads (verso left, recto right; page 1 is a recto alone) with the trim and bleed boxes drawn, and
one small spread for the README. Rendered with pypdfium2: no system tool."""
from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from ..errors import PublishError
from ..output import write_atomic

PAGE_SCALE = 2.0          # 144 dpi: a page of Chinese text readable on screen
THUMB_HEIGHT = 300        # pixels per page on the contact sheet
SPREADS_PER_ROW = 3
GAP = 24                  # pixels between spreads, room for the page numbers under them
TRIM = (220, 0, 120)      # the trim box: where the sheet is cut
BLEED = (0, 150, 220)     # the bleed box: how far the print runs past the cut
EDGE = (150, 150, 190)    # a page without bleed: its edge (not a grey that text antialiasing makes)
SMALL_SPREAD = 100_000    # bytes: the README's spread pictures stay small in the repository
COVER_HEIGHT = 600        # pixels: the printed cover sheet and the e-book's cover image side by side


@dataclass(frozen=True)
class Sheets:
    pages: list[Path]
    contact: Path
    spread: Path
    covers: Path | None = None   # a cover PDF: it, as printed, beside the e-book's cover image


def spreads(count: int) -> list[tuple[int | None, int | None]]:
    """0-based (verso, recto) pairs: page 1 is a recto with nothing on its left."""
    pairs: list[tuple[int | None, int | None]] = [(None, 0)]
    for verso in range(1, count, 2):
        pairs.append((verso, verso + 1 if verso + 1 < count else None))
    return pairs


def _page(pdf: pdfium.PdfDocument, index: int, scale: float, boxes: bool) -> Image.Image:
    page = pdf[index]
    media = page.get_mediabox()
    # Render the whole media box, bleed included, even if the crop box hides it.
    page.set_cropbox(*media)
    image = page.render(scale=scale).to_pil().convert("RGB")
    if boxes:
        draw = ImageDraw.Draw(image)
        x0, _, _, y1 = media

        def outline(box, colour):
            left, bottom, right, top = box
            draw.rectangle([round((left - x0) * scale), round((y1 - top) * scale),
                            round((right - x0) * scale) - 1, round((y1 - bottom) * scale) - 1], outline=colour)

        trim, bleed = page.get_trimbox(), page.get_bleedbox()
        if trim == media and bleed == media:
            outline(media, EDGE)
        else:
            outline(bleed, BLEED)
            outline(trim, TRIM)
    return image


def _spread(pdf: pdfium.PdfDocument, pair, scale: float, boxes: bool) -> Image.Image:
    pages = [_page(pdf, i, scale, boxes) if i is not None else None for i in pair]
    width = max(p.width for p in pages if p)
    height = max(p.height for p in pages if p)
    sheet = Image.new("RGB", (2 * width, height), "white")
    for side, page in enumerate(pages):
        if page:
            # The verso's right edge and the recto's left edge meet at the spine.
            sheet.paste(page, (width - page.width if side == 0 else width, 0))
    return sheet


def _fullest_spread(pdf: pdfium.PdfDocument) -> tuple[int | None, int | None]:
    """The spread with the most characters on it: text set on both pages, for the README."""
    def chars(i):
        return pdf[i].get_textpage().count_chars() if i is not None else 0
    return max(spreads(len(pdf)), key=lambda pair: sum(map(chars, pair)))


def _small_png(image: Image.Image) -> bytes:
    """The spread as a palette PNG, narrowed until it fits SMALL_SPREAD."""
    width = 900
    while True:
        small = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        buffer = io.BytesIO()
        small.quantize(64).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= SMALL_SPREAD or width <= 300:
            return buffer.getvalue()
        width -= 100


def _as_printed(cover_pdf: Path, height: int) -> Image.Image:
    """The cover as the press will print it: Ghostscript's CMYK raster of the page, seen through the PDF's
    own output intent (pdfium would draw its CMYK naively, brighter than any ink)."""
    import pikepdf
    from PIL import ImageCms

    with pikepdf.open(cover_pdf) as pdf:
        profile = pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes()
        page_height = float(pdf.pages[0].MediaBox[3]) - float(pdf.pages[0].MediaBox[1])
    with tempfile.TemporaryDirectory() as tmp:
        raster = Path(tmp) / "cover.tif"
        subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiff32nc",
                        f"-r{height / page_height * 72:.2f}", f"-sOutputFile={raster}", str(cover_pdf)],
                       check=True, capture_output=True)
        cmyk = Image.open(raster)
        cmyk.load()
    return ImageCms.profileToProfile(cmyk, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                     ImageCms.createProfile("sRGB"), outputMode="RGB")


def covers_side_by_side(cover_pdf: Path, out: Path) -> Path | None:
    """The printed cover beside the e-book's cover image (from the EPUB next to it), the same height: the
    two are one design (layouts/cover/). None without that EPUB."""
    epub = cover_pdf.with_name(cover_pdf.name.removesuffix(".cover.pdf") + ".epub")
    if not epub.is_file():
        return None
    printed = _as_printed(cover_pdf, COVER_HEIGHT)
    with zipfile.ZipFile(epub) as z:
        image = Image.open(io.BytesIO(z.read("EPUB/images/cover.png"))).convert("RGB")
    image = image.resize((round(image.width * COVER_HEIGHT / image.height), COVER_HEIGHT))
    sheet = Image.new("RGB", (printed.width + image.width + 3 * GAP, COVER_HEIGHT + 2 * GAP), (235, 235, 235))
    sheet.paste(printed, (GAP, GAP))
    sheet.paste(image, (printed.width + 2 * GAP, GAP))
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)   # all its colours: it is there to compare them
    path = out / f"{cover_pdf.name.removesuffix('.cover.pdf')}.covers.png"
    write_atomic(path, buffer.getvalue())
    return path


def make_sheets(pdf_path: Path, out: Path, progress=lambda _m: None) -> Sheets:
    if not pdf_path.is_file():
        raise PublishError("file not found: run make first", pdf_path)
    try:
        pdf = pdfium.PdfDocument(pdf_path)
    except pdfium.PdfiumError as exc:
        raise PublishError(f"not a readable PDF: {exc}", pdf_path) from None
    stem, count = pdf_path.stem, len(pdf)
    pages = []
    for index in range(count):
        progress(f"{pdf_path.name}: page {index + 1}/{count}")
        buffer = io.BytesIO()
        _page(pdf, index, PAGE_SCALE, boxes=False).save(buffer, "PNG", optimize=True)
        path = out / f"{stem}.page-{index + 1:03d}.png"
        write_atomic(path, buffer.getvalue())
        pages.append(path)

    progress(f"{pdf_path.name}: contact sheet")
    scale = THUMB_HEIGHT / pdf[0].get_mediabox()[3]
    pictures = [_spread(pdf, pair, scale, boxes=True) for pair in spreads(count)]
    cell_w = max(p.width for p in pictures) + GAP
    cell_h = max(p.height for p in pictures) + GAP
    rows = -(-len(pictures) // SPREADS_PER_ROW)
    sheet = Image.new("RGB", (cell_w * min(SPREADS_PER_ROW, len(pictures)) + GAP, cell_h * rows + GAP), (235, 235, 235))
    draw = ImageDraw.Draw(sheet)
    for n, (picture, pair) in enumerate(zip(pictures, spreads(count))):
        x, y = GAP + (n % SPREADS_PER_ROW) * cell_w, GAP + (n // SPREADS_PER_ROW) * cell_h
        sheet.paste(picture, (x, y))
        # PIL's built-in font has no en dash.
        numbers = "-".join(str(i + 1) for i in pair if i is not None)
        draw.text((x + picture.width // 2, y + picture.height + 4), numbers, fill="black", anchor="mt")
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    contact = out / f"{stem}.spreads.png"
    write_atomic(contact, buffer.getvalue())

    spread = out / f"{stem}.spread.png"
    write_atomic(spread, _small_png(_spread(pdf, _fullest_spread(pdf), PAGE_SCALE, boxes=True)))
    covers = covers_side_by_side(pdf_path, out) if pdf_path.name.endswith(".cover.pdf") else None
    return Sheets(pages, contact, spread, covers)

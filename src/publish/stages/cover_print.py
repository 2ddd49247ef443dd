"""Stage 4c: the printed cover — back, spine and front on one sheet with bleed and marks, PDF/X like the
interior. The spine is as thick as the interior's leaves; an ISBN becomes an EAN-13 barcode in 100 % K."""
from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from PIL import Image as PILImage, ImageCms

from . import binding as bindings
from . import layouts, pdf, press
from .edition import Edition
from .manuscript import Manuscript

MODULE_MM = 0.33          # EAN-13 bar module at 100 % magnification (GS1)
BAR_HEIGHT_MM = 22.85

# EAN-13: the first digit picks, for digits 2–7, L (odd parity) or G (even parity) codes; digits 8–13 are R.
_L = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011")
_G = tuple(code.translate(str.maketrans("01", "10"))[::-1] for code in _L)
_R = tuple(code.translate(str.maketrans("01", "10")) for code in _L)
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")


def page_count(interior: bytes) -> int:
    with pikepdf.open(io.BytesIO(interior)) as doc:
        return len(doc.pages)


def printed_colours(colours: dict[str, str], icc: Path) -> dict[str, str]:
    """name -> device-cmyk(c m y k): each of the cover's sRGB colours through the output profile,
    perceptual, as press.py converts the images; the print cover has no CMYK value of its own."""
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.getOpenProfile(str(icc)),
                                        "RGB", "CMYK")
    converted = {}
    for name, value in colours.items():
        inks = ImageCms.applyTransform(PILImage.new("RGB", (1, 1), value), transform).getpixel((0, 0))
        converted[name] = "device-cmyk({})".format(" ".join(f"{ink / 255:.4f}" for ink in inks))
    return converted


def ean13_modules(digits: str) -> str:
    """The 95 modules of an EAN-13 symbol, '1' a bar and '0' a space (guards included)."""
    parity = _PARITY[int(digits[0])]
    left = "".join((_L if p == "L" else _G)[int(d)] for p, d in zip(parity, digits[1:7]))
    right = "".join(_R[int(d)] for d in digits[7:13])
    return "101" + left + "01010" + right + "101"


def ean13_bars(digits: str) -> list[dict]:
    """Each bar as {x, width} in modules, with `guard` for the longer start, centre and end bars."""
    modules = ean13_modules(digits)
    guards = set(range(3)) | set(range(45, 50)) | set(range(92, 95))
    bars, start = [], None
    for i, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = i
        elif module == "0" and start is not None:
            bars.append({"x": start, "width": i - start, "guard": start in guards})
            start = None
    return bars


def render(edition: Edition, book: Manuscript, pages: int, metadata_date: str | None = None) -> bytes:
    spec = book.print
    width, height = book.trim_mm
    spine = bindings.spine_mm(bindings.bound(spec.binding, pages), pages, spec.caliper_mm)
    fonts = [{"family": f.family, "weight": f.weight, "url": f.path.as_uri()}
             for f in layouts.font_faces(edition.spec.script)]
    html = layouts.render_print_cover(edition, book, {
        "trim": {"width": width, "height": height}, "spine": round(spine, 3),
        "spine_text": spine >= bindings.SPINE_TEXT_MIN_MM, "bleed_mm": spec.bleed_mm,
        "sheet_width": round(2 * width + spine, 3),
        "press": press.css_context(spec), "fonts": fonts, "panel": {"width": width, "height": height},
        "colours": printed_colours(layouts.cover_colours(book.layouts), press.icc_path(spec)),
        "isbn": book.isbn, "bars": ean13_bars(book.isbn) if book.isbn else [],
        "module_mm": MODULE_MM, "bar_height_mm": BAR_HEIGHT_MM,
    })
    data = pdf.render(html, book.root, metadata_date, press.VARIANTS[spec.pdfx], compress=False)
    folds = (width,) if spine == 0 else (width, width + spine)   # saddle-stitched: one fold, no spine panel
    return press.finish(data, spec, signature=1, folds=tuple(mm * press.MM for mm in folds))

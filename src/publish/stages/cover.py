"""The e-book cover image: the cover layout drawn by WeasyPrint, rasterised with PDFium to PNG."""
from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import weasyprint

from weasyprint.urls import FatalURLFetchingError

from ..errors import PublishError
from .layouts import FONTS, LAYOUTS
from .pdf import BookURLFetcher

COVER_WIDTH_PX = 1600   # stores ask for at least 1600 × 2400


def render_png(cover_html: str, book_root: Path) -> bytes:
    try:
        pdf = weasyprint.HTML(string=cover_html, base_url=book_root.resolve().as_uri() + "/",
                              url_fetcher=BookURLFetcher([book_root, LAYOUTS, FONTS])).write_pdf()
    except FatalURLFetchingError as exc:  # a book's own cover template asked for something outside
        raise PublishError(str(exc), book_root) from None
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=COVER_WIDTH_PX / page.get_width()).to_pil().convert("RGB")
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")   # optimize=True: twice the time for 1 % fewer bytes
    return out.getvalue()

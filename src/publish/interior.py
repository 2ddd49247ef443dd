"""Stage 4a: the interior PDFs, for print and for screen, whose copyright page states the figures of their
own layout (开本, 印张, 字数: imprint.py). The figures are measured on the laid-out pages; when the page
printed others (the first layout, or the record changed the page count) the book is laid out again."""
from __future__ import annotations

import math

from . import layouts, pdf, press
from .edition import Edition
from .errors import PublishError
from .imprint import Imprint, Layout, imprint
from .manuscript import Manuscript

LAYOUTS_TRIED = 3   # the second layout states what the first measured; a third only if that moved a page


class _Measured(Exception):
    """Raised from pdf.render's inspection: the laid-out pages are not what the copyright page states."""

    def __init__(self, layout: Layout):
        self.layout = layout


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def measure(rendered, signature: int) -> Layout:
    """Pages as printed (padded to the signature); a full line's characters (the text block's width in body
    text ems) and a full page's lines (its height in body line heights), from the first paragraph of the
    first chapter page."""
    pages = len(rendered.pages) + press.padding(len(rendered.pages), signature)
    for page in rendered.pages:
        if page._page_box.page_type.name != "body":
            continue
        for box in _walk(page._page_box):
            if type(box).__name__ == "LineBox" and box.element_tag == "p":
                return Layout(pages, math.floor(page._page_box.width / box.style["font_size"]),
                              math.floor(page._page_box.height / box.height))
    raise PublishError("the book has no paragraph of body text to measure the copyright page's 字数 on",
                       hint="a chapter needs at least one paragraph")


def render(edition: Edition, book: Manuscript, date: str) -> tuple[bytes, bytes]:
    """The print shop's interior (finished by press) and the screen PDF."""
    spec = book.print
    stated: Imprint | None = None   # what the copyright page of the layout being made states

    def inspect(rendered):
        press.resolution_check(book)(rendered)
        layout = measure(rendered, spec.signature)
        if record(edition, book, layout) != stated:
            raise _Measured(layout)

    for _ in range(LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec), stated)
        try:
            interior, screen = pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect,
                                          compress=False, screen=True)
        except _Measured as measured:
            stated = record(edition, book, measured.layout)
            continue
        return press.finish(interior, spec, spec.signature), screen
    raise PublishError("the copyright page's 版本记录 changes the page count it states, layout after layout",
                       book.root / "book.yaml",
                       hint="shorten the copyright page (layouts/common/copyright-page.html.j2)")


def record(edition: Edition, book: Manuscript, layout: Layout) -> Imprint:
    return imprint(book.imprint, edition.name, edition.spec.script, edition.meta.date, book.isbn, book.trim_mm, layout)

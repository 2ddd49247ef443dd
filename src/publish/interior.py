"""Stage 4a: the interior PDFs, for print and for screen, whose copyright page states the figures of their
own layout (开本, 印张, 字数: imprint.py). The figures are measured on the laid-out pages; when the page
printed others the book is laid out again. The first layout states what the edition's last build measured
(kept in its cache): an edit that moves no page costs no second layout. The same holds for the marks of notes
numbered afresh on each page (notes.py): laid out with the marks the last build measured, and again if a
note's call is on another page now."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from . import layouts, notes, output, pdf, press
from .edition import Edition
from .errors import PublishError
from .imprint import Imprint, Layout, imprint
from .manuscript import Manuscript

LAYOUTS_TRIED = 3   # the second layout states what the first measured; a third only if that moved a page


class _Measured(Exception):
    """Raised from pdf.render's inspection: the laid-out pages are not what the copyright page states,
    or a note's mark is not the one its page gives it."""

    def __init__(self, layout: Layout, marks: dict[str, str] | None):
        self.layout = layout
        self.marks = marks


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
    stated = _last_layout(edition)   # the figures the copyright page being laid out states
    per_page = book.notes.place == "page" and book.notes.numbering == "page"
    marks = _last_marks(edition) if per_page else None   # note id -> mark, as the last build measured

    def inspect(rendered):
        press.resolution_check(book)(rendered)
        layout = measure(rendered, spec.signature)
        measured_marks = notes.page_marks(rendered) if per_page else None
        if (stated is None or record(edition, book, layout) != record(edition, book, stated)
                or (per_page and measured_marks != notes.stated_marks(document.html))):
            raise _Measured(layout, measured_marks)

    for _ in range(LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec),
                                        record(edition, book, stated) if stated else None, marks)
        try:
            interior, screen = pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect,
                                          compress=False, screen=True)
        except _Measured as measured:
            stated, marks = measured.layout, measured.marks
            continue
        if edition.cache:
            output.write_atomic(_layout_file(edition), json.dumps(dataclasses.asdict(stated)).encode())
            if per_page:
                output.write_atomic(_marks_file(edition), json.dumps(marks or {}, ensure_ascii=False).encode())
        return press.finish(interior, spec, spec.signature), screen
    raise PublishError("the copyright page's 版本记录 or the notes' marks change the pages they are measured on, "
                       "layout after layout", book.root / "book.yaml",
                       hint="shorten the copyright page (layouts/common/copyright-page.html.j2), or number the "
                            "notes by chapter (notes: {numbering: chapter})")


def _layout_file(edition: Edition) -> Path:
    return edition.cache / "layout" / f"{edition.name}.json"


def _last_layout(edition: Edition) -> Layout | None:
    """What the edition's last build measured, if it kept it (a damaged file is no guess)."""
    if not edition.cache or not _layout_file(edition).is_file():
        return None
    try:
        return Layout(**json.loads(_layout_file(edition).read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def _marks_file(edition: Edition) -> Path:
    return edition.cache / "layout" / f"{edition.name}.notes.json"


def _last_marks(edition: Edition) -> dict[str, str] | None:
    """The notes' marks the edition's last build measured, if it kept them."""
    if not edition.cache or not _marks_file(edition).is_file():
        return None
    try:
        marks = json.loads(_marks_file(edition).read_text(encoding="utf-8"))
    except ValueError:
        return None
    return marks if isinstance(marks, dict) else None


def record(edition: Edition, book: Manuscript, layout: Layout) -> Imprint:
    return imprint(book.imprint, edition.name, edition.spec.script, edition.meta.date, book.isbn, book.trim_mm, layout)

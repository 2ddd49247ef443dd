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

# The second layout states what the first measured; a third only if that moved a page (or a long note,
# split, moved a call), a fourth if that moved one again.
LAYOUTS_TRIED = 4


class _Measured(Exception):
    """Raised from pdf.render's inspection: the laid-out pages are not what the copyright page states,
    a note's mark is not the one its page gives it, or a note is too long to be set whole."""

    def __init__(self, layout: Layout, footnotes: dict):
        self.layout = layout
        self.footnotes = footnotes


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
    at_foot = book.notes.place == "page"
    per_page = at_foot and book.notes.numbering == "page"
    # What the notes at the page's foot need, as the last build measured: marks (note id -> ①) when
    # numbered afresh on each page, the long notes' lines (notes.split_long).
    footnotes = _last_footnotes(edition) if at_foot else {}

    def inspect(rendered):
        press.resolution_check(book)(rendered)
        layout = measure(rendered, spec.signature)
        measured = dict(footnotes)
        if per_page:
            measured["marks"] = notes.page_marks(rendered)
        if at_foot:
            measured["split"] = {**footnotes.get("split", {}), **notes.long_notes(rendered, footnotes.get("split", {}))}
        stated_marks = notes.stated_marks(document.html)
        if (stated is None or record(edition, book, layout) != record(edition, book, stated)
                or (per_page and measured["marks"] != stated_marks)
                or measured.get("split", {}) != footnotes.get("split", {})):
            raise _Measured(layout, measured)

    for _ in range(LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec),
                                        record(edition, book, stated) if stated else None,
                                        footnotes.get("marks") if per_page else None, footnotes.get("split"))
        try:
            interior, screen = pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect,
                                          compress=False, screen=True)
        except _Measured as measured:
            stated, footnotes = measured.layout, measured.footnotes
            continue
        if edition.cache:
            output.write_atomic(_layout_file(edition), json.dumps(dataclasses.asdict(stated)).encode())
            if at_foot:
                output.write_atomic(_footnotes_file(edition), json.dumps(footnotes, ensure_ascii=False).encode())
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


def _footnotes_file(edition: Edition) -> Path:
    return edition.cache / "layout" / f"{edition.name}.notes.json"


def _last_footnotes(edition: Edition) -> dict:
    """The notes' marks and long notes' lines the edition's last build measured, if it kept them."""
    if not edition.cache or not _footnotes_file(edition).is_file():
        return {}
    try:
        kept = json.loads(_footnotes_file(edition).read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return kept if isinstance(kept, dict) else {}


def record(edition: Edition, book: Manuscript, layout: Layout) -> Imprint:
    return imprint(book.imprint, edition.name, edition.spec.script, edition.meta.date, book.isbn, book.trim_mm, layout)

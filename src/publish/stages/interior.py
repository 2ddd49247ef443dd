"""Stage 4a: the interior PDFs, for print and for screen, whose copyright page states the figures of their
own layout (开本, 印张, 字数: imprint.py). The figures are measured on the laid-out pages. The layout states
what the edition's last build measured (kept in its cache); when the pages say otherwise, the front matter
alone is laid out with the measured figures and its copyright page takes the place of the book's: one
layout of the book, cold or warm. Only a copyright page whose length would change is laid out again with
the whole book.

Notes numbered afresh on each page (notes.py) are laid out with the marks the last build measured (① for
every note in a first build), and their calls and markers are then given their pages' marks on the
laid-out boxes (notes.restamp): every mark ①–⑳ is one em wide, so no line moves. The book is laid out
again for a note too long for its page (set line by line, notes.split_long) or a mark past ⑳."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from . import layouts, notes, pdf, press

from .. import output
from .edition import Edition
from ..errors import PublishError
from .imprint import Imprint, Layout, imprint
from .manuscript import Manuscript

# Layouts of the whole book: more than one only for a long note (and again if that moved a page), a mark
# past ⑳, or a copyright page that changes length.
LAYOUTS_TRIED = 4


class Measured(Exception):
    """Raised from pdf.render's inspection: the laid-out pages are not what the copyright page states and
    its page cannot be replaced, a note is too long to be set whole, or a note's mark would change width.
    `footnotes`: what the notes need in the next layout (None: what the last one had)."""

    def __init__(self, layout: Layout | None, footnotes: dict | None = None):
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
    raise no_body_text()


def no_body_text() -> PublishError:
    return PublishError("the book has no paragraph of body text to measure the copyright page's 字数 on",
                        hint="a chapter needs at least one paragraph")


# The templates that know a piece of the book (layouts.Piece): a book's own version of one of them lays
# the whole book out in one piece.
PIECE_TEMPLATES = ("print/book.html.j2", "print/front-matter.html.j2")
# Characters of Markdown per piece: a piece costs a process, its fonts and its share of the join (about
# 0.45 s of CPU on the test book), and 50,000 characters take about 5 s to lay out. An edited chapter lays
# its piece out again, not the book (stages/pieces.py). The pieces make the files' bytes (not their pages),
# so they depend on the book only, never on the machine.
PIECE_CHARACTERS = 50_000


def render(edition: Edition, book: Manuscript, date: str, jobs: int | None = None) -> tuple[bytes, bytes]:
    """The print shop's interior (finished by press) and the screen PDF; in pieces of about PIECE_CHARACTERS,
    `jobs` processes at a time (default: one per core), when the book is long enough and has the default
    print templates (stages/pieces.py)."""
    from . import pieces   # which imports this module
    if (len(pieces.runs(pieces.sizes(edition), PIECE_CHARACTERS)) > 1
            and not (book.layouts and any((book.layouts / name).exists() for name in PIECE_TEMPLATES))):
        return pieces.render(edition, book, date, PIECE_CHARACTERS, jobs)
    spec = book.print
    stated = last_layout(edition)   # the figures the copyright page being laid out states
    at_foot = book.notes.place == "page"
    per_page = at_foot and book.notes.numbering == "page"
    # What the notes at the page's foot need, as the last build measured: marks (note id -> ①) when
    # numbered afresh on each page, the long notes' lines (notes.split_long).
    footnotes = last_footnotes(edition) if at_foot else {}

    def inspect(rendered):
        nonlocal stated, footnotes
        press.resolution_check(book)(rendered)
        layout = measure(rendered, spec.signature)
        try:
            footnotes = check_notes(rendered, document.html, footnotes, at_foot, per_page)
        except Measured as measured:
            raise Measured(layout, measured.footnotes) from None
        if stated is None or record(edition, book, layout) != record(edition, book, stated):
            _restate(rendered, edition, book, layout)
            stated = layout

    for _ in range(LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec),
                                        record(edition, book, stated) if stated else None,
                                        footnotes.get("marks") if per_page else None, footnotes.get("split"))
        try:
            interior, screen = pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect,
                                          compress=False, screen=True)
        except Measured as measured:
            stated = measured.layout
            footnotes = footnotes if measured.footnotes is None else measured.footnotes
            continue
        keep(edition, stated, footnotes if at_foot else None)
        return press.finish(interior, spec, spec.signature), screen
    raise too_many_layouts(book)


def too_many_layouts(book: Manuscript) -> PublishError:
    return PublishError("the copyright page's 版本记录 or the notes' marks change the pages they are measured on, "
                        "layout after layout", book.root / "book.yaml",
                        hint="shorten the copyright page (layouts/common/copyright-page.html.j2), or number the "
                             "notes by chapter (notes: {numbering: chapter})")


def check_notes(rendered, html: str, footnotes: dict, at_foot: bool, per_page: bool) -> dict:
    """What the notes at the page's foot need, measured on `rendered` (laid out from `html` with
    `footnotes`): Measured if a long note must be set line by line or a mark would change width; else the
    marks, given to the laid-out notes (notes.restamp)."""
    if at_foot:
        split = {**footnotes.get("split", {}), **notes.long_notes(rendered, footnotes.get("split", {}))}
        if split != footnotes.get("split", {}):
            raise Measured(None, {**footnotes, "split": split})
    if per_page:
        marks = notes.page_marks(rendered)
        if marks != notes.stated_marks(html) and not notes.restamp(rendered, marks):
            raise Measured(None, {**footnotes, "marks": marks})
        footnotes = {**footnotes, "marks": marks}
    return footnotes


def _restate(rendered, edition: Edition, book: Manuscript, layout: Layout) -> None:
    """The copyright page of `rendered` made to state `layout`: the front matter laid out alone, with the
    same fonts, and its copyright page put in the book's place. Nothing else on any page depends on those
    figures; if the page count of the copyright page would change (or a book's own template drops its
    class), Measured asks for the whole book again."""
    front = layouts.render_print(edition, book, press.css_context(book.print), record(edition, book, layout),
                                 front_matter_only=True)
    alone = pdf.lay_out(front, book.root, rendered.font_config)
    pages = _copyright_pages(rendered.pages)
    if not pages or _copyright_pages(alone.pages) != pages:
        raise Measured(layout)
    for index in pages:
        rendered.pages[index] = alone.pages[index]


def _copyright_pages(pages) -> list[int]:
    """Indices of the pages that hold the copyright page (class copyright-page), all in the front matter."""
    found = []
    for index, page in enumerate(pages):
        if page._page_box.page_type.name == "body":
            break
        if any("copyright-page" in (box.element.get("class") or "").split()
               for box in _walk(page._page_box) if getattr(box, "element", None) is not None):
            found.append(index)
    return found


def keep(edition: Edition, stated: Layout, footnotes: dict | None) -> None:
    """What this build measured, for the next one's first layout (`footnotes`: None without notes at the
    page's foot)."""
    if edition.cache:
        output.write_atomic(_layout_file(edition), json.dumps(dataclasses.asdict(stated)).encode())
        if footnotes is not None:
            output.write_atomic(_footnotes_file(edition), json.dumps(footnotes, ensure_ascii=False).encode())


def _layout_file(edition: Edition) -> Path:
    return edition.cache / "layout" / f"{edition.name}.json"


def last_layout(edition: Edition) -> Layout | None:
    """What the edition's last build measured, if it kept it (a damaged file is no guess)."""
    if not edition.cache or not _layout_file(edition).is_file():
        return None
    try:
        return Layout(**json.loads(_layout_file(edition).read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def _footnotes_file(edition: Edition) -> Path:
    return edition.cache / "layout" / f"{edition.name}.notes.json"


def last_footnotes(edition: Edition) -> dict:
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

"""WeasyPrint 70's tagged PDF (the screen PDF, PDF/UA-1) as a screen reader meets it.

- Running heads and folios (the page's margin boxes) and leader dots are drawn as artifacts
  (`/Artifact BMC … EMC`). WeasyPrint marks them as content and makes structure elements for the margin
  boxes that it never attaches to the tree (22 on this book's pages 7–12): a reader would read every
  folio, and "……" for each leader, as text.
- A link's /Contents is its text (a chapter's title in the contents), not its target id ("ch01").
- A footnote at a page's foot (notes.py) is a Note, with the ID PDF/UA asks of a Note (pdf_tidy maps the
  IDs in the structure tree's IDTree); WeasyPrint makes it a Span.

Active only inside `active(rendered)` while the screen PDF is written; written for the WeasyPrint version
weasyprint_cjk checks.
"""
from __future__ import annotations

import contextlib
import itertools

from . import weasyprint_cjk   # noqa: F401  (refuses any WeasyPrint but the one this is written for)
import pydyf  # noqa: E402
import weasyprint.pdf  # noqa: E402
from weasyprint.formatting_structure import boxes  # noqa: E402
from weasyprint.pdf import tags  # noqa: E402
from weasyprint.pdf.stream import Stream  # noqa: E402

_weasyprint_marked = Stream.marked
_weasyprint_build_box_tree = tags._build_box_tree
_weasyprint_add_links = weasyprint.pdf.add_links


def artifact_boxes(rendered) -> set:
    """Every box of the margin boxes and of the leaders on the laid-out pages, themselves included."""
    found = set()
    for page in rendered.pages:
        for box in page._page_box.descendants():
            if box not in found and (isinstance(box, boxes.MarginBox) or box.is_leader):
                found.update(box.descendants())
    return found


def link_text(box) -> str:
    """The text of the link's element, as the HTML has it (the whole title, also for a link that the
    layout broke over two lines)."""
    return " ".join("".join(box.element.itertext()).split())


def add_links(links_and_anchors, matrix, pdf, page, names, tags):
    """WeasyPrint's add_links, then each link's /Contents made its text."""
    _weasyprint_add_links(links_and_anchors, matrix, pdf, page, names, tags)
    for link_type, _, _, box in links_and_anchors[0]:
        if link_type in ("internal", "external") and box.element is not None:
            box.link_annotation["Contents"] = pydyf.String(link_text(box))


def is_note(box) -> bool:
    """The block of a note at a page's foot, or of a line of a long note (notes.py), in the footnote area."""
    return (isinstance(box, boxes.BlockBox) and box.element is not None and box.element_tag == "span"
            and "footnote" in (box.element.get("class") or "").split())


def _as_note(elements, number: int):
    for element in elements:
        element["S"] = "/Note"
        element["ID"] = pydyf.String(f"note-{number}")
        yield element


@contextlib.contextmanager
def active(rendered):
    artifacts = artifact_boxes(rendered)
    notes = itertools.count(1)

    @contextlib.contextmanager
    def marked(stream, box, tag):
        """WeasyPrint's Stream.marked, except that an artifact box is marked as one."""
        context = stream.artifact() if box in artifacts else _weasyprint_marked(stream, box, tag)
        with context:
            yield

    def build_box_tree(box, *args):
        """WeasyPrint's _build_box_tree, which makes no structure element for an artifact, and a Note of a note."""
        if box in artifacts:
            return ()
        elements = _weasyprint_build_box_tree(box, *args)
        return _as_note(elements, next(notes)) if is_note(box) else elements

    Stream.marked = marked
    tags._build_box_tree = build_box_tree   # also what its own recursion calls
    weasyprint.pdf.add_links = add_links
    try:
        yield
    finally:
        Stream.marked = _weasyprint_marked
        tags._build_box_tree = _weasyprint_build_box_tree
        weasyprint.pdf.add_links = _weasyprint_add_links

"""WeasyPrint 70 at a long book's scale: costs that grew faster than the page count, removed.

- For every page, WeasyPrint looks for the page's margin-box styles by walking every cascaded style
  of the document, one per element: pages × elements. Here the page's few margin-box styles are looked
  up by key; the styles computed are the same.
- For every page, WeasyPrint walks all the other pages, in Python, for their `position: fixed` boxes:
  pages × pages. Here the pages without any are filtered out at C speed first.
- Writing a tagged PDF (the screen PDF, PDF/UA-1), WeasyPrint asks pydyf for one page's reference for
  every piece of text, and pydyf makes the references of all pages each time: text × pages. Here they
  are made again only when a page has been added.
- CPython's cyclic garbage collector runs every 700 new objects, and its older generations walk every
  live object: a long book being laid out is millions of them. WeasyPrint's boxes are freed by
  reference counting; collecting less often took 13 % off the print layout of the 1,000,000-character
  book (166.7 s → 144.6 s) at the same peak memory.
- CPython 3.11 keeps Python frames in 16 KB chunks: a call that finds no room left in its chunk maps a
  new one, and its return unmaps it (python/cpython#142183, fixed in 3.13). The layout's recursion,
  a few frames deeper with the extensions, sat on such a boundary: 83,000 mmap/munmap pairs for the
  100k book's zh-Hans print PDF, a tenth of its time. `with_stack_room` runs it in a chunk of its own
  with room for 128 KB of frames (it needs 16–32 KB): 2,200 left, 8.6 s → 7.7 s.

Active only inside `active()`; written for the WeasyPrint version weasyprint_cjk checks.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import operator

from . import weasyprint_cjk   # noqa: F401  (refuses any WeasyPrint but the one this is written for)
import pydyf  # noqa: E402
import weasyprint.layout  # noqa: E402
from weasyprint.layout import page  # noqa: E402

GC_THRESHOLDS = (50_000, 20, 100)   # CPython's defaults: 700, 10, 10
ROOMY_FRAME_WORDS = 16_000           # a 128 KB frame: CPython gives it a 256 KB chunk, half of it free

_weasyprint_page_styles = page.set_page_type_computed_styles
_weasyprint_fixed_boxes = weasyprint.layout.layout_fixed_boxes
_has_fixed_boxes = operator.attrgetter("fixed_boxes")
_pydyf_page_references = pydyf.PDF.page_references


def set_page_type_computed_styles(page_type, html, style_for):
    """WeasyPrint's function of the same name, with the margin boxes' styles found by key."""
    style_for.add_page_declarations(page_type)
    style_for.set_computed_styles(page_type, root=html.etree_element, parent=html.etree_element,
                                  base_url=html.base_url)
    cascaded = style_for.get_cascaded_styles()
    pseudo_types = {selector[1] for sheet, _, _ in style_for._sheets
                    for _, selectors, _ in sheet.page_rules for selector in selectors}
    for pseudo_type in pseudo_types - {None}:
        if (page_type, pseudo_type) in cascaded:
            style_for.set_computed_styles(page_type, pseudo_type=pseudo_type, root=html.etree_element,
                                          parent=page_type, base_url=html.base_url)


def layout_fixed_boxes(context, pages, containing_page):
    """WeasyPrint's function of the same name, given only the pages that have fixed boxes."""
    return _weasyprint_fixed_boxes(context, list(filter(_has_fixed_boxes, pages)), containing_page)


def _page_references(pdf) -> tuple:
    """pydyf's PDF.page_references, kept while the number of pages stays the same."""
    count = len(pdf.pages["Kids"])
    kept = getattr(pdf, "_publish_page_references", None)
    if kept is None or kept[0] != count:
        kept = pdf._publish_page_references = (count, _pydyf_page_references.fget(pdf))
    return kept[1]


def _in_roomy_chunk(call):
    return call()


# A frame holds its code's locals and evaluation stack: an evaluation stack larger than the code needs is
# never touched, and makes the frame as large as asked.
_in_roomy_chunk.__code__ = _in_roomy_chunk.__code__.replace(co_stacksize=ROOMY_FRAME_WORDS)


def with_stack_room(call, *args, **kwargs):
    """`call(*args, **kwargs)`, its Python frames in a chunk of CPython's frame stack with room for a
    deep recursion, so that the calls inside a layout do not map and unmap a chunk each."""
    return _in_roomy_chunk(functools.partial(call, *args, **kwargs))


@contextlib.contextmanager
def active():
    thresholds = gc.get_threshold()
    page.set_page_type_computed_styles = set_page_type_computed_styles
    weasyprint.layout.layout_fixed_boxes = layout_fixed_boxes
    pydyf.PDF.page_references = property(_page_references)
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        page.set_page_type_computed_styles = _weasyprint_page_styles
        weasyprint.layout.layout_fixed_boxes = _weasyprint_fixed_boxes
        pydyf.PDF.page_references = _pydyf_page_references
        gc.set_threshold(*thresholds)

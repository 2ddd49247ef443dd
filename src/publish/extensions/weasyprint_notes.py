"""WeasyPrint 70's footnote area, measured instead of laid out anew for every note.

WeasyPrint lays out a page's whole @footnote area again each time a note is added to the page, taken
off it or moved to the next page (`LayoutContext._update_footnote_area`): on a page of 20 notes that is
210 note layouts instead of 20, 60 % of the layout time of a book of 1,000 notes (cProfile). And it
finds the area overflowing its max-height when the last note's bottom is past the area's bottom by a
rounding error (834.653… > 834.653…), which moves notes to the next page that fit.

Here each note is laid out once, alone in the area, and its height kept; the area's height is the sum
of its notes' (notes have no margins to collapse, layouts/print/book.css.j2) and overflows when that sum
is over its max-height by more than 0.01 px. The page's final area, which make_page lays out again
whole to draw it, is those layouts stacked (`_kept_area`): each note is laid out once.

And before it places a line, WeasyPrint asks of every box on the line whether it is a note still to
place, each time by going through the list of all the document's notes waiting: 10 % of the layout of a
chapter of 5,000 notes. Here that list answers from a count of its members (`_Waiting`).

And a long note's lines after its first (notes.split_long, `fn-continued`) give way to the notes called on
the page they go on over (below, `reported_footnotes`), and on the page of the call to the lines of its
paragraph that must stay with the call's line (below, `linebox_layout`).

Active only inside `active()`; written for the WeasyPrint version weasyprint_cjk checks.
"""
from __future__ import annotations

import contextlib
from math import inf

from . import weasyprint_cjk   # noqa: F401  (refuses any WeasyPrint but the one this is written for)
from ..stages.notes import CONTINUED
from weasyprint.formatting_structure import boxes, build  # noqa: E402
from weasyprint.layout import LayoutContext  # noqa: E402
from weasyprint.layout import block as layout_block  # noqa: E402
from weasyprint.layout import page as layout_page  # noqa: E402
from weasyprint.layout.block import block_level_layout, remove_placeholders  # noqa: E402

_weasyprint_update_footnote_area = LayoutContext._update_footnote_area
_weasyprint_context_init = LayoutContext.__init__
_weasyprint_layout_footnote = LayoutContext.layout_footnote
_weasyprint_report_footnote = LayoutContext.report_footnote
_weasyprint_unlayout_footnote = LayoutContext.unlayout_footnote
_weasyprint_make_page = layout_page.make_page
_weasyprint_linebox_layout = layout_block._linebox_layout
ROUNDING_PX = 0.01


class _Waiting(list):
    """LayoutContext.footnotes, the notes not placed yet: a list (WeasyPrint appends, removes, copies and
    iterates it) whose `in` looks its members up by identity in a count instead of going through them."""

    def __init__(self, items=()):
        super().__init__(items)
        self._count: dict[int, int] = {}
        for item in self:
            self._count[id(item)] = self._count.get(id(item), 0) + 1

    def __contains__(self, item) -> bool:
        return self._count.get(id(item), 0) > 0

    def append(self, item) -> None:
        super().append(item)
        self._count[id(item)] = self._count.get(id(item), 0) + 1

    def remove(self, item) -> None:
        super().remove(item)
        self._count[id(item)] -= 1

    def copy(self) -> "_Waiting":
        return _Waiting(self)


def _context_init(self, *args, **kwargs):
    self._publish_continued, self._publish_gave_way = [], {}   # a long note's lines waiting (below)
    self._publish_carried, self._publish_limit = set(), None   # (below)
    _weasyprint_context_init(self, *args, **kwargs)
    self.footnotes = _Waiting()


def _note_height(context, note) -> float:
    """The note's height in the area, from a layout of the area holding this note alone, kept for the
    document's layout."""
    heights = context.__dict__.setdefault("_publish_note_heights", {})
    area = context.current_footnote_area
    key = (id(note), area.width)
    if key not in heights:
        single = build.create_anonymous_boxes(area.copy_with_children([note]).deepcopy())
        single = block_level_layout(context, single, -inf, None, area.page)[0]
        heights[key] = (single, note)   # the note kept alive: its id stays its own
    return heights[key][0].height


def _kept_area(context, area):
    """The page's footnote area `area` (a copy of the context's, as make_page lays it out) laid out from the
    layouts _note_height kept of its notes, stacked (notes have no margins to collapse), instead of laid out
    anew; None where a note's is not kept or is not a one-note area."""
    notes = context.current_footnote_area.children
    heights = context.__dict__.get("_publish_note_heights", {})
    kept = [heights.get((id(note), context.current_footnote_area.width), (None,))[0] for note in notes]
    if (not notes or len(notes) != len(area.children) or None in kept
            or any(len(single.children) != 1 for single in kept)):
        return None
    first = kept[0]
    laid = first.copy_with_children([])
    laid.page = area.page
    laid.translate(area.position_x - first.position_x, area.position_y - first.position_y)
    top = y = laid.content_box_y()
    for single in kept:
        note = single.children[0]
        note.translate(area.position_x - single.position_x, y - note.position_y)
        laid.children.append(note)
        y += note.margin_height()
    laid.height = max(min(y - top, laid.max_height), laid.min_height)
    return laid


def _page_block_level_layout(context, box, *args, **kwargs):
    """WeasyPrint's, for make_page: its page's footnote area from the kept layouts of its notes (_kept_area)."""
    if isinstance(box, boxes.FootnoteAreaBox) and (laid := _kept_area(context, box)) is not None:
        return laid, None, {"break": "any", "page": None}, [], False, None
    return block_level_layout(context, box, *args, **kwargs)


def update_footnote_area(self) -> bool:
    """WeasyPrint's _update_footnote_area, from the notes' kept heights: the same page bottom, area
    height and overflow (within ROUNDING_PX)."""
    area = self.current_footnote_area
    if area.height != "auto" and not self.really_in_column:
        self.page_bottom += area.margin_height()
    area.children = self.current_page_footnotes
    if not area.children:
        area.height = 0
        if not self.really_in_column:
            self.page_bottom -= area.margin_height()
        return False
    content = sum(_note_height(self, note) for note in area.children)
    area.height = min(content, area.max_height)
    if not self.really_in_column:
        self.page_bottom -= area.margin_height()
    return content > area.max_height + ROUNDING_PX


# A note goes to the next page away from its call when WeasyPrint "reports" it: it did not fit, or an
# earlier note was reported (`context.reported_footnotes` not empty: the notes keep their order). A long
# note's line after its first is a note too (`footnote-policy: auto`), so on a page the long note goes on
# over, its lines that did not fit there made every note called on the page go to the next page, its call
# left behind (a call in the page's first line cannot go with it). A typesetter shortens the continued
# note instead. So those lines wait apart (`_publish_continued`, in the document's order, which a line keeps
# by waiting while any waits), unseen by `reported_footnotes` while the page's lines are laid out; a note
# that does not fit beside them takes the room of the page's last ones, which get it back if the note goes
# after all (its line does not fit the page, or is taken off it); and when the page is made they join
# WeasyPrint's reported notes, ahead of them, to be laid out first on the next page.
def _is_continued(note) -> bool:
    return note.element is not None and CONTINUED in (note.element.get("class") or "").split()


def _get_reported(self) -> list:
    return self._publish_reported


def _set_reported(self, notes) -> None:
    """WeasyPrint sets the reported notes to none when it starts a page, and to the rest of them when it
    cannot lay them all out at the page's top: a long note's lines among them wait apart (after any that
    gave way, which come before them)."""
    self._publish_reported = [note for note in notes if not _is_continued(note)]
    self._publish_continued += [note for note in notes if _is_continued(note) and note not in self._publish_continued]


def layout_footnote(self, footnote) -> bool:
    overflow = _weasyprint_layout_footnote(self, footnote)
    if _is_continued(footnote):
        over_limit = self._publish_limit is not None and len(_called_here(self)) > self._publish_limit
        return overflow or over_limit or bool(self._publish_continued)   # after a line that waits, not before it
    gave_way = []   # (index on the page, line), the last line first
    while overflow and (lines := [n for n, note in enumerate(self.current_page_footnotes) if _is_continued(note)]):
        gave_way.append((lines[-1], self.current_page_footnotes.pop(lines[-1])))
        self._publish_continued.insert(0, gave_way[-1][1])
        overflow = self._update_footnote_area()
    if gave_way:
        self._publish_gave_way[id(footnote)] = gave_way
    return overflow


def _take_back(self, footnote) -> None:
    """The lines that gave way to a note that goes after all back on the page, if none has moved since."""
    gave_way = self._publish_gave_way.pop(id(footnote), [])
    if self._publish_continued[:len(gave_way)] != [line for _, line in reversed(gave_way)]:
        return
    del self._publish_continued[:len(gave_way)]
    for index, line in reversed(gave_way):
        self.current_page_footnotes.insert(index, line)
    self._update_footnote_area()


def report_footnote(self, footnote) -> None:
    if not _is_continued(footnote):
        _weasyprint_report_footnote(self, footnote)
        return _take_back(self, footnote)
    self.current_page_footnotes.remove(footnote)
    self._publish_continued.append(footnote)
    self._update_footnote_area()


def unlayout_footnote(self, footnote) -> None:
    """A line taken off the page (to the next one) takes its notes back, waiting ones too."""
    if footnote in self._publish_continued:
        self._publish_continued.remove(footnote)
        self.footnotes.append(footnote)
    else:
        _weasyprint_unlayout_footnote(self, footnote)
        _take_back(self, footnote)


def make_page(context, *args, **kwargs):
    context._publish_gave_way, context._publish_limit = {}, None
    context._publish_carried = {id(note) for note in context._publish_reported}
    made = _weasyprint_make_page(context, *args, **kwargs)
    context._publish_reported[:0] = context._publish_continued
    context._publish_continued = []
    return made


_CARRIED = property(_get_reported, _set_reported)


# A long note's lines fill the page's foot down to its call's line, and the paragraph's next line may then
# find no room: the call's line alone on the page is an orphan (or the next a widow), and WeasyPrint moves
# the paragraph, call and note, to the next page, leaving the page that many lines short (17 in the stress
# book's zh-Hant). A typesetter ends the note's part on the page a line sooner. So a paragraph that cannot
# be broken on the page where its long note's lines are is laid out again with one of the long notes'
# lines called on the page fewer (`_publish_limit`, for the rest of the page), until it can be; if it
# cannot with none of its note's lines, as WeasyPrint laid it out. Only for the paragraph of the call: one
# further down, moved whole to the next page, takes no call away (and shortening the note for it would
# set less of the note beside its call).
def _called_here(context) -> list:
    """The long notes' lines on the page whose call is on it (not carried from the page before)."""
    return [note for note in context.current_page_footnotes
            if _is_continued(note) and id(note) not in context._publish_carried]


def linebox_layout(context, box, index, child, new_children, page_is_empty, absolute_boxes, fixed_boxes, *args):
    laid, limit = len(new_children), context._publish_limit

    def layout():
        return _weasyprint_linebox_layout(context, box, index, child, new_children, page_is_empty,
                                          absolute_boxes, fixed_boxes, *args)

    def undo(result):
        """As WeasyPrint undoes an aborted paragraph (block_container_layout)."""
        remove_placeholders(context, new_children[laid:], absolute_boxes, fixed_boxes)
        for footnote in result[4]:
            context.unlayout_footnote(footnote)
        del new_children[laid:]

    def its_lines_on_page(result) -> bool:
        return any(_is_continued(note) and note in context.current_page_footnotes for note in result[4])

    result = layout()
    tried = False
    while result[0] and its_lines_on_page(result):   # result[0]: the paragraph aborted
        context._publish_limit = len(_called_here(context)) - 1
        undo(result)
        result, tried = layout(), True
    if result[0] and tried:   # even without its note's lines: as WeasyPrint laid it out
        undo(result)
        context._publish_limit = limit
        result = layout()
    return result


def _set_in_column(self, value) -> None:
    self.really_in_column = value


# A note stays on the page of its call. When a line overflows the page and breaking the paragraph there
# would leave a widow, WeasyPrint 70 first moves the page's notes to the next page, away from their calls,
# unless it is laying out columns (block._linebox_layout). Read as True, `in_column` makes it break the
# paragraph instead, as footnote-policy: line asks. Its other readers: avoid/force_page_break, which differ
# only for `column` values no layout uses, and the footnote area (update_footnote_area, which reads
# `really_in_column`, the flag as WeasyPrint set it).
_KEEP_NOTES_WITH_CALLS = property(lambda self: True, _set_in_column)


@contextlib.contextmanager
def active():
    LayoutContext._update_footnote_area = update_footnote_area
    LayoutContext.__init__ = _context_init
    LayoutContext.in_column = _KEEP_NOTES_WITH_CALLS
    LayoutContext.reported_footnotes = _CARRIED
    LayoutContext.layout_footnote = layout_footnote
    LayoutContext.report_footnote = report_footnote
    LayoutContext.unlayout_footnote = unlayout_footnote
    layout_page.make_page = make_page
    layout_page.block_level_layout = _page_block_level_layout
    layout_block._linebox_layout = linebox_layout
    try:
        yield
    finally:
        LayoutContext._update_footnote_area = _weasyprint_update_footnote_area
        LayoutContext.__init__ = _weasyprint_context_init
        LayoutContext.in_column = False   # WeasyPrint's default, for a context made while active
        del LayoutContext.reported_footnotes   # WeasyPrint's own: an attribute of each context
        LayoutContext.layout_footnote = _weasyprint_layout_footnote
        LayoutContext.report_footnote = _weasyprint_report_footnote
        LayoutContext.unlayout_footnote = _weasyprint_unlayout_footnote
        layout_page.make_page = _weasyprint_make_page
        layout_page.block_level_layout = block_level_layout
        layout_block._linebox_layout = _weasyprint_linebox_layout

"""WeasyPrint extension for Chinese text (W3C clreq): inter-character justification, the line
breaks clreq allows beside “ ”, and no Han–Latin gap at a line's edge.

WeasyPrint 70 justifies only at spaces, and Pango allows no break on either side of “ ” (Unicode
class QU). A line that would be stretched past MAX_STRETCH_EM a gap takes one more unit instead, if
its line-end mark can make room: halved in zh-Hans (clreq's first resort, squeezing), hung past the
edge in Traditional text, whose marks stay full width. Active only inside `active()`; it replaces four
functions of WeasyPrint's inline layout (can_break_text, split_inline_box, justify_line, text_align),
so it is written for, and checked against, one exact WeasyPrint version.
"""
from __future__ import annotations

import contextlib
import re

import weasyprint

from .errors import PublishError
from .typeset import CLOSING   # the marks a line may end with: halved (zh-Hans) or hung (zh-Hant)

WEASYPRINT_VERSION = "70.0"
if weasyprint.__version__ != WEASYPRINT_VERSION:
    raise PublishError(f"publish.weasyprint_cjk is written for WeasyPrint {WEASYPRINT_VERSION}, "
                       f"found {weasyprint.__version__}",
                       hint=f"pip install weasyprint=={WEASYPRINT_VERSION} (pyproject.toml pins it)")

from weasyprint.formatting_structure import boxes  # noqa: E402  (after the version check)
from weasyprint.layout import inline  # noqa: E402
from weasyprint.text import line_break  # noqa: E402
from weasyprint.text.ffi import TO_UNITS, ffi, pango  # noqa: E402

# Characters of a Chinese line that take inter-character spacing: Han, CJK and full-width marks.
CJK = re.compile("[\u2014\u2018\u2019\u201c\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
                 "\uf900-\ufaff\uff01-\uff60\U00020000-\U0003ffff]")
NO_LINE_START = set("，。、；：？！”’）》」』〉】…—·%‰℃")
NO_LINE_END = set("“‘（《「『〈【")
MARKS = set("，。、；：？！“”‘’（）《》〈〉【】「」『』…—")
OPENING_QUOTES = set("“‘")
CLOSING_QUOTES = set("”’")
# pdf.js reads a gap of 0.102 em or more between two glyphs as a space (TRACKING_SPACE_FACTOR), so a
# line stretched wider than this copies and searches with a space between every character.
MAX_STRETCH_EM = 0.1


def clreq_break(before: str, after: str) -> bool | None:
    """Whether a line may break between two characters at an element boundary; None: ask Pango."""
    if before in NO_LINE_END or after in NO_LINE_START:
        return False
    if after in OPENING_QUOTES or before in CLOSING_QUOTES:
        return True
    return None


_pango_can_break_text = line_break.can_break_text
_weasyprint_split_inline_box = inline.split_inline_box
_weasyprint_justify_line = inline.justify_line
_weasyprint_text_align = inline.text_align


def can_break_text(text, lang):
    # WeasyPrint asks with the two characters either side of an element boundary.
    if text and len(text) == 2 and (verdict := clreq_break(text[0], text[1])) is not None:
        return verdict
    return _pango_can_break_text(text, lang)


class SpacedLayout(line_break.Layout):
    """A text box's layout with Pango letter-spacing: Pango adds it between the box's glyphs only
    (none before the first or after the last), which is the inter-character spacing clreq asks for.
    Drawing re-creates the layout through set_text, so the spacing lives here."""

    def __init__(self, style, spacing, halve_last=False):
        self.spacing = spacing
        self.halve_last = halve_last
        super().__init__(style)

    def set_text(self, text, justify=False):
        super().set_text(text, justify)
        attributes = pango.pango_layout_get_attributes(self.layout)
        if attributes == ffi.NULL:
            attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        attribute = pango.pango_attr_letter_spacing_new(round(self.spacing * TO_UNITS))
        attribute.start_index, attribute.end_index = 0, len(self.text.encode())
        pango.pango_attr_list_change(attributes, attribute)
        if self.halve_last:
            # The font's own half-width metrics (halt) for the line-end mark; inserted, not changed,
            # so that Pango adds it to the style's features instead of replacing them.
            halve = pango.pango_attr_font_features_new(b"halt 1")
            halve.start_index = len(self.text[:-1].encode())
            halve.end_index = len(self.text.encode())
            pango.pango_attr_list_insert(attributes, halve)
        pango.pango_layout_set_attributes(self.layout, attributes)


def _text_boxes(box):
    if isinstance(box, boxes.TextBox):
        yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child)


def _gaps(box) -> int:
    """Gaps between the box's characters that take spacing: none inside a halved pair (1.5 em)."""
    return len(box.text) - 1 if CJK.search(box.text) and not _halted(box) else 0


def _halted(box) -> bool:
    features = box.style["font_feature_settings"]
    return features != "normal" and dict(features).get("halt", 0) != 0


def _junctions(texts) -> list[int]:
    """Text boxes whose boundary with the box before is a gap between two Chinese characters (an
    element boundary: a quotation, a tied paragraph end); not beside a halved mark, whose pair must
    keep its 1.5 em, nor beside Latin, whose gap is its margin."""
    return [id(b) for a, b in zip(texts, texts[1:])
            if a.text and b.text and CJK.match(a.text[-1]) and CJK.match(b.text[0])
            and not _halted(a) and not _halted(b)]


def _spread(box, spacing, x_advance, junctions, unhalt=None):
    """Letter-space every Chinese text box of the line, widen the junctions by what `junctions`
    says, and move what follows, as WeasyPrint's add_word_spacing does for word spacing; `unhalt`
    is set full width again."""
    if isinstance(box, boxes.TextBox):
        x_advance += junctions.get(id(box), 0)
        box.position_x += x_advance
        if box is unhalt:
            box.style = box.style.copy()
            box.style["font_feature_settings"] = "normal"
        if _gaps(box) or box is unhalt:
            layout = SpacedLayout(box.style, spacing if _gaps(box) else 0, getattr(box, "halve_last", False))
            layout.set_text(box.text)
            line, _ = layout.get_first_line()
            width, _ = line_break.line_size(line, box.style)
            layout.deactivate()
            x_advance += width - box.width
            box.width = width
            box.pango_layout = layout
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        before = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _spread(child, spacing, x_advance, junctions, unhalt)
        box.width += x_advance - before
    else:
        box.translate(x_advance, 0)
    return x_advance


def _gap_count(texts) -> int:
    return sum(_gaps(b) for b in texts) + len(_junctions(texts))


def _traditional(style) -> bool:
    """Traditional Chinese keeps every mark full width (the proof's rule 5): its line end hangs."""
    lang = (style["lang"] or "").lower()
    return lang.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo"))


def split_inline_box(context, box, position_x, max_x, bottom_space, skip_stack, containing_block,
                     absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children,
                     first_letter_style, first_line_style):
    """A justified Chinese line that would need more than MAX_STRETCH_EM a gap is laid out again with
    room for one more unit, kept if that line ends with a mark whose halving (zh-Hans) or hanging
    (Traditional) makes it fit; `line.cjk_end` tells text_align which, and by how much."""
    collected = (absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children)
    before = [len(items) for items in collected]
    result = _weasyprint_split_inline_box(
        context, box, position_x, max_x, bottom_space, skip_stack, containing_block, *collected,
        first_letter_style, first_line_style)
    line, resume_at = result[0], result[1]
    if not isinstance(box, boxes.LineBox) or resume_at is None or box.style["text_align_all"] != "justify":
        return result
    em = box.style["font_size"]
    gaps = _gap_count(list(_text_boxes(line)))
    if not gaps or (max_x - position_x - line.width) / gaps <= MAX_STRETCH_EM * em:
        return result
    hang = _traditional(box.style)
    room = em if hang else em / 2
    retried = tuple([] for _ in collected)
    again = _weasyprint_split_inline_box(
        context, box, position_x, max_x + room, bottom_space, skip_stack, containing_block, *retried,
        first_letter_style, first_line_style)
    texts = list(_text_boxes(again[0]))
    if not texts or texts[-1].text[-1:] not in CLOSING or again[0].width <= line.width:
        return result
    if (hang and texts[-1].width < em) or (not hang and _halted(texts[-1])):
        return result                  # a mark already halved, or too narrow to hang a full em
    for items, count, replacement in zip(collected, before, retried):
        del items[count:]
        items.extend(replacement)
    again[0].cjk_end = ("hang" if hang else "halve", room)
    return again


def _halve_last_mark(line) -> None:
    """Set the line's last mark with the font's half-width metrics and narrow its boxes to match."""
    path, box = [], line
    while isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        path.append(box)
        box = [c for c in box.children if c.is_in_normal_flow()][-1]
    box.halve_last = True
    layout = SpacedLayout(box.style, 0, halve_last=True)
    layout.set_text(box.text)
    first, _ = layout.get_first_line()
    width, _ = line_break.line_size(first, box.style)
    layout.deactivate()
    for owner in path:
        owner.width += width - box.width
    box.width, box.pango_layout = width, layout


def justify_line(context, line, extra_width):
    texts = list(_text_boxes(line))
    junctions = _junctions(texts)
    gaps = sum(_gaps(b) for b in texts) + len(junctions)
    if not gaps:
        return _weasyprint_justify_line(context, line, extra_width)
    # A mark halved for its pair partner on the next line ends this line: clreq sets line-end marks
    # full width, if the line's gaps can give the half em back; else it stays half (also clreq).
    partner_here = len(texts) > 1 and texts[-2].text[-1:] in MARKS
    unhalt = texts[-1] if _halted(texts[-1]) and not partner_here and extra_width >= texts[-1].width else None
    if unhalt:
        extra_width -= texts[-1].width
    spacing = extra_width / gaps
    added = _spread(line, spacing, 0, dict.fromkeys(junctions, spacing), unhalt)
    added -= texts[-1].width / 2 if unhalt else 0
    # Pango spaces clusters, not characters: where the font joins some (—— is one glyph), space again
    # with the gaps Pango really made (boxes are re-laid from their current width, junctions widen).
    if spacing and abs(added - extra_width) > 0.01 and added / spacing > 0.5:
        again = spacing * extra_width / added
        _spread(line, again, 0, dict.fromkeys(junctions, again - spacing))


def _edge_run(line, side):
    """The Latin run (span.hl) that starts (side 0) or ends (-1) the line, and its ancestors."""
    path, box = [], line
    while isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        children = [c for c in box.children if c.is_in_normal_flow()]
        if not children:
            return None, path
        box = children[side]
        if isinstance(box, boxes.InlineBox) and box.element is not None and "hl" in box.element.get("class", "").split():
            return box, path
        path.append(box)
    return None, path


def text_align(context, line, available_width, last):
    """clreq puts no Han–Latin gap at a line's edge: a Latin run starting or ending the line loses
    its margin on that side (the typesetting stage's margins stand for text-autospace). A line that
    split_inline_box let take one more unit has its last mark halved, or hung past the edge."""
    end, room = getattr(line, "cjk_end", (None, 0))
    if end == "halve":
        _halve_last_mark(line)
    elif end == "hang":
        line.width -= room
        offset = _align_edges(context, line, available_width, last)
        line.width += room
        return offset
    return _align_edges(context, line, available_width, last)


def _align_edges(context, line, available_width, last):
    run, ancestors = _edge_run(line, 0)
    if run is not None and run.margin_left:
        shift, run.margin_left = run.margin_left, 0
        for child in line.children:
            child.translate(-shift, 0)
        for box in (*ancestors, run):
            box.position_x += shift
        for box in (line, *ancestors):
            box.width -= shift
    run, ancestors = _edge_run(line, -1)
    if run is not None and run.margin_right:
        for box in (line, *ancestors):
            box.width -= run.margin_right
        run.margin_right = 0
    return _weasyprint_text_align(context, line, available_width, last)


@contextlib.contextmanager
def active():
    """WeasyPrint lays out (and draws) Chinese lines the clreq way inside this block."""
    inline.can_break_text, inline.split_inline_box, inline.justify_line, inline.text_align = (
        can_break_text, split_inline_box, justify_line, text_align)
    try:
        yield
    finally:
        inline.can_break_text, inline.split_inline_box, inline.justify_line, inline.text_align = (
            _pango_can_break_text, _weasyprint_split_inline_box, _weasyprint_justify_line,
            _weasyprint_text_align)

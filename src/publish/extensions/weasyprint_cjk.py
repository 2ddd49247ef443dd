"""WeasyPrint extension for Chinese text (W3C clreq): inter-character justification, the line
breaks clreq allows beside “ ”, and the Han–Latin gap, never at a line's edge.

WeasyPrint 70 justifies only at spaces, and Pango allows no break on either side of “ ” (Unicode
class QU). In Simplified Chinese text the first mark of each pair is set half width (`halt`); a line
may break beside a quotation mark as clreq allows, never right before ——, nor inside a paragraph's
last two Han; a Latin or digit run keeps 3/16 em from the Han beside it (the glyph before the gap is
widened): all read from the text itself, not from an element each: an element is an inline box,
and the boxes cost WeasyPrint more than all the rest (typeset.py `pdf`). Each justified line is fitted
the way that moves it least (clreq 3.1.7, line adjustment): stretched as laid out, or taking the next
unit and squeezing its marks (zh-Hans: half width with the font's `halt`, line-end mark first, then
pairs, then single marks) or hanging its line-end mark (Traditional text, whose marks stay full width
in the body); a line that neither way avoids gaps too wide for even colour before an address breaks
inside the address's next segment. Active only inside `active()`; it replaces six functions of
WeasyPrint's inline layout (can_break_text, split_first_line, split_text_box, split_inline_box,
justify_line, text_align), the split_first_line its preferred widths use, two of its text layout
(Layout.set_text, first_line_metrics) and draw_text with draw_first_line (a hyphenated word copies
whole), so it is written for, and checked against, one exact WeasyPrint version.
"""
from __future__ import annotations

import bisect
import contextlib
import copy
import functools
import io
import re
from math import ceil, inf

import pyphen
import weasyprint

from ..errors import PublishError
# The marks a line may squeeze (zh-Hans) or end with hung (zh-Hant); the pairs' marks set half width.
from ..stages.typeset import (CLOSING, HAN_CHAR, HAN_LATIN_GAP_EM, LATIN_CHAR, LATIN_RUN, OPENING, TIE_UNIT,
                              halted_marks, latin_gaps)

WEASYPRINT_VERSION = "70.0"
if weasyprint.__version__ != WEASYPRINT_VERSION:
    raise PublishError(f"publish.extensions.weasyprint_cjk is written for WeasyPrint {WEASYPRINT_VERSION}, "
                       f"found {weasyprint.__version__}",
                       hint=f"pip install weasyprint=={WEASYPRINT_VERSION} (pyproject.toml pins it)")

from fontTools.pens.basePen import BasePen  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from weasyprint import draw  # noqa: E402  (after the version check)
from weasyprint.draw import text as draw_text_module  # noqa: E402
from weasyprint.formatting_structure import boxes  # noqa: E402
from weasyprint.layout import inline, preferred  # noqa: E402
from weasyprint.text import line_break  # noqa: E402
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango  # noqa: E402
from weasyprint.text.fonts import font_features, get_hb_object_data  # noqa: E402

# Characters of a Chinese line that take inter-character spacing: Han, CJK and full-width marks.
CJK = re.compile("[\u2014\u2018\u2019\u201c\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
                 "\uf900-\ufaff\uff01-\uff60\U00020000-\U0003ffff]")
NO_LINE_START = set("，。、；：？！”’）》」』〉】…—·%‰℃")
NO_LINE_END = set("“‘（《「『〈【")
MARKS = set("，。、；：？！“”‘’（）《》〈〉【】「」『』…—")
ADJACENT_MARKS = re.compile("[，。、；：？！“”‘’（）《》〈〉【】「」『』…—]{2}")   # where a pair may be
OPENING_QUOTES = set("“‘")
CLOSING_QUOTES = set("”’")
# pdf.js reads a gap of 0.102 em or more between two glyphs as a space (TRACKING_SPACE_FACTOR), so a
# line stretched wider than this copies and searches with a space between every character.
MAX_STRETCH_EM = 0.1
# Latin letters spaced to relieve such a line (poppler, like pdf.js, reads about 0.1 em as a space).
MAX_LATIN_TRACKING_EM = 0.06
# A wider gap between Han breaks a line's even colour (the proof's rules 8 and 9). A line that would need
# one, because the address segment after it does not fit in what is left and it has no mark to squeeze
# or hang, breaks inside that segment instead.
MAX_COLOUR_GAP_EM = 0.15


# The least advance, in ems, of a Han character (every CJK font's ideographs are square), a full-width mark
# (halved: half an em; the fonts' narrowest, …, is 0.89 em whole) and a Latin letter or digit (the fonts'
# narrowest, j, is 0.31 em); any other character (a space, a zero-width mark) counts nothing.
LEAST_ADVANCE_EM = ((HAN_CHAR, 1.0), (re.compile(f"[{''.join(sorted(MARKS))}]"), 0.4), (LATIN_CHAR, 0.2))
# Characters read past a line's end to know where it may break (……” before a full stop is four that may not
# start a line).
LOOKAHEAD = 8


# A URL, e-mail address or path breaks after these and before # and -, at the edges of the typesetting
# stage's segments (span.u); Pango's rules (UAX 14) allow no break after . _ & = nor before # and -.
ADDRESS_BREAK_AFTER = set("/._?&=")
ADDRESS_BREAK_BEFORE = set("#-")
ADDRESS_CHAR = re.compile("[A-Za-z0-9#%~]")


# Inside an address segment, as a last resort, a line breaks between the parts of a CamelCase name or
# at a syllable boundary of a word (pyphen's patterns), else between two letters or digits; two
# characters stay together on each side (so never inside a %XX escape), and no hyphen is added: the
# address copies whole, and a hyphen would read as part of it.
SYLLABLES = pyphen.Pyphen(lang="en_US", left=2, right=2)
ALPHANUMERIC_RUN = re.compile("[A-Za-z0-9]+")
WORD_PART = re.compile("[A-Z]?[a-z]+")


def address_breaks(text: str, letters: bool = False) -> list[int]:
    """Where a segment of an address may break inside (indices into `text`), as above: at syllables
    and CamelCase parts, or with `letters` between any two letters or digits."""
    cuts = []
    for run in ALPHANUMERIC_RUN.finditer(text):
        word, start = run.group(), run.start()
        if letters:
            inside = range(len(word))
        else:
            inside = set()
            for part in WORD_PART.finditer(word):
                if part.start() and word[part.start() - 1].islower():
                    inside.add(part.start())                     # Weasy|Print
                inside.update(part.start() + k for k in SYLLABLES.positions(part.group()))
        cuts += [start + k for k in sorted(inside) if 2 <= k <= len(word) - 2]
    return cuts


def clreq_break(before: str, after: str) -> bool | None:
    """Whether a line may break between two characters at an element boundary; None: ask Pango."""
    if (before in ADDRESS_BREAK_AFTER and ADDRESS_CHAR.match(after)
            or after in ADDRESS_BREAK_BEFORE and ADDRESS_CHAR.match(before)):
        return True
    if before == "-" and ADDRESS_CHAR.match(after):
        return False                   # an address's hyphen (its own segment) starts the next line
    if before in NO_LINE_END or after in NO_LINE_START:
        return False
    if after in OPENING_QUOTES or before in CLOSING_QUOTES:
        return True
    return None


_pango_can_break_text = line_break.can_break_text
_weasyprint_split_first_line = inline.split_first_line
_weasyprint_preferred_split_first_line = preferred.split_first_line
_weasyprint_split_text_box = inline.split_text_box
_weasyprint_first_line_metrics = line_break.first_line_metrics
_weasyprint_set_text = line_break.Layout.set_text
_weasyprint_split_inline_box = inline.split_inline_box
_weasyprint_justify_line = inline.justify_line
_weasyprint_text_align = inline.text_align
_weasyprint_draw_text = draw.draw_text
_weasyprint_draw_first_line = draw_text_module.draw_first_line


# While split_inline_box lays a line out again to break inside an address segment: which breaks it
# may take ("syllables" or "letters"), and whether the box being laid out is an address's (span.url).
_inside_addresses = {"breaks": None, "address": False}


@contextlib.contextmanager
def _breaking_inside(box, breaks=None):
    """Lays out `box` with `breaks` inside address segments allowed (or, given None, as set around it)."""
    saved = dict(_inside_addresses)
    if breaks:
        _inside_addresses["breaks"] = breaks
    if _address(box):
        _inside_addresses["address"] = True
    try:
        yield
    finally:
        _inside_addresses.update(saved)


def _address(box) -> bool:
    return isinstance(box, boxes.InlineBox) and box.element is not None and "url" in box.element.get("class", "").split()


# Pango breaks a line beside 「 」 『 』 as clreq allows beside “ ” ‘ ’ (Unicode's OP and CL, not QU), and the
# fonts set both alike (an em, half with `halt`): a text is broken with its quotation marks read as these,
# then laid out as it is (first_line_metrics).
QUOTES_AS_BRACKETS = str.maketrans("“”‘’", "「」『』")
QUOTES = re.compile("[“”‘’]")
# The text split_first_line is breaking, as it is and as broken (its quotation marks read as brackets):
# Layout.set_text halves the pairs' marks of a part of it as the whole text does (a line-end mark whose
# partner starts the next line stays half, until justify_line sees the room to set it whole).
_splitting = {"text": None, "broken": None, "tie": None}
# The paragraph's tied end (clreq: its last line holds at least two Han): while split_inline_box lays out
# a paragraph's line, its last text box and where in its text the tie starts (the second-to-last Han);
# split_text_box gives split_first_line that place in the text it breaks (`_splitting["tie"]`).
_tie = {"box": None, "at": 0}
# The layout of the last text split_first_line broke, and the text after the break: split_inline_box
# reads on it whether a line could take more (_may_take_more).
_last_break = {"layout": None, "rest": ""}


def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
    """Breaks beside quotation marks in Chinese text (QUOTES_AS_BRACKETS), and counts the Han–Latin gaps
    (typeset.latin_gaps) in the line's width, which Pango does not: where they would make it overflow, the
    text is broken again in the measure less the gaps. An address segment that overflows the line, while
    split_inline_box allows it, keeps the longest of its `address_breaks` that fits."""
    result = _broken_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)
    widened = _with_latin_gaps(result, text, style)
    if max_width is not None and widened[3] > max_width and widened is not result:
        gaps = widened[3] - result[3]
        widened = _with_latin_gaps(_broken_first_line(text, style, context, max_width - gaps, justification_spacing,
                                                      is_line_start, minimum), text, style)
    return widened


def _with_latin_gaps(result, text, style):
    """split_first_line's `result` for `text`, its width with the Han–Latin gaps of its first line."""
    line = text if result[2] is None else text.encode()[:result[2]].decode()
    gaps = _latin_gap_width(line, style)
    return (*result[:3], result[3] + gaps, *result[4:]) if gaps else result


def preferred_split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True,
                               minimum=False):
    """WeasyPrint's, for the min- and max-content widths (layout.preferred), with the Han–Latin gaps."""
    return _with_latin_gaps(_weasyprint_split_first_line(text, style, context, max_width, justification_spacing,
                                                         is_line_start, minimum), text, style)


def _latin_gap_units(style) -> int:
    """A Han–Latin gap's width in Pango's units, as the glyph before it is widened (_widen_before)."""
    return round(HAN_LATIN_GAP_EM * style["font_size"] * TO_UNITS)


def _latin_gap_width(text, style) -> float:
    """What the Han–Latin gaps of a line's `text` add to its width (none at the line's edges)."""
    gaps = latin_gaps(text)
    return len(gaps) * _latin_gap_units(style) * FROM_UNITS if gaps else 0


def _filling(text, ems) -> int:
    """The length of the start of `text` that surely fills a line `ems` wide, counting each character's
    least advance (LEAST_ADVANCE_EM), and LOOKAHEAD characters more to show where the line may break."""
    end, filled = 0, 0.0
    while filled < ems and end < len(text):
        chunk = text[end:end + max(1, ceil(ems - filled))]    # what fills the rest if all of it is Han
        filled += sum(len(pattern.findall(chunk)) * least for pattern, least in LEAST_ADVANCE_EM)
        end += len(chunk)
    return min(len(text), end + LOOKAHEAD)


def _broken_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum):
    broken = text
    if style["hyphens"] != "auto" and _chinese(style) and QUOTES.search(text):
        broken = text.translate(QUOTES_AS_BRACKETS)
    tie = _splitting["tie"]
    saved = dict(_splitting)
    _splitting.update(text=text, broken=broken, tie=None)
    try:
        result = None
        if (_chinese(style) and not minimum and max_width is not None and 0 < max_width < inf
                and style["font_size"] and style["hyphens"] != "auto"):
            # WeasyPrint lays out four lines' worth of the text to find where the first line ends (its
            # `ratio`, for Latin words); what surely fills one line, and a few characters to look ahead, do.
            # If they fit on one line after all, the whole text is laid out.
            shorter = _filling(broken, max_width / style["font_size"])
            if shorter < len(broken):
                result = _weasyprint_split_first_line(broken[:shorter], style, context, max_width,
                                                      justification_spacing, is_line_start, minimum)
                result = result if result[2] is not None else None
        if result is None:
            result = _weasyprint_split_first_line(broken, style, context, max_width, justification_spacing,
                                                  is_line_start, minimum)
        if result[2] is not None and _chinese(style):
            result = _moved_before_tie_or_dash(result, text, tie, style, context, max_width, justification_spacing,
                                               is_line_start, minimum)
    finally:
        _splitting.update(saved)
    if result[2] is not None:
        _last_break.update(layout=result[0], rest=text.encode()[result[2]:].decode())
    breaks, width = _inside_addresses["breaks"], result[3]
    if not breaks or not _inside_addresses["address"] or max_width is None or width <= max_width:
        return result
    for cut in reversed(address_breaks(text, letters=breaks == "letters")):
        layout = line_break.create_layout(text[:cut], style, context, max_width, justification_spacing)
        first_line, index = layout.get_first_line()
        if index is None and line_break.line_size(first_line, style)[0] <= max_width:
            return line_break.first_line_metrics(first_line, text, layout, len(text[:cut].encode()),
                                                 style["white_space"] in ("normal", "nowrap", "pre-line"), style)
        layout.deactivate()
    return result


def _moved_before_tie_or_dash(result, text, tie, style, context, max_width, justification_spacing, is_line_start,
                              minimum):
    """split_first_line's `result`, or, if it breaks inside the paragraph's tied end (from `tie`, an index
    into `text`) or right before —— (a dash stays with the character before it), the line broken at the
    latest place before that where a line may break."""
    at = len(text.encode()[:result[2]].decode())
    k = min(at, tie) if tie is not None else at
    while k > 0 and (text.startswith("——", k) and text[k - 1] != "—"
                     or not can_break_text(text[k - 1:k + 1], style["lang"])):
        k -= 1
    if k == at or k <= 0:
        return result
    again = _weasyprint_split_first_line(_splitting["broken"][:k], style, context, max_width, justification_spacing,
                                         is_line_start, minimum)
    if again[2] is not None:
        return again
    layout, length, _, width, height, baseline = again
    return layout, length, len(text[:k].encode()), width, height, baseline


def split_text_box(context, box, available_width, skip, is_line_start=True):
    """WeasyPrint's, telling split_first_line where the paragraph's tied end starts in the text it breaks."""
    if box is not _tie["box"]:
        return _weasyprint_split_text_box(context, box, available_width, skip, is_line_start)
    _splitting["tie"] = _tie["at"] - len(box.text.encode()[:skip or 0].decode())
    try:
        return _weasyprint_split_text_box(context, box, available_width, skip, is_line_start)
    finally:
        _splitting["tie"] = None


def _tied_end(line) -> tuple:
    """A paragraph's tied end, as _tie holds it: its line box's last child, a text box holding two Han or
    Latin runs or more (typeset.TIE_UNIT), and the index of its second-to-last (typeset.py leaves this tie
    to the layout, `pdf`); else (None, 0). Kept on the line box, which WeasyPrint lays out line after line."""
    if "cjk_tie" not in line.__dict__:
        tie = (None, 0)
        last = line.children[-1] if line.children and line.element_tag == "p" else None
        if isinstance(last, boxes.TextBox):
            units = [m.start() for m in TIE_UNIT.finditer(last.text)]
            if len(units) >= 2:
                tie = (last, units[-2])
        line.cjk_tie = tie
    return line.cjk_tie


def first_line_metrics(first_line, text, layout, resume_at, space_collapse, style, hyphenated=False,
                       hyphenation_character=None):
    """WeasyPrint's, on the text as it is where split_first_line broke it with quotation marks read as
    brackets: the layout takes the quotation marks back (their widths are the brackets'; drawing lays the
    layout's text out anew, Layout.reactivate). A Chinese line broken where no space is trimmed is measured
    as it is, not laid out again alone as WeasyPrint does: Pango shapes the parts of a broken run anew, so
    the line measures the same."""
    real, broken = _splitting["text"], _splitting["broken"]
    if broken is not real and broken.startswith(text):
        text = real[:len(text)]
        if not resume_at:      # WeasyPrint sets the first line's text only when it breaks
            layout.text = real[:len(layout.text)]
    line_text = text.encode()[:first_line.length].decode() if resume_at else None
    if not resume_at and _chinese(style):
        layout.one_glyph_each = _glyph_count(first_line) == len(layout.text)
    if not resume_at or hyphenated or not _chinese(style) or (space_collapse and line_text.endswith(" ")):
        return _weasyprint_first_line_metrics(first_line, text, layout, resume_at, space_collapse, style, hyphenated,
                                              hyphenation_character)
    # justify_line counts the letter-spacing of a line whose characters are one glyph each (no —— joined).
    layout.one_glyph_each = _glyph_count(first_line) == len(line_text)
    length, (width, height) = first_line.length, line_break.line_size(first_line, style)
    baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
    layout.text = line_text
    if "halves" in layout.__dict__:
        layout.halves = frozenset(i for i in layout.halves if i < len(line_text))
    layout.deactivate()      # frees the line
    return layout, length, resume_at, width, height, baseline


def _glyph_count(line) -> int:
    count, run = 0, line.runs
    while run != ffi.NULL:
        count += run.data.glyphs.num_glyphs
        run = run.next
    return count


def can_break_text(text, lang):
    # WeasyPrint asks with the two characters either side of an element boundary.
    if text and len(text) == 2 and (verdict := clreq_break(text[0], text[1])) is not None:
        return verdict
    return _pango_can_break_text(text, lang)


def _chinese(style) -> bool:
    return (style["lang"] or "").lower().startswith("zh")


def _halving(style, justification) -> bool:
    """Whether a text in `style` has its pairs' marks halved: Simplified Chinese, and no spacing for
    WeasyPrint's set_text to carry as attributes of its own."""
    return (_chinese(style) and not _traditional(style) and style["letter_spacing"] in ("normal", 0)
            and not style["word_spacing"] + justification and style["overflow_wrap"] == "normal")


def _pair_halves(text) -> frozenset[int]:
    """The marks of `text` to set half width: typeset.halted_marks of the text split_first_line is
    breaking, when `text` starts it, else of `text` alone."""
    source = text
    for whole in (_splitting["text"], _splitting["broken"]):
        if whole is not None and whole.startswith(text):
            source = whole[:len(text) + 2]     # a pair's second unit (…… ——) is two characters
            break
    return _halves_in(source, len(text))


def _halves_in(source, length) -> frozenset[int]:
    """typeset.halted_marks of `source` before `length` (the marks after it only complete the pairs)."""
    if not ADJACENT_MARKS.search(source):
        return frozenset()
    return frozenset(i for i in halted_marks(source) if i < length)


def _insert_halves(attributes, text, indices) -> None:
    for index in sorted(indices):
        # The font's own half-width metrics (halt); inserted, not changed, so that Pango adds it to
        # the style's features instead of replacing them.
        halve = pango.pango_attr_font_features_new(b"halt 1")
        halve.start_index = len(text[:index].encode())
        halve.end_index = len(text[:index + 1].encode())
        pango.pango_attr_list_insert(attributes, halve)


def _style_attributes(style):
    """The attributes Layout.setup gives a layout: the style's font features, or none."""
    features = font_features(
        style["font_kerning"], style["font_variant_ligatures"], style["font_variant_position"],
        style["font_variant_caps"], style["font_variant_numeric"], style["font_variant_alternates"],
        style["font_variant_east_asian"], style["font_feature_settings"])
    if not features:
        return ffi.NULL
    attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    pango.pango_attr_list_insert(attributes, pango.pango_attr_font_features_new(
        ",".join(f"{key} {value}" for key, value in features.items()).encode()))
    return attributes


def set_text(self, text, justify=False):
    """WeasyPrint's Layout.set_text, with the pairs' marks halved (`halves`: their indices): as in the
    text being broken (_pair_halves), or, for the text set again (drawing), as they were."""
    kept = self.__dict__.get("halves") if text == self.__dict__.get("text") else None
    if self.__dict__.get("halves"):     # the attributes hold another text's halves: back to the style's
        pango.pango_layout_set_attributes(self.layout, _style_attributes(self.style))
    _weasyprint_set_text(self, text, justify)
    halving = _halving(self.style, self.justification_spacing if justify else 0)
    self.halves = (kept if kept is not None else _pair_halves(self.text)) if halving else frozenset()
    if self.halves:
        attributes = pango.pango_layout_get_attributes(self.layout)
        if attributes == ffi.NULL:
            attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        _insert_halves(attributes, self.text, self.halves)
        pango.pango_layout_set_attributes(self.layout, attributes)


class SpacedLayout(line_break.Layout):
    """A text box's layout with Pango letter-spacing: Pango adds it between the box's glyphs only
    (none before the first or after the last), which is the inter-character spacing clreq asks for.
    Drawing re-creates the layout through set_text, so the spacing lives here."""

    def __init__(self, style, spacing, halve=frozenset(), chinese=True):
        self.spacing = spacing
        self.halves = halve      # indices of the marks set half width
        self.chinese = chinese   # the spacing is between Chinese characters, not a Latin run's tracking
        super().__init__(style)

    @classmethod
    def unlaid(cls, style, spacing, halves, chinese, text, natural):
        """One whose text is laid out only when drawn (Layout.reactivate), for a box whose width is counted:
        `natural`, its width unspaced, with one glyph a character (first_line_metrics)."""
        layout = cls.__new__(cls)
        layout.spacing, layout.halves, layout.chinese, layout.natural = spacing, halves, chinese, natural
        layout.style, layout.text, layout.justification_spacing, layout.max_width = style, text, 0, None
        return layout

    def set_text(self, text, justify=False):
        _weasyprint_set_text(self, text, justify)
        attributes = pango.pango_layout_get_attributes(self.layout)
        if attributes == ffi.NULL:
            attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        attribute = pango.pango_attr_letter_spacing_new(round(self.spacing * TO_UNITS))
        attribute.start_index, attribute.end_index = 0, len(self.text.encode())
        pango.pango_attr_list_change(attributes, attribute)
        for index in _unspaced(self.text, self.halves, self.chinese):
            attribute = pango.pango_attr_letter_spacing_new(0)
            attribute.start_index = len(self.text[:index].encode())
            attribute.end_index = len(self.text[:index + 1].encode())
            pango.pango_attr_list_change(attributes, attribute)
        _insert_halves(attributes, self.text, self.halves)
        pango.pango_layout_set_attributes(self.layout, attributes)


def _text_boxes(box):
    if isinstance(box, boxes.TextBox):
        yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child)


def _gaps(box, latin=False) -> float:
    """Gaps between the characters of a Chinese box that take spacing, or with `latin` of a Latin box."""
    return _text_gaps(box.text, _halves(box), latin)


@functools.lru_cache(maxsize=256)    # a line's boxes are counted several times as it is fitted and justified
def _text_gaps(text, halves, latin) -> float:
    """_gaps of a box's `text` with the marks at `halves` set half width. Pango puts half a character's
    letter-spacing before it and half after (none before the first, none after the last): a gap beside an
    unspaced character takes half."""
    if bool(CJK.search(text)) == latin:
        return 0
    unspaced = _unspaced(text, halves, chinese=not latin)
    last = len(text) - 1
    # Of the `last` gaps, those between two unspaced characters take none, beside one of them half.
    both = sum(1 for k in unspaced if k > 0 and k - 1 in unspaced)
    beside = sum((k > 0 and k - 1 not in unspaced) + (k < last and k + 1 not in unspaced) for k in unspaced)
    return last - both - beside / 2


def _unspaced(text, halves, chinese=True) -> set[int]:
    """The characters of `text` that take no letter-spacing: two marks side by side, one of them halved,
    so that a halved pair keeps its 1.5 em, and in a `chinese` text (its spacing is the Chinese gaps', not
    a Latin run's tracking) a Latin or digit run's, whose letters stay together."""
    unspaced = {i for h in halves for k in (h, h + 1) if 0 < k < len(text)
                and text[k] in MARKS and text[k - 1] in MARKS for i in (k - 1, k)}
    if chinese and LATIN_CHAR.search(text):
        unspaced.update(i for m in LATIN_RUN.finditer(text) for i in range(*m.span()))
    return unspaced


def _halted(box) -> bool:
    """Whether the whole box is set half width (a typeset `halt` span: the layouts' titles)."""
    features = box.style["font_feature_settings"]
    return features != "normal" and dict(features).get("halt", 0) != 0


def _halves(box) -> frozenset[int]:
    """The indices of the box's marks set half width: a pair's (Layout.set_text), a squeezed line's
    (`box.halve`, from _squeeze and justify_line), or all of a `halt` span's."""
    if _halted(box):
        return frozenset(range(len(box.text)))
    halve = box.__dict__.get("halve")
    return halve if halve is not None else getattr(box.pango_layout, "halves", frozenset())


def _junctions(texts, latin=False) -> list[int]:
    """Text boxes whose boundary with the box before is a gap between two Chinese characters (an
    element boundary: a quotation, a tied paragraph end), or with `latin` between two Latin ones (a
    URL's segments); not beside a halved mark, whose pair must keep its 1.5 em, nor between Han and
    Latin, whose gap is its margin."""
    return [id(b) for a, b in zip(texts, texts[1:])
            if a.text and b.text and len(a.text) - 1 not in _halves(a) and 0 not in _halves(b)
            and bool(CJK.match(a.text[-1])) != latin and bool(CJK.match(b.text[0])) != latin]


def _spread(box, spacing, x_advance, junctions, unhalt=None, latin=0.0):
    """Letter-space every Chinese text box of the line (and by `latin` every Latin one), widen the
    junctions by what `junctions` says, and move what follows, as WeasyPrint's add_word_spacing does
    for word spacing; `unhalt` is set full width again."""
    if isinstance(box, boxes.TextBox):
        x_advance += junctions.get(id(box), 0)
        box.position_x += x_advance
        if box is unhalt and _halted(box):
            box.style = box.style.copy()
            box.style["font_feature_settings"] = "normal"
        elif box is unhalt:
            box.halve = _halves(box) - {len(box.text) - 1}
        chinese = bool(_gaps(box))
        own = spacing if chinese else latin if _gaps(box, latin=True) else 0
        halves = _halves(box)
        laid_halves = getattr(box.pango_layout, "halves", frozenset())
        if own or chinese or box is unhalt or halves != laid_halves:
            natural = box.pango_layout.__dict__.get("natural")
            if natural is None and box.pango_layout.__dict__.get("one_glyph_each") and not _halted(box):
                natural = box.width
            if natural is not None and halves != laid_halves:
                natural += (sum(_halving_saves(box.style, box.text[i]) for i in laid_halves - halves)
                            - sum(_halving_saves(box.style, box.text[i]) for i in halves - laid_halves))
            if natural is not None:
                # Pango's letter-spacing, counted: its width in Pango's units for each gap (half beside an
                # unspaced character, _gaps); laid out only when drawn.
                layout = SpacedLayout.unlaid(box.style, own, halves, chinese, box.text, natural)
                width = natural + _gaps(box, latin=not chinese) * round(own * TO_UNITS) * FROM_UNITS
            else:
                layout = SpacedLayout(box.style, own, halves, chinese)
                layout.set_text(box.text)
                line, _ = layout.get_first_line()
                width = line_break.line_size(line, box.style)[0] + _latin_gap_width(box.text, box.style)
                layout.deactivate()
            x_advance += width - box.width
            box.width = width
            box.pango_layout = layout
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        before = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _spread(child, spacing, x_advance, junctions, unhalt, latin)
        box.width += x_advance - before
    else:
        box.translate(x_advance, 0)
    return x_advance


_widths: dict[tuple[str, str, bool], float] = {}   # (font style and size, character, halved) -> width


def _width(style, char, halved=False) -> float:
    """A character's width alone in a style's font and size, set half width (`halt`) if `halved`, measured
    once."""
    key = (line_break._font_style_cache_key(style, include_size=True), char, halved)
    if key not in _widths:
        layout = SpacedLayout(style, 0, frozenset({0}) if halved else frozenset())
        layout.set_text(char)
        _widths[key] = line_break.line_size(layout.get_first_line()[0], style)[0]
        layout.deactivate()
    return _widths[key]


def _halving_saves(style, mark) -> float:
    """The width a mark gives up set half width (`halt`), in a style's font and size."""
    return _width(style, mark) - _width(style, mark, halved=True)


def _gap_count(texts) -> int:
    return sum(_gaps(b) for b in texts) + len(_junctions(texts))


def _spacing(texts, extra_width, gaps, em):
    """How a line's extra width is shared: (gap between Chinese characters, Latin letters' tracking,
    Latin junctions). A line of few Chinese gaps beside a long Latin run (a URL) would open them wide:
    its letters take a share too, kept below where copying reads a space between them."""
    spacing = extra_width / gaps
    if spacing <= MAX_STRETCH_EM * em:
        return spacing, 0.0, []
    junctions = _junctions(texts, latin=True)
    latin_count = sum(_gaps(b, latin=True) for b in texts) + len(junctions)
    if not latin_count:
        return spacing, 0.0, []
    latin = min(extra_width / (gaps + latin_count), MAX_LATIN_TRACKING_EM * em)
    return (extra_width - latin * latin_count) / gaps, latin, junctions


def _traditional(style) -> bool:
    """Traditional Chinese keeps every mark full width (the proof's rule 5): its line end hangs."""
    lang = (style["lang"] or "").lower()
    return lang.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo"))


def split_inline_box(context, box, position_x, max_x, bottom_space, skip_stack, containing_block,
                     absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children,
                     first_letter_style, first_line_style):
    """A justified Chinese line is also laid out with room for more, and that layout kept if its marks
    make the room and it moves the line less than stretching would, or if stretching would pass
    MAX_STRETCH_EM a gap: `line.cjk_end` tells text_align what to squeeze or hang. If neither fits and
    stretching would pass MAX_COLOUR_GAP_EM, the line is laid out again breaking inside the address
    segment that does not fit at its end (at a syllable, else between letters), and kept if it then
    keeps that limit."""
    if isinstance(box, boxes.InlineBox) and skip_stack is None:
        # WeasyPrint lays an inline box's children out from position_x and moves them right by its
        # start margin afterwards, but lets them fill up to max_x: a text split inside (a hyphenated
        # word, a URL's segment) then overflows by the Han-Latin margin, and the whole run goes to the
        # next line, leaving a hole.
        max_x -= box.margin_left + box.padding_left + box.border_left_width
    saved = dict(_tie)
    if isinstance(box, boxes.LineBox):
        _tie["box"], _tie["at"] = _tied_end(box)
    try:
        return _split_inline_box(context, box, position_x, max_x, bottom_space, skip_stack, containing_block,
                                 absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children,
                                 first_letter_style, first_line_style)
    finally:
        _tie.update(saved)


def _split_inline_box(context, box, position_x, max_x, bottom_space, skip_stack, containing_block, absolute_boxes,
                      fixed_boxes, line_placeholders, waiting_floats, line_children, first_letter_style,
                      first_line_style):
    collected = (absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children)
    before = [len(items) for items in collected]

    def lay_out(right, into, breaks=None):
        # Most boxes set no context (a generator-based context manager a line is not free).
        with _breaking_inside(box, breaks) if breaks or _address(box) else contextlib.nullcontext():
            return _weasyprint_split_inline_box(context, box, position_x, right, bottom_space, skip_stack,
                                                containing_block, *into, first_letter_style, first_line_style)

    result = lay_out(max_x, collected)
    line, resume_at = result[0], result[1]
    if not isinstance(box, boxes.LineBox) or resume_at is None:
        return result
    phrase = _phrase_broken_at_end(line)
    if phrase is not None and phrase.position_x > position_x and _natural_width(phrase) <= max_x - position_x:
        # A title's phrase too long to be kept whole everywhere (typeset's `ph`) that this line's measure
        # holds: the line breaks before it, at the phrase boundary, as a typesetter would.
        retried = tuple([] for _ in collected)
        again = lay_out(phrase.position_x + 0.01, retried)
        if again[1] is not None and again[0].children:
            for items, count_before, replacement in zip(collected, before, retried):
                del items[count_before:]
                items.extend(replacement)
            return again
    if box.style["text_align_all"] != "justify":
        return result
    em = box.style["font_size"]
    texts = list(_text_boxes(line))
    gaps = _gap_count(texts)
    # The line's box starts at line.position_x, before a first line's text-indent (position_x is after
    # it) and its width counts the indent: measured from position_x, a first line's room was short by it.
    width = max_x - line.position_x
    extra = width - line.width
    overstretched = gaps and extra / gaps > MAX_STRETCH_EM * em
    # One more unit is at least half an em (a mark, a Latin letter or two): below that, squeezing it
    # in moves the line more than stretching does, and the second layout is not worth its time.
    if not gaps or (not overstretched and extra <= em / 2):
        return result
    hang = _traditional(box.style)
    if hang:
        room = em
    else:
        room = extra if not overstretched else max(extra, em / 2 * (len(_compressible(texts)) + 1))
    end = None
    if _may_take_more(texts, extra, hang, em):
        retried = tuple([] for _ in collected)
        again = _one_text_wider(context, box, result, skip_stack, max_x + room, retried[-1])
        if again is None:
            again = lay_out(max_x + room, retried)
        end = _fitted_end(line, again[0], width, room, overstretched, hang, em)
    if end is not None:
        again[0].cjk_end = end
    elif not overstretched or _spacing(texts, extra, gaps, em)[0] <= MAX_COLOUR_GAP_EM * em:
        return result
    else:
        for breaks in ("syllables", "letters"):
            retried = tuple([] for _ in collected)
            again = lay_out(max_x, retried, breaks)
            inside = list(_text_boxes(again[0]))
            if line.width < again[0].width <= width and (
                    _spacing(inside, width - again[0].width, _gap_count(inside), em)[0] <= MAX_COLOUR_GAP_EM * em):
                break
        else:
            return result
    for items, count_before, replacement in zip(collected, before, retried):
        del items[count_before:]
        items.extend(replacement)
    return again


def _one_text_wider(context, box, result, skip_stack, max_x, line_children):
    """`result`, split_inline_box's line of the line box `box`, laid out again up to `max_x`, where the line is
    one text box broken inside: its text broken again, not the whole line laid out anew as WeasyPrint would
    (the line is the same but for that box). The box is added to `line_children` as WeasyPrint adds it.
    None for any other line."""
    line, resume_at = result[0], result[1]
    if len(line.children) != 1 or not isinstance(line.children[0], boxes.TextBox) or len(resume_at) != 1:
        return None
    (index, inner), = resume_at.items()
    child, skip = box.children[index], 0
    if skip_stack:     # the line starts inside a child: {its index: {bytes of its text skipped: None}}
        (start, inner_skip), = skip_stack.items()
        if start != index:
            return None
        skip = next(iter(inner_skip)) if inner_skip else 0
    if not isinstance(child, boxes.TextBox) or not isinstance(inner, dict):
        return None
    child.position_x = line.children[0].position_x
    counted = _counted_wider(line.children[0], child, skip or 0, max_x - child.position_x)
    longer, resume, preserved = counted or split_text_box(context, child, max_x - child.position_x, skip or 0)
    if longer is None or (resume is None and index < len(box.children) - 1):
        return None         # the line would go on into the boxes after this one
    line_children.append((index, longer))
    wider = line.copy_with_children([longer])
    wider.width = longer.position_x + longer.margin_width() - wider.content_box_x()
    last = child.text[-1] if resume is None else child.text.encode()[:resume].decode()[-1]
    return wider, None if resume is None else {index: {resume: None}}, preserved, result[3], last, result[5]


def _counted_wider(first, child, skip, available):
    """The line `first` (a Chinese text box, `child`'s text broken `skip` bytes in) with the units after its
    break that fit in `available`, as split_text_box would return it, its width counted from the widths of
    its characters alone instead of laid out: where the line's characters are one glyph each, and the units
    only Han and marks that are one glyph each (not … —) followed by one more. None where Pango's break
    could differ from the count: an unknown text after the break, a unit ending within 0.01 pt of the
    measure, the paragraph's tied end, no unit that fits."""
    layout = first.pango_layout
    if (layout is not _last_break["layout"] or not layout.__dict__.get("one_glyph_each") or not first.text
            or not _counted_character(first.text[-1]) or first.style["letter_spacing"] not in ("normal", 0)):
        return None
    rest = _last_break["rest"][:40]
    halves = layout.halves
    if _halving(first.style, 0):
        # The pairs' halves as Pango had them when it broke the line (_pair_halves, on the text being broken).
        halves = _halves_in(first.text + rest, len(first.text) + len(rest))
        if {i for i in halves if i < len(first.text)} != layout.halves:
            return None
    width, taken = first.width, 0
    for unit in _units(rest):
        if unit is None:
            return None
        end = taken + unit[0]
        if (end == len(rest) and len(rest) < len(_last_break["rest"])) or not all(
                map(_counted_character, rest[taken:end + 1])):
            return None     # what follows the unit, which says whether the line may break after it, unknown
        at = len(first.text) + taken
        widened = width + sum(_width(first.style, c, halved=at + k in halves) for k, c in enumerate(rest[taken:end]))
        if widened > available + 0.01:
            break
        if widened > available - 0.01:
            return None
        width, taken = widened, end
    if not taken:
        return None
    text = first.text + rest[:taken]
    halves = frozenset(i for i in halves if i < len(text))
    if child is _tie["box"] and len(child.text.encode()[:skip].decode()) + len(text) > _tie["at"]:
        return None         # the break moves before the tied end (_moved_before_tie_or_dash)
    longer = child.copy_with_text(text)
    longer.width, longer.height, longer.baseline = width, first.height, first.baseline
    longer.margin_top, longer.margin_bottom = first.margin_top, first.margin_bottom
    longer.pango_layout = copy.copy(layout)
    longer.pango_layout.text, longer.pango_layout.halves, longer.pango_layout.max_width = text, halves, available
    resume = None if taken == len(_last_break["rest"]) else skip + len(text.encode())
    return longer, resume, False


def _counted_character(char) -> bool:
    return bool(HAN_CHAR.match(char)) or (char in MARKS and char not in "…—")


def _units(text):
    """The units a line may take from the start of `text` (no break inside: a character and the marks that
    may not start a line after it, or that it may not end one with), as (characters, marks, closing marks,
    last character); None where a unit holds anything but Chinese characters and marks, whose widths are
    not an em each."""
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (text[j] in NO_LINE_START or text[j - 1] in NO_LINE_END):
            j += 1
        unit = text[i:j]
        if not all(CJK.match(c) for c in unit):
            yield None
            return
        yield len(unit), sum(c in MARKS for c in unit), sum(c in CLOSING for c in unit), unit[-1]
        i = j


def _may_take_more(texts, extra, hang, em) -> bool:
    """Whether the line could take the next unit, its last mark hung (`hang`) or its marks squeezed, read
    on the text after the line's break: False spares split_inline_box a second layout of the line that
    _fitted_end would refuse. True when that text is not known, or not all Chinese."""
    last = texts[-1] if texts else None
    if last is None or last.pango_layout is not _last_break["layout"]:
        return True
    taken = 0
    for unit in _units(_last_break["rest"][:16]):
        if unit is None:
            return True
        chars, marks, closing, end = unit
        if hang:
            # The unit's last mark hangs past the edge: the rest of what the line takes fits in `extra`.
            if end in CLOSING and (taken + chars - 1) * em <= extra + 0.01:
                return True
            taken += chars
            if (taken - 1) * em > extra:
                return False
            continue
        # Each closing mark on the line and in the unit may give half an em; a pair's mark is half already.
        squeezable = sum(c in CLOSING and i not in _halves(box) for box in texts for i, c in enumerate(box.text))
        return (chars - marks / 2) * em - extra <= em / 2 * (squeezable + closing) + 0.01
    return False


def _fitted_end(line, longer, width, room, overstretched, hang, em):
    """How `longer`, the line laid out `room` wider, fits in `width`: ("hang", room) or ("squeeze",
    marks), or None if it does not, or moves the line more than stretching `line` would."""
    texts = list(_text_boxes(longer))
    extra = width - line.width
    if not texts or longer.width <= line.width:
        return None
    if hang:
        # Only the line-end mark hangs, a full em past the edge; what is left is stretched.
        if texts[-1].text[-1:] not in CLOSING or texts[-1].width < em:
            return None
        left = width + room - longer.width
        if left < 0 or (not overstretched and left >= extra):
            return None
        return "hang", room
    squeeze = longer.width - width                     # what the marks must give up
    marks = _compressible(texts)
    count = max(0, int(-(-squeeze // (em / 2))))        # marks halved, half an em each
    if count > len(marks) or (not overstretched and squeeze >= extra):
        return None
    return "squeeze", marks[:count]


def _phrase_broken_at_end(line):
    """The title phrase (span.ph) that the line breaks inside, if any: the last box on the line's end."""
    box = line
    while isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        children = [c for c in box.children if c.is_in_normal_flow()]
        if not children:
            return None
        box = children[-1]
        if isinstance(box, boxes.InlineBox) and box.element is not None and "ph" in box.element.get("class", "").split():
            return box
    return None


def _natural_width(phrase) -> float:
    """A phrase's width on one line, from its element's text: a Chinese character or mark an em, a Latin
    letter or digit 0.6 em (wider than any of the fonts'), and a Han–Latin gap (¼ em) each side of a
    Latin run, at the phrase's font size."""
    text = "".join(phrase.element.itertext())
    latin = len(re.findall("[A-Za-z0-9]+", text))
    ems = sum(1 if CJK.match(c) else 0.6 for c in text) + latin * 0.5
    return ems * phrase.style["font_size"]


def _compressible(texts) -> list[tuple[int, int]]:
    """The marks of a zh-Hans line that may be set half width, in clreq's order: the line-end
    closing mark, then a mark whose pair partner is already half (the pair then takes 1 em), then
    single marks, each group from the line's end; as (text box's place on the line, index). Closing
    marks only: `halt` moves an opening mark's glyph back by half an em, onto the mark before it in
    a pair (，“), and pdfium and poppler then copy the two in the wrong order."""
    chars = [(n, i, c, i in halves) for n, box in enumerate(texts) for halves in (_halves(box),)
             for i, c in enumerate(box.text)]
    end, pairs, singles = [], [], []
    for k in range(len(chars) - 1, -1, -1):
        n, i, c, halted = chars[k]
        if halted or c not in CLOSING:
            continue
        neighbours = [chars[j] for j in (k - 1, k + 1) if 0 <= j < len(chars)]
        if k == len(chars) - 1 and c in CLOSING:
            end.append((n, i))
        elif any(h and m in CLOSING | OPENING for _, _, m, h in neighbours):
            pairs.append((n, i))
        elif not any(m in MARKS for _, _, m, _ in neighbours):
            singles.append((n, i))
    return end + pairs + singles


def _squeeze(line, marks) -> None:
    """Set the chosen marks with the font's half-width metrics; what follows them moves left."""
    texts = list(_text_boxes(line))
    for n, index in marks:
        texts[n].halve = _halves(texts[n]) | {index}
    _spread(line, 0, 0, {})


def justify_line(context, line, extra_width):
    texts = list(_text_boxes(line))
    junctions = _junctions(texts)
    gaps = sum(_gaps(b) for b in texts) + len(junctions)
    if not gaps:
        return _weasyprint_justify_line(context, line, extra_width)
    # A mark halved for its pair partner on the next line ends this line: clreq sets line-end marks
    # full width, if the line's gaps can give the half em back; else it stays half (also clreq).
    last = texts[-1]
    before = last.text[-2:-1] or (texts[-2].text[-1:] if len(texts) > 1 else "")
    partner_here = before != "" and before in MARKS
    squeezed = getattr(line, "cjk_end", (None,))[0] == "squeeze"
    half = last.style["font_size"] / 2
    unhalt = (last if last.text and len(last.text) - 1 in _halves(last) and not partner_here and not squeezed
              and extra_width >= half else None)
    if unhalt:
        extra_width -= half
    spacing, latin, latin_junctions = _spacing(texts, extra_width, gaps, line.style["font_size"])
    widen = dict.fromkeys(junctions, spacing) | dict.fromkeys(latin_junctions, latin)
    added = _spread(line, spacing, 0, widen, unhalt, latin)
    added -= half if unhalt else 0
    # Pango spaces clusters, not characters: where the font joins some (—— is one glyph) in a box _spread
    # laid out, space again with the gaps Pango really made (boxes are re-laid from their current width,
    # junctions widen). A counted box's gaps are its characters' (up to Pango's rounding of the spacing).
    if (spacing and abs(added - extra_width) > 0.01 and added / spacing > 0.5
            and any(_spaced_by_pango(box) for box in texts)):
        factor = extra_width / added
        widen = dict.fromkeys(junctions, spacing * (factor - 1)) | dict.fromkeys(latin_junctions, latin * (factor - 1))
        _spread(line, spacing * factor, 0, widen, None, latin * factor)


def _spaced_by_pango(box) -> bool:
    """Whether _spread laid the box out with its spacing, not counted it (SpacedLayout.unlaid)."""
    return isinstance(box.pango_layout, SpacedLayout) and "natural" not in box.pango_layout.__dict__


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
    split_inline_box let take more has marks squeezed, or its last mark hung past the edge."""
    end, room = getattr(line, "cjk_end", (None, 0))
    if end == "squeeze":
        _squeeze(line, room)
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


def hyphenated(textbox) -> bool:
    """Whether WeasyPrint hyphenated the word this text box ends with (and appended its hyphen)."""
    hyphen = textbox.style["hyphenate_character"]
    # WeasyPrint appends the hyphen to the box's text; only span.en sets `hyphens: auto`.
    return textbox.style["hyphens"] == "auto" and bool(hyphen) and textbox.text.endswith(hyphen)


def _glyphs(line):
    """Each glyph of a Pango line, in drawing order: (its Pango font, its PangoGlyphInfo, the byte
    index in the layout's text where its cluster starts)."""
    run = line.runs[0]
    while run != ffi.NULL:
        item = run.data
        run = run.next
        for i in range(item.glyphs.num_glyphs):
            yield item.item.analysis.font, item.glyphs.glyphs[i], item.item.offset + item.glyphs.log_clusters[i]


def draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """WeasyPrint's, but a hyphenated box's hyphen is left out of the text: its glyph becomes Pango's
    empty glyph (nothing drawn, its advance kept), and where WeasyPrint would have drawn it is left in
    `textbox.hyphen_outline` for draw_text to draw as a shape. The Han–Latin gaps widen the glyph
    before each (typeset.latin_gaps)."""
    gaps = latin_gaps(textbox.pango_layout.text)
    if gaps:
        # Set as WeasyPrint's draw_first_line sets it: setting it there would lay the line out anew.
        pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
        _widen_before(textbox.pango_layout, gaps, _latin_gap_units(textbox.style))
    if not hyphenated(textbox):
        return _weasyprint_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    text = textbox.pango_layout.text
    at = len(text[:-len(textbox.style["hyphenate_character"])].encode())
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    line, _ = textbox.pango_layout.get_first_line()
    glyphs = list(_glyphs(line))
    hyphen = next(info for _, info, start in glyphs if start == at)
    glyph = hyphen.glyph
    hyphen.glyph = pango.PANGO_GLYPH_EMPTY
    emojis = _weasyprint_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    # Where WeasyPrint's TJ leaves the pen, in its units (thousandths of the run's font size): each
    # glyph's offset and advance in the font's widths, less Pango's width as a whole-number kerning;
    # the font size as WeasyPrint's draw_first_line takes it.
    x, y = matrix.values[4:]
    for pango_font, info, start in glyphs:
        font, size = stream.add_font(pango_font)
        if pango.pango_version() < 14802 or font.png:
            size = textbox.style["font_size"]
        offset = info.geometry.x_offset / size
        if start == at:
            textbox.hyphen_outline = (font, glyph, size, x + offset * size / 1000, y + info.geometry.y_offset / 1000)
            break
        if info.glyph == pango.PANGO_GLYPH_EMPTY:
            x += info.geometry.width / 1000
            continue
        kerning = font.widths[info.glyph] + offset - info.geometry.width * 1000 * FROM_UNITS / size
        x += (offset + font.widths[info.glyph] - int(kerning)) * size / 1000
    return emojis


def _widen_before(layout, gaps, width) -> None:
    """Widen by `width` (Pango units) the last glyph of each character at `gaps` (indices into the layout's
    text) on its first line, and so move what follows."""
    text = layout.text
    ends = sorted(len(text[:i + 1].encode()) for i in gaps)    # where the next character starts
    line, _ = layout.get_first_line()
    last = {}
    for _, info, start in _glyphs(line):
        k = bisect.bisect_right(ends, start)      # the gaps whose character ends after this cluster starts
        if k < len(ends):
            last[k] = info
    for info in last.values():
        info.geometry.width += width


@functools.lru_cache(maxsize=8)
def _glyph_set(program: bytes, index: int, location: tuple):
    """A face's glyphs, read once for all the hyphens of a book's PDFs."""
    font = TTFont(io.BytesIO(program), fontNumber=index, lazy=True)
    return font, font.getGlyphSet(location=dict(location))


class _PathPen(BasePen):
    """A glyph's outline as path operators on a PDF stream (BasePen makes quadratic curves cubic)."""

    def __init__(self, glyph_set, stream):
        super().__init__(glyph_set)
        self.stream = stream

    def _moveTo(self, point):
        self.stream.move_to(*point)

    def _lineTo(self, point):
        self.stream.line_to(*point)

    def _curveToOne(self, point1, point2, point3):
        self.stream.curve_to(*point1, *point2, *point3)

    def _closePath(self):
        self.stream.close()


def draw_text(stream, textbox, *args):
    """A hyphenated word's hyphen is drawn as a shape, not text: the glyph's outline from the run's
    own font, where and in the colour the glyph would be. Poppler and pdfium honour an ActualText
    that leaves the hyphen out, but MuPDF, Ghostscript and pdf.js ignore it; with no hyphen in the
    text, every engine copies and searches the word whole."""
    _weasyprint_draw_text(stream, textbox, *args)
    outline = textbox.__dict__.pop("hyphen_outline", None)
    if outline is None:
        return
    font, glyph, size, x, y = outline
    # The face as Pango has it: after a document's first PDF, font.file_content is that PDF's subset,
    # which keeps no outline for a glyph it did not draw.
    program, glyph_set = _glyph_set(get_hb_object_data(font.hb_face), font.index,
                                    tuple(sorted(font.variations.items())))
    scale = size / font.upem
    with stream.stacked():
        stream.set_color(textbox.style["color"])
        stream.transform(a=scale, d=-scale, e=x, f=y)     # the page's y runs down, the font's up
        glyph_set[program.getGlyphName(glyph)].draw(_PathPen(glyph_set, stream))
        stream.fill()


@contextlib.contextmanager
def active():
    """WeasyPrint lays out (and draws) Chinese lines the clreq way inside this block."""
    (inline.can_break_text, inline.split_first_line, inline.split_inline_box, inline.justify_line,
     inline.text_align) = can_break_text, split_first_line, split_inline_box, justify_line, text_align
    inline.split_text_box, preferred.split_first_line = split_text_box, preferred_split_first_line
    line_break.first_line_metrics, line_break.Layout.set_text = first_line_metrics, set_text
    draw.draw_text, draw_text_module.draw_first_line = draw_text, draw_first_line
    try:
        yield
    finally:
        inline.split_text_box, preferred.split_first_line = _weasyprint_split_text_box, _weasyprint_preferred_split_first_line
        line_break.first_line_metrics, line_break.Layout.set_text = _weasyprint_first_line_metrics, _weasyprint_set_text
        (inline.can_break_text, inline.split_first_line, inline.split_inline_box, inline.justify_line,
         inline.text_align) = (_pango_can_break_text, _weasyprint_split_first_line,
                               _weasyprint_split_inline_box, _weasyprint_justify_line, _weasyprint_text_align)
        draw.draw_text, draw_text_module.draw_first_line = _weasyprint_draw_text, _weasyprint_draw_first_line

"""Stage 2½: clreq typesetting of a chapter's HTML, between the edition and the layouts.

Adds span markup where a rule of W3C clreq needs one, and nowhere else (every span costs layout
time); never a character: the text stays the edition's text. The spans' classes are styled in
layouts/common/typeset.css.j2:
  halt  the first full-width mark of a pair takes half an em (zh-Hans only, the `halt` feature); not
        in the PDF's HTML (`pdf`): weasyprint_cjk sets it from the text, as a Pango attribute
  hl    a Latin or digit run beside Han: a margin on the Han side (`l`, `r`); in the PDF's HTML, only on
        a long word's or an address's run (`en`, `url`): weasyprint_cjk makes the others' gaps
  q     a quotation “…”: its edges become break opportunities (Pango allows none beside “ ”); not in
        the PDF's HTML either: weasyprint_cjk breaks there itself
  nw    text that must not break: —— with the character before it, a paragraph's last two Han (in the
        PDF's HTML, only those followed by an element: weasyprint_cjk ties the rest); in a title (`title`,
        and a chapter's headings) a phrase, so that the title wraps between phrases
  ph    a title's phrase too long to keep whole in every measure: it may break inside, where its line
        cannot hold it whole (weasyprint_cjk breaks the line before it where it can)
  url   a URL, e-mail address or path: it may break inside a paragraph's tied end (`nw`)
  u     every other segment of a URL, e-mail address or path: its edges are where the line may
        break (after / . _ ? & =, before # and -, no hyphen added), which Pango would not all allow;
        the extension breaks inside a segment only as a last resort, for even colour
  en    a Latin run holding a long word (lang="en"): WeasyPrint hyphenates it (`hyphens: auto`)
  tcy   in vertical text, a number of one or two digits set upright side by side (tate-chū-yoko),
        standing as one Han character: no Han–Latin margin; longer numbers turn sideways
"""
from __future__ import annotations

import html
import re

# Full-width marks of a zh-Hans font whose blank half is on the right (closing) or the left (opening).
CLOSING = set("，。、；：？！”’）》〉】」』")
OPENING = set("“‘（《〈【「『")
MARK_UNIT = re.compile("……|——|[，。、；：？！“”‘’（）《》〈〉【】「」『』…—]")
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
HAN_CHAR = re.compile(f"[{HAN}]")
UPRIGHT_NUMBER = re.compile(r"[0-9]{1,2}")
# The Han–Latin gap (layouts/common/typeset.css.j2 `.hl`), which weasyprint_cjk makes in the PDF.
HAN_LATIN_GAP_EM = 0.1875
LATIN_CHAR = re.compile("[A-Za-z0-9]")
LATIN_RUN = re.compile(r"[A-Za-z0-9]+(?:[ .,:+\-/][A-Za-z0-9]+)*%?")
# What a paragraph's tied end counts (its last line holds two): a Han character, or a Latin or digit run.
TIE_UNIT = re.compile(f"[{HAN}]|{LATIN_RUN.pattern}")
# A URL, an e-mail address or a path of two or more steps; trailing ASCII punctuation is the sentence's.
ADDRESS = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://|www\.)[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*[A-Za-z0-9/#=_\-~]"
                     r"|(?:mailto:)?[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
                     r"|(?<![A-Za-z0-9])~?(?:/[A-Za-z0-9._\-]+){2,}/?")
# A segment ends after a run of / . _ ? & = (not inside //) or before #; a hyphen is a segment of its
# own, for the line to break before it, never after (Pango would): a line ending with a hyphen reads
# as a hyphenated word, and poppler copies press-|example as pressexample (Chicago, too, breaks a URL
# before a hyphen).
ADDRESS_SEGMENT = re.compile(r"-|#?[^/.\-_?&=#]*[/._?&=]*")
# A word this long (six letters or more, a name too: Lam-port) is hyphenated (pyphen's patterns), as a
# typesetter would rather than open the line's Han gaps; shorter ones move to the next line whole, and so
# does a CamelCase name, which pyphen would break inside a part (WeasyP-rint).
LONG_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]?[a-z]{5,}(?![A-Za-z])")
QUOTATIONS = (re.compile("“[^“”]*”"), re.compile("‘[^‘’]*’"))
DASH = re.compile("[^—]——")
# A paragraph shorter than this fits on one line of any trim: it needs no tied end.
SHORTEST_WRAPPING = 20
VOID = {"br", "img", "hr", "input", "meta", "link", "wbr"}
SKIP = {"code", "pre", "script", "style", "kbd", "samp"}
TAG = re.compile(r"(<[^>]*>)")
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# A title's phrase boundary: a space beside a Chinese character, which only marks one (the author's space
# in book.yaml's title or a `#` heading, the 　 of the creators line); a space between Latin is a word's.
CHINESE = f"[{HAN}{''.join(sorted(CLOSING | OPENING))}]"
PHRASE_SPACE = re.compile(f"(?<={CHINESE})[ \u3000]|[ \u3000](?={CHINESE})")
# A phrase up to this many ems (a Han character 1, a Latin letter or digit ½) is kept on one line: the
# narrowest title measure, the cover's title, holds 10. (Kept whole by nowrap, not as an inline block:
# WeasyPrint draws no glyph for a space between inline blocks, and makes a link of each inside a link.)
LONGEST_PHRASE_EM = 10
TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


def halted_marks(text: str) -> set[int]:
    """Positions of the marks to set half-width so that two adjacent marks take 1.5 em."""
    units = [(m.start(), m.group()) for m in MARK_UNIT.finditer(text)]
    halted: set[int] = set()
    for (i, a), (j, b) in zip(units, units[1:]):
        if i + len(a) != j or i in halted:
            continue
        if a in CLOSING:
            halted.add(i)
        elif b in OPENING:
            halted.add(j)
        elif a in OPENING:
            halted.add(i)
        elif b in CLOSING:
            halted.add(j)
    return halted


def _spans(text: str, hans: bool, vertical: bool, pdf: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, class) of the spans one text node needs; `pdf`: as typeset takes it."""
    spans = []
    if hans and not pdf:
        # One span a mark, even for two in a row: a line may end between them, and the extension
        # sets the line's last mark full width again only when its pair partner is on the next line.
        spans += [(i, i + 1, "halt") for i in sorted(halted_marks(text))]
        for m in (m for quotation in QUOTATIONS for m in quotation.finditer(text)):
            s, e = m.span()
            # Only where a line could break: after a character that may end a line, before one that may start it.
            if (s > 0 and text[s - 1] not in OPENING) or (e < len(text) and text[e] not in CLOSING and text[e] != "…"):
                spans.append((s, e, "q"))
    addresses = [m.span() for m in ADDRESS.finditer(text)]
    for s, e in addresses:
        _latin_margins(text, s, e, "url hl", spans)
        segments = [m.span() for m in ADDRESS_SEGMENT.finditer(text, s, e) if m.end() > m.start()]
        # A span on every other segment: the text between two spans is a box of its own too.
        spans += [(a, b, "u") for a, b in segments[1::2]]
    for m in LATIN_RUN.finditer(text):
        s, e = m.span()
        if any(a < e and s < b for a, b in addresses):
            continue
        if vertical and UPRIGHT_NUMBER.fullmatch(m.group()):
            spans.append((s, e, "tcy"))
            continue
        if LONG_WORD.search(m.group()):
            _latin_margins(text, s, e, "hl en", spans)
        elif not pdf:    # weasyprint_cjk makes the gaps from the text
            _latin_margins(text, s, e, "hl", spans)
    if not pdf:    # weasyprint_cjk breaks no line right before —— either
        spans += [(m.start(), m.end(), "nw") for m in DASH.finditer(text)]
    return spans


def _phrases(text: str) -> list[tuple[int, int, str]]:
    """The `nw` spans of a title: its phrases, between marked spaces and after (or before) the marks a line
    may end (or start) with. A phrase of one character joins its neighbour, so that no line of the
    title holds one character alone. A phrase ends after its space: WeasyPrint draws no glyph for a
    space alone between two spans, and the text layer must keep it."""
    cuts = {0, len(text)} | {m.end() for m in PHRASE_SPACE.finditer(text)}
    # After the last of a run of closing marks (”，), before the first of a run of opening ones (（《).
    cuts |= {i + 1 for i, c in enumerate(text) if c in CLOSING and text[i + 1:i + 2] not in CLOSING}
    cuts |= {i for i, c in enumerate(text) if c in OPENING and (i == 0 or text[i - 1] not in OPENING)}
    bounds = sorted(cuts)
    phrases = [(s, e) for s, e in zip(bounds, bounds[1:]) if text[s:e].strip()]
    k = 0
    while len(phrases) > 1 and k < len(phrases):
        if len(re.findall(r"\w", text[slice(*phrases[k])])) >= 2:
            k += 1
            continue
        k = k - 1 if k == len(phrases) - 1 else k   # the last joins the one before it, others the next
        phrases[k:k + 2] = [(phrases[k][0], phrases[k + 1][1])]
    spans = []
    for s, e in phrases:
        if len(HAN_CHAR.findall(text, s, e)) + len(re.findall("[A-Za-z0-9]", text[s:e])) / 2 <= LONGEST_PHRASE_EM:
            spans.append((s, e, "nw"))
        elif len(hans := [m.start() for m in HAN_CHAR.finditer(text, s, e)]) >= 2:
            # A longer one may break, not before its last two Han; `ph`: where the title's measure holds
            # it whole, the extension breaks the line before it instead (weasyprint_cjk).
            spans += [(s, e, "ph"), (hans[-2], e, "nw")]
    return spans


def title(text: str, script: str, vertical: bool = False, phrases: bool = True) -> str:
    """A title, or any line the layouts print (a contents entry, a running head, the title and copyright
    pages, the cover), as HTML with the body's clreq spans and its phrases kept whole (`_phrases`);
    `phrases=False` for running text (the cover's blurb), which breaks as the body does."""
    return _markup(text, _nest(_spans(text, script == "Hans", vertical) + (_phrases(text) if phrases else [])))


def spine_line(text: str) -> str:
    """A line of the printed cover's spine, which reads top to bottom with upright characters, as cells
    stacked one under another (layouts/print/cover.css.j2 styles them; WeasyPrint 70 sets no vertical
    text): a Chinese character a cell; a mark a cell, drawn with the font's vertical form (`vert`: 、。
    sit top right, brackets and quotation marks turn); a number of one or two digits upright side by
    side in one cell (tate-chū-yoko), a longer Latin or digit run a letter a cell, the run kept a Han–Latin
    gap from the Han around it (`hl`); a phrase boundary (a space) a half-em gap."""
    cells = []
    for m in re.finditer(r"[ \u3000]+|[A-Za-z0-9]+|.", text.strip()):
        unit = m.group()
        if not unit.strip():
            cells.append('<span class="gap"> </span>')
        elif UPRIGHT_NUMBER.fullmatch(unit) or not unit.isascii():
            cls = "cell mark" if MARK_UNIT.fullmatch(unit) else "cell tcy" if unit.isascii() else "cell"
            cells.append(f'<span class="{cls}">{html.escape(unit)}</span>')
        else:
            letters = "".join(f'<span class="cell">{html.escape(c)}</span>' for c in unit)
            cells.append(f'<span class="hl">{letters}</span>')
    return "".join(cells)


def _han_sides(text: str, s: int, e: int) -> tuple[bool, bool]:
    """Whether Han meets the run text[s:e] on its left, on its right."""
    return s > 0 and bool(HAN_CHAR.match(text[s - 1])), e < len(text) and bool(HAN_CHAR.match(text[e]))


def latin_gaps(text: str) -> list[int]:
    """Where in `text` a Han–Latin gap falls, after the character at each index: each side of a Latin or
    digit run that meets Han, where the `hl` span's margins put it. weasyprint_cjk makes these gaps in the
    PDF, whose HTML has no span for them (`pdf`): one inline box fewer a run."""
    if not LATIN_CHAR.search(text):
        return []
    gaps = []
    for m in LATIN_RUN.finditer(text):
        left, right = _han_sides(text, *m.span())
        gaps += [m.start() - 1] * left + [m.end() - 1] * right
    return gaps


def _latin_margins(text: str, s: int, e: int, cls: str, spans: list) -> None:
    """A Latin run's span: a margin on each side that meets Han. A long word's run (en) and an
    address (url) have one even where no Han is beside them: hyphenation, and breaks inside a tied end."""
    left, right = _han_sides(text, s, e)
    if left or right or cls != "hl":
        spans.append((s, e, cls + (" l" if left else "") + (" r" if right else "")))


def _nest(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans sorted outer-first; a quotation crossing a later span ends where that span starts
    (the break it offered there would be a break inside a tied paragraph end or dash)."""
    spans = sorted(spans, key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int, str]] = []
    for start, end, cls in spans:
        for k, (s, e, c) in enumerate(kept):
            if s < start < e < end:
                if c != "q":
                    break
                kept[k] = (s, start, c)
        else:
            kept.append((start, end, cls))
    return sorted(kept, key=lambda s: (s[0], -s[1]))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


LANG_EN = ' lang="en"'


def _markup(text: str, spans: list[tuple[int, int, str]]) -> str:
    """The text with its spans; a span ending past the text is closed by the caller."""
    events = sorted([(s, 1, -e, f'<span class="{c}"{LANG_EN if "en" in c.split() else ""}>') for s, e, c in spans]
                    + [(e, 0, -s, "</span>") for s, e, c in spans if e <= len(text)])
    out, pos = [], 0
    for at, _, _, tag in events:
        out.append(_escape(text[pos:at]))
        out.append(tag)
        pos = at
    out.append(_escape(text[pos:]))
    return "".join(out)


def typeset(chapter_html: str, script: str, vertical: bool = False, pdf: bool = False) -> str:
    """The chapter's HTML with clreq span markup for an edition in `script` (Hans or Hant),
    set horizontally or (an EPUB's vertical-rl) vertically. `pdf`: for the PDFs' layout, whose extension
    (weasyprint_cjk) reads from the text alone a pair's half-width mark, the breaks beside quotation marks,
    a dash kept with the character before it and a tied end in plain text: no span for them (a span is an
    inline box, and the boxes cost WeasyPrint most of its time)."""
    hans = script == "Hans"
    parts = TAG.split(chapter_html)
    stack: list[str] = []
    texts: dict[int, str] = {}              # part index -> its text, unescaped
    paragraph: list[tuple[int, bool]] | None = None   # the open <p>'s text nodes: (part index, right inside <p>?)
    headings: set[int] = set()              # part indices of text inside a heading: set as a title
    tails: dict[int, tuple[int, int]] = {}  # part index -> (part index of its </p> or -1, its units tied)
    for index, part in enumerate(parts):
        if index % 2:
            name = (TAG_NAME.match(part) or [None, ""])[1].lower()
            if part.startswith("</"):
                while stack and stack.pop() != name:
                    pass
                if name == "p" and paragraph is not None:
                    _tie_end(paragraph, texts, tails, index)
                    paragraph = None
            elif not part.endswith("/>") and name not in VOID:
                stack.append(name)
                if name == "p":
                    paragraph = []
        elif part and not SKIP.intersection(stack):
            texts[index] = html.unescape(part)
            if HEADINGS.intersection(stack):
                headings.add(index)
            if paragraph is not None:
                paragraph.append((index, stack[-1] == "p"))

    for index, text in texts.items():
        spans = _spans(text, hans, vertical, pdf) + (_phrases(text) if index in headings else [])
        close, tied = tails.get(index, (-1, 0))
        start = _tie_units(text, close >= 0)[-tied] if tied else 0
        # The paragraph's last line holds at least two Han characters (or Latin runs: TIE_UNIT). weasyprint_cjk
        # sees to it where the paragraph ends with plain text holding both: a text box of its own, its last.
        if tied and not (pdf and close == index + 1 and tied == 2 and all(e <= start for _, e, _ in spans)):
            spans.append((start, len(text) + (close >= 0), "nw"))
            if close >= 0:
                parts[close] = "</span>" + parts[close]
        if pdf:
            spans += _runs_at_span_edges(text, spans)
        parts[index] = _markup(text, _nest(spans))
    return "".join(parts)


def _runs_at_span_edges(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """In the PDF's HTML, the `hl` spans of the Latin runs that another span's edge parts from the Han beside
    them: weasyprint_cjk makes a gap only inside a text box."""
    edges = {edge for s, e, _ in spans for edge in (s, e)}
    spanned = [(s, e) for s, e, cls in spans if "hl" in cls.split()]
    runs: list[tuple[int, int, str]] = []
    for m in LATIN_RUN.finditer(text):
        s, e = m.span()
        if (s in edges or e in edges) and not any(a < e and s < b for a, b in spanned):
            _latin_margins(text, s, e, "hl", runs)
    return [(s, e, cls) for s, e, cls in runs
            if s in edges and "l" in cls.split() or e in edges and "r" in cls.split()]


def _tie_units(text: str, direct: bool) -> list[int]:
    """Where the units a tied end counts start: in the paragraph's own text (`direct`) its Han and Latin runs
    (TIE_UNIT), inside an element its Han only (a footnote mark's [1] is no unit of the line)."""
    return [m.start() for m in (TIE_UNIT if direct else HAN_CHAR).finditer(text)]


def _tie_end(paragraph, texts, tails, close_index):
    """Marks the text node where the paragraph's tied end starts, if the paragraph can wrap: the node
    holding its second-to-last Han or Latin run (_tie_units), and the units it ties there (1 or 2). A node
    right inside <p> ties everything after it up to </p> (a footnote mark, a Latin run's span); a node
    inside another element ties within itself only, and only if it holds both."""
    if sum(len(texts[i]) for i, _ in paragraph) < SHORTEST_WRAPPING:
        return
    han = 0
    for index, direct in reversed(paragraph):
        count = len(_tie_units(texts[index], direct))
        if han + count >= 2:
            if direct:
                tails[index] = (close_index, 2 - han)
            elif not han:
                tails[index] = (-1, 2)
            return
        if count and not direct:
            return
        han += count

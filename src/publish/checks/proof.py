"""`publish proof`: the W3C clreq rules measured on a built PDF, from the glyph positions pdfplumber reads.

Only the PDF is read. Body text is the most common font size; body lines group into blocks (a
paragraph, a list item, a contents entry) by the regular line pitch and by the 2 em first-line
indent from each page side's text block edge; ruled tables are left out. Positions are in PDF
points, gaps in ems of the characters' size.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from math import inf
from pathlib import Path

from ..stages.typeset import halted_marks

HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
LATIN = re.compile("[A-Za-z0-9]")
FULL_WIDTH_MARKS = set("，。、；：？！“”‘’（）《》〈〉【】「」『』…—")
NO_LINE_START = set("，。、；：？！”’）》」』〉】…—") | set("〕〗〙〛｠｣")
NO_LINE_END = set("“‘（《「『〈【")
CLOSING_MARKS = set("，。、；：？！”’）》」』〉】")
PUNCTUATION = FULL_WIDTH_MARKS | set("·%")
MARKER = re.compile(r"(\d+[.)]|[•◦▪‣-]) ")   # a list item's marker, generated text
# a contents entry's dot leader: two dots and its page number where a long title leaves little room
LEADER = re.compile(r"\.{4,}|\.{2,}\s*\d+$")
INSERTED = set(" \u00a0\u2009\u200a\u2006\u2005\u200b\u200c\u200d\u2060\u202f\ufeff")
CJK = re.compile(f"[{HAN.pattern[1:-1]}{''.join(sorted(FULL_WIDTH_MARKS))}]")
TOLERANCE_PT = 0.5       # rule 1
MAX_HAN_GAP = 0.25       # rule 4, em
MAX_PAIR = 1.5           # rule 5, em
LATIN_GAP = (0.125, 0.25)  # rule 6, em
MAX_COLOUR_GAP = 0.15   # rules 8 and 9, em: the widest gap between Han on an evenly set line
HYPHEN = "\u2010"      # the hyphen WeasyPrint adds at a hyphenated word's break (weasyprint_cjk draws it as a shape)
ADDRESS_BREAK_AFTER = set("/._?&=")    # a URL breaks after these
ADDRESS_BREAK_BEFORE = set("#-")       # and before these
# em: WeasyPrint writes glyph advances in whole thousandths of an em, truncated, so positions
# drift by up to ~0.03 em along a letter-spaced line (the right-edge spread shows the same).
EPSILON = 0.03


@dataclass
class Line:
    page: int            # 1-based
    number: int          # 1-based among the page's body lines
    chars: list[dict]
    baseline: float
    inset: float = 0.0   # from the left edge of the page's text block
    calls: list[tuple[float, float]] = field(default_factory=list)   # footnote calls on it: (x0, x1)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"]

    @property
    def x1(self) -> float:
        """Where the line ends: its last character, or a footnote call after it."""
        return max([self.chars[-1]["x1"]] + [x1 for x0, x1 in self.calls if x0 >= self.chars[-1]["x0"]])

    @property
    def em(self) -> float:
        return self.chars[0]["size"]

    def where(self) -> str:
        return f"p.{self.page} l.{self.number}"


@dataclass
class Block:
    lines: list[Line]
    left: float          # the container's inset: continuation lines start here
    paragraph: bool      # opened by a 2 em first-line indent (not a list item, not a contents entry)


@dataclass
class Rule:
    number: int
    name: str
    figure: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self, limit: int = 20) -> str:
        head = f"{'pass' if self.passed else 'FAIL'}  rule {self.number} {self.name:<14} {self.figure}"
        lines = [head] + [f"        {f}" for f in self.failures[:limit]]
        if len(self.failures) > limit:
            lines.append(f"        … and {len(self.failures) - limit} more")
        return "\n".join(lines)


@dataclass
class Proof:
    path: Path
    script: str
    rules: list[Rule]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rules)


def _script(path: Path, texts: str) -> str:
    import pikepdf

    with pikepdf.open(path) as pdf:
        lang = str(pdf.Root.get("/Lang", ""))
    if lang:
        return "Hant" if "Hant" in lang or lang.endswith(("TW", "HK")) else "Hans"
    return "Hant" if "「" in texts else "Hans"


def _table_columns(page) -> list[tuple[float, float, float]]:
    """Vertical rules (x, top, bottom): text between them is a table's, not running text."""
    return [(e["x0"], e["top"], e["bottom"]) for e in page.edges
            if e["orientation"] == "v" and e["bottom"] - e["top"] > 2]


def _drawn_hyphen(row: list[dict], shapes: list[dict]) -> dict | None:
    """The hyphen of a hyphenated word's line, drawn as a filled shape (so that no engine copies it)
    in the row's band within an em after its last character, as a character: from where the glyph
    would start (the last character's end, and the letter-spacing of a spaced word, read from the
    gap before it) to as far past the shape as the shape starts past that (a hyphen's glyph sits
    mid-advance; Noto CJK's U+2010: 375 | 250 | 375 thousandths)."""
    last = row[-1]
    spacing = max(0.0, last["x0"] - row[-2]["x1"]) if len(row) > 1 and LATIN.match(row[-2]["text"]) else 0.0
    x0 = last["x1"] + spacing
    for shape in shapes:
        start = shape["x0"] - x0
        if shape["fill"] and last["top"] < shape["top"] and shape["bottom"] < last["bottom"] and 0 < start < last["size"]:
            x1 = shape["x1"] + start
            return dict(last, text=HYPHEN, x0=x0, x1=x1, width=x1 - x0, non_stroking_color=shape["non_stroking_color"])
    return None


def read_lines(pdf) -> tuple[list[Line], list[list[dict]], float]:
    """Body lines in reading order, every page's characters (a hyphenated word's hyphen among its
    line's), and the body size."""
    pages = [list(page.chars) for page in pdf.pages]
    sizes = Counter(round(c["size"], 2) for chars in pages for c in chars if c["text"].strip())
    # The body's size: the largest of the sizes much used. Not simply the most used: a book of long notes
    # sets more characters in the notes' smaller size; headings are never a quarter of the text.
    most = sizes.most_common(1)[0][1]
    body = max(size for size, count in sizes.items() if count >= most / 4)
    lines = []
    for number, (page, chars) in enumerate(zip(pdf.pages, pages), 1):
        rules = _table_columns(page)
        shapes = page.rects + page.curves
        rows: dict[float, list[dict]] = {}
        for c in chars:
            if abs(c["size"] - body) < 0.05:
                rows.setdefault(round(c["matrix"][5], 1), []).append(c)
        on_page = []
        for baseline in sorted(rows, reverse=True):   # PDF y grows upwards
            row = sorted(rows[baseline], key=lambda c: c["x0"])
            if hyphen := _drawn_hyphen(row, shapes):
                row.append(hyphen)
                chars.append(hyphen)
            top, bottom = row[0]["top"], row[0]["bottom"]
            if any(row[0]["x0"] < x < row[-1]["x1"] and t < bottom and b > top for x, t, b in rules):
                continue
            on_page.append(Line(number, len(on_page) + 1, row, baseline))
        lines += on_page
    return lines, pages, body


def notes_areas(rects: list[list[dict]], lines: list[Line],
                page_notes: list[PageNotes]) -> dict[int, tuple[float, float]]:
    """The left and right edges of each page side's (page number % 2) text block, from the pages with notes:
    the notes area spans the text block, and WeasyPrint draws its rule as a rectangle as wide as the area
    (the one nearest above the notes, under the page's last body line)."""
    last_body: dict[int, float] = {}
    for line in lines:
        last_body[line.page] = max(last_body.get(line.page, -inf), line.chars[0]["bottom"])
    found: dict[int, tuple[float, float]] = {}
    for number, (on_page, notes) in enumerate(zip(rects, page_notes), 1):
        rules = [r for r in on_page if notes.top < inf and last_body.get(number, -inf) < r["top"] < notes.top]
        if rules:
            rule = max(rules, key=lambda r: r["top"])
            left, right = found.get(number % 2, (inf, -inf))
            found[number % 2] = (min(left, rule["x0"]), max(right, rule["x1"]))
    return found


def blocks_and_edges(lines: list[Line], pages: list[list[dict]], body: float, trims: list[tuple],
                     areas: dict[int, tuple[float, float]]) -> tuple[list[Block], dict[int, float]]:
    """The blocks, and the right edge of each page side's (page number % 2) text block. A side's text block
    starts at its leftmost line start or notes area. But a side whose lines all start at one place, 2 em in
    from where the other side's text block puts its edge (its margins mirrored, or the same), holds only
    paragraphs' first lines (one-line paragraphs): its block starts 2 em further left."""
    left = {}
    for side in (0, 1):
        starts = [l.x0 for l in lines if l.page % 2 == side] + ([areas[side][0]] if side in areas else [])
        if starts:
            left[side] = min(starts)
    blocks = blocks_of(lines, left, pages, body)
    right, measured = right_edges(blocks, areas, left)
    indented = []
    for side, other in ((0, 1), (1, 0)):
        same = [l for l in lines if l.page % 2 == side]
        if not same or side in areas or other not in measured or any(l.x0 - left[side] > 0.5 for l in same):
            continue
        here = trims[same[0].page - 1]
        there = trims[next(l.page for l in lines if l.page % 2 == other) - 1]
        edges = (here[0] + there[2] - right[other], here[0] + left[other] - there[0])
        if (any(abs(e - (left[side] - 2 * body)) < 0.5 for e in edges)
                and not any(abs(e - left[side]) < 0.5 for e in edges)):
            indented.append(side)
    if indented:
        for side in indented:
            left[side] -= 2 * body
        blocks = blocks_of(lines, left, pages, body)
        right, _ = right_edges(blocks, areas, left)
    return blocks, right


def blocks_of(lines: list[Line], left: dict[int, float], pages: list[list[dict]], body: float) -> list[Block]:
    """Lines that flow on at the regular pitch and start at their block's left edge make a block; each
    line's inset is measured from its page side's `left`. A line inset 2 em or more opens a paragraph (its
    first-line indent); a list marker opens an item."""
    for line in lines:
        line.inset = line.x0 - left[line.page % 2]
    pitch = Counter(round(a.baseline - b.baseline, 1) for a, b in zip(lines, lines[1:])
                    if a.page == b.page).most_common(1)[0][0]
    indent = 2 * body
    blocks: list[Block] = []
    for prev, line in zip([None] + lines, lines):
        marker = MARKER.match(line.text)
        if prev is not None and blocks and not marker:
            if prev.page == line.page:
                flows = abs(prev.baseline - line.baseline - pitch) < 0.5
            else:
                # Continues on the next page only if nothing larger than body text comes first.
                flows = (line.page == prev.page + 1 and line.number == 1 and prev is _last_on_page(lines, prev)
                         and not any(c["size"] > body + 0.05 and c["top"] < line.chars[0]["top"]
                                     for c in pages[line.page - 1]))
            # A line may start with a Latin run's margin, a rule 6 failure, not a new block.
            gap = line.inset - blocks[-1].left
            if flows and (abs(gap) < 0.5 or (LATIN.match(line.text[0]) and 0 < gap < 0.3 * body)):
                blocks[-1].lines.append(line)
                continue
        if marker:
            blocks.append(Block([line], line.chars[marker.end()]["x0"] - line.x0 + line.inset, False))
        elif line.inset > indent - 0.5:
            blocks.append(Block([line], line.inset - indent, True))
        else:
            blocks.append(Block([line], line.inset, False))
    return blocks


def _last_on_page(lines: list[Line], line: Line) -> Line:
    return [x for x in lines if x.page == line.page][-1]


def _em(a: dict) -> float:
    return a["size"]


def attach_calls(lines: list[Line], pages: list[list[dict]], body: float) -> None:
    """Each footnote call (a raised character under 0.7 em of the body) on the body line it is raised over."""
    by_page: dict[int, list[Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    for number, chars in enumerate(pages, 1):
        for c in chars:
            if c["size"] <= 0.7 * body and c["text"].strip():
                for line in by_page.get(number, []):
                    if line.chars[0]["top"] - 0.5 * body <= c["top"] <= line.chars[0]["bottom"]:
                        line.calls.append((c["x0"], c["x1"]))
                        break


def _call_between(line: Line, a: dict, b: dict) -> bool:
    return any(a["x1"] - 0.1 <= x0 and x1 <= b["x0"] + 0.1 for x0, x1 in line.calls)


def _calls_width(line: Line, a: dict, b: dict) -> float:
    """The width the footnote calls between two characters take (a mark's advance is measured without)."""
    return sum(x1 - x0 for x0, x1 in line.calls if a["x1"] - 0.1 <= x0 and x1 <= b["x0"] + 0.1)


def measure(path: Path, notes=None) -> Proof:
    """`notes`: the book's manuscript.NotesSpec (where its notes go, how they are numbered); default the
    house style, at the page's foot, numbered afresh on each page."""
    try:
        import pdfplumber
    except ImportError:
        from ..errors import PublishError
        raise PublishError("publish proof reads PDFs with pdfplumber, which is not installed",
                           hint="pip install -e '.[test]' (or pip install pdfplumber)") from None

    with pdfplumber.open(path) as pdf:
        lines, pages, body = read_lines(pdf)
        trims = [page.trimbox for page in pdf.pages]
        rects = [page.rects for page in pdf.pages]
    attach_calls(lines, pages, body)
    script = _script(path, "".join(l.text for l in lines))
    page_notes = notes_of(pages, lines, body, trims)
    blocks, right = blocks_and_edges(lines, pages, body, trims, notes_areas(rects, lines, page_notes))
    # A contents entry that wraps breaks between phrases (rule 12), ragged, not justified.
    entries = [b for b in blocks if LEADER.search(b.lines[-1].text)]
    text_blocks = [b for b in blocks if b not in entries]
    justified = [(b, l) for b in text_blocks for l in b.lines[:-1]]
    in_entries = {id(l) for b in entries for l in b.lines}
    text_lines = [l for l in lines if id(l) not in in_entries]   # a title may hold a space of its own
    rules = [_rule1(justified, right, script), _rule2(text_lines), _rule3(blocks),
             _rule4(justified), _rule5(lines, right, script, {id(b.lines[-1]) for b in blocks}), _rule6(blocks), _rule7(text_blocks, lines, pages, body),
             _rule8(text_blocks, right, _text_layer(path)), _rule9(text_blocks, right, script)]
    place, numbering = (notes.place, notes.numbering) if notes else ("page", "page")
    rules += [_rule10(page_notes, numbering, place), _rule11(text_blocks, lines, pages, body, page_notes)]
    rules.append(_rule12(title_lines(pages, body, lines, entries), entries, _titles(path), script))
    return Proof(path, script, rules)


def right_edges(blocks, areas: dict[int, tuple[float, float]],
                left: dict[int, float]) -> tuple[dict[int, float], set[int]]:
    """The right edge of each page side's text block (page number % 2), and the sides where it is measured:
    the notes area's, or the furthest end of a justified line (a paragraph's but its last) that does not
    end with a closing mark, or else of a contents entry (its page number is set flush right). zh-Hans
    may set a line-end closing mark half width (clreq's line adjustment): the PDF draws it full width,
    its blank half past the edge."""
    right: dict[int, float] = {side: edges[1] for side, edges in areas.items()}
    furthest: dict[int, float] = {}
    entry_ends: dict[int, float] = {}
    for block in blocks:
        for line in block.lines:
            furthest[line.page % 2] = max(furthest.get(line.page % 2, 0), line.x1)
        if LEADER.search(block.lines[-1].text):
            side = block.lines[-1].page % 2
            entry_ends[side] = max(entry_ends.get(side, 0), block.lines[-1].x1)
            continue
        for line in block.lines[:-1]:
            if line.text[-1] not in CLOSING_MARKS:
                right[line.page % 2] = max(right.get(line.page % 2, 0), line.x1)
    right = entry_ends | right
    measured = set(right)
    # A side with no such line (a book of one-line paragraphs): its text block is as wide as the other
    # side's; with none on either side, the furthest line end stands for the edge.
    for side, other in ((0, 1), (1, 0)):
        if side not in right and side in furthest:
            right[side] = left[side] + right[other] - left[other] if other in right else furthest[side]
    return right, measured


def _rule1(justified, right, script) -> Rule:
    rule = Rule(1, "justified")
    offs, halves, hangs = [], 0, 0
    for block, line in justified:
        edge = right[line.page % 2]
        end = line.x1
        if script == "Hans" and line.text[-1] in CLOSING_MARKS and abs(end - line.em / 2 - edge) <= TOLERANCE_PT:
            end -= line.em / 2
            halves += 1
        elif script == "Hant" and line.text[-1] in CLOSING_MARKS and abs(end - line.em - edge) <= TOLERANCE_PT:
            end -= line.em              # a line-end mark hung past the edge (Traditional marks stay full)
            hangs += 1
        # An indented block (a quotation) is narrower on both sides, a list only on the left.
        off = min(end - edge, end - edge + block.left, key=abs)
        offs.append(off)
        if abs(off) > TOLERANCE_PT:
            rule.failures.append(f"{line.where()}: ends {off:+.2f} pt from the right edge: {line.text[-12:]}")
    spread = max(offs) - min(offs) if offs else 0
    rule.figure = (f"{len(offs)} justified lines, right-edge spread {spread:.2f} pt, "
                   f"worst {max((abs(o) for o in offs), default=0):.2f} pt (limit {TOLERANCE_PT})"
                   + (f", {halves} ending with a half-width mark" if halves else "")
                   + (f", {hangs} ending with a mark hung past the edge" if hangs else ""))
    return rule


def _rule2(lines) -> Rule:
    """Not in a list marker; `lines` are not a contents entry's."""
    rule = Rule(2, "text layer")
    for line in lines:
        marker = MARKER.match(line.text)
        chars = line.chars[marker.end() if marker else 0:]
        for a, b, c in zip([None] + chars, chars, chars[1:] + [None]):
            if b["text"] in INSERTED:
                near = "".join(x["text"] for x in (a, c) if x is not None)
                if CJK.search(near):
                    rule.failures.append(f"{line.where()}: U+{ord(b['text']):04X} beside {near}")
    rule.figure = (f"{sum(len(l.chars) for l in lines)} body characters, "
                   f"{len(rule.failures)} inserted spaces beside Chinese")
    return rule


def _rule3(blocks) -> Rule:
    rule = Rule(3, "line breaks")
    quote_breaks = 0
    for block in blocks:
        for line, following in zip(block.lines, block.lines[1:] + [None]):
            if line.text[0] in NO_LINE_START:
                rule.failures.append(f"{line.where()}: starts with {line.text[0]}")
            if following is None:
                continue
            if line.text[-1] in NO_LINE_END:
                rule.failures.append(f"{line.where()}: ends with {line.text[-1]}")
            if line.text[-1] in "—…" and following.text[0] == line.text[-1]:
                rule.failures.append(f"{line.where()}: splits {line.text[-1] * 2}")
            quote_breaks += following.text[0] in "“‘「『" or line.text[-1] in "”’」』"
    lines = sum(len(b.lines) for b in blocks)
    rule.figure = f"{lines} lines, {len(rule.failures)} prohibited breaks, {quote_breaks} breaks beside quotation marks"
    return rule


def _rule4(justified) -> Rule:
    rule = Rule(4, "even colour")
    worst = 0.0
    for _, line in justified:
        for a, b in zip(line.chars, line.chars[1:]):
            if HAN.match(a["text"]) and HAN.match(b["text"]) and not _call_between(line, a, b):
                gap = (b["x0"] - a["x1"]) / _em(a)
                worst = max(worst, gap)
                if gap > MAX_HAN_GAP + EPSILON:
                    rule.failures.append(f"{line.where()}: {gap:.2f} em between {a['text']}{b['text']}")
    rule.figure = f"largest gap between Han {worst:.3f} em (limit {MAX_HAN_GAP})"
    return rule


def _advance(chars, i, edge) -> float:
    """A character's advance: to the next character, or at the line's end to the text block's edge,
    but no more than its own width."""
    c = chars[i]
    return min(c["x1"], chars[i + 1]["x0"] if i + 1 < len(chars) else edge) - c["x0"]


def _rule5(lines, right, script, last_lines) -> Rule:
    """Pairs ending a paragraph are not measured: nothing follows to show the last mark's advance."""
    rule = Rule(5, "punctuation")
    pairs, singles = [], []
    for line in lines:
        chars = line.chars
        for i, c in enumerate(chars):
            if c["text"] not in FULL_WIDTH_MARKS:
                continue
            em = _em(c)
            # Two marks with a footnote call between them are no pair: each takes its full em.
            paired = any(0 <= j < len(chars) and chars[j]["text"] in FULL_WIDTH_MARKS
                         and chars[j]["text"] + c["text"] not in ("……", "——", "…—", "—…")
                         and c["text"] + chars[j]["text"] not in ("……", "——", "…—", "—…")
                         and not _call_between(line, *sorted((c, chars[j]), key=lambda x: x["x0"]))
                         for j in (i - 1, i + 1))
            nxt = chars[i + 1]["text"] if i + 1 < len(chars) and not _call_between(line, c, chars[i + 1]) else None
            ends = i + 2 == len(chars) and id(line) in last_lines
            if script == "Hans" and nxt in FULL_WIDTH_MARKS and c["text"] + nxt not in ("……", "——") and not ends:
                width = (chars[i + 1]["x0"] - c["x0"] + _advance(chars, i + 1, right.get(line.page % 2, inf))) / em
                pairs.append(width)
                if width > MAX_PAIR + EPSILON:
                    rule.failures.append(f"{line.where()}: {c['text']}{nxt} takes {width:.2f} em")
            if i + 1 < len(chars) and (script == "Hant" or not paired):
                width = (chars[i + 1]["x0"] - c["x0"] - _calls_width(line, c, chars[i + 1])) / em
                singles.append(width)
                # zh-Hans may squeeze a mark to half width to fit a line (rule 9 checks clreq's order).
                if width < (1 if script == "Hant" else 0.5) - EPSILON:
                    rule.failures.append(f"{line.where()}: {c['text']} takes {width:.2f} em")
    if script == "Hans":
        rule.figure = (f"zh-Hans: {len(pairs)} pairs, widest {max(pairs, default=0):.2f} em (limit {MAX_PAIR}); "
                       f"{len(singles)} single marks, narrowest {min(singles, default=1):.2f} em (limit 0.5)")
    else:
        rule.figure = f"zh-Hant: {len(singles)} marks, narrowest {min(singles, default=1):.2f} em (full width)"
    return rule


def _rule6(blocks) -> Rule:
    rule = Rule(6, "Han-Latin")
    gaps, breaks = [], 0
    for block in blocks:
        for line, following in zip(block.lines, block.lines[1:] + [None]):
            for a, b in zip(line.chars, line.chars[1:]):
                if (HAN.match(a["text"]) and LATIN.match(b["text"])) or (LATIN.match(a["text"]) and HAN.match(b["text"])):
                    em = _em(a) if HAN.match(a["text"]) else _em(b)
                    gap = (b["x0"] - a["x1"]) / em
                    gaps.append(gap)
                    if not LATIN_GAP[0] - EPSILON <= gap <= LATIN_GAP[1] + EPSILON:
                        rule.failures.append(f"{line.where()}: {gap:.3f} em in {a['text']}{b['text']}")
            if following is not None:
                a, b = line.text[-1], following.text[0]
                if (HAN.match(a) and LATIN.match(b)) or (LATIN.match(a) and HAN.match(b)):
                    # The break takes the gap's place: none at the next line's start (rule 1
                    # holds this line's end to the edge).
                    breaks += 1
                    if following.inset - block.left > 0.5:
                        rule.failures.append(f"{following.where()}: starts with a Han-Latin gap "
                                             f"({following.inset - block.left:.2f} pt)")
    rule.figure = (f"{len(gaps)} gaps, {min(gaps, default=0):.3f}–{max(gaps, default=0):.3f} em "
                   f"(limits {LATIN_GAP[0]}–{LATIN_GAP[1]}); {breaks} line breaks between Han and Latin, "
                   "no gap at the line's edge")
    return rule


def _rule7(blocks, lines, pages, body) -> Rule:
    rule = Rule(7, "paragraphs")
    indents, extra = [], []
    paragraphs = [b for b in blocks if b.paragraph]
    for block in blocks:
        first = block.lines[0]
        if not block.paragraph and len(block.lines) > 1 and not MARKER.match(first.text):
            rule.failures.append(f"{first.where()}: a paragraph without its first-line indent")
    for block in paragraphs:
        first, last = block.lines[0], block.lines[-1]
        indents.append((first.inset - block.left) / first.em)
        if len(block.lines) > 1 and len(HAN.findall(last.text)) == 1 and all(HAN.match(c) or c in PUNCTUATION for c in last.text):
            rule.failures.append(f"{last.where()}: last line holds one Han character: {last.text}")
        per_page = Counter(l.page for l in block.lines)
        if len(per_page) > 1:
            counts = [per_page[p] for p in sorted(per_page)]
            if min(counts[0], counts[-1]) < 2:
                rule.failures.append(f"{first.where()}: {counts[0]} line(s) before the page break, "
                                     f"{counts[-1]} after (orphans and widows need 2)")
    pitch = Counter(round(a.baseline - b.baseline, 1) for a, b in zip(lines, lines[1:])
                    if a.page == b.page).most_common(1)[0][0]
    for a, b in zip(paragraphs, paragraphs[1:]):
        end, start = a.lines[-1], b.lines[0]
        between = [c for c in pages[end.page - 1] if end.chars[0]["bottom"] < c["top"] < start.chars[0]["top"]]
        if end.page == start.page and a.left == b.left and lines.index(start) == lines.index(end) + 1 and not between:
            space = end.baseline - start.baseline - pitch
            extra.append(space)
            if abs(space) > 0.1:
                rule.failures.append(f"{start.where()}: {space:.2f} pt between paragraphs")
    for number, chars in enumerate(pages[:-1], 1):
        text = [c for c in chars if c["text"].strip()]
        body_text = [c for c in text if abs(c["size"] - body) < 0.05]
        headings = [c for c in text if c["size"] > body + 0.05]
        if body_text and headings and max(c["bottom"] for c in headings) > max(c["bottom"] for c in body_text):
            rule.failures.append(f"p.{number}: a heading ends the page")
    rule.figure = (f"{len(paragraphs)} paragraphs, indent {min(indents, default=0):.2f}–{max(indents, default=0):.2f} em, "
                   f"{sum(len(b.lines) == 1 for b in paragraphs)} of one line, "
                   f"space between {max((abs(e) for e in extra), default=0):.2f} pt")
    return rule


def _text_layer(path: Path) -> list[str]:
    """Each page's text as poppler's pdftotext copies it, lines joined: a space it reads inside a
    Latin run (letters spaced too wide) stays."""
    if shutil.which("pdftotext") is None:
        from ..errors import PublishError
        raise PublishError("publish proof reads the text layer with pdftotext, which is not installed",
                           hint="apt-get install poppler-utils")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [page.replace("\n", "") for page in text.split("\f")]


def _han_gaps(line: Line) -> list[tuple[float, str]]:
    """Each gap between two adjacent Han characters, in ems, with the pair (not one a footnote call fills)."""
    return [((b["x0"] - a["x1"]) / _em(a), a["text"] + b["text"])
            for a, b in zip(line.chars, line.chars[1:])
            if HAN.match(a["text"]) and HAN.match(b["text"]) and not _call_between(line, a, b)]


def _latin_tail(line: Line) -> str:
    """The Latin (non-CJK, non-space) characters that end the line."""
    return re.search(r"[^\s" + CJK.pattern[1:-1] + "]*$", line.text)[0]


def _latin_head(line: Line) -> str:
    return re.match(r"[^\s" + CJK.pattern[1:-1] + "]*", line.text)[0]


def _rule8(blocks, right, text_layer) -> Rule:
    """A line break inside a Latin run: a URL, e-mail address or path after / . _ ? & = or before #
    and -, or (the extension's last resort, for even colour) between two letters or digits inside
    one of its segments, two or more either side; a word at a hyphenation point with a hyphen drawn
    (read_lines); either way the run copies whole from the page's text layer (pdftotext: no hyphen,
    no space; and with the characters around it, whitespace aside, so that the same run elsewhere on
    the page does not stand in). A line holding part of an address that breaks sets its Han gaps no
    wider than MAX_COLOUR_GAP."""
    from ..stages.typeset import ADDRESS

    rule = Rule(8, "URLs, Latin")
    at_address, in_segment, hyphenated, address_lines = 0, 0, 0, set()
    for block in blocks:
        text = "".join(l.text for l in block.lines)
        starts = [sum(len(l.text) for l in block.lines[:k]) for k in range(len(block.lines))]
        addresses = [m.span() for m in ADDRESS.finditer(text)]
        for start, end in addresses:
            touched = [l for l, s0 in zip(block.lines, starts) if s0 < end and start < s0 + len(l.text)]
            if len(touched) > 1:
                address_lines.update(id(l) for l in touched)
        for line, following, at in zip(block.lines, block.lines[1:], starts[1:]):
            tail, head = _latin_tail(line), _latin_head(following)
            if not tail or not head:
                continue
            if tail.endswith(HYPHEN):
                hyphenated += 1
                run = tail[:-1] + head
            elif tail[-1] in ADDRESS_BREAK_AFTER or head[0] in ADDRESS_BREAK_BEFORE:
                at_address += 1
                run = tail + head
            elif tail[-1].isalnum() and head[0].isalnum():
                if not any(start < at < end for start, end in addresses):
                    continue             # a break at a space (or between two words) is not measured here
                if not (re.search("[A-Za-z0-9]{2}$", tail) and re.match("[A-Za-z0-9]{2}", head)):
                    rule.failures.append(f"{line.where()}: breaks inside {tail}|{head}, leaving one character alone")
                    continue
                in_segment += 1
                run = tail + head
            else:
                rule.failures.append(f"{line.where()}: breaks inside {tail}|{head}, not after / . _ ? & = nor before # -")
                continue
            cut = len(run) - len(head)   # the run as copied (a hyphenated word's without its hyphen)
            before, after = line.text[:-len(tail)][-3:] + run[:cut], run[cut:] + following.text[len(head):][:3]
            if following.page == line.page:
                pieces = [(before + after, text_layer[line.page - 1])]
            else:   # a page break: the running head, folio and notes come between in the text layer
                pieces = [(before, text_layer[line.page - 1]), (after, text_layer[following.page - 1])]
            # Whitespace aside, and note calls: the body lines leave them out, the text layer has them.
            if any(_bare(piece) not in _bare(page) for piece, page in pieces):
                rule.failures.append(f"{line.where()}: {tail}|{head} does not copy as {run}")
    for block in blocks:
        for line in block.lines[:-1]:
            if id(line) in address_lines:
                for gap, pair in _han_gaps(line):
                    if gap > MAX_COLOUR_GAP + EPSILON:
                        rule.failures.append(f"{line.where()}: {gap:.2f} em between {pair} beside an address")
    rule.figure = (f"{at_address + in_segment} breaks inside addresses ({in_segment} inside a segment, between "
                   f"letters), {hyphenated} hyphenated words, all copied whole; "
                   f"{len(address_lines)} lines holding part of a broken address")
    return rule


def _bare(text: str) -> str:
    return re.sub(r"\s|[\u2460-\u2473]", "", text)


def _unbreakable(chars: list[dict], measure: float, head: bool = False) -> str | None:
    """A Latin run of the characters longer than a quarter of the measure with no break opportunity
    in it (a space, an address's break, a long word that hyphenates), or None; `head`: only the run
    the characters start with."""
    from ..stages.typeset import LONG_WORD

    run: list[dict] = []
    for c, nxt in zip(chars, chars[1:] + [None]):
        if c["text"].isspace() or CJK.match(c["text"]):
            if head:
                return None
            run = []
            continue
        run.append(c)
        word = "".join(x["text"] for x in run)
        if run[-1]["x1"] - run[0]["x0"] > measure / 4 and not LONG_WORD.search(word):
            return word
        if c["text"] in ADDRESS_BREAK_AFTER or nxt is not None and nxt["text"] in ADDRESS_BREAK_BEFORE:
            run = []
    return None


def _rule9(blocks, right, script) -> Rule:
    """Even colour: on a justified line holding no unbreakable Latin run over a quarter of the measure
    (nor followed by a line that starts with one), no gap between Han wider than MAX_COLOUR_GAP. A line
    is stretched, or squeezed in clreq's order (zh-Hans: line-end mark, then pairs to 1 em, then single
    marks, each to half width), or in zh-Hant has its line-end mark hung; the figure is the
    distribution of these adjustments."""
    rule = Rule(9, "line fitting")
    widths = {}
    for block in blocks:
        for line in block.lines:
            side = line.page % 2
            widths[side] = min(widths.get(side, inf), line.x0 - line.inset)
    stretched, squeezed, hung, exempt, widest = [], [], 0, 0, 0.0
    for block in blocks:
        for line, following in zip(block.lines, block.lines[1:]):
            em = line.em
            edge = right[line.page % 2]
            measure = edge - widths[line.page % 2] - block.left
            gaps = _han_gaps(line)
            ends = line.text[-1] in CLOSING_MARKS
            if script == "Hant" and ends and abs(line.x1 - em - edge) <= TOLERANCE_PT:
                hung += 1
            end_halved = script == "Hans" and ends and abs(line.x1 - em / 2 - edge) <= TOLERANCE_PT
            spacing = min((g for g, _ in gaps), default=0)
            singles_halved, pairs_open, halved_pairs = 0, 0, 0
            chars = line.chars
            # Marks the typesetting stage sets half width itself (a pair's first; in a run of three, as
            # ”、“, the first two): no squeeze of the line's.
            set_half = halted_marks("".join(c["text"] for c in chars)) if script == "Hans" else set()
            for i, c in enumerate(chars[:-1] if script == "Hans" else []):   # zh-Hant squeezes none
                if c["text"] not in CLOSING_MARKS | NO_LINE_END:
                    continue
                # never below half: rule 5; a footnote call after the mark is not its advance
                advance = (chars[i + 1]["x0"] - c["x0"] - _calls_width(line, c, chars[i + 1])) / em - spacing
                beside = [chars[j]["text"] for j in (i - 1, i + 1) if 0 <= j < len(chars)]
                # …… and —— are pair partners too: typeset.py halves a closing mark after them (rule 5)
                paired = any(x in CLOSING_MARKS | NO_LINE_END | {"…", "—"} for x in beside)
                if advance < 0.75 and not paired:
                    singles_halved += 1
                # A pair squeezes to 1 em when both are closing marks (an opening one is not squeezed).
                if c["text"] in CLOSING_MARKS and chars[i + 1]["text"] in CLOSING_MARKS and not {i, i + 1} <= set_half:
                    after = chars[i + 2] if i + 2 < len(chars) else None
                    pair = ((after["x0"] - _calls_width(line, c, after)) if after else edge) - c["x0"]
                    if pair / em - 2 * spacing > 1 + EPSILON:
                        pairs_open += 1
                    else:
                        halved_pairs += 1
            if singles_halved and ((ends and not end_halved) or pairs_open):
                rule.failures.append(f"{line.where()}: a single mark squeezed before "
                                     + ("the line-end mark" if ends and not end_halved else "a pair"))
            elif halved_pairs and ends and not end_halved:
                rule.failures.append(f"{line.where()}: a pair squeezed before the line-end mark")
            halves = singles_halved + halved_pairs + end_halved
            if halves:
                squeezed.append(halves / 2)
            elif gaps and spacing > EPSILON / 3:
                stretched.append(spacing)
            if _unbreakable(line.chars, measure) or _unbreakable(following.chars, measure, head=True):
                exempt += 1
                continue
            for gap, pair in gaps:
                widest = max(widest, gap)
                if gap > MAX_COLOUR_GAP + EPSILON:
                    rule.failures.append(f"{line.where()}: {gap:.2f} em between {pair} (limit {MAX_COLOUR_GAP})")
    rule.figure = (f"{len(squeezed)} lines squeezed (largest {max(squeezed, default=0):.1f} em), "
                   f"{len(stretched)} stretched (largest {max(stretched, default=0):.3f} em a gap)"
                   + (f", {hung} with the line-end mark hung" if script == "Hant" else "")
                   + f"; widest gap between Han {widest:.3f} em (limit {MAX_COLOUR_GAP}), "
                   f"{exempt} lines beside an unbreakable run over a quarter of the measure")
    return rule


# Rule 12: the layouts' own lines (headings, contents, running heads, title and copyright pages) typeset
# like the body: the same Han–Latin gaps, and titles that wrap only at a marked phrase boundary or a mark,
# never leaving one character alone on a line.
OPENING_MARKS = set("“‘（《「『〈【")
COLUMN_EM = 1.0     # a wider gap parts two columns (a copyright page's label and value), not a Han–Latin pair


def _titles(path: Path) -> list[str]:
    """The titles as the author wrote them, their phrase spaces included: the outline's and the book's."""
    import pikepdf

    found = []
    with pikepdf.open(path) as pdf:
        found.append(str(pdf.docinfo.get("/Title", "")))
        with pdf.open_outline() as outline:
            items = list(outline.root)
            while items:
                item = items.pop()
                found.append(item.title)
                items += item.children
    return [t for t in found if t]


def _rows(chars: list[dict]) -> list[Line]:
    """Characters grouped into lines by size and baseline, top to bottom, left to right."""
    rows: dict[tuple[float, float], list[dict]] = {}
    for c in chars:
        if c["text"].strip():
            rows.setdefault((round(c["size"], 1), round(c["matrix"][5], 1)), []).append(c)
    return [Line(0, 0, sorted(rows[key], key=lambda c: c["x0"]), key[1]) for key in sorted(rows, key=lambda k: -k[1])]


def title_lines(pages: list[list[dict]], body: float, lines: list[Line], entries: list[Block]) -> dict[str, list[Line]]:
    """The lines the layouts print around the body text, by kind: headings (larger than the body),
    running heads (smaller, above a page's body text), front matter (every line of a page without
    body text: title, copyright pages) and contents entries (the body blocks a leader ends)."""
    found: dict[str, list[Line]] = {"heading": [], "running head": [], "front matter": [],
                                    "contents": [l for b in entries for l in b.lines]}
    for number, chars in enumerate(pages, 1):
        on_page = [l for l in lines if l.page == number]
        for row_number, row in enumerate(_rows([c for c in chars if abs(c["size"] - body) >= 0.05]), 1):
            row.page, row.number = number, row_number
            if row.em > body:
                found["heading"].append(row)
            elif not on_page:
                found["front matter"].append(row)
            elif row.baseline > on_page[0].baseline:
                found["running head"].append(row)
    return found


def _pairs(line: Line):
    """Adjacent Han and Latin characters of a line (not across a column's gap): (a, b, gap in em)."""
    for a, b in zip(line.chars, line.chars[1:]):
        if (HAN.match(a["text"]) and LATIN.match(b["text"])) or (LATIN.match(a["text"]) and HAN.match(b["text"])):
            gap = (b["x0"] - a["x1"]) / (_em(a) if HAN.match(a["text"]) else _em(b))
            if gap < COLUMN_EM:
                yield a, b, gap


def _title_blocks(found: dict[str, list[Line]], entries: list[Block]) -> list[list[Line]]:
    """Titles as set, one list of lines each: a heading's lines (same size, a line's pitch apart) and
    a contents entry's (the body block its leader ends)."""
    titles: list[list[Line]] = []
    for line in found["heading"]:
        last = titles[-1][-1] if titles else None
        if last and last.page == line.page and last.em == line.em and last.baseline - line.baseline < 2 * line.em:
            titles[-1].append(line)
        else:
            titles.append([line])
    return titles + [b.lines for b in entries]


def _marked(before: str, title: str) -> bool:
    """Whether `title`, as the author wrote it, has a phrase space right after the text `before`."""
    rest = "".join(before.split())
    for i, c in enumerate(title):
        if not rest:
            return title[i:i + 1].isspace()
        if not c.isspace():
            if c != rest[0]:
                return False
            rest = rest[1:]
    return False


def _mark_pairs(line: Line):
    """Two adjacent full-width marks with a character after them (which shows the second's advance):
    (their text, the width they take in em)."""
    chars = line.chars
    for a, b, after in zip(chars, chars[1:], chars[2:]):
        if a["text"] in FULL_WIDTH_MARKS and b["text"] in FULL_WIDTH_MARKS and a["text"] + b["text"] not in ("……", "——"):
            yield a["text"] + b["text"], (after["x0"] - a["x0"]) / _em(a)


def _rule12(found: dict[str, list[Line]], entries: list[Block], titles: list[str], script: str) -> Rule:
    rule = Rule(12, "titles")
    gaps, kinds, pairs = [], Counter(), []
    for kind, rows in found.items():
        for line in rows:
            for a, b, gap in _pairs(line):
                gaps.append(gap)
                kinds[kind] += 1
                if not LATIN_GAP[0] - EPSILON <= gap <= LATIN_GAP[1] + EPSILON:
                    rule.failures.append(f"{line.where()} ({kind}): {gap:.3f} em in {a['text']}{b['text']}: {line.text}")
            for text, width in _mark_pairs(line) if script == "Hans" else ():
                pairs.append(width)
                if width > MAX_PAIR + EPSILON:
                    rule.failures.append(f"{line.where()} ({kind}): {text} takes {width:.2f} em: {line.text}")
    wrapped = marked = at_marks = 0
    for title in _title_blocks(found, entries):
        # A contents entry's leader and page number are not its title's; they may take a line of their own.
        title = [l for l in title if LEADER.split(l.text)[0]]
        texts = [LEADER.split(l.text)[0] for l in title]
        for line, text in zip(title, texts):
            if len(title) > 1 and len(re.findall(r"\w", text)) == 1:
                rule.failures.append(f"{line.where()}: a title's line holds one character alone: {text}")
        wrapped += len(title) > 1
        for i, (line, following) in enumerate(zip(texts, texts[1:])):
            if line[-1] in NO_LINE_END or following[0] in NO_LINE_START:
                rule.failures.append(f"{title[i].where()}: a title breaks before or after a mark clreq forbids "
                                     f"there: {line}|{following}")
            elif line[-1] in CLOSING_MARKS or following[0] in OPENING_MARKS:
                at_marks += 1
            elif any(_marked("".join(texts[:i + 1]), t) for t in titles):
                marked += 1
            else:
                rule.failures.append(f"{title[i].where()}: a title breaks inside a phrase: {line}|{following}")
    counts = ", ".join(f"{kinds[kind]} in {len(rows)} {kind} lines" for kind, rows in found.items())
    rule.figure = (f"Han-Latin gaps {min(gaps, default=0):.3f}–{max(gaps, default=0):.3f} em "
                   f"(limits {LATIN_GAP[0]}–{LATIN_GAP[1]}): {counts}; "
                   + (f"{len(pairs)} mark pairs, widest {max(pairs, default=0):.2f} em (limit {MAX_PAIR}); "
                      if script == "Hans" else "")
                   + f"{wrapped} titles wrap: {marked} breaks at a marked "
                   f"space, {at_marks} at a mark")
    return rule


# Rules 10 and 11: footnotes at the foot of the page, and no stranded lines (issue 15).

NOTE_MARK = re.compile(r"([\u2460-\u2473])|\[(\d+)\]")   # notes.mark: ①–⑳, then [21]


def _mark_number(text: str) -> int | None:
    match = NOTE_MARK.match(text)
    if not match:
        return None
    return ord(match[1]) - 0x2460 + 1 if match[1] else int(match[2])


@dataclass
class PageNotes:
    """What rule 10 reads off one page: the calls in the text and the notes at its foot."""
    calls: list[int] = field(default_factory=list)       # the calls' numbers, in reading order
    notes: list[int] = field(default_factory=list)       # the numbers the notes at the foot begin with
    top: float = inf                                     # the top of the notes' first line
    lines: int = 0                                       # lines of notes (a continued note's too)
    continued: bool = False                              # the first line goes on with the page before's note
    outside: int = 0                                     # note characters drawn off the page or over the text


def _baseline_rows(chars: list[dict]) -> list[list[dict]]:
    """Characters on one baseline, top to bottom, each row left to right."""
    rows: dict[float, list[dict]] = {}
    for c in chars:
        rows.setdefault(round(c["matrix"][5], 1), []).append(c)
    return [sorted(rows[y], key=lambda c: c["x0"]) for y in sorted(rows, reverse=True)]


def notes_of(pages: list[list[dict]], lines: list[Line], body: float, trims: list[tuple]) -> list[PageNotes]:
    """Per page, the footnote calls (marks in a raised size, under 0.7 em of the body) and the notes: lines
    below the page's last body line in the size most used there for text smaller than the body's but
    larger than a call (the folio and running heads, set in their own size, are left out), from the first
    page with a call on (the front matter's small print is no note)."""
    last_body = {}
    for line in lines:
        last_body[line.page] = max(last_body.get(line.page, -inf), line.chars[0]["bottom"])
    found = []
    for chars in pages:
        page = PageNotes()
        for row in _baseline_rows([c for c in chars if c["size"] <= 0.7 * body and c["text"].strip()]):
            page.calls += [_mark_number(m[0]) for m in NOTE_MARK.finditer("".join(c["text"] for c in row))]
        found.append(page)
    first = next((number for number, page in enumerate(found, 1) if page.calls), len(pages) + 1)
    below = Counter(round(c["size"], 2) for number, chars in enumerate(pages[first - 1:], first) for c in chars
                    if 0.7 * body < c["size"] < body - 0.05 and c["top"] > last_body.get(number, -inf)
                    and c["text"].strip())
    note_size = below.most_common(1)[0][0] if below else None
    for number, (page, chars) in enumerate(zip(found, pages), 1):
        if note_size is None or number < first:
            continue
        notes = [c for c in chars if abs(c["size"] - note_size) < 0.05 and c["text"].strip()
                 and (c["top"] > last_body.get(number, -inf) or c["top"] < trims[number - 1][1])]
        rows = _baseline_rows(notes)
        for row in rows:
            number_at_start = _mark_number("".join(c["text"] for c in row[:4]))
            if number_at_start is not None:
                page.notes.append(number_at_start)
        page.lines = len(rows)
        page.continued = bool(rows) and _mark_number("".join(c["text"] for c in rows[0][:4])) is None
        page.top = min((c["top"] for c in notes), default=inf)
        page.outside = sum(c["top"] < trims[number - 1][1] or c["bottom"] > trims[number - 1][3] for c in notes)
    return found


def _rule10(page_notes: list[PageNotes], numbering: str, place: str) -> Rule:
    """Every note at the foot of the page of its call; marked ①②③, numbered afresh on each page (or through
    the chapter or book, as book.yaml's notes.numbering says); none drawn off the page."""
    rule = Rule(10, "footnotes")
    calls = sum(len(p.calls) for p in page_notes)
    if place == "chapter":
        rule.figure = f"{calls} calls; notes after their chapters (book.yaml notes.place: chapter)"
        return rule
    previous = 0
    for number, page in enumerate(page_notes, 1):
        if page.calls != page.notes:
            missing = [n for n in page.calls if n not in page.notes]
            strays = [n for n in page.notes if n not in page.calls]
            rule.failures.append(f"p.{number}: calls {_marks(page.calls)}, notes at the foot {_marks(page.notes)}"
                                 + (f": {_marks(missing)} not on the page of its call" if missing else "")
                                 + (f": {_marks(strays)} without its call" if strays else ""))
        if page.outside:
            rule.failures.append(f"p.{number}: {page.outside} characters of a note drawn off the page: the note "
                                 "is longer than the page")
        for n in page.calls:
            expected = {"page": [previous + 1], "chapter": [previous + 1, 1], "book": [previous + 1]}[numbering]
            if n not in expected:
                rule.failures.append(f"p.{number}: call {_marks([n])} after {_marks([previous]) if previous else 'none'}"
                                     f" (numbered by {numbering})")
            previous = n
        if numbering == "page":
            previous = 0
    continued = sum(p.continued for p in page_notes)
    rule.figure = (f"{calls} calls on {sum(1 for p in page_notes if p.calls)} pages, each note on the page of its "
                   f"call, numbered by {numbering}, marks {_marks(sorted({n for p in page_notes for n in p.calls})[:3])}…; "
                   f"{continued} pages where a note goes on from the page before")
    return rule


def _marks(numbers: list[int]) -> str:
    from ..stages.notes import mark

    return "".join(mark(n) for n in numbers) or "none"


def chapter_pages(lines: list[Line], pages: list[list[dict]], body: float) -> list[list[int]]:
    """The pages of each chapter that hold body lines: a chapter opens on a page whose heading is set in
    the largest size found on pages with body lines (the contents' title is smaller than a chapter's)."""
    with_body = sorted({l.page for l in lines})
    largest = max((c["size"] for n in with_body for c in pages[n - 1]), default=body)
    chapters: list[list[int]] = []
    for number in with_body:
        if any(abs(c["size"] - largest) < 0.05 for c in pages[number - 1]) and largest > body + 0.05:
            chapters.append([])
        if chapters:
            chapters[-1].append(number)
    return chapters


def _rule11(blocks: list[Block], lines: list[Line], pages: list[list[dict]], body: float,
            page_notes: list[PageNotes]) -> Rule:
    """No stranded lines: a paragraph of three or more lines never leaves its first line alone at a page's
    foot nor its last alone at the next page's head; a heading never ends a page; a chapter's last page
    holds two lines or more. Lists the short pages this costs: pages whose text ends a line or more above
    where a full page's ends (chapters' last pages aside)."""
    rule = Rule(11, "stranded lines")
    for block in blocks:
        if not block.paragraph or len(block.lines) < 3:
            continue
        per_page = Counter(l.page for l in block.lines)
        if len(per_page) > 1:
            first, last = min(per_page), max(per_page)
            if per_page[first] == 1:
                rule.failures.append(f"p.{first}: ends with the first line of a paragraph: {block.lines[0].text[:12]}")
            if per_page[last] == 1:
                rule.failures.append(f"p.{last}: starts with the last line of a paragraph: {block.lines[-1].text[:12]}")
    body_pages = sorted({l.page for l in lines})
    for number in body_pages:
        text = [c for c in pages[number - 1] if c["text"].strip() and c["top"] < page_notes[number - 1].top]
        headings = [c for c in text if c["size"] > body + 0.05]
        body_text = [c for c in text if abs(c["size"] - body) < 0.05]
        if headings and body_text and max(c["bottom"] for c in headings) > max(c["bottom"] for c in body_text):
            rule.failures.append(f"p.{number}: a heading ends the page")
    chapters = chapter_pages(lines, pages, body)
    last_pages = {chapter[-1] for chapter in chapters}
    for number in sorted(last_pages):
        count = sum(1 for l in lines if l.page == number)
        if count < 2:
            rule.failures.append(f"p.{number}: a chapter's last page holds {count} line")
    short = _short_pages(lines, page_notes, [n for chapter in chapters for n in chapter], last_pages)
    rule.figure = (f"{sum(len(b.lines) >= 3 for b in blocks if b.paragraph)} paragraphs of 3+ lines, "
                   f"{len(chapters)} chapters; {len(short)} short pages"
                   + (": " + ", ".join(f"p.{n} ({k} line{'s' if k > 1 else ''} short)" for n, k in short) if short else ""))
    return rule


def _short_pages(lines, page_notes, body_pages, last_pages) -> list[tuple[int, int]]:
    """(page, lines short) for the pages whose body text ends a line pitch or more above a full page's:
    the lowest last line of any page, or on a page with notes the lowest last line above its notes."""
    pitch = Counter(round(a.baseline - b.baseline, 1) for a, b in zip(lines, lines[1:])
                    if a.page == b.page).most_common(1)[0][0]
    bottom = {}
    for line in lines:
        bottom[line.page] = max(bottom.get(line.page, -inf), line.chars[0]["bottom"])
    plain = [bottom[n] for n in body_pages if page_notes[n - 1].top == inf]
    full = max(plain, default=max(bottom.values()))
    gap = min((page_notes[n - 1].top - bottom[n] for n in body_pages if page_notes[n - 1].top < inf), default=0)
    short = []
    for number in body_pages:
        if number in last_pages:
            continue
        notes_top = page_notes[number - 1].top
        room = (notes_top - gap if notes_top < inf else full) - bottom[number]
        if room >= pitch - 0.5:
            short.append((number, int((room + 0.5) // pitch)))
    return short

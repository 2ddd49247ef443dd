"""Footnotes: their marks (①②③), and in print their place at the foot of the page of their call.

book.yaml's `notes` chooses where the print book sets a chapter's notes (`place`: `page`, the default, or
`chapter`, after the chapter's text) and how they are numbered (`numbering`: `page`, afresh on each page,
the default with `place: page`; `chapter`; `book`). The EPUB always has pop-up footnotes (markdown.py).

At the foot of the page, each note is a `float: footnote` element standing where its call is (WeasyPrint
draws the call there and the note at the page's foot). WeasyPrint numbers notes once, through the whole
document, when it builds its boxes; a page's numbers are known only once the book is laid out. So every
note carries its mark in `data-mark`, which the call and the note's marker print (layouts/print/book.css.j2),
and interior.py lays the book out again when a note's mark is not the one its page gives it
(`page_marks`). Every mark ①–⑳ is one em wide, so a new mark moves no line and the second layout keeps
the first one's pages.
"""
from __future__ import annotations

import hashlib
import html
import re

PLACES = ("page", "chapter")
NUMBERINGS = ("page", "chapter", "book")
CIRCLED = [chr(c) for c in range(0x2460, 0x2474)]   # ①–⑳: in every CJK font, one em wide
NOTE = re.compile(r'<div class="footnote" id="([^"]+)" data-mark="[^"]*">(.*?)</div>\n?', re.S)
BLOCKS = re.compile(r"<(/?)(p|ul|ol|li|blockquote)\b([^>]*)>")
# A note's first call (markdown.py; a further one's id has a ":"), with the character before it (or an
# entity) and the elements that character closes (typeset.py's halt, a quotation).
FIRST_CALL = re.compile(r'(?:(?P<char>[^<>\s&]|&\w+;)(?P<closes>(?:</\w+>)*))?'
                        r'<sup class="footnote-ref" id="fnref(?P<ref>[^":]+)"><a [^>]*>(?P<mark>[^<]*)</a></sup>')
TIE = '<span class="nw">'   # typeset.py's: text that must not break
MARK_ATTRIBUTE = re.compile(r'(<span class="footnote" id="([^"]+)" data-mark=")[^"]*(")')
STATED = re.compile(r'(<span class="footnote" id="([^"]+)" data-mark="([^"]*)")')


def mark(number: int) -> str:
    """①–⑳; a note numbered above 20 (a chapter's or a book's count) is [21]: no font has more circles."""
    return CIRCLED[number - 1] if number <= len(CIRCLED) else f"[{number}]"


def at_page_foot(chapter_html: str) -> str:
    """A typeset chapter whose notes (markdown.py's `<div class="footnote">`, after the text) are moved
    into their first calls as `<span class="footnote">`: a span, as a note stands inside a paragraph;
    its paragraphs after the first (and lists) become spans set as blocks. A further call of the same note
    stays a call. The call is tied to the character before it: a line never starts with a call. One pass
    over the chapter: a chapter may hold thousands of notes."""
    notes = {}

    def take(match: re.Match) -> str:
        notes[match[1]] = match[2].strip()
        return ""

    chapter_html = NOTE.sub(take, chapter_html).replace('<div class="footnotes">\n</div>\n', "")

    def place(match: re.Match) -> str:
        ident = "fn" + match["ref"]
        # The first paragraph unwrapped: WeasyPrint's ::footnote-marker (the mark) runs into its first line.
        body = re.sub(r"^<p>(.*?)</p>", r"\1", notes[ident], count=1, flags=re.S)
        inner = BLOCKS.sub(lambda m: f'<{m[1]}span class="fn-{m[2]}"{m[3]}>' if not m[1] else "</span>", body)
        note = f'<span class="footnote" id="{ident}" data-mark="{match["mark"]}">{inner}</span>'
        tag = chapter_html.rfind("<", 0, match.start())
        if match["char"] and not match["closes"] and chapter_html.startswith(TIE, tag):
            return match["char"] + note    # already tied: the character is in an `nw` span's text (a paragraph's end)
        if match["char"]:   # the note goes inside the elements the character closes (a halt, a quotation)
            return f'{TIE}{match["char"]}{note}</span>{match["closes"]}'
        return note

    return FIRST_CALL.sub(place, chapter_html)


def with_marks(document_html: str, marks: dict[str, str]) -> str:
    """The print document with each note's mark (`data-mark`) the one `marks` gives it, else ①: as wide
    as any page's mark, so that a first layout puts the calls where the measured marks will."""
    return MARK_ATTRIBUTE.sub(lambda m: m[1] + marks.get(m[2], CIRCLED[0]) + m[3], document_html)


def stated_marks(document_html: str) -> dict[str, str]:
    """Note id -> the mark the print document gives it."""
    return {m[2]: m[3] for m in STATED.finditer(document_html)}


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def calls_by_page(rendered) -> list[list[str]]:
    """Per laid-out page, the ids of the notes whose calls it holds, in reading order (a call box is
    WeasyPrint's ::footnote-call, which knows its note; a continued note's lines have no call)."""
    pages = []
    for page in rendered.pages:
        calls = [box.element.get("id") for box in _walk(page._page_box)
                 if getattr(box, "footnote", None) is not None and box.element.get("id")]
        pages.append(list(dict.fromkeys(calls)))
    return pages


def page_marks(rendered) -> dict[str, str]:
    """Note id -> its mark when notes are numbered afresh on each page: ① for a page's first call."""
    return {ident: mark(n) for calls in calls_by_page(rendered) for n, ident in enumerate(calls, 1)}


def restamp(rendered, marks: dict[str, str]) -> bool:
    """Each note's call and marker on the laid-out pages drawn with the mark `marks` gives it, without
    laying the book out again: a mark is its own text box, and every mark ①–⑳ is one em wide, so no
    line moves (WeasyPrint draws a text box from its text). False, and nothing changed, if a mark would
    change width (past ⑳): the book must be laid out with the marks."""
    texts = []
    for page in rendered.pages:
        for box in _walk(page._page_box):
            if (str(getattr(box, "element_tag", "")).endswith(("::footnote-call", "::footnote-marker"))
                    and box.element is not None and box.element.get("id") in marks):
                new = marks[box.element.get("id")]
                texts += [(text, new) for text in _walk(box) if type(text).__name__ == "TextBox"]
    if any(text.text not in CIRCLED or new not in CIRCLED for text, new in texts):
        return False
    for text, new in texts:
        text.text = text.pango_layout.text = new
    return True


# A note too long for its page. WeasyPrint 70 never splits a footnote: it lays the page's notes out whole
# and draws them up from the page's foot, so a note taller than the page runs over the text and off the
# page's top (its first lines are lost); and a note of a few lines called near a page's foot takes its call's
# line to the next page, leaving the page that many lines short. A note of LONG_NOTE_LINES lines or more is
# therefore set as one footnote per line, all standing at the call: the first with the call and the mark, the others `fn-continued`
# (no call, no mark, footnote-policy auto: WeasyPrint moves such a line to the next page's foot when it no
# longer fits, and the lines after it with it; @footnote's max-height makes it do so on that page too).
# Each line holds the characters the whole note's line held, and is justified as it was.
CONTINUED = "fn-continued"   # the class of a long note's lines after its first (weasyprint_notes reads it)
LONG_NOTE_LINES = 3
TAG = re.compile(r"(<[^>]*>)")
TAG_NAME = re.compile(r"<([A-Za-z][A-Za-z0-9]*)")
ENTITY = re.compile(r"&[#\w]+;|.", re.S)


def _text(box) -> str:
    """A laid-out box's text, its ::footnote-marker's left out."""
    if str(getattr(box, "element_tag", "")).endswith("::footnote-marker"):
        return ""
    if type(box).__name__ == "TextBox":
        return box.text
    return "".join(_text(child) for child in getattr(box, "children", ()))


def _added_hyphen(line) -> str:
    """The hyphen WeasyPrint appended to the line's last text box, if it hyphenated a word there."""
    from ..extensions.weasyprint_cjk import hyphenated   # WeasyPrint's modules load only where they are used
    texts = [box for box in _walk(line) if type(box).__name__ == "TextBox"]
    return texts[-1].style["hyphenate_character"] if texts and hyphenated(texts[-1]) else ""


def _note_lines(box) -> list[tuple[int, bool]]:
    """(non-blank characters, justified?) for each line of a laid-out note; a paragraph's last line is
    not justified."""
    found = []
    children = list(getattr(box, "children", ()))
    lines = [c for c in children if type(c).__name__ == "LineBox"]
    for child in children:
        if type(child).__name__ == "LineBox":
            # A hyphenated word's line ends with the hyphen WeasyPrint adds (the style's hyphenate-character),
            # which is not in the note's text: counted, it would shift every later cut by one.
            text = "".join(_text(child).split()).removesuffix(_added_hyphen(child))
            found.append((len(text), child is not lines[-1]))
        else:
            found += _note_lines(child)
    return found


def long_notes(rendered, split: dict) -> dict[str, dict]:
    """Note id -> {"text": its text's digest, "lines": [characters, justified?] per line}, for each note
    laid out whole (not split by a plan for its present text) of LONG_NOTE_LINES lines or more."""
    found = {}
    for page in rendered.pages:
        areas = [box for box in page._page_box.children if type(box).__name__ == "FootnoteAreaBox"]
        for note in (note for area in areas for note in area.children):
            ident = note.element.get("id") if note.element is not None else None
            digest = _digest("".join(note.element.itertext())) if ident else None
            if ident and split.get(ident, {}).get("text") != digest and len(lines := _note_lines(note)) >= LONG_NOTE_LINES:
                found[ident] = {"text": digest, "lines": [list(line) for line in lines]}
    return found


def _digest(text: str) -> str:
    """A note's text, blanks aside, as a short digest: a plan of lines is for that text only."""
    return hashlib.sha256("".join(text.split()).encode()).hexdigest()[:16]


def split_long(document_html: str, split: dict[str, dict]) -> str:
    """The document with each long note set as one footnote per line (above), if its text is still the
    one its plan was measured on (an edited note is laid out whole, and measured again)."""
    for ident, plan in split.items():
        start = document_html.find(f'<span class="footnote" id="{ident}"')
        if start < 0:
            continue
        open_end = document_html.index(">", start) + 1
        end = _closing(document_html, open_end)
        inner, lines = document_html[open_end:end], plan["lines"]
        if _digest(html.unescape(TAG.sub("", inner))) != plan["text"]:
            continue
        chunks = _cut(inner, [n for n, _ in lines])
        first = document_html[start:open_end - 1] + (" data-justify" if lines[0][1] else "") + ">"
        parts = [first + chunks[0] + "</span>"]
        for chunk, (_, justified) in zip(chunks[1:], lines[1:]):
            parts.append(f'<span class="footnote {CONTINUED}"{" data-justify" if justified else ""}>{chunk}</span>')
        document_html = document_html[:start] + "".join(parts) + document_html[end + len("</span>"):]
    return document_html


def _closing(html: str, at: int) -> int:
    """Where the span open before `at` closes."""
    depth = 1
    for match in re.finditer(r"<(/?)span\b[^>]*>", html[at:]):
        depth += -1 if match[1] else 1
        if depth == 0:
            return at + match.start()
    raise ValueError("unbalanced note")


def _cut(inner: str, counts: list[int]) -> list[str]:
    """The note's HTML cut after each line's characters (blanks aside); the elements open at a cut are
    closed before it and opened again after it. The last piece takes whatever is left. A Latin run open
    at a cut loses its Han–Latin margin on that side, as a line's edge has none (clreq): laid out with
    it, the line would be wider than the whole note's line was, and wrap."""
    pieces, current, stack = [], [], []
    bounds = [sum(counts[:k + 1]) for k in range(len(counts) - 1)]
    seen = 0
    for n, part in enumerate(TAG.split(inner)):
        if n % 2:
            current.append(part)
            if part.startswith("</"):
                stack.pop()
            elif not part.endswith("/>"):
                stack.append((len(current) - 1, part))
            continue
        for char in _characters(part):
            current.append(char)
            seen += not char.isspace()
            if bounds and seen == bounds[0] and not char.isspace():
                bounds.pop(0)
                for at, tag in stack:
                    current[at] = _without_margin(current[at], "r")
                current += ["</" + TAG_NAME.match(tag)[1] + ">" for _, tag in reversed(stack)]
                pieces.append("".join(current))
                current = [_without_margin(tag, "l") for _, tag in stack]
                stack = list(enumerate(current))
    pieces.append("".join(current))
    return pieces


def _without_margin(tag: str, side: str) -> str:
    """An opening tag without the class that gives a Latin run its Han–Latin margin on `side` (typeset's
    `l` or `r` beside `hl`)."""
    return re.sub(rf'(class="[^"]*\bhl\b[^"]*?) {side}\b', r"\1", tag)


def _characters(text: str) -> list[str]:
    """The text's characters, an entity (&amp;) as one."""
    return ENTITY.findall(text)

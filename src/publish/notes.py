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

import re

PLACES = ("page", "chapter")
NUMBERINGS = ("page", "chapter", "book")
CIRCLED = [chr(c) for c in range(0x2460, 0x2474)]   # ①–⑳: in every CJK font, one em wide
NOTE = re.compile(r'<div class="footnote" id="([^"]+)" data-mark="[^"]*">(.*?)</div>\n?', re.S)
CALL = '<sup class="footnote-ref" id="fnref{}">'
BLOCKS = re.compile(r"<(/?)(p|ul|ol|li|blockquote)\b([^>]*)>")
# The character before a call (or an entity), and the elements it closes (typeset.py's halt, a quotation).
BEFORE_CALL = re.compile(r"([^<>\s&]|&\w+;)((?:</\w+>)*)$")
MARK_ATTRIBUTE = re.compile(r'(<span class="footnote" id="([^"]+)" data-mark=")[^"]*(")')
STATED = re.compile(r'(<span class="footnote" id="([^"]+)" data-mark="([^"]*)")')


def mark(number: int) -> str:
    """①–⑳; a note numbered above 20 (a chapter's or a book's count) is [21]: no font has more circles."""
    return CIRCLED[number - 1] if number <= len(CIRCLED) else f"[{number}]"


def at_page_foot(chapter_html: str) -> str:
    """A typeset chapter whose notes (markdown.py's `<div class="footnote">`, after the text) are moved
    into their first calls as `<span class="footnote">`: a span, as a note stands inside a paragraph;
    its paragraphs after the first (and lists) become spans set as blocks. A further call of the same note
    stays a call. The call is tied to the character before it: a line never starts with a call."""
    notes = {}

    def take(match: re.Match) -> str:
        notes[match[1]] = match[2].strip()
        return ""

    chapter_html = NOTE.sub(take, chapter_html)
    chapter_html = chapter_html.replace('<div class="footnotes">\n</div>\n', "")
    for ident, body in notes.items():
        call = CALL.format(ident.removeprefix("fn"))
        start = chapter_html.find(call)
        end = chapter_html.find("</sup>", start) + len("</sup>")
        mark_text = re.search(r">([^<]*)</a></sup>$", chapter_html[start:end])[1]
        # The first paragraph unwrapped: WeasyPrint's ::footnote-marker (the mark) runs into its first line.
        body = re.sub(r"^<p>(.*?)</p>", r"\1", body, count=1, flags=re.S)
        inner = BLOCKS.sub(lambda m: f'<{m[1]}span class="fn-{m[2]}"{m[3]}>' if not m[1] else "</span>", body)
        note = f'<span class="footnote" id="{ident}" data-mark="{mark_text}">{inner}</span>'
        before = BEFORE_CALL.search(chapter_html, 0, start)
        if before:   # the note goes inside the elements the character closes (a halt, a quotation)
            start, note = before.start(), f'<span class="nw">{before[1]}{note}</span>{before[2]}'
        chapter_html = chapter_html[:start] + note + chapter_html[end:]
    return chapter_html


def with_marks(document_html: str, marks: dict[str, str]) -> str:
    """The print document with each note's mark (`data-mark`) replaced by the one `marks` gives it."""
    return MARK_ATTRIBUTE.sub(lambda m: m[1] + marks.get(m[2], "") + m[3] if m[2] in marks else m[0], document_html)


def stated_marks(document_html: str) -> dict[str, str]:
    """Note id -> the mark the print document gives it."""
    return {m[2]: m[3] for m in STATED.finditer(document_html)}


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def calls_by_page(rendered) -> list[list[str]]:
    """Per laid-out page, the ids of the notes whose calls it holds, in reading order (a call box is
    WeasyPrint's ::footnote-call, which knows its note)."""
    pages = []
    for page in rendered.pages:
        calls = [box.element.get("id") for box in _walk(page._page_box) if getattr(box, "footnote", None) is not None]
        pages.append(list(dict.fromkeys(calls)))
    return pages


def page_marks(rendered) -> dict[str, str]:
    """Note id -> its mark when notes are numbered afresh on each page: ① for a page's first call."""
    return {ident: mark(n) for calls in calls_by_page(rendered) for n, ident in enumerate(calls, 1)}

"""clreq typography (issue 3), measured on built PDFs with `publish proof`: this book and the test book,
both editions, at their own trim and at a second one. Each PDF is built once per session."""
from __future__ import annotations

import contextlib
import html
import importlib
import io
import random
import re
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pdfplumber
import pytest
import weasyprint
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MANUSCRIPT, ROOT, SAMPLE, build_book
import typography_stress
from typography_stress import write_stress_book
from publish import build as pipeline
from publish.stages import edition as editions
from publish.checks import engines, proof
from publish.extensions import weasyprint_cjk
from publish.tools import scaffold
from publish.stages import layouts, manuscript, markdown, pdf, typeset
from publish.errors import PublishError

SECOND_TRIM = {"manuscript": (140, 203), "sample": (148, 210)}   # each book's other trim size


def _retrimmed(book: Path, size: tuple[int, int], tmp: Path) -> Path:
    copy = tmp / book.name
    shutil.copytree(book, copy)
    yaml_file = copy / "book.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(trim:.*\n)  width: \d+\n  height: \d+", rf"\g<1>  width: {size[0]}\n  height: {size[1]}", text)
    yaml_file.write_text(text, encoding="utf-8")
    return copy


@pytest.fixture(scope="session")
def second_trim_builds(tmp_path_factory) -> dict[str, dict[tuple[str, str], Path]]:
    builds = {}
    for name, book in (("manuscript", MANUSCRIPT), ("sample", SAMPLE)):
        tmp = tmp_path_factory.mktemp(f"{name}-trim")
        builds[name] = build_book(_retrimmed(book, SECOND_TRIM[name], tmp), tmp / "out", formats=("pdf",))
    return builds


@pytest.fixture(scope="session")
def stress_build(tmp_path_factory) -> dict[tuple[str, str], Path]:
    tmp = tmp_path_factory.mktemp("stress")
    return build_book(write_stress_book(tmp / "book"), tmp / "out", formats=("pdf",))


@pytest.fixture(scope="session")
def pdfs(manuscript_build, sample_build, second_trim_builds, stress_build) -> dict[tuple[str, str, str], Path]:
    """(book, trim, edition) -> built PDF."""
    found = {("stress", "own trim", edition): path for (edition, _), path in stress_build.items()}
    for book, own in (("manuscript", manuscript_build), ("sample", sample_build)):
        for (edition, fmt), path in own.items():
            if fmt == "pdf":
                found[(book, "own trim", edition)] = path
        for (edition, fmt), path in second_trim_builds[book].items():
            found[(book, "%dx%d" % SECOND_TRIM[book], edition)] = path
    return found


CASES = [(book, trim, edition) for book in ("manuscript", "sample")
         for trim in ("own trim", "%dx%d" % SECOND_TRIM[book]) for edition in ("zh-Hans", "zh-Hant")]
CASES += [("stress", "own trim", edition) for edition in ("zh-Hans", "zh-Hant")]


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_every_clreq_rule_holds(pdfs, case):
    result = proof.measure(pdfs[case])
    reports = "\n".join(rule.report() for rule in result.rules)
    assert all(rule.passed for rule in result.rules), reports
    assert [r.number for r in result.rules] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert result.script == case[2].split("-")[1]


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_the_rules_had_something_to_measure(pdfs, case):
    rules = {r.number: r.figure for r in proof.measure(pdfs[case]).rules}
    justified = int(rules[1].split()[0])
    assert justified >= 5, rules[1]
    assert not rules[6].startswith("0 gaps"), rules[6]           # both books mix Han with digits
    if case[2] == "zh-Hans":
        assert not rules[5].startswith("zh-Hans: 0 pairs"), rules[5]
    if case[0] == "stress":   # digits and Latin in every kind of title line, titles that wrap
        # The front matter's: the copyright page's 版本记录 (版次 2026年11月第1版), zh-Hans only.
        for kind in ("heading", "running head", "contents") + ("front matter",) * (case[2] == "zh-Hans"):
            assert not re.search(rf"\b0 in \d+ {kind} lines", rules[12]), rules[12]
        assert "2 titles wrap: 1 breaks at a marked space, 1 at a mark" in rules[12], rules[12]
        if case[2] == "zh-Hans":
            assert "2 mark pairs, widest 1.50 em" in rules[12], rules[12]


def test_without_typeset_titles_rule_12_fails(tmp_path, monkeypatch):
    """The stress book with its titles set as plain text, as before the layouts typeset them: no
    Han–digit gap in the contents, running heads and copyright page, a pair of marks 2 em in the contents,
    and headings broken line by line. (The PDF's layout halves a pair's mark and makes Han–Latin gaps from
    the text itself: that is switched off too.)"""
    monkeypatch.setattr(typeset, "title", lambda text, script, vertical=False, phrases=True: html.escape(text))
    monkeypatch.setattr(typeset, "_phrases", lambda text: [])
    monkeypatch.setattr(weasyprint_cjk, "_pair_halves", lambda text: frozenset())
    monkeypatch.setattr(weasyprint_cjk, "latin_gaps", lambda text: [])
    built = build_book(write_stress_book(tmp_path / "book"), tmp_path / "out", formats=("pdf",),
                       edition_names=["zh-Hans"])
    rule = proof.measure(built["zh-Hans", "pdf"]).rules[-1]
    assert rule.number == 12 and not rule.passed
    failures = "\n".join(rule.failures)
    for kind in ("running head", "front matter", "contents"):
        assert f"({kind}): 0.000 em in " in failures, failures
    assert "a title breaks inside a phrase: 红色基因、奋斗精神：石家庄发展伟大成|就" in failures
    assert "a title's line holds one character alone: 就" in failures
    assert "(contents): ”， takes 2.00 em" in failures                   # no halt on the pair's first mark


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "stress"], ids="-".join)
def test_no_line_is_stretched_to_where_pdfjs_reads_spaces(pdfs, case):
    """pdf.js reads a gap of 0.102 em between two glyphs as a space; a line that would need that much
    takes one more unit instead, its line-end mark halved (zh-Hans) or hung (zh-Hant). Not the stress
    book: its dense marks leave lines whose next unit ends in no mark (up to 0.166 em a gap), which
    only squeezing marks mid-line would fit (issue 15)."""
    largest = float(re.search(r"largest gap between Han ([0-9.]+) em", proof.measure(pdfs[case]).rules[3].figure)[1])
    assert largest < weasyprint_cjk.MAX_STRETCH_EM + 0.0015 < 0.102


def test_lines_are_fitted_by_squeezing_or_hanging_in_each_script(pdfs):
    """zh-Hans squeezes marks where that moves a line less than stretching (issue 15; before, only a
    line-end mark, on one line of this book, which had been stretched to 0.103 em a gap, 27 spaces in
    pdf.js); zh-Hant keeps its marks full width and hangs the line-end mark instead."""
    rules = {edition: proof.measure(pdfs["manuscript", "own trim", edition]).rules
             for edition in ("zh-Hans", "zh-Hant")}
    squeezed = int(re.match(r"(\d+) lines squeezed", rules["zh-Hans"][8].figure)[1])
    assert squeezed >= 20, rules["zh-Hans"][8].figure
    assert "narrowest 0.5" in rules["zh-Hans"][4].figure                  # a single mark at half width
    assert rules["zh-Hant"][8].figure.startswith("0 lines squeezed"), rules["zh-Hant"][8].figure
    assert int(re.search(r"(\d+) with the line-end mark hung", rules["zh-Hant"][8].figure)[1]) >= 1
    assert "narrowest 1.00 em (full width)" in rules["zh-Hant"][4].figure


@pytest.mark.parametrize("edition", ["zh-Hans", "zh-Hant"])
def test_the_stress_book_breaks_urls_and_words_and_copies_them_whole(pdfs, edition):
    """Rules 8 and 9 had something to measure: URLs, e-mail addresses and paths broken at their
    segments, English words hyphenated, and the text layers of poppler (pdftotext), MuPDF and pdf.js
    (which ignore ActualText) hold each of them whole."""
    path = pdfs["stress", "own trim", edition]
    rules = proof.measure(path).rules
    figure = rules[7].figure
    assert int(re.match(r"(\d+) breaks inside addresses", figure)[1]) >= 3, figure
    # The lines before -example. and WeasyPrint/ in zh-Hant, which squeezes no mark (zh-Hans fits them so)
    assert int(re.search(r"\((\d+) inside a segment", figure)[1]) >= (edition == "zh-Hant"), figure
    assert int(re.search(r"(\d+) hyphenated words", figure)[1]) >= 1, figure
    with engines.PdfJs() as pdfjs:
        drawings = engines.draw(path, ("mupdf", "pdf.js"), pdfjs)
    layers = {"poppler": "".join(proof._text_layer(path))} | {
        name: re.sub(r"[\r\n]", "", "".join(drawing.texts)) for name, drawing in drawings.items()}
    book = "".join(p.read_text(encoding="utf-8") for p in sorted((path.parent.parent / "book" / "chapters").glob("*.md")))
    runs = [run for run in typography_stress.LATIN if " " not in run and run in book]   # a space may be a line break
    assert len(runs) >= 8, runs
    with pdfplumber.open(path) as document:
        drawn = "".join(c["text"] for page in document.pages for c in page.chars)
        lines, _, _ = proof.read_lines(document)
    # A run broken at a page's last line is not whole in the joined text layer (the page's notes and folio
    # come between): rule 8 checks each side on its own page. Counted here from the body lines.
    body = "".join(line.text for line in lines)
    page_starts = {sum(len(l.text) for l in lines[:k]) for k in range(1, len(lines)) if lines[k].page != lines[k - 1].page}
    for name, layer in layers.items():
        assert "‐" not in layer, name
        for run in runs:
            across = sum(any(m.start() < at < m.end() for at in page_starts) for m in re.finditer(re.escape(run), body))
            assert layer.count(run) + across == book.count(run), (name, run)
    # The hyphen is drawn, as a shape (read_lines gives it back to its line): the reader sees a hyphenated word.
    assert "‐" not in drawn
    assert sum(line.text.endswith("‐") for line in lines) >= 1


def _paragraph_texts(book: Path, name: str) -> list[str]:
    """Each paragraph's, heading's and cell's text as the edition has it (alt text is not drawn)."""
    loaded = manuscript.load(book)
    edition = editions.make(loaded, name, pipeline.labels(loaded))
    texts = []
    for chapter in edition.chapters:
        for token in chapter.tokens:
            if token.type == "inline":
                text = "".join(c.content for c in token.children if c.type in ("text", "code_inline"))
                texts += [t for t in text.split("\n") if t]
    return texts


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == "own trim" and c[0] != "stress"], ids="-".join)
def test_pdf_characters_are_exactly_the_edition_text(pdfs, case):
    """Rule 2 end to end: every paragraph's text appears in the PDF's characters as it is, with
    nothing inserted at a line break, a span boundary or a justified gap (no whitespace squeezed)."""
    with pdfplumber.open(pdfs[case]) as document:
        # Running heads, folios (8 pt) and footnote calls (6.3 pt) are the layouts', not the text's; the
        # notes at a page's foot are (8.5 pt, drawn as 8.4999…).
        drawn = "".join(c["text"] for page in document.pages for c in page.chars if c["size"] >= 8.25)
    book = {"manuscript": MANUSCRIPT, "sample": SAMPLE}[case[0]]
    missing = [t for t in _paragraph_texts(book, case[2]) if t not in drawn]
    assert not missing, missing[:3]


def _stress_pdf(tmp_path, name="zh-Hans", screen=False) -> Path:
    """The stress book's print PDF of one edition, rendered as the build does; with `screen` its screen
    PDF, written after the print PDF from the same layout."""
    loaded = manuscript.load(write_stress_book(tmp_path / "book"))
    edition = editions.make(loaded, name, pipeline.labels(loaded))
    path = tmp_path / f"{name}.pdf"
    written = pdf.render(layouts.render_print(edition, loaded), loaded.root, screen=screen)
    path.write_bytes(written[1] if screen else written)
    return path


def _failures(path: Path, number: int) -> list[str]:
    return proof.measure(path).rules[number - 1].failures


def test_a_hyphen_copied_with_its_word_fails_rule_8(tmp_path, monkeypatch):
    """Negative control: with the hyphen drawn as WeasyPrint draws it, as text (U+002D), it is in the text
    layer: rule 8 reads a break inside the word after a hyphen typed in it."""
    monkeypatch.setattr(weasyprint_cjk, "draw_first_line", weasyprint_cjk._weasyprint_draw_first_line)
    failures = _failures(_stress_pdf(tmp_path), 8)
    assert any("breaks inside internationali" in f and "-|" in f for f in failures), failures


def _hyphens(path: Path) -> list[tuple[int, int, dict]]:
    """(page, line, the hyphen as read_lines reads it) for each hyphenated line: a drawn shape read back
    as U+2010, or WeasyPrint's own glyph, the typeset.css hyphenate-character U+002D."""
    with pdfplumber.open(path) as document:
        lines, _, _ = proof.read_lines(document)
    return [(line.page, line.number, line.chars[-1]) for line in lines if re.search("[a-z][‐-]$", line.text)]


@pytest.mark.parametrize("screen", [False, True], ids=["print", "screen"])
def test_the_hyphen_is_drawn_where_and_as_weasyprint_draws_its_glyph(tmp_path, monkeypatch, screen):
    """The hyphen's shape stands where WeasyPrint drew its glyph, in its colour: read back as a
    character (read_lines), it has the glyph's advance box to 0.15 pt, on the same lines; also in the
    screen PDF, drawn second from the same layout."""
    shapes = _hyphens(_stress_pdf(tmp_path / "shape", screen=screen))
    monkeypatch.setattr(weasyprint_cjk, "draw_first_line", weasyprint_cjk._weasyprint_draw_first_line)
    glyphs = _hyphens(_stress_pdf(tmp_path / "glyph", screen=screen))
    assert len(shapes) == len(glyphs) >= 1
    for (page, number, shape), (glyph_page, glyph_number, glyph) in zip(shapes, glyphs):
        assert (page, number) == (glyph_page, glyph_number)
        # The shape read back as a character starts at the letter before it ends; the glyph, where the font's
        # kerning put it (a- is kerned 9 units, 0.09 pt at 10.5 pt), and its end as far past the ink as the ink
        # starts past its start (U+002D is not quite centred in its advance).
        assert abs(shape["x0"] - glyph["x0"]) < 0.15 and abs(shape["x1"] - glyph["x1"]) < 0.15, (page, number)
        assert shape["non_stroking_color"] == glyph["non_stroking_color"]


def test_urls_left_to_pango_fail_rule_9(tmp_path, monkeypatch):
    """Negative control: without the typesetting stage's addresses, a URL breaks only where Pango
    (UAX 14) lets it, not after . _ & = nor before #, and lines before it are left stretched."""
    monkeypatch.setattr(typeset, "ADDRESS", re.compile("(?!)"))
    failures = _failures(_stress_pdf(tmp_path), 9)
    assert any("limit 0.15" in f for f in failures), failures


def test_addresses_unbroken_at_their_segments_fail_rule_8(tmp_path, monkeypatch):
    """Negative control: the segments marked but no break allowed at their edges."""
    monkeypatch.setattr(weasyprint_cjk, "ADDRESS_BREAK_AFTER", set())
    failures = _failures(_stress_pdf(tmp_path), 8)
    assert any("beside an address" in f for f in failures), failures


def test_addresses_unbroken_inside_their_segments_fail_rules_8_and_9(tmp_path, monkeypatch):
    """Negative control: without the last resort of a break inside an address segment, the line before
    -example. (4.4 em, more than its spare room, and no mark to squeeze in zh-Hant) is stretched to 0.21
    em a gap."""
    monkeypatch.setattr(weasyprint_cjk, "address_breaks", lambda text, letters=False: [])
    rules = proof.measure(_stress_pdf(tmp_path, "zh-Hant")).rules
    assert any("0.21 em between" in f and "beside an address" in f for f in rules[7].failures), rules[7].failures
    assert any("0.21 em between" in f and "limit 0.15" in f for f in rules[8].failures), rules[8].failures
    assert "(0 inside a segment" in rules[7].figure, rules[7].figure


def test_an_address_segment_without_syllables_breaks_between_letters(tmp_path, monkeypatch):
    """The last resort's own last resort: no syllable boundary to break at, the line before -example.
    breaks between two letters (press-examp|le.com.cn) and keeps its gaps within the limit."""
    breaks = weasyprint_cjk.address_breaks
    monkeypatch.setattr(weasyprint_cjk, "address_breaks", lambda text, letters=False: breaks(text, True) if letters else [])
    rules = proof.measure(_stress_pdf(tmp_path, "zh-Hant")).rules
    assert rules[7].passed and rules[8].passed, rules[7].failures + rules[8].failures
    assert int(re.search(r"\((\d+) inside a segment", rules[7].figure)[1]) >= 1, rules[7].figure


def test_lines_only_stretched_fail_rule_9(tmp_path, monkeypatch):
    """Negative control: the extension's line fitting without squeezing or hanging (WeasyPrint's own
    line breaking, the extension's justification) stretches some lines of the stress book past 0.15 em."""
    monkeypatch.setattr(weasyprint_cjk, "split_inline_box", weasyprint_cjk._weasyprint_split_inline_box)
    failures = _failures(_stress_pdf(tmp_path, "zh-Hant"), 9)
    assert any("limit 0.15" in f for f in failures), failures


def _line(text: str, advances: list[float], edge_gap: float = 0.0) -> proof.Line:
    """A synthetic 10 pt line: each character's advance in ems, glyph boxes a full em."""
    chars, x = [], 0.0
    for ch, advance in zip(text, advances):
        chars.append({"text": ch, "x0": x, "x1": x + 10, "size": 10.0})
        x += advance * 10
    return proof.Line(1, 1, chars, 0.0)


def test_rule_8_takes_a_break_between_letters_inside_an_address_only_if_it_copies_whole():
    lines = [_line("见editor.office@press-exam", [1] * 25), _line("ple.com.cn除", [1] * 11)]
    blocks = [proof.Block(lines, 0.0, False)]
    rule = proof._rule8(blocks, {}, ["见editor.office@press-example.com.cn除"])
    assert rule.passed and "1 breaks inside addresses (1 inside a segment" in rule.figure
    rule = proof._rule8(blocks, {}, ["见editor.office@press-exam-ple.com.cn除"])      # a hyphen added
    assert rule.failures == ["p.1 l.1: editor.office@press-exam|ple.com.cn does not copy as editor.office@press-example.com.cn"]
    lone = [_line("见editor.office@press-example.com.c", [1] * 34), _line("n除", [1] * 2)]
    rule = proof._rule8([proof.Block(lone, 0.0, False)], {}, ["见editor.office@press-example.com.cn除"])
    assert rule.failures == ["p.1 l.1: breaks inside editor.office@press-example.com.c|n, leaving one character alone"]
    spaced = [_line("见WeasyPrint", [1] * 11), _line("OpenCC除", [1] * 7)]   # a break at a space: no address
    assert "0 breaks inside addresses" in proof._rule8([proof.Block(spaced, 0.0, False)], {}, ["见WeasyPrint OpenCC除"]).figure


def test_rule_9_wants_clreq_order_of_squeezing():
    """A single mark squeezed while the line-end mark stays full width is out of clreq's order."""
    fitted = _line("中文，中文，中文。", [1, 1, 0.5, 1, 1, 1, 1, 1, 1])
    wrong = _line("中文，中文，中文。", [1, 1, 0.5, 1, 1, 1, 1, 1, 1])
    end_halved = {1: fitted.chars[-1]["x1"] - 5}      # the right edge: 。 ends half past it
    end_full = {1: wrong.chars[-1]["x1"]}
    following = _line("中文", [1, 1])
    rule = proof._rule9([proof.Block([fitted, following], 0.0, False)], end_halved | {0: 0}, "Hans")
    assert rule.passed, rule.failures
    rule = proof._rule9([proof.Block([wrong, following], 0.0, False)], end_full | {0: 0}, "Hans")
    assert any("single mark squeezed before the line-end mark" in f for f in rule.failures), rule.failures


def test_without_the_extension_and_markup_the_proof_fails(tmp_path, monkeypatch):
    """The proof sees what plain WeasyPrint does to this book."""
    loaded = manuscript.load(MANUSCRIPT)
    edition = editions.make(loaded, "zh-Hans", pipeline.labels(loaded))
    monkeypatch.setattr(typeset, "typeset", lambda chapter_html, script, vertical=False, pdf=False: chapter_html)
    monkeypatch.setattr(weasyprint_cjk, "active", contextlib.nullcontext)
    path = tmp_path / "plain.pdf"
    path.write_bytes(pdf.render(layouts.render_print(edition, loaded), loaded.root))
    failed = {r.number for r in proof.measure(path).rules if not r.passed}
    assert {1, 5, 6, 7} <= failed       # ragged, 2 em pairs, no Han–digit gap, a one-Han last line


SHORT_PARAGRAPHS = 60


def _short_paragraph_pdf(tmp_path: Path, notes: bool, indent: bool = True, title: str = "第一章") -> Path:
    """A new user's book (`publish new`) of one chapter of one-line paragraphs, each with a short note or
    none, zh-Hans. No line starts at the text block's left edge: every one is a paragraph's first line,
    indented 2 em (or, `indent` False, not: the book's own text.css sets no indent)."""
    book = tmp_path / "book"
    scaffold.new_book(book, "短段落", "某人")
    body = "\n\n".join(f"这是第{n}段正文，讲述发展的历程" + (f"[^{n}]" if notes else "") + "。"
                       for n in range(1, SHORT_PARAGRAPHS + 1))
    foot = "".join(f"[^{n}]: 第{n}条注释。\n" for n in range(1, SHORT_PARAGRAPHS + 1)) if notes else ""
    (book / "chapters" / "01.md").write_text(f"# {title}\n\n{body}\n\n{foot}", encoding="utf-8")
    if not indent:
        css = (ROOT / "layouts" / "common" / "text.css.j2").read_text(encoding="utf-8")
        (book / "layouts" / "common").mkdir(parents=True)
        (book / "layouts" / "common" / "text.css.j2").write_text(css.replace("text-indent: 2em;", "text-indent: 0;", 1),
                                                                  encoding="utf-8")
    return build_book(book, tmp_path / "out", formats=("pdf",), edition_names=["zh-Hans"])["zh-Hans", "pdf"]


@pytest.mark.parametrize("notes", [True, False], ids=["notes", "no notes"])
def test_a_book_of_one_line_paragraphs_is_read_one_paragraph_a_line(tmp_path, notes):
    """Every line of such a book opens a paragraph: the proof finds the versos' text block edge from the
    notes area, or (no notes) from the rectos' measure, as no line there starts at it. It used to take
    the indented lines' start for the edge and read each verso as one paragraph of unjustified lines
    (rules 1, 7 and 11 failed on a right layout)."""
    rules = proof.measure(_short_paragraph_pdf(tmp_path, notes)).rules
    assert all(rule.passed for rule in rules), "\n".join(rule.report() for rule in rules)
    assert rules[6].figure.startswith(f"{SHORT_PARAGRAPHS} paragraphs, indent 2.00–2.00 em, "
                                      f"{SHORT_PARAGRAPHS} of one line"), rules[6].figure
    assert rules[0].figure.startswith("0 justified lines"), rules[0].figure


def test_a_contents_entry_with_a_two_dot_leader_is_no_body_text(tmp_path):
    """A title that nearly fills its contents line leaves room for two leader dots: the entry is still the
    contents', and its phrase space no space inserted in the body (rule 2 failed: U+0020 beside 章从)."""
    path = _short_paragraph_pdf(tmp_path, notes=False, title="第2章 从Gutenberg到EPUB 3 中文数字出版的1000年与新挑战")
    with pdfplumber.open(path) as document:
        entry = [line.text for line in proof.read_lines(document)[0] if line.text.startswith("第2章")]
    assert entry and re.search(r"挑战\.\.\d+$", entry[0]), entry    # two dots, the case measured here
    assert proof.measure(path).rules[1].passed


@pytest.mark.parametrize("before_the_phrase", [True, False], ids=["as set", "negative control"])
def test_a_two_line_title_breaks_at_its_marked_space_before_a_long_phrase(tmp_path, monkeypatch, before_the_phrase):
    """A heading's last phrase is longer than the narrowest title measure (the cover's 10 ems), so it
    may break inside; the heading's measure holds it whole, so the line breaks before it, at the marked
    space (rule 12). Negative control: without the extension's rule the line breaks inside the phrase
    (中文数字出|版), which rule 12 reports."""
    if not before_the_phrase:
        monkeypatch.setattr(weasyprint_cjk, "_phrase_broken_at_end", lambda line: None)
    path = _short_paragraph_pdf(tmp_path, notes=False, title="第2章 从Gutenberg到EPUB 3 中文数字出版的100年与新挑战")
    with pdfplumber.open(path) as document:
        lines = [line.replace(" ", "") for page in document.pages for line in page.extract_text().splitlines()]
    rule = proof.measure(path).rules[11]
    if before_the_phrase:
        assert "第2章从Gutenberg到EPUB3" in lines and "中文数字出版的100年与新挑战" in lines, lines
        assert rule.passed and "1 titles wrap: 1 breaks at a marked space" in rule.figure, rule.report()
    else:
        assert any("a title breaks inside a phrase" in f for f in rule.failures), rule.report()


# Paragraphs of a second held-out book whose first lines failed rules 6, 8 or 9: a first line measured its
# room without its 2 em indent (0.25 em gaps before an address, 0.22 em before a name that did not fit), a
# mailto: without its Han–Latin gap.
HELD_OUT_PARAGRAPHS = ("加多条气九强面家回气，参见https://docs.rs/unicode-linebreak/latest/unicode_linebreak/，力法以理之情。",
                       "不结他几头们，参见mailto:reader.letters@publisher-example.cn，少她电组指力决做革题她西他。",
                       "“个之料水制于战或加，常解回取点几种做管？”Leslie Lamport问道。")


def test_first_lines_before_an_address_or_a_name_keep_even_colour(tmp_path):
    book = tmp_path / "book"
    scaffold.new_book(book, "留存测试", "某人")
    (book / "chapters" / "01.md").write_text("# 第一章\n\n" + "\n\n".join(HELD_OUT_PARAGRAPHS) + "\n", encoding="utf-8")
    path = build_book(book, tmp_path / "out", formats=("pdf",), edition_names=["zh-Hans"])["zh-Hans", "pdf"]
    rules = proof.measure(path).rules
    for number in (6, 8, 9):
        assert rules[number - 1].passed, rules[number - 1].report()


@pytest.mark.parametrize("notes", [True, False], ids=["notes", "no notes"])
def test_one_line_paragraphs_without_their_indent_fail_rule_7(tmp_path, notes):
    """Negative control: the same book set with no first-line indent."""
    failures = proof.measure(_short_paragraph_pdf(tmp_path, notes, indent=False)).rules[6].failures
    assert any("a paragraph without its first-line indent" in f for f in failures), failures


# The typesetting stage on its own: plain data in, plain data out.

def test_halt_on_the_first_mark_of_a_pair_and_quotations_open_to_breaks():
    out = typeset.typeset("<p>是“夺取大城市之创例”。石家庄，“放管服”改革</p>", "Hans")
    assert '<span class="halt">”</span>' in out
    assert '<span class="halt">，</span>' in out
    assert '<span class="q">“夺取大城市之创例<span class="halt">”</span></span>' in out
    assert '<span class="q">“放管服”</span>' in out


def test_the_pdfs_html_leaves_halves_and_quotation_breaks_to_the_layout():
    out = typeset.typeset("<p>是“夺取大城市之创例”。石家庄，“放管服”改革1947年</p>", "Hans", pdf=True)
    assert "halt" not in out and 'class="q"' not in out
    assert "改革1947年" in out and 'class="hl' not in out   # the Han–Latin gaps too (typeset.latin_gaps)


def _lines_laid_out(text: str, monkeypatch=None, justify=False, **patches) -> list[tuple[str, list[float]]]:
    """`text` laid out by WeasyPrint with weasyprint_cjk, 10 em to a line, ragged right (or `justify`); each
    line's text and its characters' left edges in ems, read on the PDF. `patches`: weasyprint_cjk's names
    replaced."""
    for name, value in patches.items():
        monkeypatch.setattr(weasyprint_cjk, name, value)
    font = (ROOT / "fonts" / "NotoSerifCJKsc-Regular.otf").as_uri()
    align = "justify" if justify else "left"
    page = (f'<style>@font-face {{ font-family: B; src: url("{font}"); }} @page {{ size: 200px 3000px; margin: 0 }}'
            f'p {{ font: 10px B; width: 100px; margin: 0; text-align: {align} }}</style>'
            f'<p lang="zh-Hans">{html.escape(text)}</p>')
    with weasyprint_cjk.active():
        data = weasyprint.HTML(string=page).write_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        chars = pdf.pages[0].chars
    rows: dict[float, list] = {}
    for c in chars:
        rows.setdefault(round(c["top"]), []).append(c)
    em = 10 * 0.75     # pt
    return [("".join(c["text"] for c in row), [c["x0"] / em for c in row]) for _, row in sorted(rows.items())]


MIXED_TEXTS = [
    "一二三四五六七八九十" * 4,
    "石家庄1947年11月12日解放，是“夺取大城市之创例”……他说：“好！”然后abc defghijklmnopqrstuvwxyz走了。",
    "Python and HarfBuzz shape text; 中文排版需要clreq的规则，见https://www.w3.org/TR/clreq/。",
    "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii一二三" * 2,
    "a b c d e f g h i j k l m n o p q r s t u v w x y z 一二三四五" * 2,
]


@pytest.mark.parametrize("text", MIXED_TEXTS)
def test_a_line_is_broken_from_what_surely_fills_it_as_from_the_whole_text(text, monkeypatch):
    """weasyprint_cjk gives Pango only the start of a paragraph that fills a line, by each character's least
    advance (_filling), and a few characters more: the lines are those of the whole text laid out."""
    assert weasyprint_cjk._filling(text, 10) < len(text)     # the text is cut
    cut = _lines_laid_out(text)
    assert cut == _lines_laid_out(text, monkeypatch, _filling=lambda text, ems: len(text))
    assert len(cut) >= 3


def test_a_wider_line_counted_is_the_line_pango_breaks(monkeypatch):
    """A justified line laid out again with room for one more unit (to squeeze its marks) is counted from its
    characters' widths where it can be (_counted_wider): the lines and every glyph's place are those of
    the line broken again by Pango."""
    chapter = (ROOT / "manuscript" / "chapters" / "01-article.md").read_text(encoding="utf-8")
    han = sorted(set(re.findall("[\u4e00-\u9fff]", chapter)))
    pick = random.Random(7)
    # Han in phrases of 2 to 9, then a comma, a full stop, an enumeration comma or a quotation (nested
    # quotations in some): pairs of marks (”。 ，“ ’”) side by side, as in the bench's books.
    text = ""
    while len(text) < 1500:
        phrase = "".join(pick.choice(han) for _ in range(pick.randint(2, 9)))
        if pick.random() < 0.2:
            phrase = "“" + phrase + ("‘" + pick.choice(han) * 2 + "’" if pick.random() < 0.3 else "") + "”"
        text += phrase + pick.choice("，，，。、；")
    counted, taken = weasyprint_cjk._counted_wider, []
    monkeypatch.setattr(weasyprint_cjk, "_counted_wider", lambda *args: taken.append(counted(*args)) or taken[-1])
    lines = _lines_laid_out(text, justify=True)
    assert sum(line is not None for line in taken) >= 5, taken
    assert lines == _lines_laid_out(text, monkeypatch, justify=True, _counted_wider=lambda *args: None)


def test_the_layout_halves_a_pairs_mark_and_breaks_beside_quotation_marks_from_the_text(monkeypatch):
    """The PDF's HTML has no span for either (typeset `pdf`): the extension reads them from the text."""
    text = "一二三四五六七八九“十一二三”，四五六"
    lines = _lines_laid_out(text)
    assert [line for line, _ in lines] == ["一二三四五六七八九", "“十一二三”，四五六"]   # the marks as written
    second = lines[1][1]
    assert second[6] - second[5] == pytest.approx(0.5, abs=0.01)       # ”， : the closing quotation mark halved
    assert second[7] - second[6] == pytest.approx(1.0, abs=0.01)
    # Negative controls: Pango alone allows no break before “, and the marks stay full width unhalved.
    unbroken = _lines_laid_out(text, monkeypatch, QUOTES_AS_BRACKETS=str.maketrans("", ""),
                               _pair_halves=lambda text: frozenset())
    assert unbroken[0][0] == "一二三四五六七八"
    assert "”，" in unbroken[1][0]
    at = unbroken[1][0].index("”，")
    assert unbroken[1][1][at + 1] - unbroken[1][1][at] == pytest.approx(1.0, abs=0.01)


def test_a_paragraph_end_is_tied_by_a_span_unless_plain_text_holds_it_which_the_layout_ties():
    # A Latin run counts as a Han does (typeset.TIE_UNIT): the last line holds A月.
    tied = '结益动<span class="nw"><span class="hl l r">A</span>月？</span></p>'
    assert tied in typeset.typeset("<p>变价突号篇利，这是一个很长的段落结益动A月？</p>", "Hans")
    tied = '结益<span class="nw">动<span class="hl en l" lang="en">Python</span></span></p>'   # across a long word's span
    assert tied in typeset.typeset("<p>变价突号篇利，这是一个很长的段落结益动Python</p>", "Hans", pdf=True)
    assert "span" not in typeset.typeset("<p>变价突号篇利，这是一个很长的段落结益动A月？</p>", "Hans", pdf=True)
    assert typeset.typeset("<p>变价突号篇利，这是一个很长的段落结益动啊月？</p>", "Hans") .endswith(
        '动<span class="nw">啊月？</span></p>')
    assert "nw" not in typeset.typeset("<p>变价突号篇利，这是一个很长的段落结益动啊月？</p>", "Hans", pdf=True)


def test_the_layout_makes_the_han_latin_gaps_from_the_text(monkeypatch):
    """The PDF's HTML has no span for a Latin run either (typeset `pdf`): 3/16 em each side that meets Han,
    none at the line's start, where the run moves when the line is full."""
    first, second = _lines_laid_out("一二三A四五六七八九1953年")
    assert first[0] == "一二三A四五六七八" and second[0] == "九1953年"
    a_gap = first[1][3] - first[1][2] - 1
    assert abs(a_gap - typeset.HAN_LATIN_GAP_EM) < 0.01
    assert abs(second[1][1] - second[1][0] - 1 - typeset.HAN_LATIN_GAP_EM) < 0.01
    edge = _lines_laid_out("一二三四五六七八九十1953年")
    assert edge[1][0] == "1953年" and abs(edge[1][1][0] - edge[0][1][0]) < 0.01
    css = (ROOT / "layouts" / "common" / "typeset.css.j2").read_text(encoding="utf-8")   # the EPUB's gap is the same
    assert f".hl.l {{ margin-inline-start: {typeset.HAN_LATIN_GAP_EM}em; }}" in css
    # Negative control: without the extension's gaps, the run sits against the Han.
    monkeypatch.setattr(weasyprint_cjk, "latin_gaps", lambda text: [])
    first, _ = _lines_laid_out("一二三A四五六七八九1953年")
    assert abs(first[1][3] - first[1][2] - 1) < 0.01


def test_the_layout_ties_a_paragraphs_end_and_keeps_a_dash_with_the_character_before_it(monkeypatch):
    ends = _lines_laid_out("一二三四五六七八九十一二三四五六七八九十一。")
    assert [line for line, _ in ends] == ["一二三四五六七八九十", "一二三四五六七八九", "十一。"]
    dash = _lines_laid_out("一二三四五六七八九——十一二")
    assert [line for line, _ in dash] == ["一二三四五六七八", "九——十一二"]
    # Negative control: WeasyPrint breaks where Pango lets it.
    monkeypatch.setattr(weasyprint_cjk, "_moved_before_tie_or_dash", lambda result, *args: result)
    assert [line for line, _ in _lines_laid_out("一二三四五六七八九十一二三四五六七八九十一。")][-1] == "一。"
    assert [line for line, _ in _lines_laid_out("一二三四五六七八九——十一二")][0] == "一二三四五六七八九"


def test_traditional_marks_stay_full_width():
    out = typeset.typeset("<p>是「奪取大城市之創例」。石家莊，「放管服」改革1947年</p>", "Hant")
    assert "halt" not in out and 'class="q"' not in out
    assert '革<span class="nw"><span class="hl l r">1947</span>年</span>' in out   # 1947 and 年 end it


def test_latin_and_digit_runs_get_a_margin_on_their_han_sides_only():
    out = typeset.typeset("<p>投资4.2亿元，1953年，沿着G4高速，“6+1”行动</p>", "Hans")
    assert '资<span class="hl l r">4.2</span>亿' in out
    assert '<span class="hl r">1953</span>年' in out
    assert '着<span class="hl l r">G4</span>高' in out
    assert "“6+1”" in out                                    # no Han beside it: no span


def test_a_paragraph_end_ties_its_last_two_han_and_a_footnote_mark():
    out = typeset.typeset('<p>他回头问我，你还记得老师说过的那句话吗？我点点头，没有说话。'
                          '<sup class="footnote-ref"><a href="#fn1">[1]</a></sup></p>', "Hans")
    assert out.endswith('<span class="nw">说话。<sup class="footnote-ref"><a href="#fn1">[1]</a></sup></span></p>')
    assert 'class="nw"' not in typeset.typeset("<p>第一天：出发。</p>", "Hans")   # never wraps


def test_a_dash_never_starts_a_line():
    assert '<span class="nw">说——</span>' in typeset.typeset("<p>他说——好</p>", "Hans")


def test_an_address_breaks_at_its_segments_and_a_long_word_hyphenates():
    out = typeset.typeset("<p>详见https://www.w3.org/TR/clreq/#h-line_breaking和/usr/share/fonts/中，"
                          "internationalization是WeasyPrint的词</p>", "Hans")
    # Every other segment a span: the text between two spans is a box, and a break, of its own.
    assert ('<span class="url hl l r">https://<span class="u">www.</span>w3.<span class="u">org/</span>'
            'TR/<span class="u">clreq/</span>#h<span class="u">-</span>line_<span class="u">breaking</span></span>') in out
    assert '<span class="url hl l r">/<span class="u">usr/</span>share/<span class="u">fonts/</span></span>' in out
    assert '<span class="hl en r" lang="en">internationalization</span>' in out
    assert '<span class="hl l r">WeasyPrint</span>' in out          # a name is not hyphenated


def test_code_and_attributes_are_left_alone():
    source = '<p><img src="a.png" alt="图1说明" /><code>a“b”c 1年</code></p>'
    assert typeset.typeset(source, "Hans") == source


def test_a_line_break_between_chinese_in_the_source_is_no_space():
    # The Markdown renderer drops it (a softbreak between Chinese); the typesetting stage keeps the text.
    rendered = markdown.render(*markdown.parse("第一行\n第二行 abc\nxyz\n"), "c")
    assert typeset.typeset(rendered, "Hans") == "<p>第一行第二行 abc\nxyz</p>\n"


TEXT = st.text(alphabet="中文字汉国家，。、：；？！“”‘’（）《》…—AZbz09.+% &<\n/:@#_?=-", max_size=60)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.sampled_from(["Hans", "Hant"]))
def test_markup_never_changes_the_text_and_is_well_formed(text, script):
    source = "<p>" + html.escape(text, quote=False) + "</p>"
    out = typeset.typeset(source, script)
    root = ElementTree.fromstring(out)                       # balanced, nested: valid XHTML
    assert "".join(root.itertext()) == text


# The WeasyPrint extension.

def test_an_address_segment_breaks_inside_at_syllables_and_camelcase_else_between_letters():
    def cut(text, letters=False):
        return [text[:k] + "|" + text[k:] for k in weasyprint_cjk.address_breaks(text, letters)]
    assert cut("example.") == ["ex|ample.", "exam|ple."]
    assert cut("WeasyPrint/") == ["Weasy|Print/"]
    assert cut("example.", letters=True) == ["ex|ample.", "exa|mple.", "exam|ple.", "examp|le."]
    assert cut("is%3Aopen&") == [] and cut("cn") == []               # never inside %3A, never one letter alone
    assert cut("is%3Aopen&", letters=True) == ["is%3A|open&", "is%3Ao|pen&", "is%3Aop|en&"]


@pytest.mark.parametrize("before, after, verdict", [
    ("是", "“", True), ("”", "改", True), ("”", "。", False), ("“", "夺", False),
    ("着", "G", None), ("4", "高", None), ("华", "北", None), ("，", "我", None),
    ("话", "—", False), ("（", "河", False),
    ("/", "w", True), (".", "o", True), ("r", "-", True), ("_", "b", True), ("?", "q", True),
    ("&", "l", True), ("=", "b", True), ("g", "#", True), (":", "/", None), ("-", "0", False),
])
def test_clreq_breaks_at_element_boundaries(before, after, verdict):
    assert weasyprint_cjk.clreq_break(before, after) is verdict


def test_the_extension_is_active_only_while_rendering():
    from weasyprint.layout import inline

    from weasyprint.text import line_break

    original = (inline.justify_line, inline.can_break_text, inline.split_inline_box, inline.text_align,
                inline.split_first_line, line_break.first_line_metrics, line_break.Layout.set_text)
    with weasyprint_cjk.active():
        assert inline.justify_line is weasyprint_cjk.justify_line
        assert inline.split_inline_box is weasyprint_cjk.split_inline_box
        assert inline.split_first_line is weasyprint_cjk.split_first_line
        assert line_break.Layout.set_text is weasyprint_cjk.set_text
    assert (inline.justify_line, inline.can_break_text, inline.split_inline_box, inline.text_align,
            inline.split_first_line, line_break.first_line_metrics, line_break.Layout.set_text) == original


def test_the_extension_refuses_another_weasyprint(monkeypatch):
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with pytest.raises(PublishError, match="written for WeasyPrint 70.0, found 71.0"):
        importlib.reload(weasyprint_cjk)
    monkeypatch.undo()
    importlib.reload(weasyprint_cjk)

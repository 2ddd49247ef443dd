"""Titles typeset like the body (issue 15, criterion 3): the layouts' own lines (headings, contents,
running heads, title and copyright pages, covers) go through typeset.title. Proof rule 12 measures them
on the print PDFs (tests/test_typography.py, with its negative control); here the stage itself and the
covers and EPUB, which `publish proof` does not read."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
import zipfile

import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MANUSCRIPT
from publish.checks import proof
from publish.stages import layouts, manuscript, typeset
from publish.build import labels
from publish.stages.edition import make


def test_a_marked_space_parts_phrases_a_latin_space_does_not():
    assert typeset.title("传承红色基因 赓续奋斗精神", "Hans") == (
        '<span class="nw">传承红色基因 </span><span class="nw">赓续奋斗精神</span>')   # the space in a span: drawn
    out = typeset.title("第2章 EPUB 3与OpenCC", "Hans")
    assert '<span class="nw">第<span class="hl l r">2</span>章 </span><span class="nw">' in out
    assert '<span class="hl r">EPUB 3</span>' in out     # one phrase: the space inside Latin is a word's


def test_a_title_breaks_after_a_mark_and_no_phrase_is_one_character():
    assert typeset.title("红色基因、奋斗精神：石家庄", "Hans").count('class="nw"') == 3
    # 序 alone would be a line of one character: it joins the phrase after it, 著 the one before.
    assert typeset.title("序 第一部分", "Hans") == '<span class="nw">序 第一部分</span>'
    assert typeset.title("中共石家庄市委、石家庄市人民政府　著", "Hans").endswith(
        '<span class="nw">石家庄市人民政府　著</span>')


def test_a_phrase_longer_than_the_narrowest_measure_may_break_but_not_before_its_last_two():
    # `ph`: where the measure holds the phrase whole, the line breaks before it (weasyprint_cjk).
    assert typeset.title("关于进一步加强和改进新时代的工作意见", "Hans") == (
        '<span class="ph">关于进一步加强和改进新时代的工作<span class="nw">意见</span></span>')
    assert typeset.title("关于进一步加强和改进新时代的工作意见 若干", "Hans").startswith(
        '<span class="ph">关于进一步加强和改进新时代的工作<span class="nw">意见 </span></span>')


def test_a_run_of_marks_stays_together():
    # ”， is one boundary (after the run), （《 one (before it): no line starts with ， or ends with （.
    assert typeset.title("第1章 “EPUB”，新的开始", "Hans").endswith('，</span><span class="nw">新的开始</span>')
    assert typeset.title("论（《资本论》）的方法", "Hans").startswith('<span class="nw">论（<span class="halt">《</span>')


def test_titles_get_the_body_spans_in_each_script_and_direction():
    assert '<span class="halt">》</span>' in typeset.title("《资本论》，读后", "Hans")
    assert "halt" not in typeset.title("《资本论》，读后", "Hant")
    assert '<span class="tcy">1</span>' in typeset.title("第1章", "Hant", vertical=True)


TITLE = st.text(alphabet="中文字汉国家，。、：；？！“”‘’（）《》…—AZbz09.+% 　&<", max_size=40)


@settings(max_examples=200, deadline=None)
@given(TITLE, st.sampled_from(["Hans", "Hant"]), st.booleans())
def test_title_markup_never_changes_the_text_and_is_well_formed(text, script, vertical):
    out = typeset.title(text, script, vertical)
    assert "".join(ElementTree.fromstring(f"<p>{out}</p>").itertext()) == text


def _lines(chars: list[dict]) -> list[str]:
    return [line.text for line in proof._rows(chars)]


@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_the_printed_cover_breaks_the_title_at_its_marked_space(manuscript_build, name):
    with pdfplumber.open(manuscript_build[name, "pdf"].with_suffix(".cover.pdf")) as pdf:
        page = pdf.pages[0]
        title = [c for c in page.chars if c["size"] == max(c["size"] for c in page.chars)]
    assert [t.replace("紅", "红").replace("傳", "传").replace("賡", "赓").replace("續", "续")
            .replace("奮", "奋").replace("鬥", "斗") for t in _lines(title)] == ["传承红色基因", "赓续奋斗精神"]


def test_the_print_interior_sets_running_heads_and_copyright_page_as_titles(manuscript_build):
    """This book: the running heads are the running elements' copies of the title, one line each; the
    copyright page's figures have their Han–digit gaps (2021年第1版: 0 em before the layouts were typeset)."""
    path = manuscript_build["zh-Hans", "pdf"]
    with pdfplumber.open(path) as pdf:
        lines, pages, body = proof.read_lines(pdf)
    found = proof.title_lines(pages, body, lines, [])
    assert {line.text for line in found["running head"]} == {"传承红色基因赓续奋斗精神"}
    copyright = next(line for line in found["front matter"] if line.text.startswith("版次"))
    gaps = [round(gap, 3) for _, _, gap in proof._pairs(copyright)]
    assert gaps == [0.188] * 3, (copyright.text, gaps)     # 1年, 第1, 1版


def test_the_epub_contents_and_front_matter_are_typeset(sample_build):
    """The sample book's chapter titles (第一章　出发): phrases at the ideographic space in the EPUB's
    contents; its title and copyright pages carry the body's spans."""
    with zipfile.ZipFile(sample_build["zh-Hans", "epub"]) as epub:
        files = {n: epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml")}
    nav = next(text for name, text in files.items() if name.endswith("nav.xhtml"))
    entry = ElementTree.fromstring(next(line for line in nav.splitlines() if line.startswith('<li><a href="text/')))
    assert "".join(entry.itertext()) == "第一章　出发"
    assert ["".join(span.itertext()) for span in entry.iter("span") if span.get("class") == "nw"] == ["第一章　", "出发"]
    copyright_page = next(text for name, text in files.items() if name.endswith("copyright-page.xhtml"))
    assert '<span class="hl' in copyright_page


def test_the_ebook_cover_is_drawn_from_the_typeset_title():
    """The EPUB's cover image is drawn from this HTML (cover.py), as the printed cover's front is."""
    book = manuscript.load(MANUSCRIPT)
    cover = layouts.render_epub(make(book, "zh-Hans", labels(book)), book).cover_html
    assert '<p class="title"><span class="nw">传承红色基因 </span><span class="nw">赓续奋斗精神</span></p>' in cover
    assert '<span class="nw">石家庄市人民政府　著</span>' in cover


def test_the_printed_covers_blurb_is_running_text_with_han_digit_gaps(manuscript_build):
    """The back cover's description (…成立100周年…) breaks as the body does, its digits spaced."""
    with pdfplumber.open(manuscript_build["zh-Hans", "pdf"].with_suffix(".cover.pdf")) as pdf:
        page = pdf.pages[0]
        blurb = [c for c in page.chars if c["x1"] < page.width * 0.45]   # the back panel, left of the spine
    rows = proof._rows(blurb)
    gaps = [gap for row in rows for _, _, gap in proof._pairs(row)]
    assert "".join(r.text for r in rows).startswith("中共石家庄市委、石家庄市人民政府在中国共产党成立100周年")
    assert len(gaps) == 4 and all(abs(gap - 0.1875) < 0.002 for gap in gaps), ([r.text for r in rows], gaps)

"""The title and copyright pages: one template and one set of data for the print book and the EPUB, the
EPUB's listed in its landmarks; the copyright page's 版本记录 as worked by hand (test_imprint.py)."""
from __future__ import annotations

import shutil
import zipfile

import pdfplumber
import pytest
from lxml import etree

from conftest import SAMPLE, build_book
from extract import squeeze, xhtml_body_text
from publish.stages import layouts, manuscript
from publish.build import labels
from publish.stages.edition import make
from publish.stages.imprint import Layout, imprint

EPUB_NS = "{http://www.idpf.org/2007/ops}"
XHTML = "{http://www.w3.org/1999/xhtml}"
# Lines of the print copyright page that need printed sheets: not in the EPUB
PRINT_ONLY = {"zh-Hans": ("开本", "印张", "字数", "印次"), "zh-Hant": ()}


def _print_pages(pdf) -> list[str]:
    with pdfplumber.open(pdf) as document:
        return [page.extract_text() for page in document.pages]


def _print_page(pdf, label: str) -> list[str]:
    """The lines of the print interior's page that holds `label`."""
    return next(text for text in _print_pages(pdf) if label in text).split("\n")


def _epub(epub) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_epub_landmarks_and_spine_lead_to_the_title_and_copyright_pages(manuscript_build, name):
    files = _epub(manuscript_build[name, "epub"])
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    landmarks = {a.get(f"{EPUB_NS}type"): a.get("href") for a in nav.iter(f"{XHTML}a")
                 if a.getparent().getparent().getparent().get(f"{EPUB_NS}type") == "landmarks"}
    assert landmarks["titlepage"] == "title-page.xhtml"
    assert landmarks["copyright-page"] == "copyright-page.xhtml"
    opf = etree.fromstring(files["EPUB/content.opf"])
    hrefs = {i.get("id"): i.get("href") for i in opf.iter("{*}item")}
    spine = [hrefs[ref.get("idref")] for ref in opf.iter("{*}itemref")]
    assert spine[:4] == ["cover.xhtml", "title-page.xhtml", "copyright-page.xhtml", "nav.xhtml"]
    for page in ("title-page", "copyright-page"):
        body = etree.fromstring(files[f"EPUB/{page}.xhtml"]).find(f"{XHTML}body")
        assert page in body.get(f"{EPUB_NS}type").split()


@pytest.mark.parametrize("book", ["manuscript", "sample"])
@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_the_epub_pages_say_what_the_print_pages_say(request, book, name):
    built = request.getfixturevalue(f"{book}_build")
    files = _epub(built[name, "epub"])
    label = {"zh-Hans": "标识符", "zh-Hant": "標識符"}[name]
    print_lines = [squeeze(line) for line in _print_page(built[name, "pdf"], label)]
    copyright_page = etree.fromstring(files["EPUB/copyright-page.xhtml"])
    epub_lines = []
    for dl in copyright_page.iter(f"{XHTML}dl"):
        terms = list(dl)
        epub_lines += [squeeze("".join(dt.itertext()) + "".join(dd.itertext())) for dt, dd in zip(terms[::2], terms[1::2])]
    epub_lines += [squeeze("".join(p.itertext())) for p in copyright_page.iter(f"{XHTML}p")]
    assert epub_lines == [line for line in print_lines if not line.startswith(PRINT_ONLY[name])]
    title_page = squeeze(xhtml_body_text(files["EPUB/title-page.xhtml"]))
    assert title_page in [squeeze(text) for text in _print_pages(built[name, "pdf"])]


def test_the_copyright_pages_state_the_figures_worked_by_hand(manuscript_build, sample_build):
    # test_imprint.py works them: 880 × 1230 / 32 and 850 × 1168 / 32; 12 pages each = 0.5 印张;
    # 30 × 25 × 12 = 9000 and 28 × 24 × 12 = 8064 characters → 9 千字
    for built, sheet, date in ((manuscript_build, "880mm×1230mm1/32", "2021年"),
                               (sample_build, "850mm×1168mm1/32", "2026年11月")):
        lines = [squeeze(line) for line in _print_page(built["zh-Hans", "pdf"], "标识符")]
        assert lines[-5:] == [f"开本{sheet}", "印张0.5", "字数9千字", f"版次{date}第1版", f"印次{date}第1次印刷"]
        hant = [squeeze(line) for line in _print_page(built["zh-Hant", "pdf"], "標識符")]
        assert hant[-1] == "版權所有·翻印必究" and not any(line.startswith(("開本", "开本")) for line in hant)
        assert any(line.startswith("出版日期") for line in hant)


def test_isbn_price_edition_and_printing_from_book_yaml(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "isbn: 978-7-02-000220-7\nimprint: {edition: 2, printing: 3, "
                    "price: {zh-Hans: 28.00元, zh-Hant: NT$ 280}}\n", encoding="utf-8")
    built = build_book(book, tmp_path / "out", formats=("pdf",))
    hans = [squeeze(line) for line in _print_page(built["zh-Hans", "pdf"], "标识符")]
    assert hans[-7:] == ["开本850mm×1168mm1/32", "印张0.5", "字数9千字", "版次2026年11月第2版",
                         "印次2026年11月第3次印刷", "书号ISBN9787020002207", "定价28.00元"]
    hant = [squeeze(line) for line in _print_page(built["zh-Hant", "pdf"], "標識符")]
    assert hant[-3:] == ["定價NT$280", "ISBN9787020002207", "版權所有·翻印必究"]
    assert {"出版者測試出版社", "出版日期2026-11-27"} <= set(hant)


def test_a_books_own_copyright_page_replaces_it_in_both_formats(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    (book / "layouts" / "common").mkdir(parents=True)
    (book / "layouts" / "common" / "copyright-page.html.j2").write_text(
        '<section class="copyright-page"><p>本书版本记录：{{ imprint.book_format }}</p></section>\n', encoding="utf-8")
    loaded = manuscript.load(book)
    edition = make(loaded, "zh-Hans", labels(loaded))
    assert "<p>本书版本记录：None</p>" in layouts.render_epub(edition, loaded).front_matter["copyright-page.xhtml"]
    record = imprint(loaded.imprint, "zh-Hans", "Hans", edition.meta.date, "", loaded.trim_mm, Layout(12, 28, 24))
    assert "<p>本书版本记录：850 mm × 1168 mm　1/32</p>" in layouts.render_print(edition, loaded, record=record).html


def test_a_wrong_figure_from_the_last_build_is_measured_again(tmp_path):
    """The first layout states what the last build measured (out/.cache/layout/); a page count that no
    longer holds is caught on the laid-out pages and the book is laid out again with the right one."""
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    out = tmp_path / "out"
    (out / ".cache" / "layout").mkdir(parents=True)
    (out / ".cache" / "layout" / "zh-Hans.json").write_text(
        '{"pages": 320, "chars_per_line": 28, "lines_per_page": 24}', encoding="utf-8")
    built = build_book(book, out, formats=["pdf"], edition_names=["zh-Hans"])
    lines = [squeeze(line) for line in _print_page(built["zh-Hans", "pdf"], "标识符")]
    assert "印张0.5" in lines and "字数9千字" in lines   # not 10 印张 and 216 千字 for 320 pages
    assert (out / ".cache" / "layout" / "zh-Hans.json").read_text() == (
        '{"pages": 12, "chars_per_line": 28, "lines_per_page": 24}')

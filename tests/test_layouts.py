"""Stage 3: the layouts. Templates are data; a book's own templates override the defaults by name."""
from __future__ import annotations

import dataclasses
import re
import shutil

from lxml import etree

from conftest import MANUSCRIPT, SAMPLE
from publish.stages import layouts, manuscript
from publish.build import labels
from publish.stages.edition import make


def edition_of(book_dir, name="zh-Hans"):
    book = manuscript.load(book_dir)
    return book, make(book, name, labels(book))


def test_print_document_has_front_matter_and_every_chapter():
    book, edition = edition_of(SAMPLE)
    html = layouts.render_print(edition, book).html
    assert 'aria-label="版权页"' in html
    text = re.sub(r"<[^>]*>", "", html)     # the words, whatever spans the typesetting stage put in them
    for words in ("目录", "测试出版社", "张三　著　李四　编", "第一章　出发", "第三章　图片"):
        assert words in text
    assert html.count('class="chapter"') == 3
    assert 'href="#ch02"' in html and 'id="ch02"' in html


def test_epub_documents_are_well_formed_xhtml_in_the_editions_language():
    book, edition = edition_of(SAMPLE, "zh-Hant")
    docs = layouts.render_epub(edition, book)
    for xhtml in [x for _, x in docs.chapters] + [docs.nav, docs.cover_page, *docs.front_matter.values()]:
        root = etree.fromstring(xhtml.encode())
        assert root.get("lang") == "zh-Hant-TW"   # s2tw: Taiwan's standard forms
    assert "目錄" in docs.nav
    assert [ch.file for ch, _ in docs.chapters] == ["text/ch01.xhtml", "text/ch02.xhtml", "text/ch03.xhtml"]
    assert list(docs.images) == ["images/image001.png"]


def test_book_templates_override_the_default_by_name(tmp_path):
    book_dir = tmp_path / "book"
    shutil.copytree(MANUSCRIPT, book_dir)
    (book_dir / "layouts" / "print").mkdir(parents=True)
    (book_dir / "layouts" / "print" / "front-matter.html.j2").write_text(
        '<section class="half-title"><h1>{{ meta.title }}——特装本</h1></section>\n', encoding="utf-8")
    book, edition = edition_of(book_dir)
    html = layouts.render_print(edition, book).html
    assert "——特装本" in html
    assert "版权页" not in html.split("<body>")[1].split('class="chapter"')[0]


def test_templates_autoescape_text():
    book, edition = edition_of(MANUSCRIPT)
    edition.meta = dataclasses.replace(edition.meta, title="A<b>&")
    assert "A&lt;b&gt;&amp;" in layouts.render_print(edition, book).html

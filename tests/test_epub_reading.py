"""The EPUBs as stores and readers meet them: Ace by DAISY, and Chromium drawing every document."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from publish.checks import browser, check

pytestmark = [
    pytest.mark.skipif(not check.Path(browser.CHROMIUM).exists(),
                       reason=f"Chromium not installed at {browser.CHROMIUM} (apt-get install chromium)"),
]
needs_ace = pytest.mark.skipif(not check.ACE.exists(), reason="Ace not installed: run make (npm ci)")

SCRIPTS = {"zh-Hans": "sc", "zh-Hant": "tc"}


@pytest.mark.parametrize("name, vertical", [("zh-Hans", False), ("zh-Hant", True)])
def test_documents_flow_in_the_editions_direction_in_the_books_fonts(manuscript_build, name, vertical):
    views = browser.view_epub(manuscript_build[name, "epub"])
    assert [v.file for v in views] == ["EPUB/cover.xhtml", "EPUB/title-page.xhtml", "EPUB/copyright-page.xhtml",
                                       "EPUB/nav.xhtml", "EPUB/text/ch01.xhtml"]
    shown = {view.file: view.text for view in views}   # the title and copyright pages, as Chromium shows them
    assert ("传承红色基因" if name == "zh-Hans" else "傳承紅色基因") in shown["EPUB/title-page.xhtml"]
    assert ("版次" if name == "zh-Hans" else "版權所有·翻印必究") in shown["EPUB/copyright-page.xhtml"]
    copyright_page = next(v for v in views if v.file == "EPUB/copyright-page.xhtml")
    assert len(copyright_page.label_offsets) >= 5 and max(copyright_page.label_offsets) < 2, copyright_page.label_offsets
    for view in views:
        assert view.writing_mode == ("vertical-rl" if vertical else "horizontal-tb"), view.file
        assert view.fallback == {}, f"{view.file} fell back to {view.fallback}"
        assert view.png.startswith(b"\x89PNG")
    for view in views[1:]:
        assert view.vertical == vertical, view.file
        weights = ("Regular",) if view.file == "EPUB/copyright-page.xhtml" else ("Regular", "Bold")   # no bold there
        assert set(view.fonts) == {f"NotoSerifCJK{SCRIPTS[name]}-{weight}" for weight in weights}, view.file
    chapter = views[-1]
    if vertical:   # 1947年11月12日: 11 and 12 upright side by side, each in one character's square
        assert len(chapter.upright_numbers) >= 10 and all(chapter.upright_numbers)
    else:
        assert chapter.upright_numbers == []


def test_only_numbers_of_one_or_two_digits_stand_upright(manuscript_build):
    with zipfile.ZipFile(manuscript_build["zh-Hant", "epub"]) as z:
        xhtml = z.read("EPUB/text/ch01.xhtml").decode()
    upright = re.findall(r'<span class="tcy">([^<]*)</span>', xhtml)
    assert {"11", "12", "74", "3"} <= set(upright)
    assert all(re.fullmatch(r"[0-9]{1,2}", n) for n in upright)
    assert "1947" in xhtml   # four digits: left to turn sideways


def test_vertical_edition_declares_its_page_progression(manuscript_build):
    with zipfile.ZipFile(manuscript_build["zh-Hant", "epub"]) as z:
        opf = z.read("EPUB/content.opf").decode()
        css = z.read("EPUB/styles/book.css").decode()
    assert 'page-progression-direction="rtl"' in opf
    assert '<meta name="primary-writing-mode" content="vertical-rl"/>' in opf
    assert "dir=" not in opf.split("<metadata")[0], "the text itself is not right-to-left"
    for prefix in ("", "-epub-", "-webkit-"):
        assert f"{prefix}writing-mode: vertical-rl" in css
    with zipfile.ZipFile(manuscript_build["zh-Hans", "epub"]) as z:
        assert "page-progression-direction" not in z.read("EPUB/content.opf").decode()


@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_accessibility_metadata(manuscript_build, name):
    with zipfile.ZipFile(manuscript_build[name, "epub"]) as z:
        opf = z.read("EPUB/content.opf").decode()
    tag = "zh-Hant-TW" if name == "zh-Hant" else name   # the manuscript's zh-Hant is s2tw: Taiwan's forms
    assert re.search(rf'<package[^>]* xml:lang="{tag}"', opf)
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert f'property="{prop}"' in opf, prop
    summary = re.search(r'property="schema:accessibilitySummary">([^<]+)<', opf).group(1)
    assert ("电子书" if name == "zh-Hans" else "電子書") in summary


@needs_ace
@pytest.mark.parametrize("book, name", [("manuscript", "zh-Hans"), ("manuscript", "zh-Hant"),
                                        ("sample", "zh-Hans"), ("sample", "zh-Hant")])
def test_ace_finds_no_violations(manuscript_build, sample_build, book, name):
    built = manuscript_build if book == "manuscript" else sample_build
    result = check.ace(built[name, "epub"])
    assert result.passed, result.detail


@needs_ace
def test_ace_fails_an_epub_without_accessibility_metadata(manuscript_build, tmp_path):
    stripped = tmp_path / "stripped.epub"
    with zipfile.ZipFile(manuscript_build["zh-Hans", "epub"]) as src, zipfile.ZipFile(stripped, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith(".opf"):
                data = re.sub(rb'\s*<meta property="schema:[^<]*</meta>', b"", data)
            dst.writestr(item, data)
    result = check.ace(stripped)
    assert not result.passed and "metadata-accessmode" in result.detail


needs_epubjs = pytest.mark.skipif(not (browser.EPUBJS / "epubjs").is_dir(), reason="epub.js not installed: run make (npm ci)")


@needs_epubjs
@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_epubjs_shows_the_title_and_copyright_pages_and_lists_them_as_landmarks(manuscript_build, name):
    """epub.js, as a web reader runs it (served over HTTP, opened from the zip), in Chromium."""
    reading = browser.read_in_epubjs(manuscript_build[name, "epub"])
    assert ("titlepage", "title-page.xhtml") in reading.landmarks
    assert ("copyright-page", "copyright-page.xhtml") in reading.landmarks
    assert list(reading.shown)[:4] == ["cover.xhtml", "title-page.xhtml", "copyright-page.xhtml", "nav.xhtml"]
    title = "传承红色基因" if name == "zh-Hans" else "傳承紅色基因"
    assert reading.shown["title-page.xhtml"].startswith(title)
    copyright_page = reading.shown["copyright-page.xhtml"]
    assert ("版次" if name == "zh-Hans" else "版權所有·翻印必究") in copyright_page and title in copyright_page

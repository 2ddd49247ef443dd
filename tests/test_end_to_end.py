"""This book and the test book, built end to end and read back from the files."""
from __future__ import annotations

import io
import shutil
import zipfile

import pikepdf
import pytest
from lxml import etree
from PIL import Image

from conftest import MANUSCRIPT, EPOCH, SAMPLE, build_book
from extract import epub_documents, outline, pdf_body_text, squeeze, xhtml_body_text
from publish.checks import check
from publish.stages import manuscript
from publish.build import labels
from publish.stages.edition import make, plain_text

EDITIONS = ["zh-Hans", "zh-Hant"]
TAGS = {"zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant-TW"}   # the language tag of each edition (zh-Hant: s2tw)


@pytest.fixture(scope="module")
def editions():
    book = manuscript.load(MANUSCRIPT)
    return {name: make(book, name, labels(book)) for name in EDITIONS}


def test_outputs_are_named_from_the_slug(manuscript_build):
    assert sorted(p.name for p in manuscript_build.values()) == [
        f"chuancheng-hongse-jiyin.{e}.{f}" for e in EDITIONS for f in ("cover.pdf", "epub", "pdf", "screen.pdf")]


@pytest.mark.parametrize("name", EDITIONS)
def test_pdf_text_is_the_edition_text(manuscript_build, editions, name):
    pdf = manuscript_build[name, "pdf"]
    chapters = outline(pdf)
    title = editions[name].chapters[0].title
    first = dict(chapters)[title]
    assert squeeze(pdf_body_text(pdf, first)) == squeeze(plain_text(editions[name]))


@pytest.mark.parametrize("name", EDITIONS)
def test_epub_text_is_the_edition_text(manuscript_build, editions, name):
    documents = epub_documents(manuscript_build[name, "epub"])
    chapters = [data for path, data in sorted(documents.items()) if "/text/" in path]
    assert squeeze("".join(xhtml_body_text(d) for d in chapters)) == squeeze(plain_text(editions[name]))


@pytest.mark.parametrize("fmt", ["pdf", "epub"])
def test_traditional_files_have_corner_quotes_and_the_corrections(manuscript_build, fmt):
    path = manuscript_build["zh-Hant", fmt]
    if fmt == "pdf":
        text = pdf_body_text(path, 0)
    else:
        text = "".join(xhtml_body_text(d) for d in epub_documents(path).values())
    assert not set("“”‘’") & set(text)
    assert "徵程" not in text and "指明瞭" not in text
    assert "「" in text and squeeze(text).count("新征程") == 3


@pytest.mark.parametrize("name", EDITIONS)
def test_pdf_fonts_are_embedded_and_the_books_own(manuscript_build, name):
    pdf = manuscript_build[name, "pdf"]
    fonts = check.pdf_fonts(pdf)
    assert fonts, "no fonts found"
    assert all(embedded for _, embedded in fonts)
    assert {n for n, _ in fonts} <= check.book_font_names()
    assert check.pdf_book_fonts(pdf).passed


@pytest.mark.parametrize("name", EDITIONS)
def test_pdf_metadata_outline_and_contents(manuscript_build, editions, name):
    edition = editions[name]
    path = manuscript_build[name, "pdf"]
    with pikepdf.open(path) as pdf:
        assert str(pdf.docinfo["/Title"]) == edition.meta.title
        assert "石家" in str(pdf.docinfo["/Author"])
        assert str(pdf.Root.Lang) == TAGS[name]
        x0, y0, x1, y1 = (float(x) for x in pdf.pages[0].TrimBox)
        assert (round((x1 - x0) / 72 * 25.4), round((y1 - y0) / 72 * 25.4)) == (148, 210)
    bookmarks = dict(outline(path))
    chapter_page = bookmarks[edition.chapters[0].title]
    assert chapter_page % 2 == 0, "a chapter starts on a recto (odd folio, even index)"
    contents_page = bookmarks[edition.labels["contents"]]
    contents = pdf_body_text(path, contents_page, contents_page).split("\n")
    entry = next(line for line in contents if edition.chapters[0].title.split()[0] in line)
    assert entry.rstrip().endswith(str(chapter_page + 1)), "the contents give the real page number"


@pytest.mark.parametrize("name", EDITIONS)
def test_epubs_are_valid_small_and_in_the_editions_language(manuscript_build, name):
    path = manuscript_build[name, "epub"]
    result = check.epubcheck(path)
    assert result.passed, result.detail
    assert path.stat().st_size < 1_000_000
    for file, data in epub_documents(path).items():
        html = etree.fromstring(data)
        assert html.get("lang") == TAGS[name], file
        assert html.get("{http://www.w3.org/XML/1998/namespace}lang") == TAGS[name], file


@pytest.mark.parametrize("name", EDITIONS)
def test_epub_metadata_cover_and_fonts(manuscript_build, editions, name):
    path = manuscript_build[name, "epub"]
    with zipfile.ZipFile(path) as z:
        assert z.namelist()[0] == "mimetype" and z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        opf = z.read("EPUB/content.opf").decode()
        cover_png = z.read("EPUB/images/cover.png")
        fonts = {n: z.read(n) for n in z.namelist() if n.endswith(".otf")}
        chapter_text = "".join(xhtml_body_text(z.read(n)) for n in z.namelist() if n.endswith(".xhtml"))
    assert "2023-11-14T22:13:20Z" in opf  # dcterms:modified from SOURCE_DATE_EPOCH
    assert f"<dc:language>{TAGS[name]}</dc:language>" in opf
    assert editions[name].meta.identifier in opf
    cover = Image.open(io.BytesIO(cover_png))
    assert cover.size[0] >= 1600 and cover.size[1] >= 2400 and cover.mode == "RGB"
    assert len(cover_png) < 5_000_000
    assert len(fonts) == 2
    assert all(len(data) <= 600_000 for data in fonts.values())
    from fontTools.ttLib import TTFont
    for data in fonts.values():
        cmap = TTFont(io.BytesIO(data)).getBestCmap()
        assert set(squeeze(chapter_text)) <= {chr(c) for c in cmap}
        assert len(cmap) < 1500, "a subset of the characters used, not the whole font"


def test_builds_are_byte_identical(manuscript_build, tmp_path):
    """A second clean build (no caches) with the same SOURCE_DATE_EPOCH: every file the same bytes."""
    again = build_book(MANUSCRIPT, tmp_path)
    assert set(again) == set(manuscript_build)
    assert {fmt for _, fmt in again} == {"pdf", "cover", "screen", "epub"}
    for key, path in again.items():
        assert path.read_bytes() == manuscript_build[key].read_bytes(), key


def test_a_book_built_in_another_folder_gives_the_same_bytes(sample_build, tmp_path):
    """Nothing of where the book lies reaches its files: the test book (it has an image, which WeasyPrint
    names after its absolute path) copied to a folder with another name and depth."""
    moved = tmp_path / "其他" / "文件夹 (2)"
    shutil.copytree(SAMPLE, moved)
    again = build_book(moved, tmp_path / "out")
    assert set(again) == set(sample_build)
    for key, path in again.items():
        assert path.read_bytes() == sample_build[key].read_bytes(), key


def test_sample_book_builds_and_passes_epubcheck(sample_build):
    assert len(sample_build) == 8   # per edition: print PDF, cover, screen PDF, EPUB
    for (name, fmt), path in sample_build.items():
        if fmt == "epub":
            result = check.epubcheck(path)
            assert result.passed, result.detail
            with zipfile.ZipFile(path) as z:
                assert "EPUB/images/image001.png" in z.namelist()
                chapters = b"".join(z.read(n) for n in z.namelist() if "/text/" in n).decode()
            assert 'class="footnotes"' in chapters and "<table>" in chapters
        else:
            assert check.pdf_book_fonts(path).passed
            if fmt == "cover":
                continue
            with pikepdf.open(path) as pdf:
                assert any("/XObject" in p.resources and p.resources.XObject.keys() for p in pdf.pages)
    text = pdf_body_text(sample_build["zh-Hant", "pdf"], 0)
    assert "『讀萬卷書，行萬里路。』" in squeeze(text)

"""The print interior laid out in pieces (stages/pieces.py) is the whole book's layout: the same pages drawn
pixel for pixel, the same text, outline and named destinations, each font once; and a chapter that grows
moves every later folio and contents entry."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2
import pytest

from publish import build
from publish.stages import edition as editions, interior, manuscript, pieces

ROOT = Path(__file__).resolve().parents[1]
DATE = "2020-09-13T12:26:40Z"


def both(book_dir: Path, name: str, processes: int) -> tuple[bytes, bytes]:
    """The edition's print PDF from one layout of the whole book, and from pieces."""
    book = manuscript.load(book_dir)
    whole, _ = interior.render(editions.make(book, name, build.labels(book), None), book, DATE)
    return whole, pieces.print_interior(editions.make(book, name, build.labels(book), None), book, DATE, processes)


def pixels(data: bytes) -> list[bytes]:
    document = pypdfium2.PdfDocument(data)
    return [page.render(scale=100 / 72).to_pil().tobytes() for page in document]


def text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def outline(pdf: pikepdf.Pdf) -> list:
    pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
    found = []

    def walk(items, depth):
        for item in items:
            target = item.destination
            found.append((depth, item.title, pages[target[0].objgen], [float(v) for v in list(target)[1:] if
                                                                         not isinstance(v, pikepdf.Name)]))
            walk(item.children, depth + 1)
    with pdf.open_outline() as tree:
        walk(tree.root, 0)
    return found


def destinations(pdf: pikepdf.Pdf) -> list:
    pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
    items = list(pdf.Root.Names.Dests.Names)
    return [(bytes(name), pages[target[0].objgen], [float(v) for v in list(target)[2:]])
            for name, target in zip(items[::2], items[1::2])]


def fonts(pdf: pikepdf.Pdf) -> list[tuple]:
    """Each font dictionary: its name, widths and ToUnicode map."""
    return sorted((str(font.BaseFont), repr(font.DescendantFonts[0].W),
                   sorted(re.findall(rb"<([0-9a-f]{4})> <([0-9a-f]+)>", font.ToUnicode.read_bytes().split(b"bfchar", 1)[1])))
                  for font in pdf.objects if isinstance(font, pikepdf.Dictionary) and font.get("/Type") == "/Font"
                  and font.get("/Subtype") == "/Type0")


def font_programs(pdf: pikepdf.Pdf) -> list[bytes]:
    return sorted(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                  and obj.get("/Subtype") == "/OpenType")


@pytest.mark.parametrize("book_dir, name, processes", [
    (ROOT / "tests" / "books" / "sample", "zh-Hans", 2),
    (ROOT / "tests" / "books" / "sample", "zh-Hant", 3),   # a piece per chapter
    (ROOT / "manuscript", "zh-Hans", 2),
    (ROOT / "manuscript", "zh-Hant", 2),
])
def test_pieces_draw_the_whole_books_pages(book_dir, name, processes, tmp_path):
    whole, joined = both(book_dir, name, processes)
    assert pixels(joined) == pixels(whole)
    assert text(joined, tmp_path) == text(whole, tmp_path)
    with pikepdf.open(io.BytesIO(whole)) as a, pikepdf.open(io.BytesIO(joined)) as b:
        assert outline(b) == outline(a)
        assert destinations(b) == destinations(a)
        # Each font once, the very program WeasyPrint embeds for the whole book.
        assert font_programs(b) == font_programs(a)
        assert fonts(b) == fonts(a)


def test_pieces_are_reproducible():
    book = manuscript.load(ROOT / "tests" / "books" / "sample")
    first, again = (pieces.print_interior(editions.make(book, "zh-Hans", build.labels(book), None), book, DATE, 2)
                    for _ in range(2))
    assert first == again


def _grown_book(tmp_path: Path, lines: int) -> Path:
    """The sample book with two more chapters, its chapter 3 longer by `lines` paragraphs."""
    book = shutil.copytree(ROOT / "tests" / "books" / "sample", tmp_path / f"grown-{lines}")
    chapters = book / "chapters"
    for number, source in ((4, "01.md"), (5, "02.md")):
        body = (chapters / source).read_text(encoding="utf-8")
        (chapters / f"0{number}.md").write_text(re.sub(r"^# .*", f"# 第{number}章 又一章", body, count=1, flags=re.M),
                                                encoding="utf-8")
    yaml = (book / "book.yaml").read_text(encoding="utf-8")
    (book / "book.yaml").write_text(yaml.replace("  - chapters/03.md\n", "  - chapters/03.md\n  - chapters/04.md\n"
                                                 "  - chapters/05.md\n"), encoding="utf-8")
    third = chapters / "03.md"
    third.write_text(third.read_text(encoding="utf-8") + "".join(
        f"\n第{n}段增补的文字，使这一章变长，后面各章的页码随之后移。\n" for n in range(lines)), encoding="utf-8")
    return book


def _folios_and_contents(data: bytes, tmp_path: Path) -> tuple[dict[int, int], dict[str, int], dict[str, int]]:
    """Page index -> the folio printed at its foot; chapter title -> the page the contents gives it; chapter
    title -> the index of the page it opens (its bookmark)."""
    path = tmp_path / "book.pdf"
    path.write_bytes(data)
    folios, contents = {}, {}
    with pikepdf.open(path) as pdf:
        count = len(pdf.pages)
        opens = {title: page for depth, title, page, _ in outline(pdf) if depth == 0}
    for index in range(count):
        lines = [line.strip() for line in subprocess.run(
            ["pdftotext", "-layout", "-f", str(index + 1), "-l", str(index + 1), str(path), "-"],
            capture_output=True, check=True, text=True).stdout.splitlines() if line.strip()]
        if lines and lines[-1].isdigit():
            folios[index] = int(lines[-1])
        for line in lines:
            entry = re.fullmatch(r"(.+?)\s*\.[ .]*(\d+)", line)
            if entry and _squeezed(entry.group(1)) in {_squeezed(t) for t in opens}:
                contents[_squeezed(entry.group(1))] = int(entry.group(2))
    return folios, contents, {_squeezed(title): page for title, page in opens.items()}


def _squeezed(title: str) -> str:
    return re.sub(r"\s", "", title)


def test_a_chapter_that_grows_moves_every_later_folio_and_contents_entry(tmp_path):
    before = pieces.print_interior(*_edition(_grown_book(tmp_path, 20)), DATE, 5)
    grown_dir = _grown_book(tmp_path, 40)   # a page more: chapter 3 ends on another recto
    whole, grown = both(grown_dir, "zh-Hans", 5)   # a piece per chapter: the growth crosses every boundary
    assert pixels(grown) == pixels(whole)
    folios_before, contents_before, opens_before = _folios_and_contents(before, tmp_path)
    folios, contents, opens = _folios_and_contents(grown, tmp_path)
    titles = sorted(opens, key=opens.get)
    third, later = titles[3], titles[4:]   # titles[0] is the contents' own bookmark
    # Chapter 3 is longer by pages enough to move the chapters after it (each opens on a recto).
    assert opens[later[0]] > opens_before[later[0]]
    for title in later:
        assert opens[title] - opens_before[title] == opens[later[0]] - opens_before[later[0]]
        assert contents[title] == opens[title] + 1
        assert contents_before[title] == opens_before[title] + 1
    assert contents[third] == contents_before[third] == opens[third] + 1
    # Every folio is its page's number, in both books.
    assert folios and all(folio == index + 1 for index, folio in folios.items())
    assert all(folio == index + 1 for index, folio in folios_before.items())
    assert max(folios) > max(folios_before)


def _edition(book_dir: Path):
    book = manuscript.load(book_dir)
    return editions.make(book, "zh-Hans", build.labels(book), None), book

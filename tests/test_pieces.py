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

from conftest import SAMPLE, build_book
from publish import build
from publish.stages import edition as editions, interior, manuscript, pieces

ROOT = Path(__file__).resolve().parents[1]
DATE = "2020-09-13T12:26:40Z"


def both(book_dir: Path, name: str, size: int | None) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    """The edition's print and screen PDFs from one layout of the whole book, and from pieces of `size`
    characters (None: two pieces)."""
    book = manuscript.load(book_dir)
    return (interior.render(editions.make(book, name, build.labels(book), None), book, DATE),
            pieces.render(*_edition(book_dir, name), DATE, size or _half(book_dir)))


def _half(book_dir: Path) -> int:
    """A piece's characters that lay the book out in two pieces (in one, a book of one chapter)."""
    lengths = pieces.sizes(_edition(book_dir)[0])
    return next(size for size in range(1, sum(lengths) + 1) if len(pieces.runs(lengths, size)) <= 2)


def test_runs_are_closed_by_the_chapter_that_fills_them_and_a_short_last_one_joins_the_one_before():
    assert pieces.runs([30, 30, 30, 30], 50) == [(0, 1), (2, 3)]
    assert pieces.runs([30, 30, 20], 50) == [(0, 1, 2)]   # the last run, 20, is under half a piece
    assert pieces.runs([60, 25, 10, 40], 50) == [(0,), (1, 2, 3)]
    assert pieces.runs([60, 30], 50) == [(0,), (1,)]
    assert pieces.runs([10], 50) == [(0,)]


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


def structure(pdf: pikepdf.Pdf) -> list:
    """The structure tree in reading order: each element's type, attributes but table header IDs, and
    marked content (page index, MCID) or annotation; the parent tree's view of every page."""
    pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
    found = []

    def walk(node, depth):
        if isinstance(node, int):
            found.append((depth, "MCID", node))
            return
        if node.get("/Type") == "/OBJR":
            found.append((depth, "OBJR", str(node.Obj.get("/Contents"))))
            return
        if node.get("/Type") == "/MCR":
            found.append((depth, "MCR", pages[node.Pg.objgen], int(node.MCID)))
            return
        attributes = {k: str(v) for k, v in node.get("/A", {}).items() if k != "/Headers"} \
            if isinstance(node.get("/A"), pikepdf.Dictionary) else None
        found.append((depth, str(node.S), pages.get(node.Pg.objgen) if "/Pg" in node else None, attributes,
                      str(node.ID) if "/ID" in node and str(node.ID).startswith("note-") else None,
                      str(node.get("/Alt")), str(node.get("/ActualText"))))
        kids = node.get("/K")
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
            walk(int(kid) if isinstance(kid, (int, pikepdf.Object)) and not isinstance(kid, pikepdf.Dictionary)
                 else kid, depth + 1)
    walk(pdf.Root.StructTreeRoot.K[0], 0)
    nums = list(pdf.Root.StructTreeRoot.ParentTree.Nums)
    tree = dict(zip((int(k) for k in nums[::2]), nums[1::2]))
    for n, page in enumerate(pdf.pages):
        marks = tree[int(page.StructParents)]
        found.append(("page", n, [str(element.S) for element in marks]))
    return found


def links(pdf: pikepdf.Pdf) -> list:
    """Each link: its page, rectangle, text and the page and place its named destination leads to."""
    named = {bytes(name): (target[0].objgen, [float(v) for v in list(target)[2:]]) for name, target in
             zip(list(pdf.Root.Names.Dests.Names)[::2], list(pdf.Root.Names.Dests.Names)[1::2])}
    pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
    return [(n, [float(v) for v in link.Rect], str(link.get("/Contents")),
             pages[named[bytes(link.Dest)][0]], named[bytes(link.Dest)][1])
            for n, page in enumerate(pdf.pages) for link in page.get("/Annots", []) if link.Subtype == "/Link"]


def font_programs(pdf: pikepdf.Pdf) -> list[bytes]:
    return sorted(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                  and obj.get("/Subtype") == "/OpenType")


@pytest.mark.parametrize("book_dir, name, size", [
    (ROOT / "tests" / "books" / "sample", "zh-Hans", None),
    (ROOT / "tests" / "books" / "sample", "zh-Hant", 1),   # a piece per chapter
    (ROOT / "manuscript", "zh-Hans", None),
    (ROOT / "manuscript", "zh-Hant", None),
])
def test_pieces_draw_the_whole_books_pages(book_dir, name, size, tmp_path):
    whole, joined = both(book_dir, name, size)
    for kind, a_data, b_data in zip(("print", "screen"), whole, joined):
        assert pixels(b_data) == pixels(a_data), kind
        assert text(b_data, tmp_path) == text(a_data, tmp_path), kind
        with pikepdf.open(io.BytesIO(a_data)) as a, pikepdf.open(io.BytesIO(b_data)) as b:
            assert outline(b) == outline(a), kind
            assert destinations(b) == destinations(a), kind
            # Each font once, the very program WeasyPrint embeds for the whole book.
            assert font_programs(b) == font_programs(a), kind
            assert fonts(b) == fonts(a), kind
            if kind == "screen":
                assert structure(b) == structure(a)
                assert links(b) == links(a)


def test_a_wrong_guess_of_the_front_matters_length_moves_no_folio(monkeypatch):
    """The chapters' folios are written while the front matter is laid out, from its length as guessed:
    a wrong guess costs the chapters another layout, not a page."""
    book = manuscript.load(ROOT / "tests" / "books" / "sample")
    whole = interior.render(editions.make(book, "zh-Hans", build.labels(book), None), book, DATE)
    guesses = []
    monkeypatch.setattr(pieces, "_front_pages", lambda *args: guesses.append(1) or 1)
    joined = pieces.render(editions.make(book, "zh-Hans", build.labels(book), None), book, DATE, _half(SAMPLE))
    assert guesses == [1]
    assert [pixels(data) for data in joined] == [pixels(data) for data in whole]


@pytest.mark.parametrize("piece_characters, own_template, in_pieces", [
    (interior.PIECE_CHARACTERS, None, False),   # the test book is too short to be worth a process more
    (100, None, True),
    (100, "print/front-matter.html.j2", False),   # a book's own template knows no piece
])
def test_the_build_lays_a_long_book_out_in_pieces(piece_characters, own_template, in_pieces, tmp_path, monkeypatch):
    book_dir = shutil.copytree(ROOT / "tests" / "books" / "sample", tmp_path / "book")
    if own_template:
        (book_dir / "layouts" / own_template).parent.mkdir(parents=True)
        shutil.copy(ROOT / "layouts" / own_template, book_dir / "layouts" / own_template)
    monkeypatch.setattr(interior, "PIECE_CHARACTERS", piece_characters)
    laid_out = []
    lay_out = pieces._lay_out
    monkeypatch.setattr(pieces, "_lay_out", lambda *args: laid_out.append(
        len(pieces.runs(pieces.sizes(args[0]), args[4]))) or lay_out(*args))   # args: edition, …, size
    build.build(book_dir, tmp_path / "out", formats=("pdf",), edition_names=["zh-Hans"], progress=lambda _: None)
    assert laid_out == ([3] if in_pieces else [])   # the test book's 3 chapters


def test_pieces_are_reproducible_on_any_number_of_cores():
    book = manuscript.load(ROOT / "tests" / "books" / "sample")
    first, again = (pieces.render(editions.make(book, "zh-Hans", build.labels(book), None), book, DATE, 1, jobs)
                    for jobs in (1, 3))   # a piece per chapter   # the print and the screen PDF
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
    before, _ = pieces.render(*_edition(_grown_book(tmp_path, 20)), DATE, 1)
    grown_dir = _grown_book(tmp_path, 80)   # three pages more at least: chapter 3 ends on another recto
    (whole, _), (grown, _) = both(grown_dir, "zh-Hans", 1)   # a piece per chapter: the growth crosses them all
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


def _edition(book_dir: Path, name: str = "zh-Hans"):
    book = manuscript.load(book_dir)
    return editions.make(book, name, build.labels(book), None), book


@pytest.mark.parametrize("edit, laid_again", [
    # A mark changed in chapter 2: its piece alone is laid out again.
    (lambda chapters: (chapters / "02.md").write_text(
        (chapters / "02.md").read_text(encoding="utf-8").replace("。", "！", 1), encoding="utf-8"), [1]),
    # Chapter 3 grows by pages: its piece, and those after it, whose folios move.
    (lambda chapters: (chapters / "03.md").write_text((chapters / "03.md").read_text(encoding="utf-8") + "".join(
        f"\n第{n}段增补的文字，使这一章变长，后面各章的页码随之后移。\n" for n in range(80)), encoding="utf-8"),
     [2, 3, 4]),
])
def test_an_edited_book_lays_out_only_the_pieces_it_changed(edit, laid_again, tmp_path, monkeypatch):
    """The pieces are kept in the build's cache: a build after an edit lays out the edited chapter's piece
    (and the pieces whose folios it moves) and gives the bytes of a cold build of the edited book."""
    monkeypatch.setattr(interior, "PIECE_CHARACTERS", 100)   # a piece per chapter
    book_dir = _grown_book(tmp_path, 0)   # five chapters
    laid: list[list[str]] = []
    keep_laid = pieces._Kept.keep_laid
    monkeypatch.setattr(pieces._Kept, "keep_laid", lambda self, key, piece: (
        laid.append(sorted(piece.chapters)) if piece.chapters else None, keep_laid(self, key, piece))[1])
    one = {"formats": ("pdf",), "edition_names": ["zh-Hans"]}   # in this process, where the spy is
    build_book(book_dir, tmp_path / "out", **one)
    cold = list(laid)
    assert len(cold) == 5
    edit(book_dir / "chapters")
    laid.clear()
    warm = build_book(book_dir, tmp_path / "out", **one)
    assert sorted(laid) == sorted(cold)[laid_again[0]:laid_again[-1] + 1]
    again = build_book(book_dir, tmp_path / "cold", **one)
    for kind in ("pdf", "screen"):
        assert warm[("zh-Hans", kind)].read_bytes() == again[("zh-Hans", kind)].read_bytes(), kind
    # What the first build kept of the pieces laid out again is gone: each piece's files once, the front
    # matter's, and the front matter's guess.
    kept = tmp_path / "out" / ".cache" / "pieces" / "zh-Hans"
    assert len(list(kept.glob("*.print.pdf"))) == 6
    assert len(list(kept.glob("*.json"))) == 7

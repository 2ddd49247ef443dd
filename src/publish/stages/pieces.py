"""Stage 4a, in parallel: an edition's print and screen PDFs laid out in pieces (interior.PIECES), a
process each, and joined into the files one layout of the whole book gives.

A chapter starts on a recto (layouts/print/book.css.j2), so its layout does not depend on where it starts,
except for its folios and the contents page's numbers. Each worker lays out a run of chapters (WeasyPrint's
pages cannot cross processes: they hold Pango objects), tells the parent its page count and waits; the
parent, once it knows every count, lays out the front matter with the contents' page numbers and the
copyright page's figures, and sends each worker its first folio; each worker then lays out its margin boxes
again with its folios and writes its pages as a print PDF and a screen PDF; `join` makes one file of each,
each font once.

A piece that another follows ends with an empty chapter (`Piece.more`): its last page and the blank verso
before the next chapter are made as in the whole book; the empty chapter's pages are dropped.
"""
from __future__ import annotations

import contextlib
import functools
import io
import math
import multiprocessing
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from . import interior, layouts, pdf, pdf_tidy, press
from .. import processes
from .edition import Edition
from ..errors import PublishError
from .imprint import Layout
from .layouts import Piece
from .manuscript import Manuscript


@dataclass(frozen=True)
class Laid:
    """What a worker reports once its piece is laid out: its pages (without the trailing empty chapter's),
    the measure of its first body page (interior.measure; None without a paragraph), the notes' marks and
    long notes it found."""
    pages: int
    measure: Layout | None
    footnotes: dict
    chapters: dict[str, int]   # chapter id -> its first page in the piece, from 0


def sizes(edition: Edition) -> list[int]:
    """Each chapter's length: the characters of its Markdown."""
    return [sum(len(token.content) for token in chapter.tokens) for chapter in edition.chapters]


def runs(lengths: list[int], count: int) -> list[tuple[int, ...]]:
    """Chapter indices in at most `count` consecutive runs of about equal length."""
    total, done, out, current = sum(lengths) or 1, 0, [], []
    for index, size in enumerate(lengths):
        current.append(index)
        done += size
        if done >= total * (len(out) + 1) / count and len(out) < count - 1:
            out.append(tuple(current))
            current = []
    if current:
        out.append(tuple(current))
    return out


def _sections(page):
    return (box for box in interior._walk(page._page_box)
            if getattr(box, "element_tag", None) == "section" and getattr(box, "element", None) is not None)


def _chapter_pages(rendered) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, page in enumerate(rendered.pages):
        for box in _sections(page):
            if "chapter" in (box.element.get("class") or "").split():
                found.setdefault(box.element.get("id"), index)
    return found


def _until_piece_end(rendered) -> int:
    """Pages before the trailing empty chapter's (all of them if there is none)."""
    for index, page in enumerate(rendered.pages):
        if any("piece-end" in (box.element.get("class") or "").split() for box in _sections(page)):
            return index
    return len(rendered.pages)


@contextlib.contextmanager
def _layout_context(captured: list):
    """WeasyPrint's LayoutContext of the document laid out, kept to lay the margin boxes out again."""
    import weasyprint.document
    original = weasyprint.document.layout_document

    def layout_document(html, root_box, context, *args, **kwargs):
        captured[:] = [context]
        return original(html, root_box, context, *args, **kwargs)
    weasyprint.document.layout_document = layout_document
    try:
        yield
    finally:
        weasyprint.document.layout_document = original


def _shift_folios(rendered, context, offset: int) -> None:
    """Each page's margin boxes (folios, running heads) laid out again as if `offset` pages came before."""
    from weasyprint.formatting_structure.boxes import MarginBox
    from weasyprint.layout.background import layout_backgrounds
    from weasyprint.layout.page import make_margin_boxes
    for number, page in enumerate(rendered.pages, 1):
        box = page._page_box
        context.current_page = number
        quote_depth, counters, *rest = context.page_maker[number][3]
        state = (quote_depth, {**counters, "page": [n + offset for n in counters["page"]]}, *rest)
        box.children = (tuple(c for c in box.children if not isinstance(c, MarginBox))
                        + tuple(make_margin_boxes(context, box, state)))
        layout_backgrounds(box, context.get_image_from_uri)


def lay_out_piece(edition: Edition, book: Manuscript, piece: Piece, date: str, footnotes: dict, folio,
                  record=None) -> tuple[bytes, bytes]:
    """The piece's print PDF (not yet finished by press) and screen PDF. `folio(laid: Laid) -> int`: the
    pages before it, asked once it is laid out; `record`: the front matter's copyright figures. As
    interior.render does for the whole book, the piece is laid out again when its notes need it."""
    spec = book.print
    at_foot = book.notes.place == "page"
    per_page = at_foot and book.notes.numbering == "page"
    captured: list = []

    def inspect(rendered):
        nonlocal footnotes
        press.resolution_check(book)(rendered)
        footnotes = interior.check_notes(rendered, document.html, footnotes, at_foot, per_page)
        rendered.pages = rendered.pages[:_until_piece_end(rendered)]
        if piece.front:   # the contents' links lead to the chapters, in other pieces: `join` names their places
            rendered.pages[-1].anchors.update({ident: (0, 0, 0, 0) for ident in piece.pages})
        measured = None if piece.front else _measure(rendered, spec.signature)
        offset = folio(Laid(len(rendered.pages), measured, footnotes, _chapter_pages(rendered)))
        if offset:
            _shift_folios(rendered, captured[0], offset)

    for _ in range(interior.LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec), record,
                                        footnotes.get("marks") if per_page else None, footnotes.get("split"),
                                        piece=piece)
        try:
            with _layout_context(captured):
                return pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect, compress=False,
                                  screen=True)
        except interior.Measured as measured:
            footnotes = footnotes if measured.footnotes is None else measured.footnotes
    raise interior.too_many_layouts(book)


def _measure(rendered, signature: int) -> Layout | None:
    try:
        return interior.measure(rendered, signature)
    except PublishError:   # no paragraph in this piece: another's measures the book
        return None


def _worker(conn, parent: int, edition, book, piece, date, footnotes) -> None:
    """A piece in its own process: Laid to the parent, its first folio back, its PDFs to the parent."""
    processes.die_with_parent(parent)

    def folio(laid: Laid) -> int:
        conn.send(("laid", laid))
        return conn.recv()
    try:
        conn.send(("pdf", lay_out_piece(edition, book, piece, date, footnotes, folio)))
    except BaseException as exc:   # a PublishError is the user's to read, in the parent
        conn.send(("error", exc))


def _receive(conn, worker, kind: str):
    while not conn.poll(0.2):
        if not worker.is_alive() and not conn.poll():
            break
    try:
        got, value = conn.recv()
    except EOFError:
        worker.join()
        raise RuntimeError(f"a layout process died with exit code {worker.exitcode}") from None
    if got == "error":
        raise value
    assert got == kind, got
    return value


def render(edition: Edition, book: Manuscript, date: str, count: int) -> tuple[bytes, bytes]:
    """The print shop's interior and the screen PDF, as interior.render makes them from one layout of the
    whole book, laid out in `count` pieces at once."""
    at_foot = book.notes.place == "page"
    interior_pdf, screen_pdf, stated, footnotes = _lay_out(
        edition, book, date, interior.last_footnotes(edition) if at_foot else {}, count)
    interior.keep(edition, stated, footnotes if at_foot else None)
    return press.finish(interior_pdf, book.print, book.print.signature), screen_pdf


def _lay_out(edition: Edition, book: Manuscript, date: str, footnotes: dict, count: int,
            guess: int | None = None) -> tuple[bytes, bytes, Layout, dict]:
    """The interior for press.finish, the screen PDF, what the copyright page states, and what the notes
    needed (as interior.render keeps them: `footnotes`, the last build's). The chapters' folios follow the
    front matter's pages as guessed (`guess`, or laid out while the chapters are), so that they are written
    while the front matter is laid out with its page numbers; all again if it comes out of another length."""
    chapter_runs = runs(sizes(edition), count)
    context = multiprocessing.get_context("fork")   # the edition and the book are inherited, not pickled
    workers = []
    try:
        for number, run in enumerate(chapter_runs):
            parent, child = context.Pipe()
            piece = Piece(front=False, chapters=run, more=number < len(chapter_runs) - 1)
            worker = context.Process(target=_worker, args=(child, os.getpid(), edition, book, piece, date, footnotes))
            worker.start()
            workers.append((worker, parent))
        guess = _front_pages(edition, book, date) if guess is None else guess
        laid = [_receive(conn, worker, "laid") for worker, conn in workers]
        for (worker, conn), before in zip(workers, _starts(guess, laid)):
            conn.send(before)
        front, front_pages, layout = _front(edition, book, date, laid, guess)
        bodies = [_receive(conn, worker, "pdf") for worker, conn in workers]
    except BaseException:   # the others wait for their folios: they are not waited for
        for worker, _ in workers:
            worker.terminate()
        raise
    finally:
        for worker, _ in workers:
            worker.join()
    if front_pages != guess:
        return _lay_out(edition, book, date, footnotes, count, front_pages)
    merged: dict = {}
    for piece in laid:
        for key, value in piece.footnotes.items():
            merged[key] = {**merged.get(key, {}), **value}
    return (join([front[0], *(body[0] for body in bodies)]),
            join([front[1], *(body[1] for body in bodies)], tagged=True), layout, merged)


class _Counted(Exception):
    def __init__(self, pages: int):
        self.pages = pages


def _front_pages(edition, book, date) -> int:
    """The front matter's pages, laid out (not written) while the chapters are, with the figures the last
    build stated and no page numbers yet: the guess `_front` starts from."""
    def folio(front: Laid) -> int:
        raise _Counted(front.pages)
    stated = interior.last_layout(edition)
    try:
        lay_out_piece(edition, book, Piece(front=True, pages={c.id: 0 for c in edition.chapters}), date, {}, folio,
                      interior.record(edition, book, stated) if stated else None)
    except _Counted as counted:
        return counted.pages
    raise AssertionError("the front matter was written without being counted")


def _starts(front_pages: int, laid: list[Laid]) -> list[int]:
    """The pages before each chapter piece."""
    starts, before = [], front_pages
    for piece in laid:
        starts.append(before)
        before += piece.pages
    return starts


def _front(edition, book, date, laid: list[Laid], guess: int) -> tuple[bytes, int, Layout]:
    """The front matter's PDF, its pages, and the figures its copyright page states: laid out with the
    contents' page numbers of a guessed length of its own, again if it comes out longer or shorter."""
    first = next((piece.measure for piece in laid if piece.measure), None)
    if first is None:
        raise interior.no_body_text()
    body = sum(piece.pages for piece in laid)
    for _ in range(interior.LAYOUTS_TRIED):
        starts = _starts(guess, laid)
        pages = {ident: start + 1 + index for piece, start in zip(laid, starts)
                 for ident, index in piece.chapters.items()}
        total = guess + body
        layout = Layout(total + press.padding(total, book.print.signature), first.chars_per_line, first.lines_per_page)
        counted = []

        def folio(front: Laid) -> int:
            counted.append(front.pages)
            return 0
        data = lay_out_piece(edition, book, Piece(front=True, pages=pages), date, {}, folio,
                             interior.record(edition, book, layout))
        if counted[-1] == guess:
            return data, guess, layout
        guess = counted[-1]
    raise interior.too_many_layouts(book)


# Joining: the front matter's file takes the other pieces' pages, outlines and fonts.

def join(pieces: list[bytes], tagged: bool = False) -> bytes:
    """One PDF of the pieces' pages in order: the first piece's document (metadata, output intent), every
    outline and named destination, each font once (_merge_fonts); `tagged`: one structure tree too
    (the screen PDF, tidied again by pdf_tidy)."""
    with pikepdf.open(io.BytesIO(pieces[0])) as joined:
        for number, data in enumerate(pieces[1:], 1):
            with pikepdf.open(io.BytesIO(data)) as piece:
                keys = _renumber_structure(piece, _next_key(joined), number) if tagged else []
                joined.pages.extend(piece.pages)
                _append_outline(joined, piece)
                _add_destinations(joined, piece)
                if tagged:
                    _append_structure(joined, piece, keys)
        _merge_fonts(joined)
        _share_resources(joined)
        if tagged:
            _number_notes(joined)
            return pdf_tidy.tidied(joined)
        out = io.BytesIO()
        joined.save(out, deterministic_id=True)
    return out.getvalue()


# The structure tree (the screen PDF): the pieces' elements become children of the first piece's Document
# element, their pages' and annotations' keys in the parent tree follow the joined file's.

def _next_key(pdf: pikepdf.Pdf) -> int:
    numbers = list(pdf.Root.StructTreeRoot.ParentTree.Nums)
    return max((int(k) for k in numbers[::2]), default=-1) + 1


def _renumber_structure(piece: pikepdf.Pdf, offset: int, number: int) -> list[tuple[int, pikepdf.Object]]:
    """The piece's parent tree keys moved by `offset` (on its pages and annotations), and its table
    headers' IDs (WeasyPrint's: the table element's object number, the cell's row and column) made its
    own; returns its parent tree (key, value) pairs."""
    for page in piece.pages:
        if "/StructParents" in page:
            page.StructParents = int(page.StructParents) + offset
        for annotation in page.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + offset
    renamed = lambda value: pikepdf.String(f"{number}.{value}")   # noqa: E731
    for element in piece.objects:
        if isinstance(element, pikepdf.Dictionary) and element.get("/Type") == "/StructElem":
            if "/ID" in element and TABLE_HEADER.fullmatch(str(element.ID)):
                element.ID = renamed(element.ID)
            headers = element.get("/A", {}).get("/Headers") if isinstance(element.get("/A"), pikepdf.Dictionary) else None
            if headers is not None:
                element.A.Headers = pikepdf.Array([renamed(h) for h in headers])
    numbers = list(piece.Root.StructTreeRoot.ParentTree.Nums)
    return [(int(k) + offset, v) for k, v in zip(numbers[::2], numbers[1::2])]


TABLE_HEADER = re.compile(r"\d+-\d+-\d+")


def _append_structure(joined: pikepdf.Pdf, piece: pikepdf.Pdf, keys) -> None:
    document = joined.Root.StructTreeRoot.K[0]
    for kid in piece.Root.StructTreeRoot.K[0].K:
        copied = joined.copy_foreign(kid)
        copied.P = document
        document.K.append(copied)
    nums = joined.Root.StructTreeRoot.ParentTree.Nums
    for key, value in keys:
        nums.append(key)
        nums.append(joined.copy_foreign(value) if value.is_indirect else joined.copy_foreign(piece.make_indirect(value)))


def _number_notes(pdf: pikepdf.Pdf) -> None:
    """The Notes' IDs (weasyprint_ua numbers them in each document) numbered through the joined tree."""
    count = 0

    def walk(element):
        nonlocal count
        if isinstance(element, pikepdf.Dictionary) and element.get("/Type", "/StructElem") == "/StructElem" \
                and "/S" in element:
            if element.S == "/Note":
                count += 1
                element.ID = pikepdf.String(f"note-{count}")
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
                walk(kid)
    walk(pdf.Root.StructTreeRoot.K[0])


def _add_destinations(joined: pikepdf.Pdf, piece: pikepdf.Pdf) -> None:
    """The piece's named destinations (its anchors) in the joined file's, sorted by name as a name tree's
    must be (WeasyPrint writes one flat array). A chapter's replaces the front matter's stand-in."""
    if "/Names" not in piece.Root or "/Dests" not in piece.Root.Names:
        return
    if "/Names" not in joined.Root:
        joined.Root.Names = pikepdf.Dictionary()
    if "/Dests" not in joined.Root.Names:
        joined.Root.Names.Dests = joined.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array()))
    theirs = list(joined.copy_foreign(piece.make_indirect(piece.Root.Names.Dests.Names)))
    ours = list(joined.Root.Names.Dests.Names)
    named = dict(zip(map(bytes, ours[::2]), ours[1::2]))
    named.update(zip(map(bytes, theirs[::2]), theirs[1::2]))
    joined.Root.Names.Dests.Names = pikepdf.Array(
        [item for name in sorted(named) for item in (pikepdf.String(name), named[name])])


def _append_outline(joined: pikepdf.Pdf, piece: pikepdf.Pdf) -> None:
    """The piece's top-level outline items after the joined file's (their pages copied already)."""
    if "/Outlines" not in piece.Root or "/First" not in piece.Root.Outlines:
        return
    items = joined.copy_foreign(piece.Root.Outlines)
    if "/Outlines" not in joined.Root or "/First" not in joined.Root.Outlines:
        joined.Root.Outlines = items
        return
    outlines = joined.Root.Outlines
    item = items.First
    while True:
        item.Parent = outlines
        if "/Next" not in item:
            break
        item = item.Next
    outlines.Last.Next = items.First
    items.First.Prev = outlines.Last
    outlines.Last = items.Last
    outlines.Count = int(outlines.get("/Count", 0)) + int(items.get("/Count", 0))


def _share_resources(pdf: pikepdf.Pdf) -> None:
    """One resource dictionary for the pages, as WeasyPrint writes for a whole book: the first page's takes
    in the others' entries (WeasyPrint names fonts, images and graphics states after their contents). A
    page whose dictionary names something else by a name already taken keeps its own."""
    shared = pdf.pages[0].obj.Resources
    for page in pdf.pages[1:]:
        own = page.obj.get("/Resources")
        if own is None or own.objgen == shared.objgen:
            continue
        entries = [(kind, name, value) for kind, names in own.items() if isinstance(names, pikepdf.Dictionary)
                   for name, value in names.items()]
        if any(kind in shared and name in shared[kind] and not _same(shared[kind][name], value)
               for kind, name, value in entries) or any(not isinstance(v, pikepdf.Dictionary) and v != shared.get(k)
                                                       for k, v in own.items()):
            continue
        for kind, name, value in entries:
            if kind not in shared:
                shared[kind] = pikepdf.Dictionary()
            shared[kind][name] = value
        page.obj.Resources = shared


def _same(a: pikepdf.Object, b: pikepdf.Object) -> bool:
    """One object, or two alike (a graphics state each piece wrote); conservative: objects they refer to
    must be the same ones."""
    if a.is_indirect and a.objgen == b.objgen:
        return True
    if isinstance(a, pikepdf.Stream) or isinstance(b, pikepdf.Stream):
        return (isinstance(a, pikepdf.Stream) and isinstance(b, pikepdf.Stream)
                and a.read_raw_bytes() == b.read_raw_bytes() and repr(a.stream_dict) == repr(b.stream_dict))
    return repr(a) == repr(b)


BFCHAR = re.compile(rb"<([0-9a-fA-F]{4})> <([0-9a-fA-F]+)>")


def _merge_fonts(pdf: pikepdf.Pdf) -> None:
    """Each font once: WeasyPrint subsets a font per document, keeping glyph IDs (HB_SUBSET_FLAGS_RETAIN_GIDS)
    and naming its resource after its description, so the pieces' fonts of one name draw the same glyphs
    by the same codes. The first becomes the font of every page: its program subset anew from the original
    with the union of the glyphs, as WeasyPrint would subset it for the whole book, its widths and its
    ToUnicode map the union of theirs."""
    groups: dict[str, list[pikepdf.Dictionary]] = {}
    holders = {page.Resources.Font.objgen: page.Resources.Font for page in pdf.pages
               if "/Resources" in page and "/Font" in page.Resources}
    for fonts in holders.values():
        for name, font in fonts.items():
            if all(font.objgen != other.objgen for other in groups.get(name, [])):
                groups.setdefault(name, []).append(font)
    for name, fonts in groups.items():
        if len(fonts) > 1:
            _merged_font(fonts)
            for holder in holders.values():
                if name in holder:
                    holder[name] = fonts[0]


def _widths(w: pikepdf.Array) -> dict[int, float]:
    found, items = {}, list(w)
    for at in range(0, len(items), 2):
        first = int(items[at])
        for offset, width in enumerate(items[at + 1]):
            found[first + offset] = float(width)
    return found


def _merged_font(fonts: list[pikepdf.Dictionary]) -> None:
    to_unicode: dict[int, bytes] = {}
    widths: dict[int, float] = {}
    for font in fonts:
        cmap = font.ToUnicode.read_bytes()
        to_unicode.update((int(gid, 16), text) for gid, text in BFCHAR.findall(cmap, cmap.index(b"endcodespacerange")))
        widths.update(_widths(font.DescendantFonts[0].W))
    font = fonts[0]
    leaf = font.DescendantFonts[0]
    descriptor = leaf.FontDescriptor
    key = next(k for k in ("/FontFile3", "/FontFile2") if k in descriptor)
    descriptor[key].write(_subset(descriptor[key].read_bytes(), sorted(to_unicode)))
    array = pikepdf.Array()
    for gid in sorted(widths):
        if gid - 1 not in widths:
            array.append(gid)
            array.append(pikepdf.Array())
        array[-1].append(_number(widths[gid]))
    leaf.W = array
    box = list(descriptor.FontBBox)
    box[2] = _number(max(widths.values()))
    descriptor.FontBBox = pikepdf.Array(box)
    if "/CIDSet" in descriptor:
        bits = bytearray(math.ceil((max(widths) + 1) / 8))
        for gid in widths:
            bits[gid // 8] |= 0x80 >> (gid % 8)
        descriptor.CIDSet.write(bytes(bits))
    cmap = font.ToUnicode.read_bytes()
    head, tail = cmap[:cmap.index(b"endcodespacerange") + len(b"endcodespacerange")], cmap[cmap.index(b"endcmap"):]
    items = sorted(to_unicode.items())
    body = b"".join(b"\n%d beginbfchar\n" % len(items[at:at + 100])
                    + b"\n".join(b"<%04x> <%s>" % (gid, text) for gid, text in items[at:at + 100]) + b"\nendbfchar"
                    for at in range(0, len(items), 100))
    font.ToUnicode.write(head + body + b"\n" + tail)


def _number(value: float):
    return int(value) if value == int(value) else value


def _subset(program: bytes, glyphs: list[int]) -> bytes:
    """The original of a WeasyPrint subset (a font in fonts/, found by its PostScript name) subset with
    `glyphs` by WeasyPrint's own code and HarfBuzz: the program it embeds for the whole book."""
    from types import SimpleNamespace
    from weasyprint.pdf.fonts import Font
    ffi, harfbuzz = _harfbuzz()
    original = _originals()[_postscript_name(program)].read_bytes()
    blob = ffi.gc(harfbuzz.hb_blob_create(original, len(original), HB_MEMORY_MODE_DUPLICATE, ffi.NULL, ffi.NULL),
                  harfbuzz.hb_blob_destroy)
    face = ffi.gc(harfbuzz.hb_face_create(blob, 0), harfbuzz.hb_face_destroy)
    shim = SimpleNamespace(hb_face=face, missing={}, family=_postscript_name(program), file_content=original)
    Font._harfbuzz_subset(shim, dict.fromkeys(glyphs, ""), False)
    return shim.file_content


HB_MEMORY_MODE_DUPLICATE = 0


@functools.cache
def _harfbuzz():
    """WeasyPrint's HarfBuzz (the library that subsets its fonts), with the two functions that make a face
    from bytes, which WeasyPrint does not declare."""
    from weasyprint.text.ffi import ffi, harfbuzz
    ffi.cdef("hb_blob_t * hb_blob_create (const char *data, unsigned int length, int mode, void *user_data,"
             " void *destroy); hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);")
    return ffi, harfbuzz


def _postscript_name(program: bytes) -> str:
    from fontTools.ttLib import TTFont
    return TTFont(io.BytesIO(program), lazy=True)["name"].getDebugName(6)


@functools.cache
def _originals() -> dict[str, Path]:
    return {_postscript_name(path.read_bytes()): path for path in sorted(layouts.FONTS.iterdir())
            if path.suffix.lower() in (".otf", ".ttf")}

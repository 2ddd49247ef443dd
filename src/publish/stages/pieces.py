"""Stage 4a, in parallel: an edition's print and screen PDFs laid out in pieces (runs of chapters of about
interior.PIECE_CHARACTERS), a process each, one per core at a time, and joined into the files one layout of
the whole book gives; each piece kept in the build's cache, so that an edited chapter lays out its own alone.

A chapter starts on a recto (layouts/print/book.css.j2), so its layout does not depend on where it starts,
except for its folios and the contents page's numbers. Each worker lays out a run of chapters (WeasyPrint's
pages cannot cross processes: they hold Pango objects), tells the parent its page count (`Laid`) and waits
for its first folio, which the parent sends once it knows the pieces before; the worker then lays out its
margin boxes again with its folios and writes its pages as a print PDF (its pages finished by press) and a
screen PDF. The parent lays out the front matter with the contents' page numbers and the copyright page's
figures, and `join` makes one file of each, each font once.

A piece that another follows ends with an empty chapter (`Piece.more`): its last page and the blank verso
before the next chapter are made as in the whole book; the empty chapter's pages are dropped.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from . import interior, layouts, notes, pdf, pdf_tidy, press
from .. import cache, output, processes
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


def runs(lengths: list[int], size: int) -> list[tuple[int, ...]]:
    """Chapter indices in consecutive runs, each closed by the chapter that brings it to `size` characters,
    the last joining the run before if it is shorter than half of that (a process for little work, and
    the last to finish): an edit moves no run's first chapter before its own, so the pieces before it are
    kept (_Kept)."""
    out, current, done = [], [], 0
    for index, length in enumerate(lengths):
        current.append(index)
        done += length
        if done >= size:
            out.append(tuple(current))
            current, done = [], 0
    if current and out and done < size / 2:
        out[-1] += tuple(current)
    elif current:
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
        offset = folio(Laid(len(rendered.pages), measured, _own(footnotes, document.html), _chapter_pages(rendered)))
        if offset:
            _shift_folios(rendered, captured[0], offset)

    for _ in range(interior.LAYOUTS_TRIED):
        document = layouts.render_print(edition, book, press.css_context(spec), record,
                                        footnotes.get("marks") if per_page else None, footnotes.get("split"),
                                        piece=piece)
        try:
            with _layout_context(captured):
                print_pdf, screen_pdf = pdf.render(document, book.root, date, press.VARIANTS[spec.pdfx], inspect,
                                                   compress=False, screen=True)
        except interior.Measured as measured:
            footnotes = footnotes if measured.footnotes is None else measured.footnotes
            continue
        return press.finish_pages(print_pdf, spec), screen_pdf
    raise interior.too_many_layouts(book)


def _own(footnotes: dict, html: str) -> dict:
    """The entries (marks, long notes' lines) of the notes in `html` only: a piece kept from an earlier
    build brings back none of another piece's."""
    own = notes.stated_marks(html)
    return {kind: {ident: value for ident, value in entries.items() if ident in own}
            for kind, entries in footnotes.items()}


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


def _receive(conn, worker) -> tuple[str, object]:
    """A worker's next message; its error raised here."""
    if not conn.poll():   # it ended without a word
        worker.join()
        raise RuntimeError(f"a layout process died with exit code {worker.exitcode}")
    kind, value = conn.recv()
    if kind == "error":
        raise value
    return kind, value


def render(edition: Edition, book: Manuscript, date: str, size: int, jobs: int | None = None) -> tuple[bytes, bytes]:
    """The print shop's interior and the screen PDF, as interior.render makes them from one layout of the
    whole book, laid out in pieces of about `size` characters (`runs`), `jobs` processes at a time
    (default: one per core; the pieces, not the processes, make the bytes)."""
    at_foot = book.notes.place == "page"
    kept = _Kept.folder_of(edition, book)
    with processes.temporary_folder():   # the pieces' processes' fonts (a build keeps its own too)
        interior_pdf, screen_pdf, stated, footnotes = _lay_out(
            edition, book, date, interior.last_footnotes(edition) if at_foot else {}, size,
            max(1, jobs or os.cpu_count() or 1), kept)
    interior.keep(edition, stated, footnotes if at_foot else None)
    if kept:
        kept.prune()
    return press.finish(interior_pdf, book.print, book.print.signature, pages_finished=True), screen_pdf


class _Kept:
    """The pieces of an edition's last build, in its cache (pieces/NAME/): what a piece reported (Laid,
    which its first folio does not change) under a key of everything its layout reads, its files under that
    key and its first folio. An edited chapter lays out its piece alone again; one that grows by pages lays
    out the pieces after it too (their folios move)."""

    def __init__(self, folder: Path, fingerprint: str):
        self.folder, self.fingerprint, self.used = folder, fingerprint, set()

    @classmethod
    def folder_of(cls, edition: Edition, book: Manuscript) -> _Kept | None:
        """The edition's kept pieces, with the fingerprint of the code, layouts and fonts (the book's own
        layouts too) their keys share; None without a cache."""
        if not edition.cache:
            return None
        return cls(edition.cache / "pieces" / edition.name,
                   cache.fingerprint(layouts.LAYOUTS, layouts.FONTS, book_layouts=book.layouts))

    def key(self, edition: Edition, book: Manuscript, piece: Piece, date: str, split: dict, record=None) -> str:
        """Everything the piece's layout reads: its document (the long notes set line by line: `split`),
        the images it draws, the print spec, the date, the code, layouts and fonts. Not the notes' marks:
        the layout gives them (notes.restamp), whatever it starts from."""
        document = layouts.render_print(edition, book, press.css_context(book.print), record, None, split,
                                        piece=piece)
        images = [image.path for n in piece.chapters for image in edition.chapters[n].images]
        return cache.key(self.fingerprint, document.html, document.base_url, repr(book.print), repr(book.notes), date,
                         *(path.read_bytes() for path in images),
                         *(data for _, data in sorted(document.converted.items())))

    def _path(self, name: str) -> Path:
        self.used.add(name)
        return self.folder / name

    def laid(self, key: str) -> Laid | None:
        path = self._path(f"{key}.json")
        if not path.is_file():
            return None
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            return Laid(kept["pages"], kept["measure"] and Layout(**kept["measure"]), kept["footnotes"],
                        kept["chapters"])
        except (ValueError, TypeError, KeyError):   # a damaged file is no layout
            return None

    def keep_laid(self, key: str, laid: Laid) -> None:
        output.write_atomic(self._path(f"{key}.json"), json.dumps(dataclasses.asdict(laid), ensure_ascii=False,
                                                                  sort_keys=True).encode())

    def files(self, key: str, offset: int) -> tuple[bytes, bytes] | None:
        paths = [self._path(f"{key}.{offset}.{kind}.pdf") for kind in ("print", "screen")]
        return tuple(path.read_bytes() for path in paths) if all(p.is_file() for p in paths) else None

    def keep_files(self, key: str, offset: int, files: tuple[bytes, bytes]) -> None:
        for kind, data in zip(("print", "screen"), files):
            output.write_atomic(self._path(f"{key}.{offset}.{kind}.pdf"), data)

    def prune(self) -> None:
        """Only what this build read or wrote stays: an edited book does not grow its cache."""
        for path in self.folder.iterdir() if self.folder.is_dir() else ():
            if path.name not in self.used:
                path.unlink(missing_ok=True)


# The date of the chapters' pieces: the joined file's metadata is the front matter's (`join`), so their own
# is dropped, and a build dated by its newest file (build.source_date) need not lay out every chapter anew.
UNDATED = "2000-01-01T00:00:00Z"


def _lay_out(edition: Edition, book: Manuscript, date: str, footnotes: dict, size: int, jobs: int,
             kept: _Kept | None, guess: int | None = None) -> tuple[bytes, bytes, Layout, dict]:
    """The interior for press.finish, the screen PDF, what the copyright page states, and what the notes
    needed (as interior.render keeps them: `footnotes`, the last build's). The chapters' folios follow the
    front matter's pages as guessed (`guess`, or laid out while the chapters are), so that they are written
    while the front matter is laid out with its page numbers; all again if it comes out of another length.

    Pieces are laid out in order, `jobs` at a time; a piece kept from the last build is not laid out, and
    not written either if its first folio is the same."""
    chapter_runs = runs(sizes(edition), size)
    pieces = [Piece(front=False, chapters=run, more=number < len(chapter_runs) - 1)
              for number, run in enumerate(chapter_runs)]
    keys = [kept.key(edition, book, piece, UNDATED, footnotes.get("split", {})) if kept else None for piece in pieces]
    laid: list[Laid | None] = [kept.laid(key) if kept else None for key in keys]
    files: list[tuple[bytes, bytes] | None] = [None] * len(pieces)
    offsets: list[int | None] = [None] * len(pieces)
    running: dict[int, tuple] = {}   # piece -> (process, connection)
    context = multiprocessing.get_context("fork")   # the edition and the book are inherited, not pickled

    def start(index: int) -> None:
        parent, child = context.Pipe()
        worker = context.Process(target=_worker, args=(child, os.getpid(), edition, book, pieces[index], UNDATED,
                                                       footnotes))
        worker.start()
        running[index] = (worker, parent)
        if offsets[index] is not None:   # kept, but not at this first folio
            parent.send(offsets[index])

    def startable() -> list[int]:
        """Pieces to lay out, in order: not kept, or kept but not at the first folio they now have."""
        return [i for i in range(len(pieces)) if files[i] is None and i not in running
                and (laid[i] is None or offsets[i] is not None)]

    try:
        for index in startable()[:jobs]:
            start(index)
        guess = _front_pages(edition, book, kept) if guess is None else guess
        while True:
            before = guess
            for index, piece in enumerate(laid):   # each first folio as soon as the pieces before are known
                if piece is None:
                    break
                if offsets[index] is None:
                    offsets[index] = before
                    if index in running:   # it reads its folio once it has reported its Laid
                        running[index][1].send(before)
                    elif kept:
                        files[index] = kept.files(keys[index], before)
                before += piece.pages
            if all(f is not None for f in files):
                break
            for index in startable()[:max(0, jobs - len(running))]:
                start(index)
            assert running, "a piece is neither kept nor laid out"
            ready = multiprocessing.connection.wait([c for _, c in running.values()]
                                                    + [w.sentinel for w, _ in running.values()])
            for index, (worker, conn) in list(running.items()):
                if conn not in ready and worker.sentinel not in ready:
                    continue
                kind, value = _receive(conn, worker)
                if kind == "laid":
                    laid[index] = value
                    if kept:   # under the key of what it was last laid out from: the next build's start
                        keys[index] = kept.key(edition, book, pieces[index], UNDATED, value.footnotes.get("split", {}))
                        kept.keep_laid(keys[index], value)
                else:
                    files[index] = value
                    if kept:
                        kept.keep_files(keys[index], offsets[index], value)
                    worker.join()
                    del running[index]
        front, front_pages, layout = _front(edition, book, date, laid, guess, kept)
    except BaseException:   # the others wait for their folios: they are not waited for
        for worker, _ in running.values():
            worker.terminate()
        raise
    finally:
        for worker, _ in running.values():
            worker.join()
    if front_pages != guess:
        return _lay_out(edition, book, date, footnotes, size, jobs, kept, front_pages)
    merged: dict = {}
    for piece in laid:
        for key, value in piece.footnotes.items():
            merged[key] = {**merged.get(key, {}), **value}
    return (join([front[0], *(f[0] for f in files)]), join([front[1], *(f[1] for f in files)], tagged=True),
            layout, merged)


class _Counted(Exception):
    def __init__(self, pages: int):
        self.pages = pages


def _front_pages(edition, book, kept: _Kept | None) -> int:
    """The front matter's pages, laid out (not written) while the chapters are, with the figures the last
    build stated and no page numbers yet: the guess `_front` starts from."""
    def folio(front: Laid) -> int:
        raise _Counted(front.pages)
    stated = interior.last_layout(edition)
    piece = Piece(front=True, pages={c.id: 0 for c in edition.chapters})
    record = interior.record(edition, book, stated) if stated else None
    key = kept.key(edition, book, piece, UNDATED, {}, record) if kept else ""
    known = kept.laid(key) if kept else None
    if known:
        return known.pages
    try:
        lay_out_piece(edition, book, piece, UNDATED, {}, folio, record)
    except _Counted as counted:
        if kept:
            kept.keep_laid(key, Laid(counted.pages, None, {}, {}))
        return counted.pages
    raise AssertionError("the front matter was written without being counted")


def _starts(front_pages: int, laid: list[Laid]) -> list[int]:
    """The pages before each chapter piece."""
    starts, before = [], front_pages
    for piece in laid:
        starts.append(before)
        before += piece.pages
    return starts


def _front(edition, book, date, laid: list[Laid], guess: int,
           kept: _Kept | None) -> tuple[tuple[bytes, bytes], int, Layout]:
    """The front matter's PDFs, its pages, and the figures its copyright page states: laid out with the
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
        piece, record = Piece(front=True, pages=pages), interior.record(edition, book, layout)
        key = kept.key(edition, book, piece, date, {}, record) if kept else ""
        known = kept.laid(key) if kept else None
        data = kept.files(key, 0) if known else None
        if data is None:
            counted: list[Laid] = []

            def folio(front: Laid) -> int:
                counted.append(front)
                return 0
            data = lay_out_piece(edition, book, piece, date, {}, folio, record)
            known = counted[-1]
            if kept:
                kept.keep_laid(key, known)
                kept.keep_files(key, 0, data)
        if known.pages == guess:
            return data, guess, layout
        guess = known.pages
    raise interior.too_many_layouts(book)


# Joining: the front matter's file takes the other pieces' pages, outlines and fonts.

def join(pieces: list[bytes], tagged: bool = False) -> bytes:
    """One PDF of the pieces' pages in order: the first piece's document (metadata, output intent), every
    outline and named destination, each font once (_merge_fonts); `tagged`: one structure tree too
    (the screen PDF, tidied again by pdf_tidy but for its colour spaces: each piece's are, and the joined
    pages' resources are the union of theirs, as the whole book's are of its pages')."""
    with pikepdf.open(io.BytesIO(pieces[0])) as joined:
        notes = max(_notes(joined), default=0) if tagged else 0
        for number, data in enumerate(pieces[1:], 1):
            with pikepdf.open(io.BytesIO(data)) as piece:
                if tagged:
                    keys, notes = _renumber_structure(piece, _next_key(joined), number, notes)
                joined.pages.extend(piece.pages)
                _append_outline(joined, piece)
                _add_destinations(joined, piece)
                if tagged:
                    _append_structure(joined, piece, keys)
        _merge_fonts(joined)
        _share_resources(joined)
        if tagged:
            return pdf_tidy.tidied(joined, colour_spaces=False)
        out = io.BytesIO()
        joined.save(out, deterministic_id=True)
    return out.getvalue()


# The structure tree (the screen PDF): the pieces' elements become children of the first piece's Document
# element, their pages' and annotations' keys in the parent tree follow the joined file's.

def _next_key(pdf: pikepdf.Pdf) -> int:
    numbers = list(pdf.Root.StructTreeRoot.ParentTree.Nums)
    return max((int(k) for k in numbers[::2]), default=-1) + 1


def _identified(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """The structure elements with an ID: those pdf_tidy.map_element_ids put in the IDTree."""
    tree = pdf.Root.StructTreeRoot.get("/IDTree")
    return list(tree.Names)[1::2] if tree is not None else []


def _notes(pdf: pikepdf.Pdf) -> list[int]:
    """The numbers of the Notes' IDs (note-N: weasyprint_ua numbers them in each document, in order)."""
    return [int(m[1]) for e in _identified(pdf) if (m := NOTE_ID.fullmatch(str(e.ID)))]


def _renumber_structure(piece: pikepdf.Pdf, offset: int, number: int,
                        notes: int) -> tuple[list[tuple[int, pikepdf.Object]], int]:
    """The piece's parent tree keys moved by `offset` (on its pages and annotations), its Notes numbered on
    from `notes`, its table headers' IDs (WeasyPrint's: the table element's object number, the cell's row
    and column) made its own; returns its parent tree (key, value) pairs and the last Note's number."""
    for page in piece.pages:
        if "/StructParents" in page:
            page.StructParents = int(page.StructParents) + offset
        for annotation in page.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + offset
    last, headers = notes, False
    renamed = lambda value: pikepdf.String(f"{number}.{value}")   # noqa: E731
    for element in _identified(piece):
        if note := NOTE_ID.fullmatch(str(element.ID)):
            element.ID = pikepdf.String(f"note-{int(note[1]) + notes}")
            last = max(last, int(note[1]) + notes)
        elif TABLE_HEADER.fullmatch(str(element.ID)):
            element.ID = renamed(element.ID)
            headers = True
    for element in piece.objects if headers else ():   # the cells that name their headers
        if isinstance(element, pikepdf.Dictionary) and element.get("/Type") == "/StructElem" \
                and isinstance(element.get("/A"), pikepdf.Dictionary) and "/Headers" in element.A:
            element.A.Headers = pikepdf.Array([renamed(h) for h in element.A.Headers])
    numbers = list(piece.Root.StructTreeRoot.ParentTree.Nums)
    return [(int(k) + offset, v) for k, v in zip(numbers[::2], numbers[1::2])], last


TABLE_HEADER = re.compile(r"\d+-\d+-\d+")
NOTE_ID = re.compile(r"note-(\d+)")


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

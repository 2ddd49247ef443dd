"""The pipeline, stage after stage: manuscript → edition → layouts → PDF / EPUB, each output atomic."""
from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import bookfiles, cache, output, processes
from .stages import edition as editions
from .stages import fonts, layouts, manuscript
from .errors import PublishError

FORMATS = ("pdf", "epub")


@dataclass(frozen=True)
class Output:
    edition: str
    format: str
    path: Path


# A zip cannot date an entry before 1980: files that carry no real time (extracted with mtime 0, as some
# archivers and package builders do) date the book from this fixed day instead.
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def source_date(book: manuscript.Manuscript) -> datetime:
    """SOURCE_DATE_EPOCH, else the newest modification time of the book's own input files (book.yaml,
    chapters, images, corrections, profile, its layouts: never outputs, caches or .git), else a fixed
    date; never the clock. No program is run: a book's own .git/config could name one (gpg.program)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            return datetime.fromtimestamp(int(epoch), timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise PublishError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
                               hint="unset it, or set it to e.g. 1700000000") from None
    newest = datetime.fromtimestamp(int(max(p.stat().st_mtime for p in book.input_files())), timezone.utc)
    return newest if newest >= ZIP_EPOCH else FIXED_DATE


def labels(book: manuscript.Manuscript) -> dict[str, str]:
    """The default layouts' labels, overridden by the book's own layouts/labels.yaml if it has one."""
    merged = dict(layouts.default_labels())
    own = book.layouts / "labels.yaml" if book.layouts else None
    if own and os.path.lexists(own):
        data, node = bookfiles.load_yaml(own, "labels.yaml", bookfiles.LAYOUT_BYTES, [book.layouts])
        if data is None:
            return merged
        if not isinstance(data, dict):
            raise PublishError("labels.yaml must map label names to their text", own, 1,
                               hint="e.g. toc: 目录")
        for key_node, _ in node.value:
            if not isinstance(data.get(key_node.value), str):
                raise PublishError(f"label {key_node.value!r} must be text", own, key_node.start_mark.line + 1,
                                   hint="e.g. toc: 目录 (quote a number: \"2021\")")
        merged.update(data)
    return merged


def printed_pieces(book: manuscript.Manuscript, edition: editions.Edition) -> list[fonts.Placed]:
    """Everything the edition prints, with the place it came from: chapters, metadata, labels."""
    pieces = []
    for chapter in edition.chapters:
        for token in chapter.tokens:
            line = token.map[0] + 1 if token.map else None
            for child in token.children or []:
                pieces.append(fonts.Placed(child.content, chapter.path, line))
    yaml_file = book.root / "book.yaml"
    meta = edition.meta
    for value in (meta.title, meta.subtitle, meta.publisher, meta.rights, meta.description, meta.date,
                  meta.identifier, *(c.name for c in meta.creators)):
        pieces.append(fonts.Placed(value, yaml_file))
    pieces += [fonts.Placed(v, layouts.LAYOUTS / "labels.yaml") for v in edition.labels.values()]
    return pieces


def _cover_png(html: str, book: manuscript.Manuscript, cache_dir: Path) -> bytes:
    """Drawn again only when its HTML, the layouts, the fonts or the book's images change."""
    def draw() -> bytes:
        from .stages import cover   # imports WeasyPrint: only when the cover must be drawn
        return cover.render_png(html, book.root)
    images = book.root / "images"   # a symlink out of the book is not looked into, not even by its times
    name = cache.key(html, cache.fingerprint(layouts.LAYOUTS, layouts.FONTS, book_layouts=book.layouts),
                     cache.file_times(images) if images.resolve().is_relative_to(book.root) else "")
    return cache.data(cache_dir / "cover", name, draw)


def build(book_dir: Path, out_dir: Path, formats=FORMATS, edition_names=None, progress=print) -> list[Output]:
    """Every edition's files, renamed into `out_dir` only when all of them are made: a build that fails
    leaves every previous output as it was, and no temporary file."""
    progress(f"manuscript: reading {book_dir}/book.yaml")
    book = manuscript.load(book_dir)
    names = list(edition_names or book.editions)
    for name in names:
        if name not in book.editions:
            raise PublishError(f"edition {name!r} is not in this book", book.root / "book.yaml",
                               hint=f"its editions: {', '.join(book.editions)}")
    when = source_date(book)
    output.prepare(out_dir)
    numbered = list(enumerate(names, 1))
    with processes.temporary_folder():
        if min(len(names), os.cpu_count() or 1) == 1:
            made = _editions(book, numbered, len(names), formats, out_dir, when, progress)
        else:
            made = _in_parallel(book, numbered, formats, out_dir, when, progress)
    staged = [staged for _, staged in made]
    try:
        output.commit(staged)
    except KeyboardInterrupt:   # before anything was replaced
        output.discard(staged)
        raise
    return [made_output for made_output, _ in made]


def _in_parallel(book: manuscript.Manuscript, numbered: list[tuple[int, str]], formats, out_dir: Path,
                 when: datetime, progress) -> list[tuple[Output, output.Staged]]:
    """Editions are independent and WeasyPrint is CPU-bound Python: one process per edition. Forked, so
    the parsed manuscript and the progress callback are inherited, not pickled."""
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in numbered]
    workers = [context.Process(target=_edition_process, args=(send, os.getpid(), book, [job], len(numbered), formats,
                                                             out_dir, when, progress))
               for (_, send), job in zip(pipes, numbered)]
    for worker in workers:
        worker.start()
    replies = []
    try:
        for worker, (receive, _) in zip(workers, pipes):
            replies.append(_reply(worker, receive))
    except BaseException:   # Ctrl-C (the workers get it too and remove their files), or a worker died
        _stop(workers)
        late = [receive.recv() for receive, _ in pipes[len(replies):] if receive.poll()]
        output.discard(_staged(replies + late))
        raise
    _stop(workers)
    errors = [value for kind, value in replies if kind == "error"]
    if errors:
        output.discard(_staged(replies))
        raise errors[0]
    return [made for _, part in replies for made in part]


def _staged(replies) -> list[output.Staged]:
    return [staged for kind, part in replies if kind == "ok" for _, staged in part]


def _stop(workers) -> None:
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()


def _edition_process(send, parent: int, *job) -> None:
    """A worker: its staged outputs or its error go back to the parent; an interruption ends it quietly,
    and so does the parent's death (even by SIGKILL): no worker runs on alone."""
    processes.die_with_parent(parent)
    try:
        send.send(("ok", _editions(*job)))
    except KeyboardInterrupt:
        os._exit(130)
    except BaseException as exc:   # a PublishError is the user's to read, in the parent
        send.send(("error", exc))


def _reply(worker, receive):
    while not receive.poll(0.2):
        if not worker.is_alive() and not receive.poll():
            raise RuntimeError(f"a build process died with exit code {worker.exitcode}")
    return receive.recv()


def _editions(book: manuscript.Manuscript, numbered: list[tuple[int, str]], total: int, formats, out_dir: Path,
              when: datetime, progress) -> list[tuple[Output, output.Staged]]:
    """The editions' files, staged under temporary names; removed again if anything fails."""
    made: list[tuple[Output, output.Staged]] = []

    def stage(name: str, kind: str, path: Path, data: bytes) -> None:
        made.append((Output(name, kind, path), output.write_temporary(path, data)))

    try:
        for number, name in numbered:
            _edition(book, number, name, total, formats, out_dir, when, progress, stage)
    except BaseException:
        output.discard([staged for _, staged in made])
        raise
    return made


def _edition(book: manuscript.Manuscript, number: int, name: str, total: int, formats, out_dir: Path,
             when: datetime, progress, stage) -> None:
    label = f"edition {number}/{total} {name}"
    progress(f"{label}: converting {len(book.chapters)} chapter(s), checking fonts")
    edition = editions.make(book, name, labels(book), out_dir / ".cache")
    faces = layouts.font_faces(edition.spec.script)
    fonts.check_coverage(printed_pieces(book, edition), faces)
    if "pdf" in formats:
        from .stages import cover_print, interior as interiors
        date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        progress(f"{label}: PDF for print and for screen (WeasyPrint, PDF/X and PDF/UA-1)")
        # The editions are built at once, each in its own process: they share the cores.
        interior, screen = interiors.render(edition, book, date, jobs=max(1, (os.cpu_count() or 1) // total))
        progress(f"{label}: PDF cover for print")
        cover_pdf = cover_print.render(edition, book, cover_print.page_count(interior), date)
        for kind, data in (("screen", screen), ("cover", cover_pdf), ("pdf", interior)):
            stage(name, kind, out_dir / f"{book.slug}.{name}.{'' if kind == 'pdf' else kind + '.'}pdf", data)
    if "epub" in formats:
        from .stages import epub
        progress(f"{label}: EPUB (cover, font subsets)")
        docs = layouts.render_epub(edition, book)
        everything = "".join([*(x for _, x in docs.chapters), docs.nav, docs.cover_page,
                              *docs.front_matter.values()])
        subsets = {layouts.epub_font_name(face): fonts.subset_otf(face, everything) for face in faces}
        data = epub.build(edition, docs, _cover_png(docs.cover_html, book, out_dir / ".cache"), subsets, when)
        stage(name, "epub", out_dir / f"{book.slug}.{name}.epub", data)

"""The `publish` command: a thin layer over the pipeline; user mistakes end in a message, not a traceback."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import output
from .errors import ExitCode, PublishError


def _build(args) -> int:
    with output.interrupts_held():   # the build's native extensions, loaded before a Ctrl-C may stop it
        import opencc  # noqa: F401
        import pikepdf  # noqa: F401
    from .build import FORMATS, build
    from .progress import Progress

    with Progress(args.quiet) as progress:
        outputs = build(Path(args.book), Path(args.out), args.format or FORMATS, args.edition, progress)
        for written in outputs:
            progress.line(f"wrote {written.path}")
    return ExitCode.OK


def _new(args) -> int:
    from .tools.scaffold import new_book

    folder = Path(args.folder)
    for path in new_book(folder, args.title, args.author, args.slug):
        print(f"wrote {path}")
    print(f"next: publish build --book {folder}", file=sys.stderr)
    return ExitCode.OK


def _watch(args) -> int:
    from .progress import Progress
    from .tools.watch import watch

    watch(Path(args.book), args.host, args.port, Progress(args.quiet), lambda msg: print(msg, file=sys.stderr),
          Path(args.out) if args.out else None)
    return ExitCode.OK


def _sheets(args) -> int:
    from .progress import Progress
    from .tools.proofsheet import make_sheets

    with Progress(args.quiet) as progress:
        for path in map(Path, args.files):
            sheets = make_sheets(path, Path(args.out), progress)
            progress.line(f"wrote {sheets.contact}, {sheets.spread} and {len(sheets.pages)} pages")
    return ExitCode.OK


def _check(args) -> int:
    from .checks.check import check

    results = check([Path(p) for p in args.files])
    for result in results:
        print(result)
    return ExitCode.OK if all(r.passed for r in results) else ExitCode.CHECK_FAILED


def _engines(args) -> int:
    from .checks.engines import check

    results = check([Path(p) for p in args.files], Path(args.book))
    for result in results:
        print(result)
    return ExitCode.OK if all(r.passed for r in results) else ExitCode.CHECK_FAILED


def _preflight(args) -> int:
    from .checks.preflight import preflight

    passed = True
    paths = [Path(p) for p in args.files]
    for path in paths:
        if not path.is_file():
            raise PublishError("file not found: run make pdf first", path)
        results = preflight(path, args.signature, together=paths)
        for result in results:
            print(result)
        passed &= all(r.passed for r in results)
    return ExitCode.OK if passed else ExitCode.CHECK_FAILED


def _proof(args) -> int:
    from .stages.manuscript import load
    from .checks.proof import measure

    notes = load(args.book).notes if args.book else None   # rule 10: where the book sets its notes
    passed = True
    for path in args.files:
        if not Path(path).is_file():
            raise PublishError("file not found: run make first", path)
        result = measure(Path(path), notes)
        print(f"{path} ({result.script})")
        for rule in result.rules:
            print(rule.report())
        passed &= result.passed
    return ExitCode.OK if passed else ExitCode.CHECK_FAILED


def _lint(args) -> int:
    from .checks.lint import ERROR, lint_book, summary

    findings = lint_book(Path(args.book))
    for finding in findings:
        print(finding)
    print(f"publish lint: {summary(findings)}", file=sys.stderr)
    return ExitCode.CHECK_FAILED if any(f.severity == ERROR for f in findings) else ExitCode.OK


def _snapshot(args) -> int:
    from .checks.browser import view_epub
    from .output import write_atomic

    out = Path(args.out)
    for epub in map(Path, args.files):
        for view in view_epub(epub):
            name = f"{epub.stem}.{Path(view.file).stem}.png"
            write_atomic(out / name, view.png)
            print(f"{out / name}: {view.writing_mode}"
                  + (f"; fell back to {', '.join(view.fallback)}" if view.fallback else ""))
    return ExitCode.OK


def _onix(args) -> int:
    from .stages import manuscript
    from .build import source_date
    from .stages.onix import write

    sent = source_date(manuscript.load(Path(args.book)))   # reproducible, as the files it describes
    for path in write(Path(args.book), Path(args.out), sent):
        print(f"wrote {path}")
    return ExitCode.OK


def _print_spec(args) -> int:
    from .stages.print_spec import write

    for path in write(Path(args.book), Path(args.out)):
        print(f"wrote {path}")
    return ExitCode.OK


def _book_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--book", default="manuscript", metavar="DIR",
                         help="book folder holding book.yaml (default: manuscript)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="publish", description="Publish a Chinese book as print PDF and EPUB, "
                                  "in Simplified and Traditional editions.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="build the book's PDFs and EPUBs",
                                description="Build every edition of the book in every format (or those named).")
    _book_option(build)
    build.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build)")
    build.add_argument("--format", action="append", choices=["pdf", "epub"], help="pdf or epub; repeatable (default: both)")
    build.add_argument("--edition", action="append", metavar="NAME", help="e.g. zh-Hans; repeatable (default: all)")
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.set_defaults(run=_build)

    check = commands.add_parser("check", help="check built files: epubcheck and Ace on EPUBs, embedded book fonts on PDFs",
                                description="Check built PDFs and EPUBs; exit 1 if any check fails.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a built .pdf or .epub")
    check.set_defaults(run=_check)

    engines = commands.add_parser("engines", help="draw and read PDFs with Ghostscript, MuPDF, poppler, pdfium "
                                  "and pdf.js; they must agree", description="Render every page of each PDF at 100 dpi "
                                  "with five engines and compare each with poppler's (at most 1 % of the pixels "
                                  "differ, no engine prints a warning), and compare each engine's text of the body "
                                  "pages with the edition's; exit 1 if any check fails.")
    _book_option(engines)
    engines.add_argument("files", nargs="+", metavar="PDF", help="a built .pdf, .cover.pdf or .screen.pdf of the book")
    engines.set_defaults(run=_engines)

    snapshot = commands.add_parser("snapshot", help="draw the first screen of every EPUB document in Chromium",
                                   description="Render each EPUB document's first screen in headless Chromium "
                                               "to PNG: <out>/<epub name>.<document>.png.")
    snapshot.add_argument("files", nargs="+", metavar="EPUB")
    snapshot.add_argument("--out", default="build/proof", metavar="DIR", help="(default: build/proof)")
    snapshot.set_defaults(run=_snapshot)

    lint = commands.add_parser("lint", help="check the manuscript's punctuation and text, one code per rule",
                               description="Lint the book's Markdown chapters; exit 1 if any error is found "
                               "(warnings do not fail). Silence a code per file in book.yaml: "
                               "lint: {ignore: {chapters/01.md: [ZH008]}}.")
    _book_option(lint)
    lint.set_defaults(run=_lint)

    proof = commands.add_parser("proof", help="measure a built PDF against the clreq typography rules",
                                description="Print each clreq rule's figures for built PDFs, with the page and "
                                "line of every failure; exit 1 if a rule fails.")
    proof.add_argument("--book", metavar="DIR", help="the book the PDFs are of: rule 10 reads where it sets its "
                       "notes and how it numbers them (book.yaml notes); default: at the page's foot, by page")
    proof.add_argument("files", nargs="+", metavar="PDF", help="a built .pdf")
    proof.set_defaults(run=_proof)

    preflight = commands.add_parser("preflight", help="check a print PDF as a print shop would (PDF/X, CMYK, boxes …)",
                                    description="One line per check on each print PDF: PDF/X identification, CMYK "
                                    "OutputIntent, TrimBox/BleedBox, no RGB, fonts embedded, image resolution, page "
                                    "count, qpdf --check; exit 1 if any fails. A one-page file is a cover sheet.")
    preflight.add_argument("files", nargs="+", metavar="PDF", help="a built print .pdf or .cover.pdf")
    preflight.add_argument("--signature", type=int, choices=[4, 16, 32], default=4,
                           help="pages per signature the page count must fill (default: 4)")
    preflight.set_defaults(run=_preflight)

    onix = commands.add_parser("onix", help="write each edition's ONIX 3.0 record, measured on its built files",
                               description="Write <out>/<slug>.<edition>.onix.xml: the e-book and the print book.")
    _book_option(onix)
    onix.add_argument("--out", default="build", metavar="DIR", help="where the built files are (default: build)")
    onix.set_defaults(run=_onix)
    spec = commands.add_parser("print-spec", help="write each edition's print order, measured on its print files",
                               description="Write <out>/<slug>.<edition>.print-spec.txt for the print shop.")
    _book_option(spec)
    spec.add_argument("--out", default="build", metavar="DIR", help="where the built files are (default: build)")
    spec.set_defaults(run=_print_spec)
    new = commands.add_parser("new", help="start a new book folder that builds at once",
                              description="Write DIR/book.yaml (every key, commented), one chapter, an images "
                              "folder and a correction table for the zh-Hant edition. DIR must be empty or missing.")
    new.add_argument("folder", metavar="DIR")
    new.add_argument("--title", required=True, help="the book's title, e.g. 测试")
    new.add_argument("--author", required=True, help="the author's name")
    new.add_argument("--slug", help="lower-case ASCII name of the output files (default: from an ASCII title, "
                     "else book-<8 hex digits>)")
    new.set_defaults(run=_new)

    watch = commands.add_parser("watch", help="live preview in the browser, rebuilt when a file changes",
                                description="Serve each edition's print HTML on http://HOST:PORT/ and rebuild it "
                                "whenever a file of the book, layouts/ or fonts/ changes; the page reloads itself "
                                "and shows build errors over the last good preview. Ctrl-C stops.")
    _book_option(watch)
    watch.add_argument("--port", type=int, default=8000, help="(default: 8000; 0 picks a free one)")
    watch.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    watch.add_argument("--out", metavar="DIR", help="also rebuild the PDFs and EPUBs into DIR after each change "
                       "(default: the preview only)")
    watch.add_argument("--quiet", action="store_true", help="print nothing but the address and errors")
    watch.set_defaults(run=_watch)

    sheets = commands.add_parser("sheets", help="draw a print PDF's pages and a contact sheet of its spreads",
                                 description="Render each page of a built PDF to <out>/<name>.page-NNN.png, its "
                                 "spreads with trim and bleed boxes to <out>/<name>.spreads.png, and its fullest "
                                 "spread, small, to <out>/<name>.spread.png.")
    sheets.add_argument("files", nargs="+", metavar="PDF", help="a built .pdf")
    sheets.add_argument("--out", default="build/proof", metavar="DIR", help="(default: build/proof)")
    sheets.add_argument("--quiet", action="store_true", help="print nothing but errors")
    sheets.set_defaults(run=_sheets)
    for command in commands.choices.values():
        command.add_argument("--debug", action="store_true", help="on an internal error, show its traceback")
    return top


def _unraisable(unraisable) -> None:
    """A Ctrl-C caught in a finaliser is output.interrupt's to act on, not a traceback to print."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    own_signals = threading.current_thread() is threading.main_thread()   # signal() works there only
    if own_signals:
        signal.signal(signal.SIGINT, output.interrupt)
        sys.unraisablehook = _unraisable
    try:
        code = int(args.run(args))
        if own_signals:
            # The work is done and renamed into place: a Ctrl-C from now on (during Python's own shutdown,
            # which would die of it with a traceback or a signal) has nothing left to stop.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        return code
    except PublishError as exc:
        print(exc, file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        print("publish: interrupted; no output was left half-written", file=sys.stderr)
        return 130
    except Exception as exc:   # not the user's mistake: ours
        if args.debug:
            raise
        print(f"publish: internal error (a bug in publish, please report it): {type(exc).__name__}: {exc}"[:300],
              file=sys.stderr)
        print(f"  hint: run again with --debug for the traceback: publish {args.command} --debug …", file=sys.stderr)
        return ExitCode.BUG


if __name__ == "__main__":
    sys.exit(main())

"""The `publish` command: a thin layer over the pipeline; user mistakes end in a message, not a traceback."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ExitCode, PublishError


def _build(args) -> int:
    from .build import FORMATS, build

    say = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    outputs = build(Path(args.book), Path(args.out), args.format or FORMATS, args.edition, say)
    for output in outputs:
        say(f"wrote {output.path}")
    return ExitCode.OK


def _check(args) -> int:
    from .checks import check

    results = check([Path(p) for p in args.files])
    for result in results:
        print(result)
    return ExitCode.OK if all(r.passed for r in results) else ExitCode.CHECK_FAILED


def _proof(args) -> int:
    from .proof import measure

    passed = True
    for path in args.files:
        if not Path(path).is_file():
            raise PublishError("file not found: run make first", path)
        result = measure(Path(path))
        print(f"{path} ({result.script})")
        for rule in result.rules:
            print(rule.report())
        passed &= result.passed
    return ExitCode.OK if passed else ExitCode.CHECK_FAILED


def _lint(args) -> int:
    from .lint import ERROR, lint_book, summary

    findings = lint_book(Path(args.book))
    for finding in findings:
        print(finding)
    print(f"publish lint: {summary(findings)}", file=sys.stderr)
    return ExitCode.CHECK_FAILED if any(f.severity == ERROR for f in findings) else ExitCode.OK


def _snapshot(args) -> int:
    from .browser import view_epub
    from .output import write_atomic

    out = Path(args.out)
    for epub in map(Path, args.files):
        for view in view_epub(epub):
            name = f"{epub.stem}.{Path(view.file).stem}.png"
            write_atomic(out / name, view.png)
            print(f"{out / name}: {view.writing_mode}"
                  + (f"; fell back to {', '.join(view.fallback)}" if view.fallback else ""))
    return ExitCode.OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="publish", description="Publish a Chinese book as print PDF and EPUB, "
                                  "in Simplified and Traditional editions.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="build the book's PDFs and EPUBs",
                                description="Build every edition of the book in every format (or those named).")
    build.add_argument("--book", default="manuscript", metavar="DIR", help="book folder holding book.yaml (default: manuscript)")
    build.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build)")
    build.add_argument("--format", action="append", choices=["pdf", "epub"], help="pdf or epub; repeatable (default: both)")
    build.add_argument("--edition", action="append", metavar="NAME", help="e.g. zh-Hans; repeatable (default: all)")
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.set_defaults(run=_build)

    check = commands.add_parser("check", help="check built files: epubcheck on EPUBs, embedded book fonts on PDFs",
                                description="Check built PDFs and EPUBs; exit 1 if any check fails.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a built .pdf or .epub")
    check.set_defaults(run=_check)

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
    lint.add_argument("--book", default="manuscript", metavar="DIR", help="book folder holding book.yaml (default: manuscript)")
    lint.set_defaults(run=_lint)

    proof = commands.add_parser("proof", help="measure a built PDF against the clreq typography rules",
                                description="Print each clreq rule's figures for built PDFs, with the page and "
                                "line of every failure; exit 1 if a rule fails.")
    proof.add_argument("files", nargs="+", metavar="PDF", help="a built .pdf")
    proof.set_defaults(run=_proof)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except PublishError as exc:
        print(exc, file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        print("publish: interrupted; no output was left half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

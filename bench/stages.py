"""A cold build of one edition, timed stage by stage.

Run by bench/run.py as `python bench/stages.py BOOK OUT HTML_DIR EDITION EDITIONS`, one process per
edition at the same time (EDITIONS of them), as `publish build` runs them; prints JSON. The pipeline's functions are wrapped with
timers (measurement only, nothing replaced): each stage's time excludes the stages it calls, so the
stages add up. The whole book's print HTML is saved for the floor measurement.
"""
from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from pathlib import Path

import weasyprint
import weasyprint.document

from publish import build, output
from publish.stages import (cover, cover_print, edition, epub, fonts, interior, layouts, manuscript, markdown, pdf,
                            pieces, press, typeset)

times: dict[str, dict[str, float]] = {}   # "edition/output" -> stage -> seconds
state = {"edition": "-", "output": "-"}
stack: list[list[float]] = []             # per active stage: time spent in the stages it called


def timed(owner, attr: str, stage, output: str | None = None, whole: bool = False, hook=None):
    """Wrap owner.attr; `stage` names it (or says, from the call's arguments, what it is); `output` names
    what is being made from here on; `whole`: inner stages count here."""
    original = getattr(owner, attr)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if stack and stack[-1] is None:   # inside a `whole` stage
            return original(*args, **kwargs)
        if output:
            state["output"] = output(args, kwargs) if callable(output) else output
        name = stage(args, kwargs) if callable(stage) else stage
        if hook:
            hook(*args, **kwargs)
        stack.append(None if whole else [0.0])
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent = time.perf_counter() - start
            inner = stack.pop()
            if stack and stack[-1] is not None:
                stack[-1][0] += spent
            where = f"{state['edition']}/{state['output']}" if name != "load" else "book"
            bucket = times.setdefault(where, {})
            bucket[name] = bucket.get(name, 0.0) + spent - (inner[0] if inner else 0.0)

    setattr(owner, attr, wrapper)


def main(book: Path, out: Path, html_dir: Path, name: str, editions: int) -> None:
    html_dir.mkdir(parents=True, exist_ok=True)

    def set_edition(book, edition_name, *args, **kwargs):
        state["edition"], state["output"] = edition_name, "-"

    timed(manuscript, "load", "load")
    timed(edition, "make", "convert", hook=set_edition)
    timed(fonts, "check_coverage", "check fonts")
    timed(layouts, "render_print", "render HTML", output="pdf")
    timed(layouts, "render_epub", "render HTML", output="epub")
    timed(markdown, "render", "render HTML")
    timed(typeset, "typeset", "typeset")
    timed(pdf, "render", "write PDF")   # what pdf.render does beside WeasyPrint's stages
    # The PDFs laid out in pieces, in processes of their own (their stages are not seen here).
    timed(pieces, "_lay_out", "layout in pieces", output="pdf", whole=True)
    timed(weasyprint.HTML, "__init__", "parse HTML")
    timed(weasyprint.HTML, "render", "layout")
    # The screen PDF is written from the print PDF's layout (pdf.render's `screen`).
    timed(weasyprint.document.Document, "write_pdf",
          lambda a, k: "write screen PDF" if k.get("pdf_variant") == "pdf/ua-1" else "write PDF")
    timed(press, "finish", "press finish")
    timed(cover_print, "render", "print cover", output="cover", whole=True)
    timed(cover, "render_png", "cover image", whole=True)
    timed(fonts, "subset_otf", "fonts")
    timed(epub, "build", "EPUB")
    timed(output, "write_temporary", "write files")

    # `publish build` shares the cores among the editions it builds at once: so do these processes.
    render = interior.render
    interior.render = lambda edition, book, date, jobs=None: render(
        edition, book, date, max(1, (os.cpu_count() or 1) // editions))
    start = time.perf_counter()
    build.build(book, out, edition_names=[name], progress=lambda _m: None)
    wall = time.perf_counter() - start
    stages = {where: dict(spent) for where, spent in times.items()}   # the build's, not the floors' below
    save_floor_html(book, html_dir, name)
    print(json.dumps({"stages": stages, "wall": wall,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "loadavg": os.getloadavg()}))


def save_floor_html(book_dir: Path, html_dir: Path, name: str) -> None:
    """The floors' HTML, for bench/floor.py: the whole book's print HTML (`<edition>.pdf.html`; the build
    lays it out in pieces), and issue 14's floor, the same templates, CSS and chapters with the typesetting
    stage switched off (no clreq spans: `<edition>.unmarked.html`). Made after the timed build, uncached
    (the cache holds typeset chapters)."""
    book = manuscript.load(book_dir)
    variant = json.dumps({"base_url": book.root.resolve().as_uri() + "/", "variant": press.VARIANTS[book.print.pdfx]})
    for label in ("pdf", "unmarked"):
        whole = edition.make(book, name, build.labels(book), None)
        typeset_stage = typeset.typeset
        if label == "unmarked":
            typeset.typeset = lambda html, script, vertical=False, pdf=False: html
        try:
            document = layouts.render_print(whole, book, press.css_context(book.print))
        finally:
            typeset.typeset = typeset_stage
        (html_dir / f"{name}.{label}.html").write_text(document.html, encoding="utf-8")
        (html_dir / f"{name}.{label}.json").write_text(variant)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], int(sys.argv[5]))

"""A cold build of one edition, timed stage by stage.

Run by bench/run.py as `python bench/stages.py BOOK OUT HTML_DIR EDITION`, one process per edition at
the same time, as `publish build` runs them; prints JSON. The pipeline's functions are wrapped with
timers (measurement only, nothing replaced): each stage's time excludes the stages it calls, so the
stages add up. The print HTML handed to WeasyPrint is saved for the floor measurement.
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
from publish.stages import cover, cover_print, edition, epub, fonts, layouts, manuscript, markdown, pdf, press, typeset

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


def main(book: Path, out: Path, html_dir: Path, name: str) -> None:
    html_dir.mkdir(parents=True, exist_ok=True)

    def set_edition(book, edition_name, *args, **kwargs):
        state["edition"], state["output"] = edition_name, "-"

    def save_html(document, book_root, metadata_date=None, variant=None, *_, **__):
        name = f"{state['edition']}.{state['output']}"
        (html_dir / f"{name}.html").write_text(document.html, encoding="utf-8")
        (html_dir / f"{name}.json").write_text(json.dumps({"base_url": document.base_url, "variant": variant}))

    timed(manuscript, "load", "load")
    timed(edition, "make", "convert", hook=set_edition)
    timed(fonts, "check_coverage", "check fonts")
    timed(layouts, "render_print", "render HTML", output="pdf")
    timed(layouts, "render_epub", "render HTML", output="epub")
    timed(markdown, "render", "render HTML")
    timed(typeset, "typeset", "typeset")
    timed(pdf, "render", "write PDF", hook=save_html)   # what pdf.render does beside WeasyPrint's stages
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

    start = time.perf_counter()
    build.build(book, out, edition_names=[name], progress=lambda _m: None)
    wall = time.perf_counter() - start
    save_unmarked_html(book, html_dir, name)
    print(json.dumps({"stages": times, "wall": wall,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "loadavg": os.getloadavg()}))


def save_unmarked_html(book_dir: Path, html_dir: Path, name: str) -> None:
    """The floor of issue 14: the print HTML of the same templates, CSS and chapters with the typesetting
    stage switched off (no clreq spans), for bench/floor.py. Made after the timed build, uncached (the
    cache holds typeset chapters)."""
    book = manuscript.load(book_dir)
    unmarked = edition.make(book, name, build.labels(book), None)
    typeset_stage, typeset.typeset = typeset.typeset, lambda html, script, vertical=False: html
    try:
        document = layouts.render_print(unmarked, book, press.css_context(book.print))
    finally:
        typeset.typeset = typeset_stage
    (html_dir / f"{name}.unmarked.html").write_text(document.html, encoding="utf-8")
    (html_dir / f"{name}.unmarked.json").write_text(json.dumps({"base_url": document.base_url,
                                                                "variant": press.VARIANTS[book.print.pdfx]}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])

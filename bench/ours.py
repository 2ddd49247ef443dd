"""Ours, to set beside the floors: one edition's print PDF made by the pipeline in one process, from the edition
to the finished bytes: the print HTML (typesetting stage and templates), WeasyPrint with the extensions, and
press.finish. No screen PDF, no pieces, no cache. Run by bench/run.py as `python bench/ours.py BOOK EDITION`
at the same time as the floors; prints JSON: seconds for each step; pages."""
import io
import json
import sys
import time
from pathlib import Path

import pikepdf

from publish import build
from publish.stages import edition, layouts, manuscript, pdf, press

book = manuscript.load(Path(sys.argv[1]))
whole = edition.make(book, sys.argv[2], build.labels(book), None)
start = time.perf_counter()
document = layouts.render_print(whole, book, press.css_context(book.print))
rendered = time.perf_counter()
data = pdf.render(document, book.root, None, press.VARIANTS[book.print.pdfx], compress=False)
written = time.perf_counter()
finished = press.finish(data, book.print, book.print.signature)
end = time.perf_counter()
with pikepdf.open(io.BytesIO(finished)) as done:   # padded to the signature
    pages = len(done.pages)
print(json.dumps({"html": rendered - start, "layout_write": written - rendered, "finish": end - written,
                  "total": end - start, "pages": pages}))

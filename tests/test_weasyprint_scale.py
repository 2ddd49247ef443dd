"""weasyprint_scale.py replaces WeasyPrint functions that grew faster than the page count: with it
active, a document with margin boxes, left/right page rules, running strings and a fixed box on every
page must come out byte for byte as WeasyPrint alone makes it."""
from __future__ import annotations

import gc
import io

import pdfplumber
import pydyf
import weasyprint
import weasyprint.layout
from weasyprint.layout import page

from publish.extensions import weasyprint_scale

CHAPTERS = "".join(f"<h1>Chapter {n}</h1>" + "<p>Some text of the chapter, long enough to wrap. </p>" * 40
                   for n in range(1, 6))
HTML = f"""<style>
@page {{ size: A6; margin: 15mm; @top-center {{ content: string(title) }} @bottom-right {{ content: counter(page) }} }}
@page :left {{ @bottom-left {{ content: "p. " counter(page) }} @bottom-right {{ content: none }} }}
@page :first {{ @top-center {{ content: none }} }}
h1 {{ string-set: title content(); break-before: page; }}
.stamp {{ position: fixed; bottom: -10mm; left: 0; font-size: 8pt; }}
</style>
<div class="stamp">STAMP</div>{CHAPTERS}"""


def _pdf(variant: str | None = None) -> bytes:
    return weasyprint.HTML(string=HTML).write_pdf(pdf_variant=variant)


def test_the_replacements_make_the_same_pdf_as_weasyprint_alone():
    alone, tagged = _pdf(), _pdf("pdf/ua-1")   # tagged: a structure element per piece of text, on its page
    with weasyprint_scale.active():
        assert weasyprint.layout.layout_fixed_boxes is weasyprint_scale.layout_fixed_boxes
        assert page.set_page_type_computed_styles is weasyprint_scale.set_page_type_computed_styles
        assert gc.get_threshold() == weasyprint_scale.GC_THRESHOLDS
        assert _pdf() == alone
        assert _pdf("pdf/ua-1") == tagged
    with pdfplumber.open(io.BytesIO(alone)) as pdf:   # the document exercises what was replaced
        texts = [p.extract_text() for p in pdf.pages]
    assert len(texts) > 10
    assert all("STAMP" in t for t in texts)                             # the fixed box, on every page
    assert any("Chapter 3" in t.splitlines()[0] for t in texts[1:])     # a running head from string-set
    assert all(f"p. {n}\n" in t for n, t in enumerate(texts, 1) if n % 2 == 0)   # the :left pages' folio


def test_weasyprint_is_itself_again_after():
    with weasyprint_scale.active():
        pass
    assert weasyprint.layout.layout_fixed_boxes is weasyprint_scale._weasyprint_fixed_boxes
    assert pydyf.PDF.page_references is weasyprint_scale._pydyf_page_references
    assert page.set_page_type_computed_styles is weasyprint_scale._weasyprint_page_styles
    assert gc.get_threshold() != weasyprint_scale.GC_THRESHOLDS

"""weasyprint_scale.py replaces WeasyPrint functions that grew faster than the page count: with it
active, a document with margin boxes, left/right page rules, running strings and a fixed box on every
page must come out byte for byte as WeasyPrint alone makes it."""
from __future__ import annotations

import gc
import io
import resource
import sys
import traceback

import pdfplumber
import pydyf
import weasyprint
import weasyprint.layout
from weasyprint.layout import page

from conftest import SAMPLE
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


def _dive(depth: int) -> int:
    return 0 if depth == 0 else _dive(depth - 1) + 1


def _worst_faults_of_a_loop_at_any_depth() -> int:
    """The most page faults 200 calls of one recursion depth cost, over depths 0 to 600: a depth whose
    calls cross into a new chunk of CPython's frame stack maps (and faults in) a fresh chunk each time."""
    worst = 0
    for depth in range(0, 600, 5):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(200):
            _dive(depth)
        worst = max(worst, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return worst


def test_a_recursion_with_stack_room_maps_no_frame_chunk_per_call():
    if sys.version_info < (3, 13):   # CPython keeps a spare chunk from 3.13 on (python/cpython#142183)
        assert _worst_faults_of_a_loop_at_any_depth() > 1000   # the loop that crosses a chunk's end
    assert weasyprint_scale.with_stack_room(_worst_faults_of_a_loop_at_any_depth) < 50


def test_the_pdf_is_laid_out_and_written_with_stack_room():
    from publish.stages import layouts, pdf

    inside = []
    document = layouts.PrintDocument(html="<p>Text</p>", base_url=SAMPLE.resolve().as_uri() + "/")
    pdf.render(document, SAMPLE, inspect=lambda rendered: inside.append(
        any(frame.f_code is weasyprint_scale._in_roomy_chunk.__code__ for frame, _ in traceback.walk_stack(None))))
    assert inside == [True]

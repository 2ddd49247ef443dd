"""Every PDF drawn and read by Ghostscript, MuPDF, poppler, pdfium and pdf.js alike (publish engines), and
what a RIP sees (preflight's separations and renders): passing on the built files, and each check failing
on a PDF broken its way."""
from __future__ import annotations

import re

import pikepdf
import pytest

from conftest import MANUSCRIPT, SAMPLE
from publish.checks import engines
from publish.checks.preflight import preflight

KINDS = ["pdf", "cover", "screen"]
EDITIONS = ["zh-Hans", "zh-Hant"]


@pytest.mark.parametrize("book", ["manuscript_build", "sample_build"])
def test_five_engines_draw_and_read_every_pdf_alike(request, book):
    built = request.getfixturevalue(book)
    paths = [built[edition, kind] for edition in EDITIONS for kind in KINDS]
    results = engines.check(paths, MANUSCRIPT if book == "manuscript_build" else SAMPLE)
    assert [(r.file, r.check) for r in results] == [(p, c) for p in paths for c in ("engines", "engine-text")]
    for (edition, kind), result in zip([(e, k) for e in EDITIONS for k in KINDS for _ in (1, 2)], results):
        if result.check == "engines":
            assert result.passed, result
            assert all(name in result.detail for name in ("ghostscript", "mupdf", "pdfium", "pdf.js"))
        elif kind == "cover":
            assert result.passed and result.detail == "no body pages (a cover)"
        else:
            assert result.passed and result.detail.count("characters, the same") == 5, result


def _unprintable_stamp(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
    """A black square as an annotation without the Print flag: viewers show it, a printer (and
    Ghostscript, which draws as one) leaves it out."""
    appearance = pdf.make_stream(b"0 0 0 1 k 0 0 200 200 re f\n", Type=pikepdf.Name.XObject,
                                 Subtype=pikepdf.Name.Form, BBox=[0, 0, 200, 200])
    stamp = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Stamp, Rect=[100, 100, 300, 300], F=0,
                               AP=pikepdf.Dictionary(N=appearance))
    page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(stamp)]))


def test_a_page_ghostscript_draws_blank_fails_renders_and_engines(manuscript_build, tmp_path):
    broken = tmp_path / "unprintable.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        _unprintable_stamp(pdf, pdf.pages[1])           # page 2 is an empty verso
        pdf.save(broken)
    renders = {r.check: r for r in preflight(broken)}["renders"]
    assert not renders.passed and renders.detail.startswith("ghostscript draws p. 2 blank"), renders.detail
    found = {a.engine: a for a in engines.agreements(engines.draw(broken, ("poppler", "ghostscript", "mupdf")))}
    assert found["mupdf"].passed
    assert not found["ghostscript"].passed and found["ghostscript"].page == 2
    assert found["ghostscript"].largest > engines.MAX_DIFFERENT


def test_every_engine_message_fails(manuscript_build, tmp_path):
    """A page that draws an XObject it does not have: each engine but pdfium says so, pdf.js in its console."""
    broken = tmp_path / "missing-xobject.pdf"
    with pikepdf.open(manuscript_build["zh-Hant", "cover"]) as pdf:
        pdf.pages[0].contents_add(pdf.make_stream(b"q /Missing Do Q\n"))
        pdf.save(broken)
    with engines.PdfJs() as pdfjs:
        found = {a.engine: a for a in engines.agreements(engines.draw(broken, pdfjs=pdfjs))}
    for engine in ("poppler", "ghostscript", "mupdf", "pdf.js"):
        assert found[engine].messages and not found[engine].passed, engine
    assert any("Missing" in m for m in found["mupdf"].messages)
    assert any(m.startswith("console warning") for m in found["pdf.js"].messages)
    assert "printed" in str(found["ghostscript"])


def test_a_wrong_character_in_the_text_layer_fails_engine_text(manuscript_build, tmp_path):
    """The regular face's ToUnicode maps 市's glyph to 布: drawn right, read wrong by every engine."""
    broken = tmp_path / "tounicode.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        for font in pdf.pages[7].Resources.Font.values():
            cmap = font.ToUnicode.read_bytes()
            if b"<5e02>" in cmap and "Bold" not in str(font.BaseFont):
                font.ToUnicode.write(cmap.replace(b"<5e02>", b"<5e03>"))
        pdf.save(broken)
    results = {r.check: r for r in engines.check([broken], MANUSCRIPT)}
    assert results["engines"].passed, results["engines"].detail
    text = results["engine-text"]
    assert not text.passed
    assert text.detail.count("「中共石家庄布委、石家庄布人」 where the edition has 「中共石家庄市委、石家庄市人」") == 5, text.detail


def test_a_space_between_chinese_characters_is_found_where_the_edition_has_none():
    runs = [engines.Run("传承红色基因 赓续奋斗精神", False), engines.Run("居民收入稳步增长", False)]
    assert engines.match_text("x", "传承红色基因 赓续奋斗精神\n居民收入稳步\n增长", runs).passed
    inserted = engines.match_text("pdf.js", "传承红色基因 赓续奋斗精神\n居 民收入稳步增长", runs)
    assert not inserted.passed and inserted.spaces == ["续奋斗精神居 民收入稳步增"] and not inserted.wrong
    missing = engines.match_text("x", "传承红色基因赓续奋斗精神居民收稳步增长", runs)
    assert missing.wrong == "「居民收稳步增长」 where the edition has 「居民收入稳步增长」"


def test_a_paragraph_goes_on_past_the_notes_at_a_page_foot():
    """Page 1 ends with its notes (① and its text), page 2 goes on with the paragraph the call is in."""
    runs = [engines.Run("传承红色基因", False), engines.Run("赓续奋斗精神", False), engines.Run("居民收入", True)]
    assert engines.match_text("x", "传承红色①基\n①居民收入\n因赓续奋斗精神", runs).passed
    assert not engines.match_text("x", "传承红色①基\n因赓续奋斗精神", runs).passed     # the note missing
    # A note continued overleaf: its first line at page 1's foot, the rest at page 2's, after page 2's text.
    runs[2] = engines.Run("居民收入稳步增长，生活水平不断提高，幸福感持续增强。", True)
    assert engines.match_text("x", "传承红色①基\n①居民收入稳步增长，生活\n因赓续奋斗精神\n水平不断提高，幸福感持续增强。", runs).passed
    assert not engines.match_text("x", "传承红色①基\n①居民收入稳步增长，生活\n因赓续奋斗精神\n水平不断提高，幸福感增强。", runs).passed


def test_the_runs_of_a_paragraph_with_a_footnote_call_and_of_the_footnote():
    from publish.stages import manuscript
    from publish.build import labels
    from publish.stages.edition import make

    book = manuscript.load(SAMPLE)
    runs = engines.edition_runs(make(book, "zh-Hans", labels(book)).chapters)
    texts = [run.text for run in runs]
    assert "三天合计约1250公里，平均每天花费590元。" in texts and "我们在武汉停留了两天，参观了黄鹤楼和湖北省博物馆。" in texts
    assert "日期" not in texts                                   # a table cell
    assert [run.footnote for run in runs if run.text.startswith("花费包括")] == [True]


def _fill(pdf: pikepdf.Pdf, page: pikepdf.Page, cmyk: str) -> None:
    """A 100 pt square in the given CMYK, inside the trim."""
    box = [float(v) for v in page.obj.TrimBox]
    page.contents_add(pdf.make_stream(f"q {cmyk} k {box[0] + 50} {box[1] + 50} 100 100 re f Q\n".encode()))


def test_colour_on_a_page_set_in_k_fails_separations(manuscript_build, tmp_path):
    broken = tmp_path / "cyan.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        _fill(pdf, pdf.pages[7], "1 0 0 0")
        pdf.save(broken)
    results = {r.check: r for r in preflight(broken)}
    assert {r.check: r for r in preflight(manuscript_build["zh-Hans", "pdf"])}["separations"].passed
    separations = results["separations"]
    assert not separations.passed and "p. 8 inks Cyan 100 % on a page set in K" in separations.detail, separations.detail


def test_four_solid_inks_on_a_cover_fail_separations(manuscript_build, tmp_path):
    broken = tmp_path / "tac.pdf"
    with pikepdf.open(manuscript_build["zh-Hant", "cover"]) as pdf:
        _fill(pdf, pdf.pages[0], "1 1 1 1")
        pdf.save(broken)
    separations = {r.check: r for r in preflight(broken)}["separations"]
    assert not separations.passed and "total area coverage at most 400 %" in separations.detail
    assert "p. 1 totals 400 %" in separations.detail


def test_pdfjs_reads_a_gap_over_0_102_em_as_a_space(manuscript_build, tmp_path):
    """pdf.js's getTextContent puts a space where the gap between two glyphs exceeds 0.102 em
    (TRACKING_SPACE_FACTOR in pdf.worker.mjs): two Han characters drawn with TJ gaps of 0.100 to 0.104 em."""
    measured = tmp_path / "gaps.pdf"
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        page = pdf.pages[7]
        name, font = next((n, f) for n, f in page.Resources.Font.items() if "Bold" not in str(f.BaseFont))
        cmap = font.ToUnicode.read_bytes().decode()
        codes = {chr(int(u, 16)): c for c, u in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]{4})>", cmap)}
        gaps = [100, 101, 102, 103, 104]
        page.obj.Contents = pdf.make_stream("\n".join(
            f"BT {name} 10 Tf 1 0 0 1 60 {600 - 20 * k} Tm [<{codes['中']}> -{gap} <{codes['共']}>] TJ ET"
            for k, gap in enumerate(gaps)).encode())
        pdf.save(measured)
    with engines.PdfJs() as pdfjs:
        text = engines.draw(measured, ("pdf.js",), pdfjs)["pdf.js"].texts[7]
    assert text.split("\n") == ["中共", "中共", "中共", "中 共", "中 共"]


def test_publish_engines_exit_codes(manuscript_build, tmp_path, capsys):
    from publish import cli

    assert cli.main(["engines", str(manuscript_build["zh-Hant", "cover"])]) == 0
    assert "pass  engines" in capsys.readouterr().out
    assert cli.main(["engines", str(tmp_path / "missing.pdf")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'missing.pdf'}: error: file not found: run make pdf first"
    assert cli.main(["engines", "--book", str(SAMPLE), str(manuscript_build["zh-Hans", "screen"])]) == 1
    assert "FAIL  engine-text" in capsys.readouterr().out

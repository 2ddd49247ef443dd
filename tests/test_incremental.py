"""The caches under <out>/.cache (cache.py): a warm build gives the very bytes a cold one gives, reuses
what it kept, and redoes exactly the edited chapter."""
from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE, build_book

from publish import build as pipeline
from publish.stages import edition as editions
from publish.stages import interior, layouts, manuscript, pdf


def _cache(out: Path) -> dict[str, int]:
    """Every cached file and when it was written."""
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in (out / ".cache").rglob("*") if p.is_file()}


def _bytes(outputs: dict) -> dict:
    return {k: p.read_bytes() for k, p in outputs.items()}


def test_warm_builds_equal_cold_builds_and_an_edit_redoes_only_its_chapter(tmp_path):
    book = shutil.copytree(SAMPLE, tmp_path / "book")
    warm = tmp_path / "warm"
    cold = _bytes(build_book(book, warm, formats=("epub",)))
    kept = _cache(warm)
    assert {name.split("/")[1] for name in kept} == {"convert", "chapters", "cover"}

    again = _bytes(build_book(book, warm, formats=("epub",)))
    assert again == cold
    assert _cache(warm) == kept   # nothing made again, nothing rewritten

    chapter = book / "chapters" / "02.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("。", "！", 1), encoding="utf-8")
    edited = _bytes(build_book(book, warm, formats=("epub",)))
    assert all(edited[k] != cold[k] for k in cold)
    assert edited == _bytes(build_book(book, tmp_path / "fresh", formats=("epub",)))
    new = {name.split("/")[1] for name in set(_cache(warm)) - set(kept)}
    assert len([n for n in set(_cache(warm)) - set(kept) if "/convert/" in n]) == 1   # zh-Hant, chapter 2
    assert len([n for n in set(_cache(warm)) - set(kept) if "/chapters/" in n]) == 2  # its XHTML per edition
    assert new == {"convert", "chapters"}   # the cover is not redrawn


def test_print_html_from_the_cache_equals_the_html_made_afresh(tmp_path):
    book = manuscript.load(SAMPLE)
    for name in book.editions:
        fresh = layouts.render_print(editions.make(book, name, pipeline.labels(book)), book).html
        for _ in range(2):   # the first fills the cache, the second reads it
            cached = editions.make(book, name, pipeline.labels(book), tmp_path / ".cache")
            assert layouts.render_print(cached, book).html == fresh
    assert len(list((tmp_path / ".cache" / "chapters").iterdir())) == 2 * len(book.chapters)


def test_a_cold_build_lays_the_book_out_once_and_gives_the_bytes_of_a_second_whole_layout(tmp_path, monkeypatch):
    """Cold, the copyright page's figures are unknown until the book is laid out: the front matter alone is
    laid out again with them, not the whole book. Its pages must be those a whole second layout gives."""
    laid_out = []
    lay_out = pdf.lay_out
    monkeypatch.setattr(pdf, "lay_out", lambda document, *args, **kwargs: (
        laid_out.append(document.html.count('<section class="chapter"')), lay_out(document, *args, **kwargs))[1])
    monkeypatch.setattr(interior, "PIECE_CHARACTERS", 10**9)   # the whole book in one piece (test_pieces.py: in pieces)
    one = {"formats": ("pdf",), "edition_names": ["zh-Hans"]}   # in this process, where the spy is
    cold = _bytes(build_book(SAMPLE, tmp_path / "cold", **one))
    chapters = len(manuscript.load(SAMPLE).chapters)
    assert laid_out == [chapters, 0, 0]   # the book, its front matter alone, the cover

    def whole_book_again(rendered, edition, book, layout):
        raise interior.Measured(layout)
    with monkeypatch.context() as patch:
        patch.setattr(interior, "_restate", whole_book_again)
        laid_out.clear()
        assert _bytes(build_book(SAMPLE, tmp_path / "twice", **one)) == cold
        assert laid_out == [chapters, chapters, 0]
    laid_out.clear()
    assert _bytes(build_book(SAMPLE, tmp_path / "cold", **one)) == cold   # warm: the figures are known
    assert laid_out == [chapters, 0]

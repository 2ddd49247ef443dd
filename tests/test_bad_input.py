"""Bad input ends in one clear message naming the file (and line), exit 2, no traceback, no output."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE

CHAPTER = "chapters/01.md"


def sample_copy(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    return book


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_build(book: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "publish.cli", "build", "--book", str(book), "--out", str(out),
                           "--format", "epub", "--edition", "zh-Hans"], capture_output=True, text=True)


def invalid_yaml(book):
    edit(book / "book.yaml", "title: 样书", "title: [样书")


def missing_key(book):
    edit(book / "book.yaml", "title: 样书\n", "")


def unknown_key(book):
    edit(book / "book.yaml", "subtitle:", "subtitel:")


def missing_chapter(book):
    (book / CHAPTER).unlink()


def not_utf8(book):
    (book / CHAPTER).write_bytes("# 第一章\n\n中文".encode("gb18030"))


def empty_chapter(book):
    (book / CHAPTER).write_text("\n  \n", encoding="utf-8")


def unknown_edition(book):
    edit(book / "book.yaml", "zh-Hant:", "zh-Hanz:")


def unknown_opencc(book):
    edit(book / "book.yaml", "opencc: s2tw", "opencc: s2tx")


def no_chapters(book):
    text = (book / "book.yaml").read_text(encoding="utf-8")
    (book / "book.yaml").write_text(text[: text.index("chapters:")] + "chapters: []\n", encoding="utf-8")


def image_missing(book):
    (book / "images" / "figure.png").unlink()


def image_not_an_image(book):
    (book / "images" / "figure.png").write_text("not a picture", encoding="utf-8")


def template_undefined(book):
    (book / "layouts" / "epub").mkdir(parents=True)
    (book / "layouts" / "epub" / "cover.xhtml.j2").write_text("<html>\n{{ meta.titel }}\n</html>\n")


def template_syntax(book):
    (book / "layouts" / "epub").mkdir(parents=True)
    (book / "layouts" / "epub" / "cover.xhtml.j2").write_text("<html>\n{% if %}\n</html>\n")


def missing_glyph(book):
    edit(book / CHAPTER, "清晨六点", "清晨\U0002A700六点")


def raw_html(book):
    edit(book / CHAPTER, "清晨六点", '<img src="file:///etc/passwd">清晨六点')


def image_outside(book):
    edit(book / "chapters/03.md", "../images/figure.png", "../../../../etc/passwd")


def unknown_notes_place(book):
    edit(book / "book.yaml", "chapters:\n", "notes:\n  place: foot\nchapters:\n")


def notes_by_page_after_chapter(book):
    edit(book / "book.yaml", "chapters:\n", "notes: {place: chapter, numbering: page}\nchapters:\n")


def unknown_notes_key(book):
    edit(book / "book.yaml", "chapters:\n", "notes:\n  numbring: book\nchapters:\n")


CASES = [  # (how to break the book, what the message must contain, the place it must name)
    (invalid_yaml, "invalid YAML", "book.yaml:4:"),
    (missing_key, "missing required key 'title'", "book.yaml"),
    (unknown_key, "unknown key 'subtitel'", "book.yaml:4:"),
    (missing_chapter, "chapter not found", CHAPTER),
    (not_utf8, "not UTF-8", f"{CHAPTER}:1:"),
    (empty_chapter, "chapter is empty", f"{CHAPTER}:1:"),
    (unknown_edition, "unknown edition 'zh-Hanz'", "book.yaml"),
    (unknown_opencc, "unknown OpenCC config 's2tx'", "book.yaml"),
    (no_chapters, "no chapters", "book.yaml"),
    (image_missing, "image '../images/figure.png' not found", "chapters/03.md:3:"),
    (image_not_an_image, "not a readable image", "chapters/03.md:3:"),
    (template_undefined, "titel", "cover.xhtml.j2:2:"),
    (template_syntax, "template syntax error", "cover.xhtml.j2:2:"),
    (missing_glyph, "U+2A700", f"{CHAPTER}:3:"),
    (raw_html, "raw HTML is not allowed", f"{CHAPTER}:3:"),
    (image_outside, "outside the book folder", "chapters/03.md:3:"),
    (unknown_notes_place, "unknown notes.place 'foot'", "book.yaml:23:"),
    (notes_by_page_after_chapter, "notes.numbering: page needs notes.place: page", "book.yaml:23:"),
    (unknown_notes_key, "unknown key in notes: 'numbring'", "book.yaml:23:"),
]


@pytest.mark.parametrize("breaks, message, place", CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_input_gives_a_clear_error_and_writes_nothing(tmp_path, breaks, message, place):
    book = sample_copy(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "sample-book.zh-Hans.epub"
    previous.write_bytes(b"the last good build")
    breaks(book)
    before = {p: p.read_bytes() for p in book.rglob("*") if p.is_file()}
    result = run_build(book, out)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first = next(line for line in result.stderr.splitlines() if "error:" in line)
    assert message in first and place in first, result.stderr
    assert previous.read_bytes() == b"the last good build"
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["sample-book.zh-Hans.epub"]
    assert {p: p.read_bytes() for p in book.rglob("*") if p.is_file()} == before, "the manuscript is never written"

"""A book folder from anyone (README: Untrusted books): each hostile or careless book is made here, built
with `publish build` as a user would, and answered with exit 2 and the exact one-line message; the
previous outputs stay byte-identical and no temporary file is left. The books authors really send
(images named in Chinese, BOM and CRLF, unquoted dates) build."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import EPOCH, SAMPLE

PREVIOUS = b"the last good build"
YAML = "book.yaml"
CHAPTER = "chapters/01.md"
FIGURE = "images/figure.png"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def publish(book: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "publish.cli", "build", "--book", str(book), "--out", str(out),
                           "--quiet", *options], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})


@pytest.fixture
def book(tmp_path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    return book


def billion_laughs(book, tmp):
    edit(book / YAML, "title: 样书", 'title: 样书\nlol: &a ["lol", "lol"]\nlols: [*a, *a]')
    return YAML, 4, "YAML anchors and aliases (& and *) are not allowed"


def deep_yaml(book, tmp):
    edit(book / YAML, "subtitle: 排版测试", "subtitle: " + "[" * 3000 + "]" * 3000)
    return YAML, 4, "YAML nested deeper than 20 levels"


def duplicate_key(book, tmp):
    edit(book / YAML, "publisher: 测试出版社", "publisher: 测试出版社\ntitle: 又一个书名")
    return YAML, 14, "duplicate key 'title': also on line 3"


def edition_as_number(book, tmp):
    edit(book / YAML, "  zh-Hant:\n    opencc: s2tw", "  zh-Hant: 5")
    return YAML, 19, "edition zh-Hant's settings must be a mapping, not 5"


def long_slug(book, tmp):
    edit(book / YAML, "slug: sample-book", "slug: " + "a" * 240)
    return YAML, 2, "slug '" + "a" * 60 + "' must be at most 100 lower-case ASCII letters, digits and hyphens"


def nul_in_chapter_name(book, tmp):
    edit(book / YAML, "  - chapters/01.md", '  - "chapters/0\\0.md"')
    return YAML, 23, "chapter 'chapters/0\\x00.md' is not a file name"


def fifo_book_yaml(book, tmp):
    (book / YAML).unlink()
    os.mkfifo(book / YAML)
    return YAML, None, "book.yaml is not a regular file"


def fifo_chapter(book, tmp):
    (book / CHAPTER).unlink()
    os.mkfifo(book / CHAPTER)
    return CHAPTER, None, "chapter is not a regular file"


def huge_chapter(book, tmp):
    with open(book / CHAPTER, "ab") as chapter:
        chapter.truncate(9 * 1024 * 1024)   # sparse: costs no disk
    return CHAPTER, None, "chapter is 9.0 MB, over the limit of 8 MB"


def symlinked_book_yaml(book, tmp):
    (tmp / "outside.yaml").write_text("secret_key: 1\n", encoding="utf-8")
    (book / YAML).unlink()
    (book / YAML).symlink_to(tmp / "outside.yaml")
    return YAML, None, "book.yaml is outside the book folder"


def include_out_of_the_book(book, tmp):
    (tmp / "secret.txt").write_text("SECRET", encoding="utf-8")
    write(book / "layouts" / "epub" / "cover.xhtml.j2", '<html>{% include "epub/part.j2" %}</html>')
    (book / "layouts" / "epub" / "part.j2").symlink_to(tmp / "secret.txt")
    return "layouts/epub/part.j2", None, "template is outside the book folder"


def template_repeats_a_string(book, tmp):
    write(book / "layouts" / "epub" / "cover.xhtml.j2", '<html>\n{{ "x" * 4000000000 }}</html>')
    return "layouts/epub/cover.xhtml.j2", 2, ("template error: repeating 1 items 4,000,000,000 times is over the "
                                              "limit of 64,000,000")


def template_doubles_a_string(book, tmp):
    write(book / "layouts" / "epub" / "cover.xhtml.j2", '{% set s = namespace(x="x") %}{% for i in range(40) %}'
          '{% set s.x = s.x ~ s.x %}{% endfor %}')
    return "layouts/epub/cover.xhtml.j2", 1, "template error: a value of 67,108,864 items is over the limit of 64,000,000"


def template_big_range(book, tmp):
    write(book / "layouts" / "epub" / "cover.xhtml.j2", "{% for i in range(50000) %}{% endfor %}")
    return "layouts/epub/cover.xhtml.j2", 1, "template error: range of 50,000 items is over the limit of 10,000"


def stylesheet_names_a_fifo(book, tmp):
    os.mkfifo(book / "images" / "pipe.png")
    write(book / "layouts" / "cover" / "cover.html.j2",
          '<html><body><div style="background: url(images/pipe.png)">{{ meta.title }}</div></body></html>')
    return "", None, f"refused to fetch '{(book / 'images' / 'pipe.png').as_uri()}': file is not a regular file"


def invalid_labels(book, tmp):
    write(book / "layouts" / "labels.yaml", "toc: [目, 录]\n")
    return "layouts/labels.yaml", 1, "label 'toc' must be text"


def gb18030_corrections(book, tmp):
    edit(book / YAML, "opencc: s2tw", "opencc: s2tw\n    corrections: fixes.tsv")
    (book / "fixes.tsv").write_bytes("# 更正\n征程\t徵程\n".encode("gb18030"))
    return "fixes.tsv", 1, "not UTF-8 (byte 0xB8)"


def corrections_with_a_control_separator(book, tmp):
    edit(book / YAML, "opencc: s2tw", "opencc: s2tw\n    corrections: fixes.tsv")
    (book / "fixes.tsv").write_text("征程\x1f徵程\t为什么\n", encoding="utf-8")
    return "fixes.tsv", 1, "a correction holds a control character"


def image_over_50_megapixels(book, tmp):
    Image.new("1", (10000, 6000)).save(book / FIGURE)   # 60 MP, a few KB
    return "chapters/03.md", 3, "image '../images/figure.png' is over the limit of 50 megapixels"


def decompression_bomb(book, tmp):
    Image.new("1", (30000, 30000)).save(book / FIGURE)   # 900 MP in 100 KB: Pillow itself refuses
    return "chapters/03.md", 3, "image '../images/figure.png' is over the limit of 50 megapixels"


def corrupt_image(book, tmp):
    Image.effect_noise((400, 400), 60).convert("RGB").save(book / FIGURE)
    data = bytearray((book / FIGURE).read_bytes())
    start = data.index(b"IDAT") + 200
    data[start:start + 64] = bytes(64)   # the header and verify() pass; decoding fails
    (book / FIGURE).write_bytes(bytes(data))
    return "chapters/03.md", 3, "image '../images/figure.png' is not a readable image"


def truncated_jpeg(book, tmp):
    Image.effect_noise((400, 400), 60).convert("RGB").save(book / "images" / "photo.jpg", quality=90)
    data = (book / "images" / "photo.jpg").read_bytes()
    (book / "images" / "photo.jpg").write_bytes(data[: len(data) // 2])
    edit(book / "chapters/03.md", "../images/figure.png", "../images/photo.jpg")
    return "chapters/03.md", 3, "image '../images/photo.jpg' is not a readable image"


def too_many_footnotes(book, tmp):
    notes = range(1, 10_002)
    write(book / CHAPTER, "# 第一章\n\n" + "".join(f"注[^{n}]。" for n in notes) + "\n\n"
          + "\n".join(f"[^{n}]: 注。" for n in notes) + "\n")
    return CHAPTER, 1, "10,001 footnotes, over the limit of 10,000 per chapter"


def deep_nesting(book, tmp):
    write(book / CHAPTER, "# 第一章\n\n" + "> " * 40 + "引文。\n")
    return CHAPTER, 3, "markup nested deeper than 16 levels"


CASES = [billion_laughs, deep_yaml, duplicate_key, edition_as_number, long_slug, nul_in_chapter_name,
         fifo_book_yaml, fifo_chapter, huge_chapter, symlinked_book_yaml, include_out_of_the_book,
         template_repeats_a_string, template_doubles_a_string, template_big_range, stylesheet_names_a_fifo,
         invalid_labels, gb18030_corrections, corrections_with_a_control_separator, image_over_50_megapixels,
         decompression_bomb, corrupt_image, truncated_jpeg, too_many_footnotes, deep_nesting]


@pytest.mark.parametrize("breaks", CASES, ids=[c.__name__ for c in CASES])
def test_a_bad_book_is_one_line_exit_2_and_changes_nothing(book, tmp_path, breaks):
    out = tmp_path / "out"
    out.mkdir()
    names = [f"sample-book.{e}.{f}" for e in ("zh-Hans", "zh-Hant") for f in ("pdf", "cover.pdf", "screen.pdf", "epub")]
    for name in names:
        (out / name).write_bytes(PREVIOUS)
    file, line, message = breaks(book, tmp_path)
    result = publish(book, out)
    assert result.returncode == 2, result.stderr
    place = f"{book / file}:{line}" if line else f"{book / file}"
    assert result.stderr.splitlines()[0] == f"{place}: error: {message}", result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 2   # the message and a hint
    assert all((out / name).read_bytes() == PREVIOUS for name in names)
    assert not list(out.glob(".*.part")) and not list(out.rglob(".cache/**/.*.part"))


def test_out_that_is_a_file(book, tmp_path):
    (tmp_path / "out").write_bytes(PREVIOUS)
    result = publish(book, tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'out'}: error: the output folder is a file",
        "  hint: --out names a folder you may write (not a file, not on a read-only disk)"]
    assert (tmp_path / "out").read_bytes() == PREVIOUS


def test_one_edition_failing_leaves_the_others_files_as_they_were(book, tmp_path):
    """The editions build in parallel; zh-Hant's correction table is broken, zh-Hans builds fine, and
    still none of its new files replaces the old ones."""
    out = tmp_path / "out"
    out.mkdir()
    edit(book / YAML, "opencc: s2tw", "opencc: s2tw\n    corrections: fixes.tsv")
    (book / "fixes.tsv").write_text("no tab here\n", encoding="utf-8")
    (out / "sample-book.zh-Hans.epub").write_bytes(PREVIOUS)
    result = publish(book, out, "--format", "epub")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"{book / 'fixes.tsv'}:1: error: a correction is 'wrong<TAB>right[<TAB>why]'"
    assert (out / "sample-book.zh-Hans.epub").read_bytes() == PREVIOUS
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["sample-book.zh-Hans.epub"]


def test_what_authors_send_builds(book, tmp_path):
    """An image named in Chinese with a space and parentheses, a chapter saved by Notepad (BOM, CRLF),
    an unquoted date; 16-bit grey (converted to 8 bits), palette, CMYK JPEG and grey-with-alpha images."""
    (book / FIGURE).rename(book / "images" / "图 一(1).png")
    edit(book / "chapters/03.md", "](../images/figure.png)", "](<../images/图 一(1).png>)")
    chapter = book / CHAPTER
    chapter.write_bytes(b"\xef\xbb\xbf" + chapter.read_bytes().replace(b"\n", b"\r\n"))
    edit(book / YAML, 'date: "2026-11-27"', "date: 2021-05-01")
    Image.new("I;16", (600, 600), 30000).save(book / "images" / "grey16.png")
    Image.effect_noise((600, 600), 60).convert("RGB").convert("P").save(book / "images" / "palette.png")
    Image.new("CMYK", (600, 600), (10, 20, 30, 40)).save(book / "images" / "cmyk.jpg")
    Image.new("LA", (600, 600), (100, 128)).save(book / "images" / "grey-alpha.png")
    with open(book / "chapters/03.md", "a", encoding="utf-8") as text:
        text.write("".join(f"\n![图](../images/{name})\n" for name in
                           ("grey16.png", "palette.png", "cmyk.jpg", "grey-alpha.png")))
    result = publish(book, tmp_path / "out", "--edition", "zh-Hans")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "sample-book.zh-Hans.epub") as epub:
        opf = epub.read("EPUB/content.opf").decode()
        assert "2021-05-01" in opf
        images = sorted(name for name in epub.namelist() if name.startswith("EPUB/images/image"))
        assert len(images) == 5
        assert Image.open(io.BytesIO(epub.read(images[1]))).mode == "L"   # the 16-bit grey, now 8 bits
        cmyk = Image.open(io.BytesIO(epub.read(images[3])))              # the CMYK JPEG, in sRGB for screens
        assert cmyk.format == "JPEG" and cmyk.mode == "RGB"
        assert all(abs(a - b) <= 6 for a, b in zip(cmyk.getpixel((300, 300)), (218, 211, 203)))   # via FOGRA39
    assert (tmp_path / "out" / "sample-book.zh-Hans.pdf").read_bytes().startswith(b"%PDF-")


def test_an_internal_error_is_one_line_and_its_traceback_only_under_debug(tmp_path):
    """publish snapshot does not yet check that its file is an EPUB: zipfile's error reaches the command
    line, which is what an internal error looks like (when snapshot learns to say so, pick another)."""
    (tmp_path / "book.epub").write_text("not a zip", encoding="utf-8")
    command = [sys.executable, "-m", "publish.cli", "snapshot", "--out", str(tmp_path / "shots"),
               str(tmp_path / "book.epub")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 70
    assert result.stderr.splitlines() == [
        "publish: internal error (a bug in publish, please report it): BadZipFile: File is not a zip file",
        "  hint: run again with --debug for the traceback: publish snapshot --debug …"]
    debug = subprocess.run(command + ["--debug"], capture_output=True, text=True, timeout=120)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "BadZipFile" in debug.stderr

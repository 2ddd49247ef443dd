"""publish new, tried as a new user would: scaffold, build with the CLI, run every check on the files."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import yaml

from conftest import EPOCH
from publish.stages import manuscript
from publish.checks.check import check
from publish.checks.proof import measure
from publish.tools.scaffold import new_book


def publish(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run([sys.executable, "-m", "publish.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, **kwargs)


def test_new_book_builds_and_passes_every_check(tmp_path):
    book, out = tmp_path / "mybook", tmp_path / "build"
    made = publish("new", book, "--title", "测试", "--author", "某人")
    assert made.returncode == 0, made.stderr
    assert (book / "images").is_dir() and (book / "chapters" / "01.md").is_file()

    built = publish("build", "--book", book, "--out", out)
    assert built.returncode == 0, built.stderr
    slug = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))["slug"]
    files = [out / f"{slug}.{e}.{x}" for e in ("zh-Hans", "zh-Hant") for x in ("epub", "pdf")]
    assert all(f.is_file() for f in files)
    # Not a terminal: one plain line per stage, each edition named, then the files.
    lines = built.stderr.splitlines()
    for stage in ("edition 1/2 zh-Hans: PDF", "edition 1/2 zh-Hans: EPUB", "edition 2/2 zh-Hant: PDF",
                  "edition 2/2 zh-Hant: EPUB"):
        assert any(line.startswith(stage) for line in lines), built.stderr
    assert "\r" not in built.stderr and "\x1b" not in built.stderr

    results = check(files)
    assert {r.check for r in results} == {"epubcheck", "ace", "pdf-fonts", "font-codes"}
    assert all(r.passed for r in results), [str(r) for r in results if not r.passed]
    assert publish("lint", "--book", book).returncode == 0
    for pdf in files[1::2]:                 # make check's clreq typography rules too
        assert measure(pdf).passed, [rule.report() for rule in measure(pdf).rules if not rule.passed]

    quiet = publish("build", "--book", book, "--out", tmp_path / "quiet", "--format", "pdf", "--edition", "zh-Hans",
                    "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_progress_on_a_terminal_rewrites_one_line(tmp_path):
    new_book(tmp_path / "b", "测试", "某人")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "publish.cli", "build", "--book", str(tmp_path / "b"),
                             "--out", str(tmp_path / "out"), "--format", "pdf", "--edition", "zh-Hant"],
                            stderr=follower, stdout=subprocess.DEVNULL, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:     # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(120) == 0
    text = shown.decode()
    assert "\r\x1b[Kedition 1/1 zh-Hant: PDF for print and for screen (WeasyPrint" in text    # the status line, with elapsed seconds
    assert text.rstrip().endswith(".zh-Hant.pdf") and "\r\x1b[Kwrote " in text


def test_book_yaml_has_every_key_commented(tmp_path):
    new_book(tmp_path / "b", "测试", "某人")
    text = (tmp_path / "b" / "book.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    keys = yaml.safe_load(text)
    assert set(keys) == set(manuscript.REQUIRED_KEYS + manuscript.OPTIONAL_KEYS)
    assert set(keys["editions"]["zh-Hant"]) == set(manuscript.EDITION_KEYS)
    for key in manuscript.PRINT_KEYS:       # set, or shown commented out when its default is not a value
        assert re.search(rf"^  (# )?{key}: ", text, re.M), key
    for number, line in enumerate(lines):
        if re.match(r"[a-z]+:", line):
            assert "#" in line or lines[number - 1].startswith("#"), f"no comment for {line!r}"


def test_identifier_is_fresh_and_slug_comes_from_it_or_the_title(tmp_path):
    one = manuscript.load(new_book(tmp_path / "one", "测试", "某人")[0].parent)
    two = manuscript.load(new_book(tmp_path / "two", "测试", "某人")[0].parent)
    assert one.meta.identifier != two.meta.identifier
    assert one.slug == "book-" + one.meta.identifier.removeprefix("urn:uuid:")[:8]
    assert manuscript.load(new_book(tmp_path / "three", "The Long March", "某人")[0].parent).slug == "the-long-march"
    assert manuscript.load(new_book(tmp_path / "four", "测试", "某人", slug="ceshi")[0].parent).slug == "ceshi"
    # A title that YAML would misread unquoted stays the title.
    odd = manuscript.load(new_book(tmp_path / "five", '书名: "引号" #非注释', "某人")[0].parent)
    assert odd.meta.title == '书名: "引号" #非注释'


def test_refuses_to_overwrite_a_book(tmp_path):
    book = tmp_path / "mybook"
    assert publish("new", book, "--title", "测试", "--author", "某人").returncode == 0
    before = (book / "book.yaml").read_bytes()
    again = publish("new", book, "--title", "别的", "--author", "某人")
    assert again.returncode == 2
    assert again.stderr.startswith(f"{book}: error: the folder already holds a book")
    assert "hint:" in again.stderr and "Traceback" not in again.stderr
    assert (book / "book.yaml").read_bytes() == before

    bad = publish("new", tmp_path / "other", "--title", "测试", "--author", "某人", "--slug", "My Book")
    assert bad.returncode == 2 and "slug 'My Book'" in bad.stderr
    assert not (tmp_path / "other").exists()


def test_a_title_with_markup_characters_is_printed_as_typed(tmp_path):
    title = "<b>书</b> *星* [a](b)"
    assert publish("new", str(tmp_path / "book"), "--title", title, "--author", "某人").returncode == 0
    result = publish("build", "--book", str(tmp_path / "book"), "--out", str(tmp_path / "out"), "--format", "epub",
                     "--edition", "zh-Hans")
    assert result.returncode == 0, result.stderr
    chapter = manuscript.load(tmp_path / "book").chapters[0]
    assert f"这是《{title}》的第一章。" in "".join(c.content for t in chapter.tokens for c in t.children or [])

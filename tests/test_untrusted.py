"""Untrusted manuscripts: nothing in a book makes the pipeline read a file outside the book, layouts/
and fonts/, or reach the network. Each attack is refused, and the target is proved untouched: a local
HTTP server counts requests, and an audit hook records every file Python opens during the build."""
from __future__ import annotations

import http.server
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

from conftest import SAMPLE, build_book
from publish.errors import PublishError

OPENED: list[str] | None = None   # the files opened while recording


def _audit(event, args):
    if event == "open" and OPENED is not None and isinstance(args[0], (str, bytes, os.PathLike)):
        OPENED.append(os.path.realpath(os.fsdecode(args[0])))


sys.addaudithook(_audit)


@pytest.fixture
def server():
    """A web server on loopback that only counts what it is asked for."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()


@pytest.fixture
def book(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    return book


@pytest.fixture
def secret(tmp_path):
    secret = tmp_path / "secret.png"
    shutil.copy(SAMPLE / "images" / "figure.png", secret)   # a real image, so only the path stops it
    return secret


def build_recording(book: Path, out: Path, **kwargs):
    global OPENED
    OPENED = []
    try:
        return build_book(book, out, edition_names=["zh-Hans"], **kwargs)
    finally:
        opened, OPENED = OPENED, None
        build_recording.opened = opened


def refused(book, out, secret, message, formats=("pdf", "epub")):
    with pytest.raises(PublishError) as error:
        build_recording(book, out, formats=formats)
    assert message in str(error.value)
    assert str(secret.resolve()) not in build_recording.opened
    assert not out.exists() or not any(out.glob("*.pdf")) and not any(out.glob("*.epub"))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def chapter(book: Path, markdown: str) -> None:
    write(book / "chapters" / "01.md", "# 第一章\n\n" + markdown + "\n")


@pytest.mark.parametrize("src", ["file://{secret}", "{secret}", "../../secret.png"])
def test_images_outside_the_book_are_refused(book, tmp_path, secret, src):
    chapter(book, f"![图]({src.format(secret=secret)})")
    refused(book, tmp_path / "out", secret, "image")


def test_web_images_are_refused_without_a_request(book, tmp_path, secret, server):
    url, requests = server
    chapter(book, f"![图]({url}/figure.png)")
    refused(book, tmp_path / "out", secret, "is not a relative path")
    assert requests == []


def test_a_symlinked_image_pointing_out_of_the_book_is_refused(book, tmp_path, secret):
    (book / "images" / "figure.png").unlink()
    (book / "images" / "figure.png").symlink_to(secret)
    refused(book, tmp_path / "out", secret, "outside the book folder")


def test_a_symlinked_chapter_pointing_out_of_the_book_is_refused(book, tmp_path, secret):
    (book / "chapters" / "02.md").unlink()
    (book / "chapters" / "02.md").symlink_to(secret)
    refused(book, tmp_path / "out", secret, "outside the book folder")


@pytest.mark.parametrize("html", [
    '<img src="file://{secret}">', '<iframe src="file://{secret}"></iframe>', "<script>fetch('{url}')</script>",
    '<link rel="stylesheet" href="{url}/a.css">', '<p style="background: url(file://{secret})">x</p>',
    "<style>@import url({url}/a.css);</style>",
])
def test_raw_html_is_refused(book, tmp_path, secret, server, html):
    url, requests = server
    chapter(book, "正文。\n\n" + html.format(secret=secret, url=url))
    refused(book, tmp_path / "out", secret, "raw HTML is not allowed")
    assert requests == []


def test_file_links_are_refused(book, tmp_path, secret):
    chapter(book, f"见[附件](file://{secret})。")
    refused(book, tmp_path / "out", secret, "link target")


def test_web_links_are_kept_as_links_and_never_fetched(book, tmp_path, server):
    url, requests = server
    chapter(book, f"见[网站]({url}/page)。")
    outputs = build_recording(book, tmp_path / "out")
    assert set(outputs) == {("zh-Hans", kind) for kind in ("pdf", "cover", "screen", "epub")}
    assert requests == []


@pytest.mark.parametrize("template, text", [
    ("print/book.html.j2", '<link rel="stylesheet" href="{url}/a.css"><p>{{{{ meta.title }}}}</p>'),
    ("print/book.html.j2", "<style>@import url(file://{secret});</style><p>{{{{ meta.title }}}}</p>"),
    ("print/book.html.j2", '<img src="file://{secret}"><p>{{{{ meta.title }}}}</p>'),
    ("cover/cover.html.j2", '<div style="background: url(file://{secret})">{{{{ meta.title }}}}</div>'),
])
def test_a_books_templates_cannot_fetch_outside(book, tmp_path, secret, server, template, text):
    url, requests = server
    write(book / "layouts" / template, text.format(url=url, secret=secret))
    fmt = "pdf" if template.startswith("print/") else "epub"   # the format whose template it is
    refused(book, tmp_path / "out", secret, "refused to fetch", formats=[fmt])
    assert requests == []


@pytest.mark.parametrize("expression", ["''.__class__.__mro__", "meta.__class__.__init__.__globals__",
                                        "cycler.__init__.__globals__.os"])
def test_a_books_templates_run_sandboxed(book, tmp_path, secret, expression):
    write(book / "layouts" / "epub" / "cover.xhtml.j2", f"<html>{{{{ {expression} }}}}</html>")
    refused(book, tmp_path / "out", secret, "template error", formats=["epub"])


def test_an_unused_file_in_images_is_never_read(book, tmp_path):
    """The cover's cache key looks at images/ by name, size and time: a 2 GB file nothing uses costs nothing."""
    huge = book / "images" / "unused.bin"
    with open(huge, "wb") as file:
        file.truncate(2 * 1024 ** 3)   # sparse
    build_recording(book, tmp_path / "out", formats=["epub"])
    assert str(huge.resolve()) not in build_recording.opened

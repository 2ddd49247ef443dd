"""publish watch end to end: a real server process, a real book folder, edits on disk, HTTP reads."""
from __future__ import annotations

import http.client
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import SAMPLE

TIMEOUT = 5.0   # seconds from a save to the change in the served page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.read().decode()


def wait_for(predicate, timeout: float) -> float:
    """Seconds until predicate() held; fails the test after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        except OSError:
            pass    # the server is not listening yet
        time.sleep(0.1)
    pytest.fail(f"not within {timeout} s")


@pytest.fixture
def server(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "publish.cli", "watch", "--book", str(book), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "样书" in get(port, "/zh-Hans/"), 30)
        yield book, port, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_edit_rebuild_error_and_sigint(server):
    book, port, proc = server
    assert get(port, "/zh-Hant/").count("樣書") >= 1          # the converted edition is served too
    page = get(port, "/zh-Hans/")
    assert 'fetch("/version")' in page                        # the page reloads itself
    assert "file://" not in page                              # fonts and images come from the server
    version = get(port, "/version")

    chapter = book / "chapters" / "02.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n新加的一段WATCHMARK。\n", encoding="utf-8")
    took = wait_for(lambda: "WATCHMARK" in get(port, "/zh-Hans/"), TIMEOUT)
    print(f"edit shown after {took:.2f} s")
    assert "WATCHMARK" in get(port, "/zh-Hant/")
    assert get(port, "/version") != version

    good = (book / "book.yaml").read_text(encoding="utf-8")
    (book / "book.yaml").write_text(good.replace("title: 样书", "title: [样书"), encoding="utf-8")
    wait_for(lambda: 'id="publish-error"' in get(port, "/zh-Hans/"), TIMEOUT)
    page = get(port, "/zh-Hans/")
    assert "book.yaml:4: error: invalid YAML" in page
    assert "WATCHMARK" in page and "样书" in page             # the last good preview stays

    (book / "book.yaml").write_text(good, encoding="utf-8")
    wait_for(lambda: 'id="publish-error"' not in get(port, "/zh-Hans/"), TIMEOUT)

    proc.send_signal(signal.SIGINT)
    code = proc.wait(10)
    err = proc.stderr.read()
    assert code in (0, 130), err
    assert "book.yaml:4: error: invalid YAML" in err          # the error reached the terminal too
    assert "Traceback" not in err


def test_serves_only_the_books_images_and_fonts(server):
    book, port, _ = server
    (book / "images" / "secret.txt").write_text("secret", encoding="utf-8")
    for path in ("/book/book.yaml", "/book/images/secret.txt", "/book/../../etc/passwd",
                 "/book/%2e%2e/%2e%2e/etc/passwd", "/fonts/../pyproject.toml"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        assert connection.getresponse().status == 404, path
    image = [line for line in get(port, "/zh-Hans/").split('"') if line.startswith("/book/images/")]
    assert image and urllib.request.urlopen(f"http://127.0.0.1:{port}{image[0]}").status == 200


def test_port_in_use_is_a_user_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "publish.cli", "watch", "--book", str(SAMPLE), "--port", str(port)],
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr


def test_out_rebuilds_the_files_after_the_preview(tmp_path):
    book, out, log = tmp_path / "book", tmp_path / "out", tmp_path / "watch.log"
    shutil.copytree(SAMPLE, book)
    port = free_port()
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "publish.cli", "watch", "--book", str(book), "--port",
                                 str(port), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for(lambda: log.read_text().count("files rebuilt in") == 1, 120)
        assert all((out / f"sample-book.{e}.{x}").is_file() for e in ("zh-Hans", "zh-Hant") for x in ("pdf", "epub"))
        first = (out / "sample-book.zh-Hans.epub").stat().st_mtime_ns
        chapter = book / "chapters" / "01.md"
        chapter.write_text(chapter.read_text(encoding="utf-8") + "\n又一段。\n", encoding="utf-8")
        wait_for(lambda: log.read_text().count("files rebuilt in") == 2, 120)
        assert (out / "sample-book.zh-Hans.epub").stat().st_mtime_ns != first
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
    assert code in (0, 130), log.read_text()
    assert "Traceback" not in log.read_text()
    assert not list(out.glob(".*.part"))


def status(port: int, path: str, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": host})
    return connection.getresponse().status


def test_answers_only_its_own_host_and_a_bad_path_is_a_404(server):
    _, port, proc = server
    assert status(port, "/zh-Hans/", f"127.0.0.1:{port}") == 200
    assert status(port, "/zh-Hans/", f"localhost:{port}") == 200
    assert status(port, "/zh-Hans/", f"rebinding.example:{port}") == 403   # a DNS-rebinding page's request
    assert status(port, "/book/%00.png", f"127.0.0.1:{port}") == 404
    assert status(port, "/book/" + "a" * 5000 + ".png", f"127.0.0.1:{port}") == 404
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr

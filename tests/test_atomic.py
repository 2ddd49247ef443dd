"""Outputs are atomic: a build killed at any moment leaves each output either as it was before or
complete, never truncated under its final name; the date comes from SOURCE_DATE_EPOCH or the book's files."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import MANUSCRIPT, SAMPLE, build_book
from publish import output, processes
from publish.stages import fonts, pdf
from publish.build import source_date
from publish.stages.manuscript import load

PREVIOUS = b"the last good build"


def complete(path) -> bool:
    data = path.read_bytes()
    if data == PREVIOUS:
        return True
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    with zipfile.ZipFile(path) as z:
        return z.testzip() is None


@pytest.mark.parametrize("after", [0.8, 2.5, 4.5])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_build_leaves_no_truncated_output(tmp_path, after, sig):
    out = tmp_path / "out"
    out.mkdir()
    names = [f"sample-book.{e}.{f}" for e in ("zh-Hans", "zh-Hant") for f in ("pdf", "epub")]
    for name in names:
        (out / name).write_bytes(PREVIOUS)
    build = subprocess.Popen([sys.executable, "-m", "publish.cli", "build", "--book", str(SAMPLE), "--out", str(out),
                              "--quiet"], stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(after)
    os.killpg(build.pid, sig)   # the whole job, as a terminal's Ctrl-C or a kill of the job would
    _, stderr = build.communicate(timeout=60)
    assert "Traceback" not in stderr
    for name in names:
        assert complete(out / name), name
    if sig == signal.SIGINT and build.returncode != 0:
        assert build.returncode == 130 and "interrupted" in stderr
        assert not list(out.glob(".*.part")), "an interrupted build cleans up its temporary files"


def test_a_ctrl_c_lost_in_a_finaliser_still_stops_the_build(tmp_path, monkeypatch):
    """Python cannot raise a KeyboardInterrupt out of an object's __del__ (WeasyPrint's FontConfiguration
    has one): it prints it and goes on. The command line's handler remembers it, and nothing is renamed
    into place after it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "sample-book.zh-Hans.epub").write_bytes(PREVIOUS)
    monkeypatch.setattr(output, "_interrupted", False)
    subset = fonts.subset_otf

    def interrupted_in_a_finaliser(*args):
        try:
            output.interrupt(signal.SIGINT, None)
        except KeyboardInterrupt:   # what Python does with it inside __del__
            pass
        return subset(*args)
    monkeypatch.setattr(fonts, "subset_otf", interrupted_in_a_finaliser)
    with pytest.raises(KeyboardInterrupt):
        build_book(SAMPLE, out, formats=("epub",), edition_names=["zh-Hans"])
    assert (out / "sample-book.zh-Hans.epub").read_bytes() == PREVIOUS
    assert not list(out.glob(".*.part"))


def test_source_date_epoch_sets_the_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date(load(MANUSCRIPT)) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def armed_git(book: Path, marker: Path) -> None:
    """The book's own .git: a signed commit and a config that has `git log` run ./tools.sh to verify it."""
    (book / "tools.sh").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (book / "tools.sh").chmod(0o755)
    git = ["git", "-C", str(book), "-c", "user.name=x", "-c", "user.email=x@example.com"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "book.yaml"], check=True)
    subprocess.run(git + ["commit", "-qm", "m"], check=True)
    tree = subprocess.run(git + ["rev-parse", "HEAD^{tree}"], capture_output=True, text=True).stdout.strip()
    signed = (f"tree {tree}\nauthor x <x@example.com> 1600000000 +0000\ncommitter x <x@example.com> 1600000000 +0000\n"
              "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nsigned\n")
    commit = subprocess.run(git + ["hash-object", "-t", "commit", "-w", "--stdin"], input=signed,
                            capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(git + ["update-ref", "HEAD", commit], check=True)
    for key, value in (("log.showSignature", "true"), ("gpg.program", "./tools.sh"), ("core.fsmonitor", "./tools.sh")):
        subprocess.run(git + ["config", key, value], check=True)


def test_a_books_own_git_runs_nothing_and_its_files_date_the_build(tmp_path):
    book, marker = tmp_path / "book", tmp_path / "ran"
    shutil.copytree(SAMPLE, book)
    armed_git(book, marker)
    subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=book, capture_output=True)
    assert marker.exists(), "the trap is armed: git log in the book runs its program"
    marker.unlink()
    newest = 1650000000
    for path in load(book).input_files():
        os.utime(path, (newest - 100, newest - 100))
    os.utime(book / "chapters" / "02.md", (newest, newest))
    os.utime(book / "tools.sh", (newest + 10**6, newest + 10**6))   # not an input: does not date the book
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    result = subprocess.run([sys.executable, "-m", "publish.cli", "build", "--book", str(book), "--out",
                             str(tmp_path / "out"), "--format", "epub", "--edition", "zh-Hans", "--quiet"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), "nothing of the book was run"
    with zipfile.ZipFile(tmp_path / "out" / "sample-book.zh-Hans.epub") as epub:
        assert epub.infolist()[0].date_time == datetime.fromtimestamp(newest, timezone.utc).timetuple()[:6]


def test_files_without_a_real_time_date_the_build_from_a_fixed_day(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    manuscript = load(book)
    for path in manuscript.input_files():
        os.utime(path, (0, 0))
    assert source_date(manuscript) == datetime(2000, 1, 1, tzinfo=timezone.utc)


def processes_writing(out: Path) -> list[int]:
    """The ids of running processes whose command line names `out` (a build and its edition workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(out).encode() in (entry / "cmdline").read_bytes():
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_killed_parent_leaves_no_worker_and_the_next_build_removes_its_temporaries(tmp_path):
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-m", "publish.cli", "build", "--book", str(SAMPLE), "--out", str(out),
                              "--quiet"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(processes_writing(out)) < 3 and time.monotonic() < deadline:   # the parent and two workers
        time.sleep(0.05)
    assert len(processes_writing(out)) == 3
    time.sleep(1.0)
    build.kill()   # SIGKILL to the parent alone: it cannot tell its workers
    build.wait()
    deadline = time.monotonic() + 5
    while processes_writing(out) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_writing(out) == [], "the edition workers die with their parent"
    (out / ".sample-book.zh-Hans.pdf.999999999.leftover.part").write_bytes(b"from a build long dead")
    result = subprocess.run([sys.executable, "-m", "publish.cli", "build", "--book", str(SAMPLE), "--out", str(out),
                             "--format", "epub", "--edition", "zh-Hans", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not list(out.glob(".*.part")) and not list((out / ".cache").rglob(".*.part"))


@pytest.mark.parametrize("shared_folder", [True, False], ids=["built", "negative control"])
def test_a_build_leaves_nothing_in_the_temporary_directory(tmp_path, monkeypatch, shared_folder):
    """WeasyPrint copies the fonts of each document it lays out into a `weasyprint-…` folder, removed when the
    document is freed; a forked worker ended by os._exit while a document lives (killed, or here kept to
    the end) never removes it (5 MB a layout; a long book lays out many pieces): the build keeps its
    processes' temporary files in one folder and removes it. Negative control: without that folder, the
    fonts are left behind."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    documents, lay_out = [], pdf.lay_out
    monkeypatch.setattr(pdf, "lay_out", lambda *args: documents.append(lay_out(*args)) or documents[-1])
    if not shared_folder:
        monkeypatch.setattr(processes, "temporary_folder", contextlib.nullcontext)
    build_book(MANUSCRIPT, tmp_path / "out", formats=("pdf",))
    left = sorted(p.name for p in temporary.iterdir())
    if shared_folder:
        assert left == []
    else:
        assert any(name.startswith("weasyprint-") for name in left), left


def test_a_build_removes_the_temporary_folders_of_killed_builds(tmp_path, monkeypatch):
    """A build killed by SIGKILL leaves its `publish-PID-…` folder; the next build removes it, and no folder
    of a process still running."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (temporary / f"publish-{gone.pid}-abc" / "weasyprint-x").mkdir(parents=True)
    (temporary / f"publish-{os.getppid()}-def").mkdir()
    build_book(MANUSCRIPT, tmp_path / "out", formats=("epub",), edition_names=["zh-Hans"])
    assert sorted(p.name for p in temporary.iterdir()) == [f"publish-{os.getppid()}-def"]

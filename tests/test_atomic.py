"""Outputs are atomic: a build killed at any moment leaves each output either as it was before or
complete, never truncated under its final name; the date comes from SOURCE_DATE_EPOCH or git."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timezone

import pytest

from conftest import MANUSCRIPT, SAMPLE
from publish.build import source_date

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


def test_source_date_epoch_sets_the_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date(MANUSCRIPT) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def test_without_source_date_epoch_the_manuscripts_last_commit_dates_the_build(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    committed = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=MANUSCRIPT,
                               capture_output=True, text=True).stdout.strip()
    if not committed:
        pytest.skip("the manuscript is not in a git checkout")
    assert source_date(MANUSCRIPT) == datetime.fromtimestamp(int(committed), timezone.utc)

"""Worker processes: what a forked one does first, and the temporary folder they share."""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

PR_SET_PDEATHSIG = 1   # prctl(2): the signal a process gets when its parent dies


def die_with_parent(parent: int) -> None:
    """The parent's death (even by SIGKILL) kills this process: no worker runs on alone."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:   # it died before the line above
            os._exit(1)


@contextlib.contextmanager
def temporary_folder():
    """The temporary files of this process and of those it forks, in one folder removed when the block
    ends. WeasyPrint copies a document's fonts into a folder of its own (`weasyprint-…`, 5 MB for this
    book's) and removes it only when its FontConfiguration is freed, which never happens in a process that
    ends with os._exit while the document lives, as multiprocessing's workers do: before 4 December 2026
    every layout in a worker left its fonts in the system's temporary directory, and a 1M-character book's
    build 200 MB (since pdf.render lays out in a frame of its own, a finished document is freed; a killed
    worker's is not). A build killed (SIGKILL)
    cannot remove its folder: the next one removes the folders of processes no longer running."""
    _remove_orphans(tempfile.gettempdir())
    folder = tempfile.mkdtemp(prefix=f"publish-{os.getpid()}-")
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


def _remove_orphans(parent: str) -> None:
    """The `publish-PID-…` folders in `parent` whose process is gone."""
    for folder in Path(parent).glob("publish-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)   # signal 0: only asks whether the process exists (PermissionError: another user's)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True

"""Outputs appear whole or not at all: written beside their final name under a temporary one, then
renamed into place. A build stages all its outputs and renames them only when every edition has
succeeded (`commit`), or removes them (`discard`): a failed build leaves the previous files as they were.

A temporary name carries the writing process's id, so that a later build can remove what a killed one
(SIGKILL gives it no chance) left behind, and only that: `.<name>.<pid>.<random>.part`.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import PublishError


@dataclass(frozen=True)
class Staged:
    temporary: Path
    final: Path


def write_temporary(path: Path, data: bytes) -> Staged:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        os.unlink(tmp)
        raise
    return Staged(Path(tmp), path)


_interrupted = False


def interrupt(signum, frame) -> None:
    """The command line's SIGINT handler: Python's own (KeyboardInterrupt), and remembered. A Ctrl-C that
    lands in a finaliser (WeasyPrint's FontConfiguration.__del__) cannot stop the code around it (Python
    prints it as unraisable and goes on): commit refuses to replace anything after it."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held():
    """A Ctrl-C (SIGINT) waits until the block ends: a native extension's import cannot take Python's
    KeyboardInterrupt halfway (pikepdf's nanobind then prints a critical error and a traceback)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})   # one that came is delivered now


def commit(staged: list[Staged]) -> None:
    """The staged files renamed into place, unless the build was interrupted."""
    if _interrupted:
        raise KeyboardInterrupt
    for file in staged:
        os.replace(file.temporary, file.final)


def discard(staged: list[Staged]) -> None:
    for file in staged:
        file.temporary.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    commit([write_temporary(path, data)])


def prepare(folder: Path) -> None:
    """Make the output folder, or say why it cannot be written; remove dead builds' temporary files."""
    hint = "--out names a folder you may write (not a file, not on a read-only disk)"
    if folder.exists() and not folder.is_dir():
        raise PublishError("the output folder is a file", folder, hint=hint)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.close(os.open(folder / f".{os.getpid()}.probe.part", os.O_WRONLY | os.O_CREAT, 0o644))
        (folder / f".{os.getpid()}.probe.part").unlink()
    except OSError as exc:
        raise PublishError(f"cannot write the output folder: {exc.strerror}", folder, hint=hint) from None
    for part in [*folder.glob(".*.part"), *(folder / ".cache").rglob(".*.part")]:
        pid = part.name.split(".")[-3]
        if pid.isdigit() and not _alive(int(pid)):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # another user's process
    # A killed worker stays a zombie until its new parent reaps it (in a container, PID 1 may never):
    # it answers kill(0) but writes nothing again.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")

"""Errors a user can fix, with the place to fix them, and the exit codes the CLI returns."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1   # the book built, but a check (epubcheck, PDF checks) failed
    BAD_INPUT = 2      # the manuscript, book.yaml or a layout is wrong: the message says where
    BUG = 70           # an internal error (EX_SOFTWARE): a one-line report, the traceback under --debug


@dataclass
class PublishError(Exception):
    """A mistake in the user's input: reported as `file:line: message` plus a hint, never a traceback."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        place = ""
        if self.file is not None:
            place = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{place}error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

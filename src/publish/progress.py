"""Progress of a long command on stderr: one rewritten status line on a terminal, a plain line per
stage in a log (CI), nothing with --quiet. Errors are printed by the CLI whatever the mode."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, quiet: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty()
        self.start = time.monotonic()
        self.shown = False          # a status line is on the terminal, to be cleared before other output

    def __call__(self, message: str) -> None:
        """A stage: replaces the previous one on a terminal."""
        if self.quiet:
            return
        if self.live:
            self.stream.write(f"\r\x1b[K{message} ({time.monotonic() - self.start:.0f}s)")
            self.shown = True
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def line(self, message: str) -> None:
        """A result that stays (`wrote …`)."""
        if not self.quiet:
            self.clear()
            self.stream.write(message + "\n")
            self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc) -> None:
        # An error message printed next must start on a clean line.
        self.clear()

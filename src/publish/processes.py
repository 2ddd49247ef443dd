"""Worker processes: what a forked one does first."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1   # prctl(2): the signal a process gets when its parent dies


def die_with_parent(parent: int) -> None:
    """The parent's death (even by SIGKILL) kills this process: no worker runs on alone."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:   # it died before the line above
            os._exit(1)


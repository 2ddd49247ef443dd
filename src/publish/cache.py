"""Content-addressed results under the output folder's .cache/: an unchanged chapter is not converted,
typeset or rendered again, an unchanged cover not drawn again.

A key hashes everything the result depends on, the code and the layouts included (`fingerprint`), so a
hit is always the result the work would have given; there is nothing to invalidate.
"""
from __future__ import annotations

import hashlib
import stat
from importlib import metadata
from pathlib import Path
from typing import Callable

from markdown_it.token import Token

from .bookfiles import LAYOUT_BYTES
from .output import write_atomic

PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "Jinja2", "OpenCC", "weasyprint", "pypdfium2", "Pillow")


def key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:40]


def _readable(folder: Path, limit: int | None = None) -> list[Path]:
    """The regular files in `folder` that stay inside it after symlinks and, with `limit`, are no
    larger: a book's layouts may hold anything, and what the template loader refuses is no input."""
    inside, found = folder.resolve(), []
    for path in sorted(folder.rglob("*")):
        try:
            status = path.stat()
        except OSError:
            continue    # a dangling symlink
        if ("__pycache__" not in path.parts and path.resolve().is_relative_to(inside)
                and stat.S_ISREG(status.st_mode) and (limit is None or status.st_size <= limit)):
            found.append(path)
    return found


def _files(folder: Path, limit: int | None = None) -> str:
    return key(*(f"{p.relative_to(folder)}\0".encode() + p.read_bytes() for p in _readable(folder, limit)))


# The code as imported: read once, so a build sees one version of it even while its files are edited.
CODE = key(_files(PACKAGE), *(metadata.version(name) for name in LIBRARIES))


def fingerprint(*folders: Path, book_layouts: Path | None = None) -> str:
    """This code, the libraries' versions and every file in `folders` (the project's layouts, fonts) and
    in the book's own layouts."""
    own = [_files(book_layouts, LAYOUT_BYTES)] if book_layouts is not None and book_layouts.is_dir() else []
    return key(CODE, *(_files(f) for f in folders), *own)


def file_times(folder: Path) -> str:
    """Name, size and modification time of each file in `folder`, none of them read: a key for what may
    use any of them (a book's cover template its images) without reading files that nothing uses."""
    if not folder.is_dir():
        return ""
    return key(*(f"{p.relative_to(folder)}\0{p.stat().st_size}\0{p.stat().st_mtime_ns}" for p in _readable(folder)))


def chapter_key(path: Path, number: int, tokens: list[Token]) -> str:
    """A chapter's source as parsed: every block token's kind, attributes and text (inline tokens carry
    their Markdown source, from which their children are parsed)."""
    return key(str(path), str(number), *(f"{t.type}\x1e{t.tag}\x1e{t.markup}\x1e{t.info}\x1e{t.attrs}\x1e{t.content}"
                                          for t in tokens))


def data(folder: Path | None, name: str, make: Callable[[], bytes]) -> bytes:
    """The cached bytes named `name` in `folder`, made and stored on a miss; no folder: no cache."""
    if folder is None:
        return make()
    path = folder / name
    if path.is_file():
        return path.read_bytes()
    value = make()
    write_atomic(path, value)
    return value


def text(folder: Path | None, name: str, make: Callable[[], str]) -> str:
    return data(folder, name, lambda: make().encode("utf-8")).decode("utf-8")

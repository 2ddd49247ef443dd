"""Reading a file of a book that may come from anyone: only inside the folders it may read (after
symlinks), only a regular file (a FIFO or a device would hang the build or never end), only up to
its size limit, all checked before a byte is read."""
from __future__ import annotations

import os
import stat
from collections.abc import Hashable
from pathlib import Path

import yaml

from .errors import PublishError

MB = 1024 * 1024
# The limits (README "Untrusted books"): far above any real book, far below what hurts the machine.
BOOK_YAML_BYTES = 256 * 1024
CHAPTER_BYTES = 8 * MB           # a long novel is 2 MB of UTF-8
CORRECTIONS_BYTES = 1 * MB
LAYOUT_BYTES = 1 * MB            # a template, a stylesheet, labels.yaml
ICC_BYTES = 8 * MB
IMAGE_BYTES = 50 * MB
IMAGE_PIXELS = 50_000_000        # 50 megapixels: a full-page photo at 300 dpi is 9


def checked(path: Path, what: str, limit: int, inside: list[Path], source: Path | None = None,
            line: int | None = None, written: str | None = None) -> os.stat_result:
    """The file's status if it may be read; else an error on `source`:`line` (default: the file itself)
    naming it as `written` there."""
    name = f"{what} {(written or str(path))!r}" if source else what
    where = (source or path, line)
    real = path.resolve()
    if not any(real.is_relative_to(folder.resolve()) for folder in inside):
        raise PublishError(f"{name} is outside the book folder", *where,
                           hint="keep every file of the book inside its folder (a symlink out is refused)")
    try:
        status = real.stat()
    except FileNotFoundError:
        raise PublishError(f"{name} not found", *where, hint="check the path, relative to the book folder") from None
    except OSError as exc:
        raise PublishError(f"cannot read {name}: {exc.strerror}", *where) from None
    if not stat.S_ISREG(status.st_mode):
        raise PublishError(f"{name} is not a regular file", *where,
                           hint="a book's files are plain files (not a folder, FIFO or device)")
    if status.st_size > limit:
        raise PublishError(f"{name} is {status.st_size / MB:.1f} MB, over the limit of {limit / MB:g} MB", *where,
                           hint="see README, Untrusted books")
    return status


def read_bytes(path: Path, what: str, limit: int, inside: list[Path], source: Path | None = None,
               line: int | None = None, written: str | None = None) -> bytes:
    checked(path, what, limit, inside, source, line, written)
    # O_NONBLOCK: a file swapped for a FIFO after the check opens without waiting for a writer; the
    # read stops at the limit whatever the file has become.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PublishError(f"{what} is not a regular file", source or path, line)
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise PublishError(f"{what} grew over the limit of {limit / MB:g} MB while it was read", source or path, line)
    return data


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text, a byte-order mark dropped (Windows Notepad writes one), CRLF and CR read as LF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise PublishError(
            f"not UTF-8 (byte 0x{data[start]:02X})", path, data[:start].count(b"\n") + 1,
            hint="save the file as UTF-8 (e.g. iconv -f GB18030 -t UTF-8)",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


YAML_DEPTH = 20      # book.yaml's deepest real nesting is 4 (lint: ignore: file: [codes])


class _BookYamlLoader(yaml.SafeLoader):
    """yaml.safe_load, bounded and stricter: no anchors or aliases (a 1 KB file of aliases expands to
    gigabytes), no nesting deeper than YAML_DEPTH, a key given twice is an error naming both lines;
    and a date is text as written (`date: 2021-05-01`), not a datetime."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.path, self.depth = path, 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise PublishError("YAML anchors and aliases (& and *) are not allowed", self.path, line,
                               hint="write each value out in full")
        if self.depth >= YAML_DEPTH:
            raise PublishError(f"YAML nested deeper than {YAML_DEPTH} levels", self.path, line)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, Hashable) and key in seen:
                raise PublishError(f"duplicate key {key!r}: also on line {seen[key]}", self.path, line,
                                   hint="keep one of the two; YAML would silently take the last")
            if isinstance(key, Hashable):
                seen[key] = line
        return super().construct_mapping(node, deep)


def load_yaml(path: Path, what: str, limit: int, inside: list[Path]):
    """The YAML file's value and its top node (for the lines of its keys); None, None if empty."""
    text = decode(read_bytes(path, what, limit, inside), path)
    loader = _BookYamlLoader(text, path)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PublishError(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None,
                           hint="check indentation and quoting on that line") from None
    finally:
        loader.dispose()

"""Stage 2: one edition of the manuscript — as written (zh-Hans) or converted by OpenCC (zh-Hant).

Only text changes: every text token, the metadata and the layouts' labels go through one OpenCC call,
then the quotation marks, then the book's reviewed correction table. The markup is never touched.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from pathlib import Path

from markdown_it.token import Token

from .. import bookfiles, cache
from ..errors import PublishError
from .manuscript import CONTROL_CHARACTER, Chapter, EditionSpec, Manuscript, Metadata

# GB/T 15834 Simplified quotes -> the corner brackets Traditional books use.
HANT_QUOTES = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})
# Texts are joined with the ASCII unit separator for a single OpenCC call: OpenCC passes it through
# untouched and no phrase spans it, and no manuscript text contains it (control characters are refused).
SEPARATOR = "\x1f"
CONVERTED_META = ("title", "subtitle", "publisher", "rights", "description", "subjects")
# The region whose standard forms an OpenCC configuration writes: stores and reading systems read it from
# the language tag (BCP 47). s2t writes OpenCC's own standard, no region's.
OPENCC_REGIONS = {"s2tw": "TW", "s2twp": "TW", "s2hk": "HK"}


@dataclass(frozen=True)
class Correction:
    wrong: str
    right: str
    line: int


@dataclass
class Edition:
    spec: EditionSpec
    meta: Metadata
    chapters: list[Chapter]        # same structure as the manuscript's, text converted
    labels: dict[str, str]         # generated words of the layouts (目录, 版权页 …), converted
    cache: Path | None = None      # where results per chapter are kept (cache.py); None: nowhere
    keys: list[str] = dataclasses.field(default_factory=list)   # per chapter: its source and this conversion

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def lang(self) -> str:
        """The BCP 47 tag of the text: zh-Hans, zh-Hant-TW (s2tw, s2twp), zh-Hant-HK (s2hk), zh-Hant (s2t)."""
        return language_tag(self.spec)


def language_tag(spec: EditionSpec) -> str:
    region = OPENCC_REGIONS.get(spec.opencc or "")
    return f"{spec.name}-{region}" if region else spec.name


def _table(path: Path) -> bytes:
    """The correction table's bytes (manuscript.load checked it is a file of the book)."""
    return bookfiles.read_bytes(path, "correction table", bookfiles.CORRECTIONS_BYTES, [path.parent])


def load_corrections(path: Path) -> list[Correction]:
    corrections = []
    for number, line in enumerate(bookfiles.decode(_table(path), path).split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise PublishError("a correction is 'wrong<TAB>right[<TAB>why]'", path, number,
                               hint="separate the fields with one tab character")
        if CONTROL_CHARACTER.search(fields[0] + fields[1]):
            raise PublishError("a correction holds a control character", path, number,
                               hint="only the tab separates the fields; delete the other control characters")
        corrections.append(Correction(fields[0], fields[1], number))
    return corrections


def _text_tokens(tokens: list[Token]) -> list[Token]:
    """Tokens whose content is prose (not code, not markup), in reading order."""
    found = []
    for token in tokens:
        for child in token.children or []:
            if child.type == "text":
                found.append(child)
            elif child.type == "image":
                found.extend(c for c in child.children or [] if c.type == "text")
    return found


def _copy_tokens(tokens: list[Token]) -> list[Token]:
    def copy(token: Token) -> Token:
        return token.copy(children=[copy(c) for c in token.children] if token.children else token.children)
    return [copy(t) for t in tokens]


def _converter(spec: EditionSpec):
    import opencc

    opencc_convert = opencc.OpenCC(spec.opencc).convert
    corrections = load_corrections(spec.corrections) if spec.corrections else []

    def convert(text: str) -> str:
        text = opencc_convert(text)
        if spec.script == "Hant":
            text = text.translate(HANT_QUOTES)
        for c in corrections:
            text = text.replace(c.wrong, c.right)
        return text

    return convert


def edition_identifier(identifier: str, name: str, primary: bool) -> str:
    """Each edition is its own publication: the manuscript's edition keeps the book's UUID, the others
    get a stable one derived from it and the edition's name."""
    if primary:
        return identifier
    return "urn:uuid:" + str(uuid.uuid5(uuid.UUID(identifier.removeprefix("urn:uuid:")), name))


def _conversion_key(spec: EditionSpec) -> str:
    return cache.key(cache.fingerprint(), spec.name, spec.script, str(spec.opencc),
                     _table(spec.corrections) if spec.corrections else b"")


def _keys(manuscript: Manuscript, conversion: str) -> list[str]:
    return [cache.key(conversion, cache.chapter_key(ch.path, ch.number, ch.tokens)) for ch in manuscript.chapters]


def make(manuscript: Manuscript, name: str, labels: dict[str, str], cache_dir: Path | None = None) -> Edition:
    """`cache_dir`: keep each chapter's conversion there, and let the layouts keep theirs."""
    spec = manuscript.editions[name]
    identifier = edition_identifier(manuscript.meta.identifier, name, name == manuscript.meta.language)
    conversion = _conversion_key(spec)
    keys = _keys(manuscript, conversion) if cache_dir else []
    meta = manuscript.meta
    if spec.opencc is None:
        meta = dataclasses.replace(meta, language=language_tag(spec), identifier=identifier)
        return Edition(spec, meta, manuscript.chapters, dict(labels), cache_dir, keys)

    chapters = [dataclasses.replace(ch, tokens=_copy_tokens(ch.tokens)) for ch in manuscript.chapters]
    texts = [_text_tokens(ch.tokens) for ch in chapters]
    # Each chapter's texts, then the titles, metadata and labels: converted before (same source, same
    # conversion) they are read back; the rest go to OpenCC in one call. Nothing new: OpenCC is not loaded.
    extras = ([ch.title for ch in chapters] + [getattr(meta, k) for k in CONVERTED_META]
              + [c.name for c in meta.creators] + list(labels.values()))
    sources = [[t.content for t in tokens] for tokens in texts] + [extras]
    names = keys + [cache.key(conversion, *extras)] if cache_dir else []
    stored = [None] * len(sources)
    if cache_dir:
        stored = [(cache_dir / "convert" / k).read_text(encoding="utf-8").split(SEPARATOR)
                  if (cache_dir / "convert" / k).is_file() else None for k in names]
    todo = [i for i, s in enumerate(stored) if s is None]
    if todo:
        converted = iter(_converter(spec)(SEPARATOR.join(x for i in todo for x in sources[i])).split(SEPARATOR))
        for i in todo:
            stored[i] = [next(converted) for _ in sources[i]]
            if cache_dir:
                cache.text(cache_dir / "convert", names[i], lambda: SEPARATOR.join(stored[i]))
    for tokens, contents in zip(texts, stored):
        for token, content in zip(tokens, contents, strict=True):
            token.content = content
    for ch in chapters:  # an image's content is its alt text, rendered from its (converted) children
        for image in (c for t in ch.tokens for c in t.children or [] if c.type == "image"):
            image.content = "".join(c.content for c in image.children or [])
    converted = iter(stored[-1])
    chapters = [dataclasses.replace(ch, title=next(converted)) for ch in chapters]
    meta = dataclasses.replace(
        meta,
        language=language_tag(spec),
        identifier=identifier,
        **{k: next(converted) for k in CONVERTED_META},
        creators=tuple(dataclasses.replace(c, name=next(converted)) for c in meta.creators),
    )
    labels = {k: next(converted) for k in labels}
    return Edition(spec, meta, chapters, labels, cache_dir, keys)


def plain_text(edition: Edition) -> str:
    """The edition's chapter text as a reader sees it, for comparing with what a PDF or EPUB shows."""
    return "".join(t.content for ch in edition.chapters for t in _text_tokens(ch.tokens))

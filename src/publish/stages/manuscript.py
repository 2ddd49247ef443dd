"""Stage 1: read a book folder (book.yaml + Markdown chapters) into plain data, or say what is wrong."""
from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from markdown_it.token import Token

from . import markdown, notes

from .. import bookfiles
from .binding import BINDINGS, SADDLE_MAX_PAGES
from ..errors import PublishError
from .imprint import ImprintSpec, settings as imprint_settings

OPENCC_CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")
EDITIONS = {  # edition name -> script of its fonts
    "zh-Hans": "Hans",
    "zh-Hant": "Hant",
}
REQUIRED_KEYS = ("slug", "title", "creators", "language", "identifier", "chapters")
OPTIONAL_KEYS = ("subtitle", "date", "publisher", "rights", "description", "trim", "editions", "lint",
                 "print", "isbn", "imprint", "subjects", "notes")
PRINT_KEYS = ("pdfx", "icc", "bleed_mm", "signature", "caliper_mm", "binding", "paper")
PDFX_VERSIONS = ("x-4", "x-1a")
SIGNATURES = (4, 16, 32)
EDITION_KEYS = ("opencc", "corrections", "writing_mode")
WRITING_MODES = ("horizontal-tb", "vertical-rl")
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
MAX_NAME_CHARS = 255   # a file name in book.yaml or a chapter
MAX_FOOTNOTES = 10_000   # per chapter
MAX_NESTING = 16         # levels of block quotes, lists and inline markup inside one another
# The image modes WeasyPrint draws well (it converts 1 and P itself): palette, grey with alpha and CMYK
# JPEGs among them. Others (16-bit grey) are converted (_eight_bits).
DRAWN_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK")
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}


@dataclass(frozen=True)
class Creator:
    name: str
    role: str = "aut"
    organisation: bool = False     # a body, not a person (ONIX CorporateName): a committee, a government


@dataclass(frozen=True)
class Metadata:
    """What a reader, a catalogue or a print shop reads about the book; converted per edition."""

    title: str
    creators: tuple[Creator, ...]
    language: str
    identifier: str
    date: str = ""
    subtitle: str = ""
    publisher: str = ""
    rights: str = ""
    description: str = ""
    subjects: str = ""             # keywords for stores, "; " between them (ONIX Subject, EPUB dc:subject)


@dataclass(frozen=True)
class EditionSpec:
    name: str                      # a BCP 47 tag: zh-Hans, zh-Hant
    script: str                    # Hans or Hant: chooses the fonts
    opencc: str | None = None      # OpenCC config converting the manuscript, None for as written
    corrections: Path | None = None
    writing_mode: str = "horizontal-tb"   # of the EPUB; vertical-rl for top-to-bottom, right-to-left


@dataclass(frozen=True)
class PrintSpec:
    """book.yaml `print:`: what the print shop asks of the interior and cover PDFs."""

    pdfx: str = "x-4"              # PDF/X-4, or x-1a for shops that want no transparency
    icc: Path | None = None        # CMYK output profile in the book; None: layouts/print/icc/FOGRA39.icc
    bleed_mm: float = 3.0
    signature: int = 4             # the page count is padded to a multiple of this
    caliper_mm: float = 0.1        # thickness of one leaf (two pages): spine = leaves × caliper
    binding: str = "auto"          # saddle, perfect, or auto: by the page count (binding.py)
    paper: str = "80 g/m² 胶版纸 offset"   # the interior's paper, as the print order names it


@dataclass(frozen=True)
class NotesSpec:
    """book.yaml `notes:`: where the print book sets footnotes and how it numbers them (notes.py)."""

    place: str = "page"            # page: at the foot of the page of the call; chapter: after the chapter
    numbering: str = "page"        # page: ①②③ afresh on each page; chapter; book: through the whole book


@dataclass(frozen=True)
class Image:
    src: str                       # as written in the chapter, relative to it
    path: Path                     # resolved, inside the book folder
    media_type: str
    width: int
    height: int
    converted: bytes | None = None   # an 8-bit PNG published instead of a file WeasyPrint cannot draw


@dataclass
class Chapter:
    path: Path
    number: int                    # 1-based position in the reading order
    title: str
    tokens: list[Token]
    env: dict                      # the footnote plugin's data, needed to render the tokens
    images: list[Image] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"ch{self.number:02d}"


@dataclass
class Manuscript:
    root: Path
    slug: str
    meta: Metadata
    trim_mm: tuple[float, float]
    editions: dict[str, EditionSpec]
    chapters: list[Chapter]
    layouts: Path | None           # the book's own layouts folder, overriding the default templates
    lint: dict = field(default_factory=dict)  # book.yaml's `lint:` as written; checked by publish.lint
    print: PrintSpec = field(default_factory=PrintSpec)
    isbn: str = ""                 # 13 digits, check digit verified; printed as an EAN-13 on the cover
    imprint: ImprintSpec = field(default_factory=ImprintSpec)   # 版次, 印次, 定价 (the rest is computed)
    notes: NotesSpec = field(default_factory=NotesSpec)

    def input_files(self) -> list[Path]:
        """Every file of the book the build reads: what dates it (build.source_date), nothing else in
        the folder (outputs, caches, .git)."""
        files = [self.root / "book.yaml", *(ch.path for ch in self.chapters),
                 *(image.path for ch in self.chapters for image in ch.images),
                 *(spec.corrections for spec in self.editions.values() if spec.corrections)]
        if self.print.icc:
            files.append(self.print.icc)
        if self.layouts:
            files += [p for p in self.layouts.rglob("*") if p.is_file()]
        return files


def _read_text(root: Path, path: Path, what: str, limit: int) -> str:
    text = bookfiles.decode(bookfiles.read_bytes(path, what, limit, [root]), path)
    control = CONTROL_CHARACTER.search(text)
    if control:
        raise PublishError(f"control character U+{ord(control.group()):04X} in the text", path,
                           text.count("\n", 0, control.start()) + 1, hint="delete it; it prints as nothing")
    return text


def _inside(root: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _book_file(root: Path, name: str, source: Path, line: int | None, what: str, base: Path | None = None) -> Path:
    """`name` relative to `base` (default: the book folder), refused if it leads out of the book."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", name) or name.startswith("/"):
        raise PublishError(f"{what} {name!r} is not a relative path", source, line,
                           hint="name files inside the book folder, relative to it")
    if "\0" in name or len(name) > MAX_NAME_CHARS:
        raise PublishError(f"{what} {name[:60]!r} is not a file name", source, line,
                           hint=f"a name of at most {MAX_NAME_CHARS} characters, without NUL")
    path = (base or root) / name
    if not _inside(root, path):
        raise PublishError(f"{what} {name!r} is outside the book folder", source, line,
                           hint="keep every file of the book inside its folder")
    return path


def key_lines(root: Path, path: Path) -> dict[str, int]:
    """The line of each top-level key of book.yaml, for messages that point at the line to fix."""
    return _load_yaml(root, path)[1]


def _load_yaml(root: Path, path: Path) -> tuple[dict, dict[str, int]]:
    """book.yaml's keys and values, and the line of each top-level key for messages."""
    data, node = bookfiles.load_yaml(path, "book.yaml", bookfiles.BOOK_YAML_BYTES, [root])
    if not isinstance(data, dict):
        raise PublishError("book.yaml must be a mapping of keys to values", path, 1)
    return data, {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k.value, str)}


def _check_keys(data: dict, allowed: tuple[str, ...], path: Path, lines: dict[str, int], where: str = "") -> None:
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(allowed)}"
            raise PublishError(f"unknown key {where}{key!r}", path, lines.get(key), hint=hint)


def _string(data: dict, key: str, path: Path, lines: dict[str, int]) -> str:
    value = data.get(key, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PublishError(f"{key!r} must be text", path, lines.get(key))
    return value.strip()


def _creators(data: dict, path: Path, lines: dict[str, int]) -> tuple[Creator, ...]:
    raw = data["creators"]
    if isinstance(raw, str):
        raw = [{"name": raw}]
    if not isinstance(raw, list) or not raw:
        raise PublishError("'creators' must be a list of {name, role}", path, lines.get("creators"),
                           hint="e.g. creators: [{name: 鲁迅, role: aut}]")
    creators = []
    for item in raw:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise PublishError("each creator needs a name", path, lines.get("creators"))
        _check_keys(item, ("name", "role", "organisation"), path, lines, "in creators: ")
        if not isinstance(item.get("organisation", False), bool):
            raise PublishError("a creator's 'organisation' is true or false", path, lines.get("creators"),
                               hint="organisation: true for a body (a committee, a government), else leave it out")
        creators.append(Creator(str(item["name"]).strip(), str(item.get("role", "aut")).strip(),
                                item.get("organisation", False)))
    return tuple(creators)


def _trim(data: dict, path: Path, lines: dict[str, int]) -> tuple[float, float]:
    trim = data.get("trim", {"width": 148, "height": 210})
    ok = isinstance(trim, dict) and set(trim) == {"width", "height"} and all(
        isinstance(trim[k], (int, float)) and 50 <= trim[k] <= 500 for k in trim)
    if not ok:
        raise PublishError("'trim' must be {width: MM, height: MM}, each 50–500", path, lines.get("trim"),
                           hint="A5 is {width: 148, height: 210}")
    return float(trim["width"]), float(trim["height"])


def _number(settings: dict, key: str, low: float, high: float, path: Path, line: int | None) -> float:
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise PublishError(f"print.{key} must be a number from {low:g} to {high:g}, not {value!r}", path, line)
    return float(value)


def _print(root: Path, data: dict, path: Path, lines: dict[str, int]) -> PrintSpec:
    settings = data.get("print") or {}
    line = lines.get("print")
    if not isinstance(settings, dict):
        raise PublishError("'print' must be a mapping", path, line,
                           hint="e.g. print: {pdfx: x-4, bleed_mm: 3, signature: 16, caliper_mm: 0.1}")
    _check_keys(settings, PRINT_KEYS, path, dict.fromkeys(settings, line), "in print: ")
    spec = PrintSpec()
    pdfx = str(settings.get("pdfx", spec.pdfx)).lower()
    if pdfx not in PDFX_VERSIONS:
        raise PublishError(f"unknown print.pdfx {settings['pdfx']!r}", path, line,
                           hint=f"use one of {', '.join(PDFX_VERSIONS)}")
    signature = settings.get("signature", spec.signature)
    if signature not in SIGNATURES or isinstance(signature, bool):
        raise PublishError(f"print.signature must be one of {', '.join(map(str, SIGNATURES))}, not {signature!r}",
                           path, line, hint="pages per folded sheet: 4, 16 or 32")
    binding = settings.get("binding", spec.binding)
    if binding not in BINDINGS:
        raise PublishError(f"unknown print.binding {binding!r}", path, line,
                           hint=f"use one of {', '.join(BINDINGS)}: auto saddle-stitches up to "
                                f"{SADDLE_MAX_PAGES} pages and perfect-binds the rest")
    icc = None
    if "icc" in settings:
        icc = _book_file(root, str(settings["icc"]), path, line, "ICC profile")
        header = bookfiles.read_bytes(icc, "ICC profile", bookfiles.ICC_BYTES, [root], path, line,
                                      str(settings["icc"]))[:20]
        if header[16:20] != b"CMYK":
            raise PublishError(f"ICC profile {settings['icc']!r} is not a CMYK profile", path, line,
                               hint="the print output intent needs a CMYK (4-component) printer profile")
    return PrintSpec(
        pdfx, icc,
        _number(settings, "bleed_mm", 0, 10, path, line) if "bleed_mm" in settings else spec.bleed_mm,
        signature,
        _number(settings, "caliper_mm", 0.03, 1, path, line) if "caliper_mm" in settings else spec.caliper_mm,
        binding,
        _string(settings, "paper", path, {"paper": line}) or spec.paper,
    )


def _notes(data: dict, path: Path, lines: dict[str, int]) -> NotesSpec:
    settings = data.get("notes") or {}
    line = lines.get("notes")
    if not isinstance(settings, dict):
        raise PublishError("'notes' must be a mapping", path, line, hint="e.g. notes: {place: page, numbering: page}")
    _check_keys(settings, ("place", "numbering"), path, dict.fromkeys(settings, line), "in notes: ")
    place = settings.get("place", "page")
    if place not in notes.PLACES:
        raise PublishError(f"unknown notes.place {place!r}", path, line,
                           hint="page (at the foot of the page of the call) or chapter (after the chapter's text)")
    numbering = settings.get("numbering", "page" if place == "page" else "chapter")
    if numbering not in notes.NUMBERINGS:
        raise PublishError(f"unknown notes.numbering {numbering!r}", path, line,
                           hint="page (afresh on each page), chapter or book")
    if numbering == "page" and place != "page":
        raise PublishError("notes.numbering: page needs notes.place: page", path, line,
                           hint="notes after the chapter are numbered by chapter or book")
    return NotesSpec(place, numbering)


def _subjects(data: dict, path: Path, lines: dict[str, int]) -> str:
    """subjects: [党史, 纪念文章] (or one text) -> "党史; 纪念文章"."""
    raw = data.get("subjects") or []
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list) or not all(isinstance(s, str) and s.strip() and ";" not in s for s in raw):
        raise PublishError("'subjects' must be a list of keywords", path, lines.get("subjects"),
                           hint="e.g. subjects: [党史, 纪念文章] (no ';' inside a keyword)")
    return "; ".join(s.strip() for s in raw)


def _isbn(data: dict, path: Path, lines: dict[str, int]) -> str:
    """ISBN-13 with or without hyphens; the check digit must match (weights 1, 3, 1, 3 …)."""
    raw = _string(data, "isbn", path, lines)
    if not raw:
        return ""
    digits = re.sub(r"[-\s]", "", raw)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        raise PublishError(f"isbn {raw!r} is not an ISBN-13", path, lines.get("isbn"),
                           hint="13 digits starting 978 or 979, e.g. 978-7-02-000220-7")
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    if int(digits[12]) != check:
        raise PublishError(f"isbn {raw!r}: check digit is {digits[12]}, should be {check}", path,
                           lines.get("isbn"), hint="a digit is mistyped: copy the ISBN from the agency's record")
    return digits


def _editions(root: Path, data: dict, path: Path, lines: dict[str, int]) -> dict[str, EditionSpec]:
    raw = data.get("editions") or {"zh-Hans": {}}
    if not isinstance(raw, dict):
        raise PublishError("'editions' must map edition names to settings", path, lines.get("editions"))
    specs = {}
    for name, settings in raw.items():
        line = lines.get("editions")
        if name not in EDITIONS:
            near = difflib.get_close_matches(str(name), EDITIONS, n=1)
            raise PublishError(f"unknown edition {name!r}", path, line,
                               hint=f"did you mean {near[0]!r}?" if near else f"editions: {', '.join(EDITIONS)}")
        settings = settings or {}
        if not isinstance(settings, dict):
            raise PublishError(f"edition {name}'s settings must be a mapping, not {settings!r}", path, line,
                               hint="e.g. zh-Hant: {opencc: s2tw}, or zh-Hant: {} for the defaults")
        _check_keys(settings, EDITION_KEYS, path, lines, f"in edition {name}: ")
        config = settings.get("opencc", "s2tw" if EDITIONS[name] == "Hant" else None)
        if config is not None and config not in OPENCC_CONFIGS:
            near = difflib.get_close_matches(str(config), OPENCC_CONFIGS, n=1)
            raise PublishError(f"unknown OpenCC config {config!r} for edition {name}", path, line,
                               hint=f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(OPENCC_CONFIGS)}")
        corrections = settings.get("corrections")
        if corrections is not None:
            corrections = _book_file(root, str(corrections), path, line, "correction table")
            bookfiles.checked(corrections, "correction table", bookfiles.CORRECTIONS_BYTES, [root], path, line,
                              str(settings["corrections"]))
        writing_mode = settings.get("writing_mode", "horizontal-tb")
        if writing_mode not in WRITING_MODES:
            raise PublishError(f"unknown writing_mode {writing_mode!r} for edition {name}", path, line,
                               hint=f"use one of {', '.join(WRITING_MODES)}")
        specs[name] = EditionSpec(name, EDITIONS[name], config, corrections, writing_mode)
    return specs


def _images(root: Path, chapter: Path, tokens: list[Token]) -> list[Image]:
    from PIL import Image as PILImage, UnidentifiedImageError

    images = []
    for token in tokens:
        for child in token.children or []:
            if child.type != "image":
                continue
            src = child.attrGet("src") or ""
            line = token.map[0] + 1 if token.map else None
            # markdown-it percent-encodes the target (图一.png -> %E5%9B%BE%E4%B8%80.png, a space -> %20)
            name = unquote(src)
            path = _book_file(root, name, chapter, line, "image", base=chapter.parent)
            bookfiles.checked(path, "image", bookfiles.IMAGE_BYTES, [root], chapter, line, name)
            too_big = PublishError(f"image {name!r} is over the limit of {bookfiles.IMAGE_PIXELS // 1_000_000} "
                                   "megapixels", chapter, line,
                                   hint="scale it down: 300 dpi at the printed size is enough")
            try:
                with warnings.catch_warnings():   # Pillow warns from 89 megapixels; our limit is lower
                    warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
                    with PILImage.open(path) as img:
                        kind, size = (img.format or "").lower(), img.size
                        if size[0] * size[1] > bookfiles.IMAGE_PIXELS:   # from the header, before decoding
                            raise too_big
                        img.load()   # every pixel decoded: a corrupt or truncated file is refused, not printed
            except PILImage.DecompressionBombError:   # Pillow's own refusal, past 179 megapixels
                raise too_big from None
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
                raise PublishError(f"image {name!r} is not a readable image", chapter, line,
                                   hint="it is damaged or not an image: export it again as PNG or JPEG") from None
            if kind not in IMAGE_TYPES:
                raise PublishError(f"image {name!r} is {kind or 'an unknown format'}", chapter, line,
                                   hint="use PNG or JPEG")
            converted = _eight_bits(img) if img.mode not in DRAWN_MODES else None
            media_type = "image/png" if converted else IMAGE_TYPES[kind]
            images.append(Image(src, path.resolve(), media_type, *size, converted))
    return images


def _eight_bits(img) -> bytes:
    """An 8-bit PNG of an image in a mode WeasyPrint does not draw: 16-bit grey (Pillow's I;16 or I)
    scaled to 8-bit grey, anything else (LAB, YCbCr …) as RGB."""
    import io

    if img.mode.startswith("I"):
        eight = img.convert("I").point(lambda value: value / 256).convert("L")
    else:
        eight = img.convert("RGB")
    out = io.BytesIO()
    eight.save(out, format="PNG")
    return out.getvalue()


LINK_TARGET = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)


def _check_links(path: Path, tokens: list[Token]) -> None:
    """Links are for the reader to follow, never for the pipeline to fetch: only web, mail and
    in-chapter targets; a file: or relative link would point at nothing in the EPUB."""
    for token in tokens:
        for child in token.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if href is not None and not LINK_TARGET.match(href):
                raise PublishError(f"link target {href!r} is not allowed", path,
                                   token.map[0] + 1 if token.map else None,
                                   hint="link to https://…, mailto:… or #an-anchor")


def _check_bounds(path: Path, tokens: list[Token], env: dict) -> None:
    """A chapter's footnotes and nesting, within limits: markdown-it stops nesting blocks at its
    maxNesting without a word (the text would be lost), and deep inline markup costs every later stage."""
    footnotes = len(env.get("footnotes", {}).get("list", {}))
    if footnotes > MAX_FOOTNOTES:
        raise PublishError(f"{footnotes:,} footnotes, over the limit of {MAX_FOOTNOTES:,} per chapter", path, 1,
                           hint="split the chapter")
    for token in tokens:
        deepest = max([token.level, *(c.level for c in token.children or [])])
        if token.level >= markdown.parser().options["maxNesting"] - 1 or deepest > MAX_NESTING:
            raise PublishError(f"markup nested deeper than {MAX_NESTING} levels", path,
                               token.map[0] + 1 if token.map else None,
                               hint="fewer quotes, lists or emphases inside one another")


def _chapter(root: Path, path: Path, number: int) -> Chapter:
    text = _read_text(root, path, "chapter", bookfiles.CHAPTER_BYTES)
    if not text.strip():
        raise PublishError("chapter is empty", path, 1, hint="write the chapter, or remove it from 'chapters'")
    tokens, env = markdown.parse(text)
    _check_bounds(path, tokens, env)
    for token in tokens:
        raw = [token] if token.type == "html_block" else [c for c in token.children or [] if c.type == "html_inline"]
        if raw:
            raise PublishError(f"raw HTML is not allowed: {raw[0].content.strip()[:40]!r}", path,
                               token.map[0] + 1 if token.map else None,
                               hint="write Markdown; layouts are the place for HTML")
    headings = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h1"]
    if not headings:
        raise PublishError("chapter has no level-1 heading (its title)", path, 1,
                           hint="start the chapter with '# Title'")
    title = markdown.inline_text(headings[0])
    _check_links(path, tokens)
    return Chapter(path, number, title, tokens, env, _images(root, path, tokens))


def load(root: Path | str) -> Manuscript:
    root = Path(root)
    path = root / "book.yaml"
    if not root.is_dir():
        raise PublishError("book folder not found", root, hint="pass --book DIR, the folder holding book.yaml")
    data, lines = _load_yaml(root, path)
    _check_keys(data, REQUIRED_KEYS + OPTIONAL_KEYS, path, lines)
    if data.get("chapters") == []:
        raise PublishError("the book has no chapters", path, lines.get("chapters"),
                           hint="list the Markdown files in reading order: chapters: [chapters/01.md]")
    for key in REQUIRED_KEYS:
        if key not in data or data[key] in (None, "", []):
            raise PublishError(f"missing required key {key!r}", path,
                               hint=f"book.yaml needs: {', '.join(REQUIRED_KEYS)}")
    slug = _string(data, "slug", path, lines)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", slug):
        raise PublishError(f"slug {slug[:60]!r} must be at most 100 lower-case ASCII letters, digits and hyphens", path,
                           lines.get("slug"), hint="the slug names the output files")
    identifier = _string(data, "identifier", path, lines)
    if not re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", identifier):
        raise PublishError(f"identifier {identifier!r} is not a urn:uuid", path, lines.get("identifier"),
                           hint="make one with: python3 -c 'import uuid; print(uuid.uuid4())'")
    language = _string(data, "language", path, lines)
    if language != "zh-Hans":
        raise PublishError(f"language {language!r}: manuscripts are written in zh-Hans", path,
                           lines.get("language"), hint="language: zh-Hans")
    meta = Metadata(
        title=_string(data, "title", path, lines),
        creators=_creators(data, path, lines),
        language=language,
        identifier=identifier,
        **{k: _string(data, k, path, lines) for k in ("date", "subtitle", "publisher", "rights", "description")},
        subjects=_subjects(data, path, lines),
    )
    names = data["chapters"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PublishError("'chapters' must be a list of Markdown files", path, lines.get("chapters"),
                           hint="chapters: [chapters/01.md, chapters/02.md]")
    chapters = [
        _chapter(root, _book_file(root, name, path, lines.get("chapters"), "chapter"), number)
        for number, name in enumerate(names, 1)
    ]
    layouts = root / "layouts"
    if layouts.is_dir() and not _inside(root, layouts):
        raise PublishError("the layouts folder is outside the book folder", layouts,
                           hint="keep every file of the book inside its folder (a symlink out is refused)")
    editions = _editions(root, data, path, lines)
    return Manuscript(root.resolve(), slug, meta, _trim(data, path, lines), editions,
                      chapters, layouts if layouts.is_dir() else None, data.get("lint") or {},
                      _print(root, data, path, lines), _isbn(data, path, lines),
                      imprint_settings(data.get("imprint"), list(editions), path, lines.get("imprint")),
                      _notes(data, path, lines))

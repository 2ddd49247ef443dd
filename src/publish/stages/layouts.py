"""Stage 3: the edition through the Jinja layouts, into the HTML the PDF and EPUB writers take.

Templates and CSS live in layouts/ (data, not code); a book's own layouts/ folder overrides any
template by name. Templates run sandboxed with StrictUndefined and autoescaping.
"""
from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
import yaml
from jinja2.loaders import split_template_path
from markupsafe import Markup

from .. import cache as results   # `cache` is functools.cache here
from . import markdown, notes, typeset
from .. import bookfiles, sandbox
from .edition import Edition
from ..errors import PublishError
from .imprint import Imprint, imprint
from .manuscript import Chapter, Image, Manuscript
from ..sandbox import BoundedSandbox

PROJECT = Path(__file__).resolve().parents[3]
LAYOUTS = PROJECT / "layouts"
FONTS = PROJECT / "fonts"


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    path: Path


@dataclass(frozen=True)
class RenderedChapter:
    id: str
    title: str
    file: str          # its XHTML file name in the EPUB
    html: str          # the chapter body


@dataclass(frozen=True)
class PrintDocument:
    html: str          # one HTML document: front matter and every chapter
    base_url: str
    converted: dict[Path, bytes] = field(default_factory=dict)   # images served as converted (Image.converted)


@dataclass(frozen=True)
class Piece:
    """A part of the print book laid out alone (stages/pieces.py): the front matter (`front`), or a run of
    chapters (`chapters`: their indices). `pages`: chapter id -> its first page, for the front matter's
    contents. `more`: pieces follow it."""
    front: bool
    chapters: tuple[int, ...] = ()
    pages: dict[str, int] = field(default_factory=dict)
    more: bool = True


@dataclass(frozen=True)
class EpubDocuments:
    chapters: list[tuple[RenderedChapter, str]]   # chapter, its XHTML document
    nav: str
    cover_page: str
    front_matter: dict[str, str]                  # file name in the EPUB -> XHTML: title page, copyright page
    css: str
    cover_html: str                               # drawn into the cover image
    images: dict[str, Image]                      # file name in the EPUB -> source image


COVER_PAGE = "cover.xhtml"
TITLE_PAGE = "title-page.xhtml"
COPYRIGHT_PAGE = "copyright-page.xhtml"
# The print book's title and copyright pages in the EPUB, in reading order:
# file name -> (its template in layouts/common/, the label that titles it)
FRONT_MATTER = {TITLE_PAGE: ("title-page", "title_page"), COPYRIGHT_PAGE: ("copyright-page", "copyright")}
COVER_IMAGE = "images/cover.png"
COVER_IMAGE_MM = {"width": 160, "height": 240}   # 2:3, as stores ask (cover.py draws it 1600 × 2400)
STYLESHEET = "styles/book.css"


@cache
def default_labels() -> dict[str, str]:
    return yaml.safe_load((LAYOUTS / "labels.yaml").read_text(encoding="utf-8"))


COVER_COLOURS = "cover/colours.yaml"
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def cover_colours(book_layouts: Path | None) -> dict[str, str]:
    """The cover's colours, name -> sRGB #rrggbb, for both covers (cover_print converts them for print):
    the book's layouts/cover/colours.yaml if it has one, else the project's."""
    own = book_layouts / COVER_COLOURS if book_layouts else None
    path, folder = (own, book_layouts) if own and os.path.lexists(own) else (LAYOUTS / COVER_COLOURS, LAYOUTS)
    data, node = bookfiles.load_yaml(path, "colours.yaml", bookfiles.LAYOUT_BYTES, [folder])
    if not isinstance(data, dict) or not data:
        raise PublishError("colours.yaml must map colour names to #rrggbb", path, 1, hint='e.g. ground: "#8e1b1b"')
    for key_node, value_node in node.value:
        if not isinstance(data[key_node.value], str) or not HEX_COLOUR.fullmatch(data[key_node.value]):
            raise PublishError(f"colour {key_node.value!r} must be sRGB as #rrggbb", path,
                               value_node.start_mark.line + 1, hint='quote it: ground: "#8e1b1b"')
    return data


def font_faces(script: str) -> list[FontFace]:
    table = yaml.safe_load((LAYOUTS / "fonts.yaml").read_text(encoding="utf-8"))
    return [FontFace(f["family"], int(f["weight"]), FONTS / f["file"]) for f in table[script]]


class _FolderLoader(jinja2.BaseLoader):
    """A template (or an `{% include %}`) from the book's own layouts, else the project's: read only if
    it is, after symlinks, a regular file inside its folder and within the size limit."""

    def __init__(self, folders: list[Path]):
        self.folders = folders

    def get_source(self, environment, template):
        for folder in self.folders:
            path = folder.joinpath(*split_template_path(template))
            if not os.path.lexists(path):
                continue
            data = bookfiles.read_bytes(path, "template", bookfiles.LAYOUT_BYTES, [folder])
            mtime = path.stat().st_mtime_ns
            return bookfiles.decode(data, path), str(path), lambda: _mtime(path) == mtime
        raise jinja2.TemplateNotFound(template)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@cache   # one per layouts folder: Jinja keeps its compiled templates (and reloads a template edited since)
def environment(book_layouts: Path | None) -> BoundedSandbox:
    return BoundedSandbox(
        loader=_FolderLoader(([book_layouts] if book_layouts else []) + [LAYOUTS]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        keep_trailing_newline=True,
    )


def _render(env: BoundedSandbox, name: str, **context) -> str:
    try:
        return sandbox.render(env.get_template(name), context)
    except jinja2.TemplateSyntaxError as exc:
        raise PublishError(f"template syntax error: {exc.message}", exc.filename or name, exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise PublishError(f"template {exc.name!r} not found", name) from None
    except (jinja2.TemplateError, sandbox.TemplateTimeout, RecursionError, TypeError, ValueError,
            ArithmeticError, LookupError) as exc:   # whatever a template's expression can raise
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = frames[-1] if frames else None
        raise PublishError(f"template error: {exc}", where.filename if where else name,
                           where.lineno if where else None,
                           hint="templates see: meta, labels, chapters, lang, fonts, trim, creators_line, writing_mode, "
                                "imprint, typeset, spine_line") from None


def creators_line(edition: Edition) -> str:
    """中共石家庄市委、石家庄市人民政府　著 — names grouped by role, the role word after them."""
    groups: dict[str, list[str]] = {}
    for creator in edition.meta.creators:
        groups.setdefault(creator.role, []).append(creator.name)
    return "　".join(
        "、".join(names) + (f"　{edition.labels[f'role_{role}']}" if f"role_{role}" in edition.labels else "")
        for role, names in groups.items()
    )


def _chapter_html(chapter: Chapter, image_src: dict[str, str], script: str, vertical: bool = False,
                  note_style: str = "chapter", first_note: int = 0, pdf: bool = False) -> str:
    """The chapter typeset; `note_style` and `first_note` as markdown.render takes them, `pdf` as typeset does."""
    tokens = chapter.tokens
    if chapter.images:
        tokens = []
        for token in chapter.tokens:
            if token.children and any(c.type == "image" for c in token.children):
                children = [
                    c.copy(attrs={**c.attrs, "src": image_src[c.attrGet("src")]}) if c.type == "image" else c
                    for c in token.children
                ]
                token = token.copy(children=children)
            tokens.append(token)
    typeset_html = typeset.typeset(markdown.render(tokens, chapter.env, chapter.id, note_style, first_note),
                                   script, vertical, pdf)
    return notes.at_page_foot(typeset_html) if note_style == "page" else typeset_html


def _notes_before(edition: Edition, manuscript: Manuscript) -> list[int]:
    """Per chapter, the book's notes before it when the book numbers its notes through, else 0."""
    counts = [len(ch.env.get("footnotes", {}).get("list", {})) for ch in edition.chapters]
    if manuscript.notes.numbering != "book":
        return [0] * len(counts)
    return [sum(counts[:n]) for n in range(len(counts))]


def _chapter_fragment(edition: Edition, layouts: str, index: int, image_src: dict[str, str],
                      vertical: bool = False, note_style: str = "chapter", first_note: int = 0,
                      pdf: bool = False) -> str:
    """_chapter_html, kept in the edition's cache by the chapter's source, conversion and `layouts`
    (the layouts' fingerprint)."""
    chapter = edition.chapters[index]
    if edition.cache is None:
        return _chapter_html(chapter, image_src, edition.spec.script, vertical, note_style, first_note, pdf)
    name = results.key(edition.keys[index], layouts, repr(sorted(image_src.items())), edition.spec.script,
                       str(vertical), note_style, str(first_note), str(pdf))
    return results.text(edition.cache / "chapters", name, lambda: _chapter_html(
        chapter, image_src, edition.spec.script, vertical, note_style, first_note, pdf))


def _context(edition: Edition, manuscript: Manuscript, fonts: list[dict], record: Imprint | None = None,
             vertical: bool = False) -> dict:
    """`record`: the copyright page's 版本记录; default: its lines that need no printed sheets (the EPUB's).
    `vertical`: the documents are set in vertical text (the vertical edition's EPUB, not its cover)."""
    return {
        # The layouts' own lines (titles, contents, running heads, front matter, cover) typeset as the body.
        "typeset": lambda text, title=True: Markup(typeset.title(str(text), edition.spec.script, vertical, title)),
        "spine_line": lambda text: Markup(typeset.spine_line(str(text))),
        "meta": edition.meta,
        "lang": edition.lang,
        "labels": edition.labels,
        "creators_line": creators_line(edition),
        "edition_label": edition.labels.get(f"edition_{edition.name}", edition.name),
        "fonts": fonts,
        "trim": {"width": manuscript.trim_mm[0], "height": manuscript.trim_mm[1]},
        "writing_mode": edition.spec.writing_mode,
        "imprint": record or imprint(manuscript.imprint, edition.name, edition.spec.script, edition.meta.date,
                                        manuscript.isbn),
    }


def render_print(edition: Edition, manuscript: Manuscript, press: dict | None = None,
                 record: Imprint | None = None, marks: dict[str, str] | None = None,
                 split: dict[str, dict] | None = None, front_matter_only: bool = False,
                 piece: Piece | None = None) -> PrintDocument:
    """`press` (from press.css_context) makes the print shop's CMYK PDF; None the screen PDF. `record`:
    the figures of the copyright page, measured on a layout of this document (interior.py), which lays out
    the front matter alone (`front_matter_only`: no chapters, an empty contents) to set them. `marks`: note
    id -> its mark, for notes numbered afresh on each page (measured by interior.py; by default ①);
    `split`: the long notes to set line by line (notes.split_long). `piece`: only that part of the book."""
    fonts = [{"family": f.family, "weight": f.weight, "url": f.path.as_uri()} for f in font_faces(edition.spec.script)]
    layouts = results.fingerprint(LAYOUTS, book_layouts=manuscript.layouts) if edition.cache else ""
    note_style = "page" if manuscript.notes.place == "page" else "chapter"
    chapters = [
        # The front matter alone needs the chapters' titles only (the contents).
        RenderedChapter(ch.id, ch.title, "", "" if piece and piece.front else _chapter_fragment(
            edition, layouts, n, {i.src: i.path.as_uri() for i in ch.images}, note_style=note_style, first_note=first,
            pdf=True))
        for (n, ch), first in zip(enumerate(edition.chapters), _notes_before(edition, manuscript))
        if not front_matter_only and (piece is None or piece.front or n in piece.chapters)
    ]
    env = environment(manuscript.layouts)
    html = _render(env, "print/book.html.j2", chapters=chapters, press=press, piece=piece,
                   **_context(edition, manuscript, fonts, record))
    if manuscript.notes.place == "page" and manuscript.notes.numbering == "page":
        html = notes.with_marks(html, marks or {})
    if split:
        html = notes.split_long(html, split)
    converted = {i.path: i.converted for ch in edition.chapters for i in ch.images if i.converted}
    return PrintDocument(html, manuscript.root.resolve().as_uri() + "/", converted)


def render_print_cover(edition: Edition, manuscript: Manuscript, sheet: dict) -> PrintDocument:
    """The print shop's cover sheet (print/cover.html.j2); `sheet`: sizes, barcode, fonts from cover_print."""
    html = _render(environment(manuscript.layouts), "print/cover.html.j2",
                   **{**_context(edition, manuscript, sheet["fonts"]), **sheet})
    return PrintDocument(html, manuscript.root.resolve().as_uri() + "/")


def epub_font_name(face: FontFace) -> str:
    return f"fonts/{face.path.stem}.otf"


def render_epub(edition: Edition, manuscript: Manuscript) -> EpubDocuments:
    faces = font_faces(edition.spec.script)
    env = environment(manuscript.layouts)
    css_fonts = [{"family": f.family, "weight": f.weight, "url": "../" + epub_font_name(f)} for f in faces]
    context = _context(edition, manuscript, css_fonts, vertical=edition.spec.writing_mode == "vertical-rl")
    images: dict[str, Image] = {}
    layouts = results.fingerprint(LAYOUTS, book_layouts=manuscript.layouts) if edition.cache else ""
    chapters = []
    for (n, ch), first in zip(enumerate(edition.chapters), _notes_before(edition, manuscript)):
        names = {}
        for image in ch.images:
            name = f"images/image{len(images) + 1:03d}{'.png' if image.converted else image.path.suffix.lower()}"
            images[name] = image
            names[image.src] = "../" + name
        chapters.append(RenderedChapter(ch.id, ch.title, f"text/{ch.id}.xhtml", _chapter_fragment(
            edition, layouts, n, names, edition.spec.writing_mode == "vertical-rl", "epub", first)))
    page = {"stylesheet": "../" + STYLESHEET, **context}
    documents = [(ch, _render(env, "epub/chapter.xhtml.j2", chapter=ch, **page)) for ch in chapters]
    nav_chapters = [RenderedChapter(c.id, c.title, c.file, "") for c in chapters]
    return EpubDocuments(
        chapters=documents,
        nav=_render(env, "epub/nav.xhtml.j2", chapters=nav_chapters, cover_page=COVER_PAGE,
                    title_page=TITLE_PAGE, copyright_page=COPYRIGHT_PAGE,
                    **{**page, "stylesheet": STYLESHEET}),
        cover_page=_render(env, "epub/cover.xhtml.j2", cover_image=COVER_IMAGE,
                           **{**page, "stylesheet": STYLESHEET}),
        front_matter={file: _render(env, "epub/front-matter.xhtml.j2", page=name, page_title=edition.labels[label],
                                    **{**page, "stylesheet": STYLESHEET})
                      for file, (name, label) in FRONT_MATTER.items()},
        css=_render(env, "epub/book.css.j2", **context),
        # The cover image is set horizontally in every edition: its own context, not the vertical one.
        cover_html=_render(env, "cover/cover.html.j2", panel=COVER_IMAGE_MM, colours=cover_colours(manuscript.layouts),
                           **{**_context(edition, manuscript, css_fonts),
                              "fonts": [{"family": f.family, "weight": f.weight, "url": f.path.as_uri()} for f in faces]}),
        images=images,
    )

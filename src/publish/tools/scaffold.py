"""`publish new`: a book folder that builds at once, made from the templates in layouts/new-book/."""
from __future__ import annotations

import json
import re
import uuid
from datetime import date
from pathlib import Path

import jinja2

from ..errors import PublishError
from ..stages.layouts import LAYOUTS

TEMPLATES = LAYOUTS / "new-book"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def slug_for(title: str, identifier: uuid.UUID) -> str:
    """An ASCII title gives its own slug; a Chinese one a stable ASCII name (no pinyin guessing)."""
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if title.isascii() and SLUG.fullmatch(ascii_slug or "-"):
        return ascii_slug
    return f"book-{identifier.hex[:8]}"


def _environment() -> jinja2.Environment:
    # Our own templates writing YAML and Markdown, not HTML: no autoescaping; `yaml` quotes a value
    # safely (a JSON string is a YAML double-quoted scalar), so a title like "A: B" stays one string.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["yaml"] = lambda value: json.dumps(value, ensure_ascii=False)
    # Markdown text: every ASCII punctuation mark backslash-escaped (CommonMark allows it for each), so a
    # title like "<b>书</b>" or "*书*" is printed as typed, not read as HTML or emphasis.
    env.filters["markdown"] = lambda value: re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", value)
    return env


def new_book(folder: Path, title: str, author: str, slug: str | None = None) -> list[Path]:
    """Write the book's files into `folder` (which must not hold anything yet); return them."""
    title, author = title.strip(), author.strip()
    if not title or not author:
        raise PublishError("the book needs a title and an author", hint="publish new DIR --title 书名 --author 作者")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "a book" if (folder / "book.yaml").exists() else "files"
        raise PublishError(f"the folder already holds {what}; nothing was written", folder,
                           hint="choose a new folder: publish new writes only into an empty or missing one")
    identifier = uuid.uuid4()
    slug = slug or slug_for(title, identifier)
    if not SLUG.fullmatch(slug):
        raise PublishError(f"slug {slug!r} must be lower-case ASCII letters, digits and hyphens",
                           hint="e.g. --slug my-book")
    context = {"title": title, "author": author, "slug": slug, "identifier": identifier.urn,
               "year": date.today().year, "folder": str(folder)}
    env = _environment()
    written = []
    for template in sorted(TEMPLATES.rglob("*.j2")):
        name = template.relative_to(TEMPLATES).as_posix()
        path = folder / name.removesuffix(".j2")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(name).render(**context), encoding="utf-8")
        written.append(path)
    (folder / "images").mkdir()
    return written

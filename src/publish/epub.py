"""Stage 4b: the EPUB 3 of an edition (ebooklib), as a reproducible zip: mimetype first and stored,
every entry dated from SOURCE_DATE_EPOCH."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone

from ebooklib import epub

from .edition import Edition
from .layouts import COVER_IMAGE, COVER_PAGE, STYLESHEET, EpubDocuments


def _item(uid: str, file_name: str, media_type: str, content: bytes | str, properties=()) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=file_name, media_type=media_type,
                         content=content.encode("utf-8") if isinstance(content, str) else content)
    item.properties = list(properties)
    return item


def _reproducible_zip(data: bytes, when: datetime) -> bytes:
    """ebooklib stamps each entry with the current time; rewrite the zip with fixed dates and order."""
    date_time = max(when, datetime(1980, 1, 1, tzinfo=timezone.utc)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        names.sort(key=lambda n: (n != "mimetype", n != "META-INF/container.xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(name), compresslevel=9)
    return out.getvalue()


def build(edition: Edition, docs: EpubDocuments, cover_png: bytes, fonts: dict[str, bytes],
          when: datetime) -> bytes:
    """The EPUB's bytes; `fonts` maps file names in the EPUB to WOFF2 data."""
    meta = edition.meta
    book = epub.EpubBook()
    book.set_identifier(meta.identifier)
    book.set_title(meta.title)
    book.set_language(edition.lang)
    for i, creator in enumerate(meta.creators):
        book.add_author(creator.name, role=creator.role, uid=f"creator{i + 1}")
    for key in ("publisher", "rights", "description", "date"):
        if getattr(meta, key):
            book.add_metadata("DC", key, getattr(meta, key))
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})

    book.add_item(_item("style", STYLESHEET, "text/css", docs.css))
    for name, data in fonts.items():
        book.add_item(_item(name.split("/")[-1].split(".")[0], name, "font/woff2", data))
    book.add_item(_item("cover-image", COVER_IMAGE, "image/png", cover_png, ["cover-image"]))
    for n, (name, image) in enumerate(docs.images.items(), 1):
        book.add_item(_item(f"image{n:03d}", name, image.media_type, image.path.read_bytes()))

    cover = _item("cover", COVER_PAGE, "application/xhtml+xml", docs.cover_page)
    nav = _item("nav", "nav.xhtml", "application/xhtml+xml", docs.nav, ["nav"])
    chapters = [_item(ch.id, ch.file, "application/xhtml+xml", xhtml) for ch, xhtml in docs.chapters]
    for item in (cover, nav, *chapters):
        book.add_item(item)
    book.add_item(epub.EpubNcx())
    book.toc = [epub.Link(ch.file, ch.title, ch.id) for ch, _ in docs.chapters]
    book.spine = [cover, nav, *chapters]

    raw = io.BytesIO()
    epub.write_epub(raw, book, {"mtime": when.astimezone(timezone.utc), "epub3_pages": False})
    return _reproducible_zip(raw.getvalue(), when)

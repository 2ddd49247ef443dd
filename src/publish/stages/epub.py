"""Stage 4b: the EPUB 3 of an edition (ebooklib), as a reproducible zip: mimetype first and stored,
every entry dated from SOURCE_DATE_EPOCH."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone

from ebooklib import epub
from lxml import etree
from PIL import Image as PILImage, ImageCms

from .edition import Edition
from .layouts import COVER_IMAGE, COVER_PAGE, STYLESHEET, EpubDocuments
from .press import DEFAULT_ICC


def _item(uid: str, file_name: str, media_type: str, content: bytes | str, properties=()) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=file_name, media_type=media_type,
                         content=content.encode("utf-8") if isinstance(content, str) else content)
    item.properties = list(properties)
    return item


OPF = "EPUB/content.opf"
# Apple Books (and epub.js) show an EPUB's own fonts only when this file says so.
APPLE_DISPLAY_OPTIONS = "META-INF/com.apple.ibooks.display-options.xml"
APPLE_DISPLAY_OPTIONS_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<display_options>
  <platform name="*">
    <option name="specified-fonts">true</option>
  </platform>
</display_options>
"""
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _screen_image(image) -> bytes:
    """The image as a reading system gets it. A CMYK JPEG (made for print) is converted to sRGB through
    its own embedded profile, else FOGRA39: browsers and e-readers draw CMYK JPEGs with wrong colours,
    inverted, or not at all. The print PDF keeps the CMYK original."""
    data = image.converted or image.path.read_bytes()
    if image.media_type != "image/jpeg":
        return data
    with PILImage.open(io.BytesIO(data)) as picture:
        if picture.mode != "CMYK":
            return data
        embedded = picture.info.get("icc_profile")
        source = ImageCms.ImageCmsProfile(io.BytesIO(embedded)) if embedded else ImageCms.getOpenProfile(str(DEFAULT_ICC))
        rgb = ImageCms.profileToProfile(picture, source, ImageCms.createProfile("sRGB"),
                                        renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB")
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=92)
    return out.getvalue()


def _package_language(opf: bytes, lang: str) -> bytes:
    """ebooklib sets no xml:lang on <package>; EPUB Accessibility asks for it."""
    root = etree.fromstring(opf)
    root.set(XML_LANG, lang)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def accessibility_metadata(book: epub.EpubBook, summary: str) -> None:
    """EPUB Accessibility 1.1, true to what the layouts make: text with a table of contents, headings,
    a reading order and alternative text for every image (the cover's included), nothing flashing."""
    def meta(prop: str, value: str) -> None:
        book.add_metadata(None, "meta", value, {"property": prop})

    meta("schema:accessMode", "textual")
    meta("schema:accessMode", "visual")   # the cover image, at least
    meta("schema:accessModeSufficient", "textual")
    for feature in ("tableOfContents", "readingOrder", "structuralNavigation", "alternativeText",
                    "displayTransformability"):
        meta("schema:accessibilityFeature", feature)
    meta("schema:accessibilityHazard", "none")
    meta("schema:accessibilitySummary", summary)
    meta("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA")


def _reproducible_zip(data: bytes, when: datetime, lang: str) -> bytes:
    """ebooklib stamps each entry with the current time; rewrite the zip with fixed dates and order, and add
    Apple's display options (ebooklib writes no file of its own into META-INF)."""
    date_time = max(when, datetime(1980, 1, 1, tzinfo=timezone.utc)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist() + [APPLE_DISPLAY_OPTIONS]
        names.sort(key=lambda n: (n != "mimetype", n != "META-INF/container.xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            content = APPLE_DISPLAY_OPTIONS_XML if name == APPLE_DISPLAY_OPTIONS else src.read(name)
            if name == OPF:
                content = _package_language(content, lang)
            dst.writestr(info, content, compresslevel=9)
    return out.getvalue()


def build(edition: Edition, docs: EpubDocuments, cover_png: bytes, fonts: dict[str, bytes],
          when: datetime) -> bytes:
    """The EPUB's bytes; `fonts` maps file names in the EPUB to OpenType data."""
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
    for subject in filter(None, meta.subjects.split("; ")):
        book.add_metadata("DC", "subject", subject)
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    accessibility_metadata(book, edition.labels["accessibility_summary"])
    if edition.spec.writing_mode == "vertical-rl":
        # Vertical Chinese pages turn right to left; the text itself stays left-to-right.
        book.set_direction("rtl")
        book.add_metadata(None, "meta", "", {"name": "primary-writing-mode", "content": "vertical-rl"})

    book.add_item(_item("style", STYLESHEET, "text/css", docs.css))
    for name, data in fonts.items():
        book.add_item(_item(name.split("/")[-1].split(".")[0], name, "font/otf", data))
    book.add_item(_item("cover-image", COVER_IMAGE, "image/png", cover_png, ["cover-image"]))
    for n, (name, image) in enumerate(docs.images.items(), 1):
        book.add_item(_item(f"image{n:03d}", name, image.media_type, _screen_image(image)))

    cover = _item("cover", COVER_PAGE, "application/xhtml+xml", docs.cover_page)
    front = [_item(name.removesuffix(".xhtml"), name, "application/xhtml+xml", xhtml)
             for name, xhtml in docs.front_matter.items()]
    nav = _item("nav", "nav.xhtml", "application/xhtml+xml", docs.nav, ["nav"])
    chapters = [_item(ch.id, ch.file, "application/xhtml+xml", xhtml) for ch, xhtml in docs.chapters]
    for item in (cover, *front, nav, *chapters):
        book.add_item(item)
    book.add_item(epub.EpubNcx())
    book.toc = [epub.Link(ch.file, ch.title, ch.id) for ch, _ in docs.chapters]
    book.spine = [cover, *front, nav, *chapters]   # the print book's order: title, copyright, contents

    raw = io.BytesIO()
    # Not compressed here: _reproducible_zip writes every entry again, and compresses it then.
    epub.write_epub(raw, book, {"mtime": when.astimezone(timezone.utc), "epub3_pages": False,
                                "package_direction": False, "spine_direction": True, "compresslevel": 0})
    return _reproducible_zip(raw.getvalue(), when, edition.lang)

"""Stage 4a: the print HTML through WeasyPrint into a PDF, fetching nothing outside the book's folders."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from tinycss2.color5 import Color
from weasyprint.css import ColorProfile
from weasyprint.pdf.stream import Stream
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from . import pdf_tidy

from .. import bookfiles

from ..extensions import weasyprint_cjk, weasyprint_notes, weasyprint_scale, weasyprint_ua
from ..errors import PublishError
from .layouts import FONTS, LAYOUTS, PrintDocument


class BookURLFetcher(URLFetcher):
    """Reads file: URLs inside the allowed folders, and nothing else: no network, no other file.
    `converted`: bytes served for a file instead of its own (an image WeasyPrint cannot draw as it is)."""

    def __init__(self, allowed: list[Path], converted: dict[Path, bytes] | None = None):
        super().__init__(allowed_protocols=["file"])
        self.allowed = [p.resolve() for p in allowed]
        self.converted = converted or {}

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" and not parts.netloc else None
        if path is None or not any(path.is_relative_to(root) for root in self.allowed):
            raise FatalURLFetchingError(f"refused to fetch {url!r}: only files inside the book, "
                                        "layouts/ and fonts/ may be read")
        try:   # a FIFO named by a book's stylesheet would hang the build, a huge file fill the memory
            bookfiles.checked(path, "file", bookfiles.IMAGE_BYTES, self.allowed)
        except PublishError as exc:
            raise FatalURLFetchingError(f"refused to fetch {url!r}: {exc.message}") from None
        if path in self.converted:
            return URLFetcherResponse(url, self.converted[path], {"Content-Type": "image/png"})
        return super().fetch(url, headers)


class _WeasyPrintWarnings(logging.Handler):
    """WeasyPrint logs what it could not do; a book must not silently lose a font or an image.
    CSS it does not know ("Ignored …") is expected: the stylesheets are shared with the EPUB."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if not message.startswith("Ignored "):
            self.messages.append(message)


class _ProfileAsFiled(ColorProfile):
    """WeasyPrint embeds an ICC profile as LittleCMS writes it again: FOGRA39 grows from 247 KB to
    501 KB, and compressing it costs 0.3 s per PDF. The output intent is the profile file itself."""

    @property
    def content(self):
        return Path(unquote(urlsplit(self.src).path)).read_bytes()


def lay_out(document: PrintDocument, book_root: Path, font_config=None):
    """WeasyPrint's layout of `document`, reading only the book's and the project's files. Called by render,
    and by an `inspect` that lays out another document whose pages join these (`font_config`: the first
    document's, so that both share their fonts)."""
    html = weasyprint.HTML(string=document.html, base_url=document.base_url,
                           url_fetcher=BookURLFetcher([book_root, LAYOUTS, FONTS], document.converted))
    rendered = html.render(font_config=font_config)
    _outermost_links(rendered)
    return rendered


def render(document: PrintDocument, book_root: Path, metadata_date: str | None = None,
           variant: str | None = None, inspect=None, compress: bool = True, screen: bool = False):
    """`variant`: WeasyPrint's pdf_variant (pdf/x-4, pdf/ua-1 …); `inspect(rendered)` may refuse the
    laid-out pages (press.py checks image resolution) before anything is written. `compress=False`
    when press.finish saves the file again: qpdf compresses at zlib's default level, WeasyPrint at
    level 9, which takes 0.2 s on the ICC profile alone for 0.6 % fewer bytes. `screen`: also write the
    screen PDF (PDF/UA-1, artifacts and links as weasyprint_ua makes them, tidied by pdf_tidy) from the
    same layout, and return both: laying a book out is most of its time."""
    logger = logging.getLogger("weasyprint")
    warnings = _WeasyPrintWarnings()
    logger.addHandler(warnings)

    def lay_out_and_write():
        rendered = lay_out(document, book_root)
        if inspect:
            inspect(rendered)
        for profile in rendered.color_profiles.values():   # read through BookURLFetcher already
            profile.__class__ = _ProfileAsFiled
        if metadata_date:
            rendered.metadata.created = rendered.metadata.modified = metadata_date
        pdf = rendered.write_pdf(pdf_identifier=True, pdf_variant=variant, uncompressed_pdf=not compress)
        if not screen:
            return pdf, None
        with _for_screen(rendered), weasyprint_ua.active(rendered):
            screen_pdf = rendered.write_pdf(pdf_identifier=True, pdf_variant="pdf/ua-1",
                                            uncompressed_pdf=True)   # pdf_tidy compresses it
        return pdf, pdf_tidy.tidy(screen_pdf)

    try:
        with weasyprint_cjk.active(), weasyprint_scale.active(), weasyprint_notes.active():
            pdf, screen_pdf = weasyprint_scale.with_stack_room(lay_out_and_write)
    except FatalURLFetchingError as exc:
        raise PublishError(str(exc), book_root) from None
    finally:
        logger.removeHandler(warnings)
    if warnings.messages:
        raise PublishError(f"WeasyPrint: {warnings.messages[0]}", book_root,
                           hint="fix the layout or the resource it names")
    return (pdf, screen_pdf) if screen else pdf


def _outermost_links(rendered):
    """One link per link element: WeasyPrint makes every box inside a link a link of its own too
    (anchors.gather_anchors), so a contents entry's typeset title (its spans) would add smaller links to
    the same place, each announced again by a screen reader."""
    for page in rendered.pages:
        inner = {id(d) for *_, box in page.links for d in box.descendants() if d is not box}
        page.links = [link for link in page.links if id(link[-1]) not in inner]


def _srgb(color):
    """A device-cmyk colour as sRGB (the naive conversion: 100 % K is black), others as they are."""
    if color.space != "device-cmyk":
        return color
    c, m, y, k = color.coordinates
    return Color("srgb", tuple((1 - v) * (1 - k) for v in (c, m, y)), color.alpha)


_set_color = Stream.set_color   # WeasyPrint's own, put back after a screen PDF is written


@contextlib.contextmanager
def _for_screen(rendered):
    """The print layout, written for screens: pages without their bleed, colours in sRGB, no CMYK
    profile. WeasyPrint draws the pages anew for each write, from the laid-out boxes and their styles."""
    bleeds = [page.bleed for page in rendered.pages]
    profiles = rendered.color_profiles
    for page in rendered.pages:
        page.bleed = dict.fromkeys(page.bleed, 0)
    rendered.color_profiles = {}
    Stream.set_color = lambda stream, color, stroke=False: _set_color(stream, _srgb(color), stroke)
    try:
        yield
    finally:
        Stream.set_color = _set_color
        rendered.color_profiles = profiles
        for page, bleed in zip(rendered.pages, bleeds):
            page.bleed = bleed

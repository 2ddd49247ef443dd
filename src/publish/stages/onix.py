"""Stage 6: an edition's ONIX 3.0 record for e-book stores and distributors, `<slug>.<edition>.onix.xml`:
one Product for the EPUB (ProductForm ED, EPUB) and one for the print book (BC, softback: adhesive-bound
when perfect-bound), from book.yaml and the edition, with page count and sizes measured on the built files."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

from . import binding
from .edition import Edition
from ..errors import PublishError
from .imprint import price_amount
from .manuscript import Manuscript

NAMESPACE = "http://ns.editeur.org/onix/3.0/reference"
# MARC relator (book.yaml) -> ONIX code list 17
CONTRIBUTOR_ROLES = {"aut": "A01", "edt": "B01", "trl": "B06", "ill": "A12"}
MM = 72 / 25.4


@dataclass(frozen=True)
class Measured:
    """The print book as its built files show it."""

    pages: int                     # the interior's pages, padding included
    width_mm: float                # its trim
    height_mm: float
    spine_mm: float                # the cover's trim width less twice the page's: 0 when saddle-stitched


def measure(interior: Path, cover: Path) -> Measured:
    import pikepdf

    def trim(path: Path) -> tuple[int, float, float]:
        with pikepdf.open(path) as pdf:
            x0, y0, x1, y1 = (float(v) for v in pdf.pages[0].TrimBox)
            return len(pdf.pages), (x1 - x0) / MM, (y1 - y0) / MM

    pages, width, height = trim(interior)
    return Measured(pages, round(width, 1), round(height, 1), round(trim(cover)[1] - 2 * width, 1))


def _element(parent, name: str, text: str | None = None, **attributes) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def _composite(parent, name: str, *children: tuple[str, str]) -> etree._Element:
    element = _element(parent, name)
    for child, text in children:
        _element(element, child, text)
    return element


def publisher(edition: Edition) -> str:
    """ONIX requires a publisher: book.yaml's, else the creators, who then publish the book themselves."""
    return edition.meta.publisher or "、".join(c.name for c in edition.meta.creators)


def _date(date: str) -> tuple[str, str]:
    """book.yaml's date -> (ONIX code list 55 format, value): 2021 -> 05, 2021-06 -> 01, 2021-06-01 -> 00."""
    digits = date.replace("-", "")
    return {4: "05", 6: "01", 8: "00"}[len(digits)], digits


def _product(root, book: Manuscript, edition: Edition, form: str, identifier: tuple[str, str],
             measured: Measured) -> None:
    meta = edition.meta
    product = _element(root, "Product")
    _element(product, "RecordReference", f"{meta.identifier}#{form}")
    _element(product, "NotificationType", "03")   # notification confirmed on publication
    kind, value = identifier
    if kind == "isbn":
        _composite(product, "ProductIdentifier", ("ProductIDType", "15"), ("IDValue", value))
    else:   # no ISBN: the edition's own identifier, a proprietary one
        _composite(product, "ProductIdentifier", ("ProductIDType", "01"), ("IDTypeName", "UUID"), ("IDValue", value))

    detail = _element(product, "DescriptiveDetail")
    _element(detail, "ProductComposition", "00")
    bound = binding.bound(book.print.binding, measured.pages)
    if form == "epub":
        _element(detail, "ProductForm", "ED")
        _element(detail, "ProductFormDetail", "E101")   # EPUB
    else:
        _element(detail, "ProductForm", "BC")           # paperback / softback
        if bound == "perfect":
            _element(detail, "ProductFormDetail", "B305")   # unsewn / adhesive bound
        # code list 175 has no saddle-stitched (wire) binding; B310 is saddle-sewn, with thread
        for code, size in (("01", measured.height_mm), ("02", measured.width_mm), ("03", measured.spine_mm)):
            if size > 0:
                _composite(detail, "Measure", ("MeasureType", code), ("Measurement", f"{size:g}"),
                           ("MeasureUnitCode", "mm"))
    title = _composite(_composite(detail, "TitleDetail", ("TitleType", "01")), "TitleElement",
                       ("TitleElementLevel", "01"), ("TitleText", meta.title))
    if meta.subtitle:
        _element(title, "Subtitle", meta.subtitle)
    for number, creator in enumerate(meta.creators, 1):
        _composite(detail, "Contributor", ("SequenceNumber", str(number)),
                   ("ContributorRole", CONTRIBUTOR_ROLES.get(creator.role, "Z99")),
                   ("CorporateName" if creator.organisation else "PersonName", creator.name))
    language = _composite(detail, "Language", ("LanguageRole", "01"), ("LanguageCode", "chi"))
    region = edition.lang.split("-")[2:]
    if region:
        _element(language, "CountryCode", region[0])
    _element(language, "ScriptCode", edition.spec.script)
    # the e-book: the pages of its print counterpart; the print book: every page of the interior
    _composite(detail, "Extent", ("ExtentType", "08" if form == "epub" else "07"),
               ("ExtentValue", str(measured.pages)), ("ExtentUnit", "03"))
    if meta.subjects:   # code list 27: 20 keywords, "; " between them
        _composite(detail, "Subject", ("SubjectSchemeIdentifier", "20"), ("SubjectHeadingText", meta.subjects))

    if meta.description:
        collateral = _element(product, "CollateralDetail")
        _composite(collateral, "TextContent", ("TextType", "03"), ("ContentAudience", "00"),
                   ("Text", meta.description))
    publishing = _element(product, "PublishingDetail")
    _composite(publishing, "Publisher", ("PublishingRole", "01"), ("PublisherName", publisher(edition)))
    if meta.date:
        dated = _composite(publishing, "PublishingDate", ("PublishingDateRole", "01"))
        dateformat, value = _date(meta.date)
        _element(dated, "Date", value, dateformat=dateformat)
    if book.imprint.price.get(edition.name):
        amount, currency = price_amount(book.imprint.price[edition.name])
        supply = _element(_element(product, "ProductSupply"), "SupplyDetail")
        _composite(supply, "Supplier", ("SupplierRole", "01"), ("SupplierName", publisher(edition)))
        _element(supply, "ProductAvailability", "20")   # available
        _composite(supply, "Price", ("PriceType", "02"), ("PriceAmount", amount), ("CurrencyCode", currency))


def record(book: Manuscript, edition: Edition, measured: Measured, sent: datetime) -> bytes:
    """The ONIX message: a Header, the e-book and the print book."""
    root = etree.Element(f"{{{NAMESPACE}}}ONIXMessage", {"release": "3.0"}, nsmap={None: NAMESPACE})
    header = _element(root, "Header")
    _composite(header, "Sender", ("SenderName", publisher(edition)))
    _element(header, "SentDateTime", sent.strftime("%Y%m%dT%H%M%SZ"))
    ebook = ("uuid", edition.meta.identifier)
    printed = ("isbn", book.isbn) if book.isbn else (
        "uuid", f"urn:uuid:{uuid.uuid5(uuid.UUID(edition.meta.identifier.removeprefix('urn:uuid:')), 'print')}")
    _product(root, book, edition, "epub", ebook, measured)
    _product(root, book, edition, "print", printed, measured)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def write(book_dir: Path, out: Path, sent: datetime) -> list[Path]:
    """Each edition's record beside its built files in `out`, measured on them."""
    from ..build import labels
    from .edition import make
    from .manuscript import load
    from ..output import write_atomic

    book = load(book_dir)
    written = []
    for name in book.editions:
        interior, cover = out / f"{book.slug}.{name}.pdf", out / f"{book.slug}.{name}.cover.pdf"
        for built in (interior, cover, out / f"{book.slug}.{name}.epub"):
            if not built.is_file():
                raise PublishError("file not found: the record is measured on the built files", built,
                                   hint="run make (publish build) first")
        path = out / f"{book.slug}.{name}.onix.xml"
        write_atomic(path, record(book, make(book, name, labels(book)), measure(interior, cover), sent))
        written.append(path)
    return written


def validate(path: Path) -> list[str]:
    """onixcheck's complaints about the file against the ONIX 3.0 reference schema; none: valid."""
    import onixcheck

    return [f"{m.location}: {m.message}" for m in onixcheck.validate(str(path))]

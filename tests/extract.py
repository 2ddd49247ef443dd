"""Reading built files back, the way a reader's software does: text from PDF pages and EPUB documents."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
from lxml import etree

XHTML = "{http://www.w3.org/1999/xhtml}"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def outline(pdf_path: Path) -> list[tuple[str, int]]:
    """Top-level bookmarks as (title, 0-based page index)."""
    with pikepdf.open(pdf_path) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        with pdf.open_outline() as tree:
            return [(item.title, pages[item.destination[0].objgen]) for item in tree.root]


def pdf_body_text(pdf_path: Path, first_page: int, last_page: int | None = None, margin_pt: float = 50) -> str:
    """Text of the pages first_page..last_page (0-based, default: to the end), inside the text block:
    running heads and folios are cut off with the margins, measured from the trim (a print PDF's page
    box also holds the bleed and the crop marks, the same on every side)."""
    with pdfplumber.open(pdf_path) as pdf:
        parts = []
        for page in pdf.pages[first_page:None if last_page is None else last_page + 1]:
            x0, top, x1, bottom = page.bbox
            trim_x0, trim_top, trim_x1, trim_bottom = page.trimbox
            dx, dy = (page.width - (trim_x1 - trim_x0)) / 2, (page.height - (trim_bottom - trim_top)) / 2
            block = page.crop((x0 + dx, top + dy + margin_pt, x1 - dx, bottom - dy - margin_pt))
            parts.append(block.extract_text() or "")
    return "".join(parts)


def epub_documents(epub_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub_path) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith(".xhtml")}


def xhtml_body_text(data: bytes) -> str:
    """The text of the document's body; parsing also proves the document is well-formed XML."""
    return "".join(etree.fromstring(data).find(f"{XHTML}body").itertext())

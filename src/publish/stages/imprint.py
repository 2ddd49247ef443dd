"""The 版本记录 of a copyright page (GB/T 12450-2001, 书名页), computed from plain data: which standard
sheet, divided how many times, gives the trim (开本); how many printed sheets the pages take (印张); the
character count Chinese publishers state (字数); the edition, printing, ISBN and price from book.yaml."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import PublishError

# The full sheets Chinese printers cut books from, short side × long side in mm (the four GB/T 12450
# and the trade name in a 版本记录; 787 × 1092 is the classic 正度, 889 × 1194 the 大度).
SHEETS = ((787, 1092), (850, 1168), (880, 1230), (889, 1194))
PIECES = (4, 8, 16, 32, 64, 128)   # pieces a sheet is cut into: each fold halves its longer side
# A piece is larger than the page cut from it: head, foot and fore-edge are trimmed (3 mm each) and the
# spine side ground or folded. 880 × 1230 / 32 = 153.75 × 220 mm gives 148 × 210 (5.75 and 10 mm off),
# 787 × 1092 / 16 = 196.75 × 273 gives 185 × 260 (11.75 and 13 mm off). Less than 5 mm leaves nothing
# to trim; more than 15 mm wastes paper a printer would not buy.
TRIMMED_OFF_MM = (5.0, 15.0)
IMPRINT_KEYS = ("edition", "printing", "price")
# How a price may be written in book.yaml -> its ISO 4217 currency (the ONIX record carries both)
CURRENCIES = {"元": "CNY", "CNY": "CNY", "RMB": "CNY", "¥": "CNY", "NT$": "TWD", "TWD": "TWD", "HK$": "HKD", "HKD": "HKD"}
PRICE = re.compile(r"(?P<before>NT\$|HK\$|CNY|RMB|TWD|HKD|¥)?\s*(?P<amount>\d+(?:\.\d{1,2})?)\s*(?P<after>元)?")


@dataclass(frozen=True)
class BookFormat:
    sheet: tuple[int, int]         # mm, short side first
    pieces: int                    # 开数: 32 for 1/32

    def __str__(self) -> str:
        return f"{self.sheet[0]} mm × {self.sheet[1]} mm　1/{self.pieces}"


@dataclass(frozen=True)
class ImprintSpec:
    """book.yaml `imprint:`."""

    edition: int = 1               # 版次
    printing: int = 1              # 印次
    price: dict[str, str] = field(default_factory=dict)   # edition name -> price as printed (定价)


@dataclass(frozen=True)
class Layout:
    """What the laid-out interior shows of itself."""

    pages: int                     # as printed: padded to the signature
    chars_per_line: int            # of a full line of body text
    lines_per_page: int            # of a full page


@dataclass(frozen=True)
class Imprint:
    """What the copyright page prints. The physical figures are None where there are no printed sheets
    (the EPUB) or no standard sheet gives the trim."""

    standard: str                  # "GB/T 12450" (zh-Hans) or "Taiwan" (zh-Hant): which lines are printed
    book_format: str               # 开本, or 非标准
    printed_sheets: str | None     # 印张, e.g. 0.5
    thousand_characters: int | None   # 字数 in thousands
    edition: int
    printing: int
    date: str                      # 2021年6月 (from book.yaml date)
    isbn: str                      # 13 digits, or ""
    price: str


def pieces_of(sheet: tuple[float, float], pieces: int) -> tuple[float, float]:
    """The size of one piece, short side first, when the sheet is folded into `pieces`."""
    short, long = sheet
    for _ in range(int(math.log2(pieces))):
        short, long = sorted((short, long / 2))
    return short, long


def book_format(trim_mm: tuple[float, float]) -> BookFormat | None:
    """The sheet and division whose piece trims to this page with the least paper cut off; None if none
    does (非标准)."""
    page = sorted(trim_mm)
    fits = []
    for sheet in SHEETS:
        for pieces in PIECES:
            off = [raw - cut for raw, cut in zip(pieces_of(sheet, pieces), page)]
            if all(TRIMMED_OFF_MM[0] <= x <= TRIMMED_OFF_MM[1] for x in off):
                fits.append((sum(off), BookFormat(sheet, pieces)))
    return min(fits, key=lambda fit: fit[0])[1] if fits else None


def printed_sheets(pages: int, pieces: int) -> Fraction:
    """印张: one 印张 is one side of a full sheet, `pieces` pages; stated up to the next quarter sheet."""
    return Fraction(math.ceil(Fraction(pages, pieces) * 4), 4)


def thousand_characters(layout: Layout) -> int:
    """字数 as Chinese publishers count it: the full page's characters on every page, blank ones too."""
    return math.ceil(layout.chars_per_line * layout.lines_per_page * layout.pages / 1000)


def chinese_date(date: str) -> str:
    """2021 -> 2021年, 2021-06 and 2021-06-01 -> 2021年6月."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-\d{1,2})?", date)
    if not match:
        return date
    year, month = match.groups()
    return f"{year}年{int(month)}月" if month else f"{year}年"


def imprint(spec: ImprintSpec, edition: str, script: str, date: str, isbn: str,
            trim_mm: tuple[float, float] | None = None, layout: Layout | None = None) -> Imprint:
    """The copyright page's figures; `trim_mm` and `layout` only for print."""
    found = book_format(trim_mm) if trim_mm else None
    sheets = printed_sheets(layout.pages, found.pieces) if found and layout else None
    return Imprint(
        standard="GB/T 12450" if script == "Hans" else "Taiwan",
        book_format=(str(found) if found else "非标准") if trim_mm else None,
        printed_sheets=f"{float(sheets):g}" if sheets is not None else None,
        thousand_characters=thousand_characters(layout) if layout else None,
        edition=spec.edition, printing=spec.printing, date=chinese_date(date),
        isbn=isbn, price=spec.price.get(edition, ""),
    )


def price_amount(text: str) -> tuple[str, str] | None:
    """28.00元, CNY 28, NT$ 280, HK$ 98 -> (amount, currency); None if it names no single currency."""
    match = PRICE.fullmatch(text.strip())
    if not match or bool(match["before"]) == bool(match["after"]):
        return None
    return match["amount"], CURRENCIES[match["before"] or match["after"]]


def settings(raw, editions: list[str], path: Path, line: int | None) -> ImprintSpec:
    """book.yaml `imprint: {edition: 1, printing: 1, price: 28.00元}`; price may be one text, or one per
    edition ({zh-Hans: 28.00元, zh-Hant: NT$ 280})."""
    raw = raw or {}
    example = "e.g. imprint: {edition: 2, printing: 3, price: {zh-Hans: 28.00元, zh-Hant: NT$ 280}}"
    if not isinstance(raw, dict):
        raise PublishError("'imprint' must be a mapping", path, line, hint=example)
    for key in raw:
        if key not in IMPRINT_KEYS:
            raise PublishError(f"unknown key in imprint: {key!r}", path, line,
                               hint=f"valid keys: {', '.join(IMPRINT_KEYS)}")
    counts = {}
    for key in ("edition", "printing"):
        value = raw.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
            raise PublishError(f"imprint.{key} must be a whole number from 1 to 999, not {value!r}", path, line,
                               hint=example)
        counts[key] = value
    price = raw.get("price", {})
    if isinstance(price, (str, int, float)) and not isinstance(price, bool):
        price = dict.fromkeys(editions, str(price))
    if not isinstance(price, dict) or not all(isinstance(v, (str, int, float)) for v in price.values()):
        raise PublishError("imprint.price must be a text, or one text per edition", path, line, hint=example)
    for name, value in price.items():
        if name not in editions:
            raise PublishError(f"imprint.price names {name!r}, which is not an edition of this book", path, line,
                               hint=f"its editions: {', '.join(editions)}")
        if price_amount(str(value)) is None:   # the ONIX record needs the amount and the currency
            raise PublishError(f"imprint.price {value!r} has no amount and currency", path, line,
                               hint="write it as 28.00元, CNY 28.00, NT$ 280 or HK$ 98")
    return ImprintSpec(counts["edition"], counts["printing"], {k: str(v).strip() for k, v in price.items()})

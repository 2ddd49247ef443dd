"""How the book is bound, from book.yaml `print.binding` and the page count: saddle-stitched (sheets folded
into one another and stapled through the fold: no spine panel) or perfect-bound (leaves glued into the
cover's spine, as wide as the leaves are thick). Preflight checks a cover's spine against its interior."""
from __future__ import annotations

from pathlib import Path

BINDINGS = ("auto", "saddle", "perfect")
# 64 pages are 16 sheets folded into one another: at 80 g/m² (0.1 mm a leaf) 3.2 mm at the fold, about
# what a saddle stitcher's staples close through, and the inner pages already stand 1.6 mm out at the
# fore-edge (creep). Beyond, the book is perfect-bound.
SADDLE_MAX_PAGES = 64
PERFECT_MIN_SPINE_MM = 3.0   # less, and hot-melt glue has no back to hold the leaves by
SPINE_TEXT_MIN_MM = 5.0      # the title goes on the spine only from here: narrower, type is illegible
MM = 72 / 25.4


def bound(setting: str, pages: int) -> str:
    """saddle or perfect: `auto` saddle-stitches up to SADDLE_MAX_PAGES pages."""
    if setting != "auto":
        return setting
    return "saddle" if pages <= SADDLE_MAX_PAGES else "perfect"


def spine_mm(binding: str, pages: int, caliper_mm: float) -> float:
    """A saddle-stitched book has no spine panel; a perfect-bound one leaves × caliper (a leaf is two pages)."""
    return 0.0 if binding == "saddle" else pages / 2 * caliper_mm


def problem(binding: str, pages: int, spine: float) -> str | None:
    """Why a bindery would refuse this binding for this page count, or None."""
    if binding == "saddle" and pages > SADDLE_MAX_PAGES:
        return f"more than {SADDLE_MAX_PAGES} pages cannot be saddle-stitched: set print.binding: perfect (or auto)"
    if binding == "perfect" and spine < PERFECT_MIN_SPINE_MM:
        return (f"a spine under {PERFECT_MIN_SPINE_MM:g} mm cannot be perfect-bound: "
                "set print.binding: saddle (or auto)")
    return None


def _trim_width_mm(path: Path) -> tuple[int, float]:
    """Its page count, and its first page's trim width in mm."""
    import pikepdf   # only preflight reads PDFs; book.yaml's reader needs no PDF library

    with pikepdf.open(path) as pdf:
        box = [float(v) for v in pdf.pages[0].TrimBox]
        return len(pdf.pages), (box[2] - box[0]) / MM


def check_cover(cover: Path, together) -> tuple[bool, str] | None:
    """The cover's spine (its trim width less twice the interior's) against the interior's page count;
    None when its interior (<slug>.<edition>.pdf beside it) is not among the files checked `together`."""
    interior = cover.with_name(cover.name.removesuffix(".cover.pdf") + ".pdf")
    if interior == cover or interior.resolve() not in {Path(p).resolve() for p in together}:
        return None
    pages, page_width = _trim_width_mm(interior)
    spine = _trim_width_mm(cover)[1] - 2 * page_width
    binding = "saddle" if spine < 0.05 else "perfect"
    found = problem(binding, pages, spine)
    return found is None, f"{binding}: {pages} pages, spine {spine:.1f} mm" + (f"; {found}" if found else "")

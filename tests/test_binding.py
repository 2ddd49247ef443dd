"""The binding follows the book: saddle-stitched up to 64 pages (no spine panel), perfect-bound beyond (a
spine from the page count and the caliper, the title on it from 5 mm); preflight checks a cover's spine
against its interior's page count."""
from __future__ import annotations

import shutil

import pdfplumber
import pikepdf
import pytest

from conftest import SAMPLE, build_book
from publish.stages import binding, manuscript
from publish.errors import PublishError
from publish.checks.preflight import preflight

MM = 72 / 25.4


def test_auto_saddle_stitches_up_to_64_pages():
    assert [binding.bound("auto", n) for n in (12, 64, 68, 300)] == ["saddle", "saddle", "perfect", "perfect"]
    assert binding.bound("perfect", 12) == "perfect" and binding.bound("saddle", 300) == "saddle"
    assert binding.spine_mm("saddle", 64, 0.1) == 0
    assert binding.spine_mm("perfect", 200, 0.1) == pytest.approx(10)   # 100 leaves × 0.1 mm


def _book(tmp_path, settings: str):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + f"print: {settings}\n", encoding="utf-8")
    return book


def _binding_check(built, name="zh-Hans"):
    interior, cover = built[name, "pdf"], built[name, "cover"]
    return {r.check: r for r in preflight(cover, together=[interior, cover])}["binding"]


def _cover_width_mm(path) -> float:
    with pikepdf.open(path) as pdf:
        box = [float(v) for v in pdf.pages[0].TrimBox]
    return (box[2] - box[0]) / MM


def test_this_books_12_pages_are_saddle_stitched_without_a_spine_panel(manuscript_build):
    for name in ("zh-Hans", "zh-Hant"):
        assert _cover_width_mm(manuscript_build[name, "cover"]) == pytest.approx(2 * 148, abs=0.01)
        check = _binding_check(manuscript_build, name)
        assert check.passed and check.detail == "saddle: 12 pages, spine 0.0 mm"


def test_a_perfect_binding_of_12_pages_fails_preflight(tmp_path):
    built = build_book(_book(tmp_path, "{binding: perfect}"), tmp_path / "out", formats=["pdf"],
                       edition_names=["zh-Hans"])
    assert _cover_width_mm(built["zh-Hans", "cover"]) == pytest.approx(2 * 140 + 0.6, abs=0.01)   # 6 leaves × 0.1
    check = _binding_check(built)
    assert not check.passed
    assert check.detail == ("perfect: 12 pages, spine 0.6 mm; a spine under 3 mm cannot be perfect-bound: "
                            "set print.binding: saddle (or auto)")


def test_a_spine_of_5_mm_or_more_carries_the_title(tmp_path):
    # 12 pages of 1 mm leaves: 6 mm
    built = build_book(_book(tmp_path, "{binding: perfect, caliper_mm: 1}"), tmp_path / "out", formats=["pdf"],
                       edition_names=["zh-Hans"])
    assert _binding_check(built).passed
    with pdfplumber.open(built["zh-Hans", "cover"]) as pdf:
        page = pdf.pages[0]
        left = page.trimbox[0] + 140 * MM   # the spine's left edge: the back cover's width from the trim
        on_spine = "".join(c["text"] for c in page.chars if left <= c["x0"] and c["x1"] <= left + 6 * MM)
    assert on_spine.startswith("样书")


def _ink_centre(page, char) -> tuple[float, float]:
    """Where in a character's box the type's ink lies, as fractions of its width and height from the top
    left: pixels far from the box's most common colour (the cover's ground)."""
    box = (char["x0"], char["top"], char["x1"], char["bottom"])
    cell = page.crop(box).to_image(resolution=600).original.convert("RGB")
    ground = max(cell.getcolors(cell.width * cell.height))[1]
    ink = [(x, y) for y in range(cell.height) for x in range(cell.width)
           if sum(abs(a - b) for a, b in zip(cell.getpixel((x, y)), ground)) > 150]
    return (sum(x for x, _ in ink) / len(ink) / cell.width, sum(y for _, y in ink) / len(ink) / cell.height)


def test_the_spine_is_typeset_top_to_bottom(tmp_path):
    """The spine's lines (typeset.spine_line) read top to bottom in one column of upright cells: a
    mark in the font's vertical form (、 top right, （ turned), two digits side by side in one cell,
    a Han–Latin gap before a Latin run, a half-em gap at the title's phrase boundary."""
    book = _book(tmp_path, "{binding: perfect, caliper_mm: 1}")
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("title: 样书", "title: 样书 第12版（EPUB、PDF）"), encoding="utf-8")
    built = build_book(book, tmp_path / "out", formats=["pdf"], edition_names=["zh-Hans"])
    with pdfplumber.open(built["zh-Hans", "cover"]) as pdf:
        page = pdf.pages[0]
        left = page.trimbox[0] + 140 * MM
        chars = [c for c in page.chars if left <= c["x0"] and c["x1"] <= left + 6 * MM]
        inks = {c["text"]: _ink_centre(page, c) for c in chars if c["text"] in "、（"}
    em = chars[0]["size"]
    axis = left + 3 * MM
    assert "".join(c["text"] for c in sorted(chars, key=lambda c: (c["top"], c["x0"]))).startswith("样书第12版（EPUB、PDF）")
    tops = [c["top"] for c in chars]
    assert tops == sorted(tops)                                          # top to bottom, in reading order
    one, two = next((a, b) for a, b in zip(chars, chars[1:]) if a["text"] + b["text"] == "12")
    assert one["top"] == two["top"] and abs((one["x0"] + two["x1"]) / 2 - axis) < 0.1 * em    # side by side
    for c in chars:
        if c["text"] not in "12":
            assert abs((c["x0"] + c["x1"]) / 2 - axis) < 0.1 * em, c["text"]               # one column
    pitch: dict[str, float] = {}
    for c in chars:
        pitch.setdefault(c["text"], c["top"])                           # each character's first place
    step = chars[1]["top"] - chars[0]["top"]                             # 样 → 书: one cell
    assert pitch["第"] - pitch["书"] == pytest.approx(step + 0.5 * em, abs=0.05 * em)   # the phrase gap
    assert pitch["1"] - pitch["第"] == pytest.approx(step, abs=0.05 * em)    # tate-chū-yoko: as a Han character
    assert pitch["E"] - pitch["（"] == pytest.approx(step + 0.1875 * em, abs=0.05 * em)  # mark–Latin gap
    for text, (h, v) in {"、": ("right", "top"), "（": ("centre", "bottom")}.items():
        x, y = inks[text]
        assert (x > 0.6 if h == "right" else 0.35 < x < 0.65) and (y < 0.4 if v == "top" else y > 0.5), (text, x, y)


def test_more_than_64_pages_saddle_stitched_fail_preflight(manuscript_build, tmp_path):
    """This book's saddle cover, beside its interior padded to 68 pages."""
    interior = tmp_path / "chuancheng-hongse-jiyin.zh-Hans.pdf"
    cover = tmp_path / "chuancheng-hongse-jiyin.zh-Hans.cover.pdf"
    shutil.copy(manuscript_build["zh-Hans", "cover"], cover)
    with pikepdf.open(manuscript_build["zh-Hans", "pdf"]) as pdf:
        while len(pdf.pages) < 68:
            pdf.pages.append(pdf.pages[-1])
        pdf.save(interior)
    check = {r.check: r for r in preflight(cover, together=[interior, cover])}["binding"]
    assert not check.passed
    assert check.detail == ("saddle: 68 pages, spine 0.0 mm; more than 64 pages cannot be saddle-stitched: "
                            "set print.binding: perfect (or auto)")
    assert "binding" not in {r.check for r in preflight(cover)}, "without its interior there is nothing to compare"


def test_an_unknown_binding_names_book_yaml(tmp_path):
    with pytest.raises(PublishError) as error:
        manuscript.load(_book(tmp_path, "{binding: spiral}"))
    assert error.value.message == "unknown print.binding 'spiral'"
    assert error.value.line == (tmp_path / "book" / "book.yaml").read_text(encoding="utf-8").count("\n")

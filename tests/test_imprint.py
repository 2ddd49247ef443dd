"""The copyright page's 版本记录 (GB/T 12450), computed by imprint.py from plain data and compared with
values worked by hand; then read back from the built PDFs and EPUBs."""
from __future__ import annotations

from fractions import Fraction

import pytest

from publish.stages import imprint, manuscript
from publish.errors import PublishError
from publish.stages.imprint import BookFormat, Layout


def test_open_book_format_of_three_trims_worked_by_hand():
    # 148 × 210 (this book): 880 × 1230 halved on its long side five times: 615 × 880, 440 × 615,
    # 307.5 × 440, 220 × 307.5, 153.75 × 220 = 1/32; 5.75 and 10 mm are trimmed off. (889 × 1194 / 32
    # = 149.25 × 222.25 would leave 1.25 mm: too little to trim.)
    assert imprint.pieces_of((880, 1230), 32) == (153.75, 220)
    assert imprint.book_format((148, 210)) == BookFormat((880, 1230), 32)
    # 140 × 203 (the test book): 850 × 1168 / 32 = 146 × 212.5, 6 and 9.5 mm off. 787 × 1092 / 32 =
    # 136.5 wide is too narrow; 880 × 1230 / 32 and 889 × 1194 / 32 would cut 17 and 19.25 mm off the height.
    assert imprint.book_format((140, 203)) == BookFormat((850, 1168), 32)
    # 185 × 260, the classic 16开: 787 × 1092 / 16 = 196.75 × 273, 11.75 and 13 mm off.
    assert imprint.book_format((185, 260)) == BookFormat((787, 1092), 16)
    assert str(BookFormat((880, 1230), 32)) == "880 mm × 1230 mm　1/32"
    # 120 × 120: no sheet's piece is square → 非标准
    assert imprint.book_format((120, 120)) is None


def test_printed_sheets_worked_by_hand():
    # one 印张 is one side of a full sheet: as many pages as pieces; stated up to the next quarter
    assert imprint.printed_sheets(12, 32) == Fraction(1, 2)        # 12 / 32 = 0.375 → 0.5
    assert imprint.printed_sheets(320, 32) == 10                   # 320 / 32 = 10
    assert imprint.printed_sheets(250, 16) == Fraction(63, 4)      # 250 / 16 = 15.625 → 15.75


def test_thousand_characters_worked_by_hand():
    # this book: text block 148 − 18 − 16 = 114 mm = 323.1 pt, ÷ 10.5 pt = 30.8 → 30 characters a line;
    # 210 − 20 − 20 = 170 mm = 481.9 pt, ÷ (10.5 × 1.8 = 18.9 pt) = 25.5 → 25 lines; 30 × 25 × 12 = 9000
    assert imprint.thousand_characters(Layout(12, 30, 25)) == 9
    # the test book: 140 − 34 = 106 mm = 300.5 pt → 28; 203 − 40 = 163 mm = 462.0 pt → 24 lines;
    # 28 × 24 × 12 = 8064 → 9 (thousands, rounded up)
    assert imprint.thousand_characters(Layout(12, 28, 24)) == 9
    # a 16开 of 250 pages, 38 × 35 a page: 332 500 → 333
    assert imprint.thousand_characters(Layout(250, 38, 35)) == 333


def test_the_record_of_each_standard():
    spec = imprint.ImprintSpec(2, 3, {"zh-Hans": "28.00元"})
    hans = imprint.imprint(spec, "zh-Hans", "Hans", "2021-06-01", "9787020002207", (148, 210), Layout(12, 30, 25))
    assert (hans.standard, hans.book_format, hans.printed_sheets, hans.thousand_characters) == (
        "GB/T 12450", "880 mm × 1230 mm　1/32", "0.5", 9)
    assert (hans.edition, hans.printing, hans.date, hans.price) == (2, 3, "2021年6月", "28.00元")
    odd = imprint.imprint(spec, "zh-Hant", "Hant", "2021", "", (120, 120), Layout(12, 30, 25))
    assert (odd.standard, odd.book_format, odd.printed_sheets, odd.date, odd.price) == ("Taiwan", "非标准", None,
                                                                                     "2021年", "")
    epub = imprint.imprint(spec, "zh-Hans", "Hans", "2021", "")
    assert (epub.book_format, epub.printed_sheets, epub.thousand_characters) == (None, None, None)


@pytest.mark.parametrize("line, message", [
    ("imprint: {edition: 0}", "imprint.edition must be a whole number from 1 to 999, not 0"),
    ("imprint: {printing: 二}", "imprint.printing must be a whole number from 1 to 999, not '二'"),
    ("imprint: {price: {zh-TW: NT$ 280}}", "imprint.price names 'zh-TW', which is not an edition of this book"),
    ("imprint: {prise: 28元}", "unknown key in imprint: 'prise'"),
    ("imprint: {price: 二十八元}", "imprint.price '二十八元' has no amount and currency"),
])
def test_a_wrong_imprint_names_book_yaml_and_its_line(tmp_path, line, message):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "chapters" / "01-article.md").write_text("# 标题\n\n正文。\n", encoding="utf-8")
    text = ("slug: b\ntitle: 书\ncreators: [张三]\nlanguage: zh-Hans\n"
            "identifier: urn:uuid:ea6aa9ac-b067-4737-9376-02b027e1b909\nchapters: [chapters/01-article.md]\n"
            "editions: {zh-Hans: {}, zh-Hant: {}}\n")
    (book / "book.yaml").write_text(text + line + "\n", encoding="utf-8")
    with pytest.raises(PublishError) as error:
        manuscript.load(book)
    assert (error.value.message, error.value.line) == (message, text.count("\n") + 1)

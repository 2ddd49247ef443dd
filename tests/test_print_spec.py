"""The print order for the shop, worked by hand for this book and the test book and compared line by line
with what print_spec.py reads off the built files."""
from __future__ import annotations

import hashlib
import shutil

from conftest import MANUSCRIPT, SAMPLE, build_book
from publish.stages import print_spec


def _lines(book, built, name) -> dict[str, str]:
    paths = print_spec.write(book, built[name, "pdf"].parent)
    path = next(p for p in paths if f".{name}.print-spec.txt" in p.name)
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 60, "one page"
    return {line.split(":")[0].strip(): line.split(":", 1)[1].strip() for line in text.splitlines()[2:] if ": " in line}


def test_this_books_print_order_worked_by_hand(manuscript_build):
    for name in ("zh-Hans", "zh-Hant"):
        lines = _lines(MANUSCRIPT, manuscript_build, name)
        # 148 × 210 from 880 × 1230 cut in 32 (153.75 × 220 pieces); 12 pages / 32 = 0.375 → 0.5 印张;
        # 12 pages are saddle-stitched (64 or fewer), so no spine
        assert lines["成品尺寸 Trim size"] == "148 mm × 210 mm"
        assert lines["开本 Format"] == "880 mm × 1230 mm　1/32"
        assert lines["页数 Pages"].startswith("12（")
        assert lines["印张 Printed sheets"] == "0.5"
        assert lines["装订 Binding"] == "骑马钉 saddle-stitched"
        assert lines["书脊 Spine"] == "无 none (saddle-stitched)"
        assert lines["文件格式 File format"] == "PDF/X-4"
        assert lines["输出意图 Output intent"].startswith("FOGRA39: FOGRA39 (ISO 12647-2:2004 coated")
        assert "内文 1/1 单黑" in lines["印色 Colours"] and "封面 4/0" in lines["印色 Colours"]
    text = (manuscript_build["zh-Hans", "pdf"].parent / "chuancheng-hongse-jiyin.zh-Hans.print-spec.txt").read_text()
    for kind in ("pdf", "cover"):
        path = manuscript_build["zh-Hans", kind]
        assert f"{path.name}  {hashlib.md5(path.read_bytes()).hexdigest()}" in text


def test_the_test_books_print_order_perfect_bound_worked_by_hand(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "isbn: 978-7-02-000220-7\n"
                    "print: {binding: perfect, caliper_mm: 0.5, paper: 70 g/m² 轻型纸 bulky}\n", encoding="utf-8")
    built = build_book(book, tmp_path / "out", formats=["pdf"])
    lines = _lines(book, built, "zh-Hans")
    # 140 × 203 from 850 × 1168 cut in 32 (146 × 212.5); 12 pages: 0.5 印张; 6 leaves × 0.5 mm = 3 mm spine
    assert lines["开本 Format"] == "850 mm × 1168 mm　1/32"
    assert lines["印张 Printed sheets"] == "0.5"
    assert lines["装订 Binding"] == "无线胶装 perfect-bound (adhesive)"
    assert lines["书脊 Spine"] == "3 mm"
    assert lines["书号 ISBN"] == "9787020002207"
    assert lines["内文用纸 Text paper"] == "70 g/m² 轻型纸 bulky，单张厚度 caliper 0.5 mm per leaf"

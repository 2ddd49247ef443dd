"""The ONIX 3.0 record of each edition: the e-book (ED, EPUB) and the print book (BC), from book.yaml and
the edition, sizes and pages measured on the built files; onixcheck passes it and fails a broken one."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

from lxml import etree

from conftest import MANUSCRIPT, SAMPLE, build_book
from publish.checks import check
from publish.stages import onix
from publish.stages.imprint import price_amount

NS = {"o": onix.NAMESPACE}
SENT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def _records(book, built) -> dict[str, etree._Element]:
    paths = onix.write(book, built["zh-Hans", "pdf"].parent, SENT)
    assert all(check.onixcheck(path).passed for path in paths), [check.onixcheck(p).detail for p in paths]
    return {path.name.split(".")[1]: etree.parse(str(path)).getroot() for path in paths}


def _products(record) -> dict[str, etree._Element]:
    return {p.findtext("o:DescriptiveDetail/o:ProductForm", namespaces=NS): p for p in record.iterfind("o:Product", NS)}


def _text(element, path: str) -> list[str]:
    return [e.text for e in element.iterfind(path, NS)]


def test_this_books_records(manuscript_build):
    records = _records(MANUSCRIPT, manuscript_build)
    for name, region in (("zh-Hans", []), ("zh-Hant", ["TW"])):
        products = _products(records[name])
        assert set(products) == {"ED", "BC"}
        ebook, printed = products["ED"], products["BC"]
        assert _text(ebook, "o:DescriptiveDetail/o:ProductFormDetail") == ["E101"]
        assert _text(printed, "o:DescriptiveDetail/o:ProductFormDetail") == []   # saddle-stitched: no code for it
        # measured on the built files: 148 × 210 mm, no spine (saddle-stitched), 12 pages
        measures = {m.findtext("o:MeasureType", namespaces=NS): m.findtext("o:Measurement", namespaces=NS)
                    for m in printed.iterfind("o:DescriptiveDetail/o:Measure", NS)}
        assert measures == {"01": "210", "02": "148"}
        assert _text(ebook, "o:DescriptiveDetail/o:Extent/o:ExtentValue") == ["12"]
        assert _text(ebook, "o:DescriptiveDetail/o:Extent/o:ExtentType") == ["08"]   # pages of the print counterpart
        for product in (ebook, printed):
            assert _text(product, "o:ProductIdentifier/o:ProductIDType") == ["01"]   # no ISBN: proprietary
            assert _text(product, "o:DescriptiveDetail/o:Language/o:CountryCode") == region
            assert _text(product, "o:DescriptiveDetail/o:Language/o:ScriptCode") == [name.split("-")[1]]
            assert _text(product, "o:DescriptiveDetail/o:Contributor/o:ContributorRole") == ["A01", "A01"]
            assert len(_text(product, "o:DescriptiveDetail/o:Contributor/o:CorporateName")) == 2   # organisation: true
            assert _text(product, "o:PublishingDetail/o:PublishingDate/o:Date") == ["2021"]
            assert _text(product, "o:DescriptiveDetail/o:Subject") == []   # no subjects in book.yaml
        assert _text(ebook, "o:ProductIdentifier/o:IDValue") != _text(printed, "o:ProductIdentifier/o:IDValue")
    hant = _products(records["zh-Hant"])["ED"]
    assert _text(hant, "o:DescriptiveDetail/o:TitleDetail/o:TitleElement/o:TitleText") == ["傳承紅色基因 賡續奮鬥精神"]


def test_isbn_price_and_a_perfect_binding(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "isbn: 978-7-02-000220-7\nprint: {binding: perfect, caliper_mm: 1}\n"
                    "imprint: {price: {zh-Hans: 28.00元, zh-Hant: NT$ 280}}\nsubjects: [党史, 纪念文章]\n", encoding="utf-8")
    records = _records(book, build_book(book, tmp_path / "out"))
    for name, amount, currency in (("zh-Hans", "28.00", "CNY"), ("zh-Hant", "280", "TWD")):
        printed = _products(records[name])["BC"]
        assert _text(printed, "o:ProductIdentifier/o:IDValue") == ["9787020002207"]
        assert _text(printed, "o:DescriptiveDetail/o:ProductFormDetail") == ["B305"]   # adhesive bound
        thickness = [m.findtext("o:Measurement", namespaces=NS) for m in printed.iterfind("o:DescriptiveDetail/o:Measure", NS)
                     if m.findtext("o:MeasureType", namespaces=NS) == "03"]
        assert thickness == ["6"]   # 12 pages, 6 leaves of 1 mm: the cover's spine
        assert _text(printed, "o:ProductSupply/o:SupplyDetail/o:Price/o:PriceAmount") == [amount]
        assert _text(printed, "o:ProductSupply/o:SupplyDetail/o:Price/o:CurrencyCode") == [currency]
        assert _text(printed, "o:DescriptiveDetail/o:Subject/o:SubjectHeadingText") == [
            "党史; 纪念文章" if name == "zh-Hans" else "黨史; 紀念文章"]
        assert _text(printed, "o:DescriptiveDetail/o:Contributor/o:PersonName") == (
            ["张三", "李四"] if name == "zh-Hans" else ["張三", "李四"])
        assert _text(printed, "o:PublishingDetail/o:Publisher/o:PublisherName") == [
            "测试出版社" if name == "zh-Hans" else "測試出版社"]


def test_onixcheck_fails_a_broken_record(manuscript_build, tmp_path):
    good = onix.write(MANUSCRIPT, manuscript_build["zh-Hans", "pdf"].parent, SENT)[0]
    broken = tmp_path / "broken.onix.xml"
    broken.write_bytes(good.read_bytes().replace(b"<ProductForm>ED</ProductForm>", b"<ProductForm>XX</ProductForm>"))
    result = check.onixcheck(broken)
    assert not result.passed and "ProductForm" in result.detail and "XX" in result.detail
    missing = tmp_path / "missing.onix.xml"
    missing.write_bytes(good.read_bytes().replace(b"<NotificationType>03</NotificationType>", b""))
    assert not check.onixcheck(missing).passed


def test_prices_as_book_yaml_writes_them():
    assert price_amount("28.00元") == ("28.00", "CNY")
    assert price_amount("CNY 28") == ("28", "CNY")
    assert price_amount("NT$ 280") == ("280", "TWD")
    assert price_amount("HK$ 98") == ("98", "HKD")
    assert price_amount("二十八元") is None and price_amount("28") is None and price_amount("CNY 28元") is None

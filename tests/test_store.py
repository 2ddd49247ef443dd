"""What a store or a reading system reads besides the text: Apple's display options, the language tag
with the region the OpenCC configuration writes for."""
from __future__ import annotations

import re
import shutil
import zipfile

import pikepdf
import pytest
from lxml import etree

from conftest import MANUSCRIPT, build_book
from extract import epub_documents
from publish.stages.edition import language_tag
from publish.stages.manuscript import EditionSpec

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.mark.parametrize("config, tag", [(None, "zh-Hans"), ("s2t", "zh-Hant"), ("s2tw", "zh-Hant-TW"),
                                         ("s2twp", "zh-Hant-TW"), ("s2hk", "zh-Hant-HK")])
def test_the_language_tag_names_the_region_of_the_opencc_config(config, tag):
    name, script = ("zh-Hans", "Hans") if config is None else ("zh-Hant", "Hant")
    assert language_tag(EditionSpec(name, script, config)) == tag


@pytest.mark.parametrize("name", ["zh-Hans", "zh-Hant"])
def test_apple_books_is_told_to_use_the_epubs_fonts(manuscript_build, name):
    with zipfile.ZipFile(manuscript_build[name, "epub"]) as z:
        options = etree.fromstring(z.read("META-INF/com.apple.ibooks.display-options.xml"))
    option = options.find("platform/option[@name='specified-fonts']")
    assert options.tag == "display_options" and options.find("platform").get("name") == "*"
    assert option.text == "true"


def _opf_and_documents(epub):
    with zipfile.ZipFile(epub) as z:
        return z.read("EPUB/content.opf").decode(), epub_documents(epub)


@pytest.mark.parametrize("config, tag", [("s2hk", "zh-Hant-HK"), ("s2t", "zh-Hant")])
def test_every_file_carries_the_editions_tag(tmp_path, config, tag):
    """This book with another OpenCC configuration: package, dc:language, every XHTML document, and every
    PDF's /Lang."""
    book = tmp_path / "book"
    book.mkdir()
    for name in ("book.yaml", "chapters", "corrections.zh-Hant.tsv"):
        (shutil.copytree if (MANUSCRIPT / name).is_dir() else shutil.copy)(MANUSCRIPT / name, book / name)
    yaml = book / "book.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("opencc: s2tw", f"opencc: {config}"), encoding="utf-8")
    built = build_book(book, tmp_path / "out", edition_names=["zh-Hant"])
    opf, documents = _opf_and_documents(built["zh-Hant", "epub"])
    assert re.search(rf'<package[^>]* xml:lang="{tag}"', opf)
    assert f"<dc:language>{tag}</dc:language>" in opf
    for file, data in documents.items():
        html = etree.fromstring(data)
        assert (html.get("lang"), html.get(XML_LANG)) == (tag, tag), file
    for kind in ("pdf", "screen", "cover"):
        with pikepdf.open(built["zh-Hant", kind]) as pdf:
            assert str(pdf.Root.Lang) == tag, kind

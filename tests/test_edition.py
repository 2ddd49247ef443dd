"""Stage 2: editions. zh-Hant is OpenCC s2tw, then corner quotes, then the book's corrections."""
from __future__ import annotations

import opencc
import pytest

from conftest import MANUSCRIPT
from publish.stages import manuscript
from publish.build import labels
from publish.stages.edition import make, plain_text, load_corrections
from publish.errors import PublishError


@pytest.fixture(scope="module")
def book():
    return manuscript.load(MANUSCRIPT)


@pytest.fixture(scope="module")
def hans(book):
    return make(book, "zh-Hans", labels(book))


@pytest.fixture(scope="module")
def hant(book):
    return make(book, "zh-Hant", labels(book))


def expected_hant(text: str) -> str:
    text = opencc.OpenCC("s2tw").convert(text)
    text = text.translate(str.maketrans("“”‘’", "「」『』"))
    return text.replace("新徵程", "新征程").replace("指明瞭", "指明了")


def test_simplified_edition_is_the_manuscript(book, hans):
    assert hans.chapters == book.chapters
    assert hans.meta.title == book.meta.title


def test_traditional_is_opencc_s2tw_with_corner_quotes_and_the_two_corrections(hans, hant):
    source = plain_text(hans)
    text = plain_text(hant)
    assert text == expected_hant(source)
    assert not set("“”‘’") & set(text)
    assert "徵程" not in text and "指明瞭" not in text
    assert text.count("新征程") == 3 and text.count("指明了") == 1
    # OpenCC itself makes exactly those errors: the table is what fixes them.
    raw = opencc.OpenCC("s2tw").convert(source)
    assert raw.count("新徵程") == 3 and raw.count("指明瞭") == 1


def test_conversion_changes_text_never_markup(hans, hant):
    def shape(edition):
        return [(t.type, t.tag, t.nesting, [(c.type, c.tag) for c in t.children or []])
                for ch in edition.chapters for t in ch.tokens]
    assert shape(hans) == shape(hant)


def test_metadata_and_labels_are_converted(hant):
    assert hant.meta.title == "傳承紅色基因 賡續奮鬥精神"
    assert [c.name for c in hant.meta.creators] == ["中共石家莊市委", "石家莊市人民政府"]
    assert hant.chapters[0].title == "傳承紅色基因 賡續奮鬥精神"
    assert hant.labels["contents"] == "目錄"
    assert hant.meta.language == "zh-Hant-TW"   # s2tw: Taiwan's standard forms


def test_each_edition_has_its_own_stable_identifier(book, hans, hant):
    assert hans.meta.identifier == book.meta.identifier
    assert hant.meta.identifier != book.meta.identifier
    assert hant.meta.identifier == make(book, "zh-Hant", labels(book)).meta.identifier


def test_a_malformed_correction_names_its_line(tmp_path):
    table = tmp_path / "corrections.tsv"
    table.write_text("# comment\n新徵程\t新征程\n指明瞭 指明了\n", encoding="utf-8")
    with pytest.raises(PublishError) as error:
        load_corrections(table)
    assert error.value.line == 3

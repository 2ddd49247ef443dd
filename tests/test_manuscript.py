"""Stage 1: loading a book folder."""
from __future__ import annotations

import re

from conftest import MANUSCRIPT, SEED, SAMPLE
from publish.stages import manuscript
from publish.stages.edition import plain_text, make
from publish.build import labels

# The two paragraphs the source's page breaks cut in two (end of one block, start of the next).
CUTS = [("坚决落实核酸检", "测、流调溯源"), ("“经纪人”机制，", "将科技创新的资源优势")]


def seed_blocks() -> list[str]:
    return [b.strip() for b in SEED.read_text(encoding="utf-8").split("\n\n") if b.strip()]


def test_seed_has_fourteen_body_paragraphs_two_of_them_cut():
    blocks = seed_blocks()
    assert blocks[0] == "# 传承红色基因 赓续奋斗精神"
    assert blocks[1] == "## 中共石家庄市委、石家庄市人民政府"
    body = blocks[2:]
    assert len(body) == 14
    for end, start in CUTS:
        i = next(i for i, b in enumerate(body) if b.endswith(end))
        assert body[i + 1].startswith(start)


def test_manuscript_is_the_seed_with_only_the_two_joins():
    blocks = seed_blocks()
    for end, start in CUTS:
        i = next(i for i, b in enumerate(blocks) if b.endswith(end))
        blocks[i:i + 2] = [blocks[i] + blocks[i + 1]]
    chapter = (MANUSCRIPT / "chapters" / "01-article.md").read_text(encoding="utf-8")
    assert chapter == "\n\n".join(blocks) + "\n"
    assert len(blocks) - 2 == 12


def test_loads_metadata_and_chapters():
    book = manuscript.load(MANUSCRIPT)
    assert book.meta.title == "传承红色基因 赓续奋斗精神"
    assert [c.name for c in book.meta.creators] == ["中共石家庄市委", "石家庄市人民政府"]
    assert book.meta.language == "zh-Hans"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", book.meta.identifier)
    assert book.meta.date == "2021"
    assert book.trim_mm == (148.0, 210.0)
    assert list(book.editions) == ["zh-Hans", "zh-Hant"]
    assert [c.title for c in book.chapters] == ["传承红色基因 赓续奋斗精神"]
    paragraphs = [t for t in book.chapters[0].tokens if t.type == "paragraph_open"]
    assert len(paragraphs) == 12


def test_manuscript_text_is_every_character_of_the_source():
    book = manuscript.load(MANUSCRIPT)
    text = plain_text(make(book, "zh-Hans", labels(book)))
    source = re.sub(r"[#\s]", "", SEED.read_text(encoding="utf-8"))
    assert text.replace(" ", "") == source


def test_sample_book_has_footnotes_table_image_and_several_chapters():
    book = manuscript.load(SAMPLE)
    types = {t.type for ch in book.chapters for t in ch.tokens}
    assert {"footnote_ref", "table_open", "blockquote_open", "bullet_list_open"} <= types | {
        c.type for ch in book.chapters for t in ch.tokens for c in t.children or []}
    assert len(book.chapters) == 3
    assert [i.path.name for ch in book.chapters for i in ch.images] == ["figure.png"]

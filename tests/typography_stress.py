"""A book of seeded random Chinese prose, dense in what clreq typesetting must handle: mark pairs,
quotations, —— and ……, brackets, digits and Latin beside Han, paragraphs of every length."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

from conftest import MANUSCRIPT, SAMPLE

MARKS = "，。、：；？！"
# Chapter titles with digits and Latin (Han–digit and Han–Latin gaps in headings, contents and running
# heads), a pair of marks (1.5 em in zh-Hans) and two that wrap at the heading's size (16 pt, 18 characters a line at this trim): at the space
# marking a phrase boundary, and at a mark, where a title set line by line would leave 就 alone.
TITLES = ("第1章 “2024年的EPUB”，新的开始",
          "第2章 中国共产党100周年 石家庄解放74周年 纪念文章",
          "红色基因、奋斗精神：石家庄发展伟大成就")
# What a publisher's text brings besides Chinese (issue 15): URLs, e-mail addresses, paths, product
# names and long English words, each of which must break where a typesetter would break it.
LATIN = ["https://www.w3.org/TR/clreq/#h-line_breaking", "https://github.com/Kozea/WeasyPrint/issues?q=is%3Aopen&label=bug",
         "http://example.com/books/2024/chapter-03.html", "editor.office@press-example.com.cn",
         "/usr/share/fonts/opentype/noto/", "WeasyPrint", "OpenCC", "EPUB 3", "InDesign",
         "internationalization", "typesetting", "incomprehensibilities", "characteristically"]


def _sentence(rng: random.Random, han: str) -> str:
    words = "".join(rng.choice(han) for _ in range(rng.randint(3, 12)))
    kind = rng.random()
    if kind < 0.15:
        words = f"“{words}”"
    elif kind < 0.25:
        words += str(rng.randint(1, 2024)) + rng.choice(han)
    elif kind < 0.30:
        words += "——" + rng.choice(han) * 2
    elif kind < 0.35:
        words += "……"
    elif kind < 0.40:
        words = f"（{words}）"
    elif kind < 0.45:
        words += "A" + rng.choice(han)
    elif kind < 0.53:
        words += rng.choice(LATIN) + rng.choice(han)
    return words + rng.choice(MARKS)


def write_stress_book(dest: Path, seed: int = 3, long_note: int = 160) -> Path:
    """The test book's metadata and image with three chapters of generated prose; Han characters
    are drawn from this book's manuscript, so both editions' fonts have them. `long_note`: the
    sentences of chapter 4's note longer than a page."""
    shutil.copytree(SAMPLE, dest)
    source = (MANUSCRIPT / "chapters" / "01-article.md").read_text(encoding="utf-8")
    han = "".join(sorted(set(re.findall("[\u4e00-\u9fff]", source))))
    rng = random.Random(seed)
    for number, title in enumerate(TITLES, 1):
        paragraphs = ["".join(_sentence(rng, han) for _ in range(rng.randint(1, 15))) for _ in range(12)]
        text = f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
        (dest / "chapters" / f"0{number}.md").write_text(text, encoding="utf-8")
    write_notes_chapter(dest, long_note=long_note)
    return dest


def write_notes_chapter(book: Path, seed: int = 15, long_note: int = 160) -> None:
    """A fourth chapter, for footnotes and stranded lines (issue 15): many short paragraphs (one to three
    lines) among longer ones, footnote calls after a Han character and after a mark, short notes, notes of
    a few lines, and one note longer than a page, which must go on at the next page's foot."""
    source = (MANUSCRIPT / "chapters" / "01-article.md").read_text(encoding="utf-8")
    han = "".join(sorted(set(re.findall("[\u4e00-\u9fff]", source))))
    rng = random.Random(seed)
    paragraphs, notes = [], []

    def note(length: int) -> str:
        notes.append(f"[^n{len(notes) + 1}]: " + "".join(_sentence(rng, han) for _ in range(length)))
        return f"[^n{len(notes)}]"

    for number in range(40):
        sentences = [_sentence(rng, han) for _ in range(rng.choice((1, 2, 3, 4, 12, 20)))]
        if number % 3 == 0:      # a call after a Han character, inside a sentence
            at = rng.randrange(len(sentences))
            sentences[at] = sentences[at][:2] + note(rng.choice((1, 2, 6))) + sentences[at][2:]
        if number % 4 == 1:      # a call after the sentence's mark
            sentences[-1] += note(rng.choice((1, 3)))
        if number == 20:
            sentences[0] += note(long_note)   # longer than a page: it goes on overleaf
        paragraphs.append("".join(sentences))
    text = "# 第四章\n\n" + "\n\n".join(paragraphs) + "\n\n" + "\n".join(notes) + "\n"
    (book / "chapters" / "04.md").write_text(text, encoding="utf-8")
    yaml_file = book / "book.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace(
        "  - chapters/03.md\n", "  - chapters/03.md\n  - chapters/04.md\n"), encoding="utf-8")

"""A book of seeded random Chinese prose, dense in what clreq typesetting must handle: mark pairs,
quotations, —— and ……, brackets, digits and Latin beside Han, paragraphs of every length."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

from conftest import MANUSCRIPT, SAMPLE

MARKS = "，。、：；？！"
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


def write_stress_book(dest: Path, seed: int = 3) -> Path:
    """The test book's metadata and image with three chapters of generated prose; Han characters
    are drawn from this book's manuscript, so both editions' fonts have them."""
    shutil.copytree(SAMPLE, dest)
    source = (MANUSCRIPT / "chapters" / "01-article.md").read_text(encoding="utf-8")
    han = "".join(sorted(set(re.findall("[\u4e00-\u9fff]", source))))
    rng = random.Random(seed)
    # Titles without digits: the contents page prints titles without the typesetting stage.
    for number, title in ((1, "第一章"), (2, "第二章"), (3, "第三章")):
        paragraphs = ["".join(_sentence(rng, han) for _ in range(rng.randint(1, 15))) for _ in range(12)]
        text = f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
        (dest / "chapters" / f"0{number}.md").write_text(text, encoding="utf-8")
    return dest

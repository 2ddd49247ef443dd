"""A long book for the benchmark: seeded, deterministic prose of an exact number of Han characters.

Chapters carry what the pipeline must handle at scale: level-2 headings, footnotes, “quotations” with
‘nested’ ones, numbers and Latin words beside Han. Han characters are drawn from this book's
manuscript, so both editions' fonts have every one of them. Written to a temporary folder, never
committed: the seed makes it the same book every time.
"""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANUSCRIPT = ROOT / "manuscript"
LATIN = ("OpenCC", "WeasyPrint", "EPUB", "PDF", "Unicode", "HarfBuzz", "Python", "ISBN", "CMYK")
MARKS = "，，，。、；？！"
# Chapter titles without digits: the contents page prints titles without the typesetting stage.
NUMERALS = "一二三四五六七八九十"
HAN = re.compile("[\u4e00-\u9fff]")


def _numeral(n: int) -> str:
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("" if tens == 1 else NUMERALS[tens - 1]) + "十") + (NUMERALS[ones - 1] if ones else "")


class _Prose:
    def __init__(self, rng: random.Random, han: str):
        self.rng, self.han, self.count = rng, han, 0

    def words(self, low: int, high: int) -> str:
        return "".join(self.rng.choice(self.han) for _ in range(self.rng.randint(low, high)))

    def counted(self, text: str) -> str:
        self.count += len(HAN.findall(text))
        return text

    def sentence(self) -> str:
        rng = self.rng
        text = self.words(4, 14)
        kind = rng.random()
        if kind < 0.12:
            return text + f"：“{self.words(4, 10)}，‘{self.words(2, 6)}’{self.words(2, 8)}。”"
        if kind < 0.22:
            text += f"{rng.randint(1, 2024)}年{self.words(2, 6)}"
        elif kind < 0.28:
            text += f"{rng.randint(1, 99)}.{rng.randint(0, 9)}%{self.words(1, 4)}"
        elif kind < 0.34:
            text += f" {rng.choice(LATIN)} {self.words(2, 6)}"
        elif kind < 0.38:
            text += "——" + self.words(2, 6)
        elif kind < 0.42:
            text = f"（{text}）" + self.words(1, 3)
        return text + rng.choice(MARKS[:-3] if kind < 0.9 else MARKS)

    def paragraph(self, budget: int, longest: int = 400) -> str:
        out = ""
        while self.count < budget:
            out += self.counted(self.sentence())
            if len(out) > self.rng.randint(min(80, longest), longest):
                break
        return out if out.endswith("”") else out.rstrip("，、；") + "。"


def _unprintable(texts: list[str]) -> set[str]:
    """Source characters whose Traditional form, in some phrase, is not in the TC font (汇 → 滙).
    s2tw maps character for character, so positions line up."""
    import opencc
    from fontTools.ttLib import TTFont

    with TTFont(ROOT / "fonts" / "NotoSerifCJKtc-Regular.otf", lazy=True) as font:
        cmap = font.getBestCmap()
    convert = opencc.OpenCC("s2tw").convert
    return {a for text in texts for a, b in zip(text, convert(text)) if HAN.match(b) and ord(b) not in cmap}


def write_book(dest: Path, han_chars: int = 1_000_000, chapters: int = 60, seed: int = 7,
               note_rate: float = 0.15, longest_paragraph: int = 400) -> Path:
    """A book folder in `dest` with `han_chars` Han characters (headings and notes included) in
    `chapters` chapters, both editions of this book, and the same metadata; `note_rate` of its
    paragraphs carry a footnote."""
    source = (MANUSCRIPT / "chapters" / "01-article.md").read_text(encoding="utf-8")
    han = "".join(sorted(set(HAN.findall(source))))
    while True:
        texts = _chapters(dest, han, han_chars, chapters, seed, note_rate, longest_paragraph)
        bad = _unprintable(texts)
        if not bad:
            break
        han = "".join(c for c in han if c not in bad)
    meta = yaml.safe_load((MANUSCRIPT / "book.yaml").read_text(encoding="utf-8"))
    meta.update(slug="bench-book", title="长篇测试", chapters=[f"chapters/{n:02d}.md" for n in range(1, chapters + 1)])
    (dest / "book.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for corrections in MANUSCRIPT.glob("*.tsv"):
        (dest / corrections.name).write_text(corrections.read_text(encoding="utf-8"), encoding="utf-8")
    return dest


def _chapters(dest: Path, han: str, han_chars: int, chapters: int, seed: int, note_rate: float,
              longest_paragraph: int) -> list[str]:
    rng = random.Random(seed)
    prose = _Prose(rng, han)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "chapters").mkdir(exist_ok=True)
    texts = []
    for number in range(1, chapters + 1):
        budget = han_chars * number // chapters  # running total: the book ends on exactly han_chars
        title = prose.counted(f"第{_numeral(number)}章　{prose.words(2, 6)}")
        blocks, notes = [f"# {title}"], []
        while prose.count < budget - 200:
            if rng.random() < 0.06:
                blocks.append(prose.counted(f"## {prose.words(3, 8)}"))
            paragraph = prose.paragraph(budget - 200, longest_paragraph)
            if rng.random() < note_rate and paragraph.endswith("。"):
                notes.append(prose.counted(f"[^{len(notes) + 1}]: {prose.words(6, 30)}。"))
                paragraph = paragraph[:-1] + f"[^{len(notes)}]。"
            blocks.append(paragraph)
        rest = budget - prose.count
        blocks.append(prose.counted(prose.words(rest, rest) + "。"))
        texts.append("\n\n".join(blocks + notes) + "\n")
        (dest / f"chapters/{number:02d}.md").write_text(texts[-1], encoding="utf-8")
    assert prose.count == han_chars, prose.count
    return texts


if __name__ == "__main__":
    target = Path(sys.argv[1])
    write_book(target, int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
    print(target)

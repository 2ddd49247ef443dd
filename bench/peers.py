"""The peers a user would pick instead, on the same text: Typst (PyPI `typst`, `make bench` installs it)
set like our print interior (trim, margins, 10.5 pt Noto Serif CJK from fonts/, justified, 2 em indent,
chapters on a recto, footnotes at the page's foot), one edition. Run by bench/run.py as
`python bench/peers.py BOOK WORK`; prints JSON: seconds and pages. XeLaTeX is not installable here."""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Markup characters of Typst, escaped with a backslash wherever they are text.
SPECIAL = re.compile(r"([\\#*_$@<>\[\]`~/=\-+])")
NOTE_CALL = re.compile(r"\[\^([^\]]+)\]")
NOTE = re.compile(r"^\[\^([^\]]+)\]:\s*(.*)$")


def _escaped(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text)


def _inline(text: str, notes: dict[str, str]) -> str:
    parts = NOTE_CALL.split(text)   # text, label, text, label, …
    return "".join(_escaped(part) if k % 2 == 0 else f"#footnote[{_escaped(notes[part])}]" for k, part in enumerate(parts))


def typst_source(book: Path) -> str:
    """The book's chapters (headings, paragraphs, footnotes: what bench/generate.py writes) as Typst."""
    meta = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))
    width, height = meta["trim"]["width"], meta["trim"]["height"]
    out = [f'#set page(width: {width}mm, height: {height}mm, margin: (top: 20mm, bottom: 20mm, inside: 18mm, '
           'outside: 16mm), numbering: "1")',
           '#set text(font: "Noto Serif CJK SC", size: 10.5pt, lang: "zh", region: "cn")',
           "#set par(justify: true, first-line-indent: (amount: 2em, all: true), leading: 0.8em, spacing: 0.8em)",
           '#show heading.where(level: 1): it => { pagebreak(weak: true, to: "odd"); it }']
    for chapter in meta["chapters"]:
        blocks = (book / chapter).read_text(encoding="utf-8").split("\n\n")
        notes = {m[1]: m[2] for b in blocks if (m := NOTE.match(b.strip()))}
        for block in (b.strip() for b in blocks):
            if not block or NOTE.match(block):
                continue
            level = len(block) - len(block.lstrip("#"))
            out.append("=" * level + " " + _inline(block[level:].strip(), notes) if level else _inline(block, notes))
    return "\n\n".join(out) + "\n"


def main(book: Path, work: Path) -> None:
    import pikepdf
    import typst

    source = work / "typst" / "book.typ"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(typst_source(book), encoding="utf-8")
    start = time.perf_counter()
    typst.compile(str(source), output=str(source.with_suffix(".pdf")), font_paths=[str(ROOT / "fonts")])
    seconds = time.perf_counter() - start
    with pikepdf.open(source.with_suffix(".pdf")) as pdf:
        print(json.dumps({"typst": {"seconds": seconds, "pages": len(pdf.pages), "version": typst.__version__}}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

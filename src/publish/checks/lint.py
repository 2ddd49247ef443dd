"""`publish lint`: typographic checks on a book's Markdown source, one code per rule (like Standard Ebooks' `se lint`).

Every finding points at the source: `file:line:col: CODE severity: message` plus a hint line; line and column are
1-based, the column counts characters (code points), not bytes. Errors fail the lint, warnings do not. A book
silences a code for a file in book.yaml:

    lint:
      ignore:
        chapters/01.md: [ZH008]     # a path as listed under 'chapters', or '*' for every chapter

Code spans, code blocks, link and image targets, footnote labels, reference definitions, thematic breaks and table
delimiter rows are not prose and are skipped; only the invisible-character rule (ZH011) looks everywhere.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import PublishError

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    what: str      # one line for the README table
    hint: str      # printed under every finding of this rule unless the finding has a more precise one


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("ZH001", ERROR, "a paragraph ends mid-sentence (on a Han character, ， 、 or an opening mark) and the next "
         "paragraph carries on: a page break in the source cut the sentence",
         "join the two paragraphs: delete the blank line between them"),
    Rule("ZH002", ERROR, "half-width , . ; : ? ! ( ) between Han characters",
         "use the full-width mark: ，。；：？！（）"),
    Rule("ZH003", WARNING, "full-width Latin letters or digits (Ａ-Ｚ ａ-ｚ ０-９)",
         "write Latin letters and digits in ASCII"),
    Rule("ZH004", ERROR, "unbalanced or misnested “” ‘’ （） 《》 「」 『』 〈〉 【】",
         "close every mark in the order it was opened; a quotation of several paragraphs opens each "
         "paragraph with the opening mark and closes only the last"),
    Rule("ZH005", WARNING, "both “” and 「」 quotation marks in one edition",
         "use one style of quotation marks throughout: “” (with ‘’ inside) for zh-Hans; the zh-Hant "
         "edition turns them into 「」 and 『』"),
    Rule("ZH006", ERROR, "an ellipsis written … (one), ... or 。。。 instead of ……",
         "the Chinese ellipsis is two ellipsis characters: ……"),
    Rule("ZH007", ERROR, "a dash written -- (or －－, ──, or an odd run of —) instead of ——",
         "the Chinese dash (破折号) is two em dashes: ——"),
    Rule("ZH008", WARNING, "a single em dash —",
         "a dash (破折号) is ——; a single — is right only as a connecting mark (连接号), e.g. 北京—上海"),
    Rule("ZH009", ERROR, "two marks in a row from ，。、；：！？ (e.g. ，， or 。。), other than ！！ ？？ ！？",
         "keep one mark"),
    Rule("ZH010", WARNING, "a space between Han characters (or a Han character and a full-width mark) "
         "outside headings",
         "delete the space: Chinese text has no spaces between words"),
    Rule("ZH011", ERROR, "an invisible character: zero-width space U+200B, BOM U+FEFF, soft hyphen U+00AD, word "
         "joiner U+2060, ZWNJ U+200C or a bidi control (U+200E/F, U+202A–E, U+2066–9, U+061C); "
         "looked for everywhere, code included",
         "delete it; it is invisible in an editor and may print as a gap, a box or reordered text"),
    Rule("ZH012", WARNING, "whitespace at the end of a line",
         "delete it; for a line break inside a paragraph, end the line with a backslash (\\)"),
    Rule("ZH013", WARNING, "a line indented with ideographic (U+3000) or no-break spaces",
         "delete the indent; the layouts indent paragraphs themselves"),
    Rule("ZH014", WARNING, "a paragraph's line ends between two Han characters",
         "join the lines: the layouts print such a break as nothing, but a search for the phrase in the source misses it"),
    Rule("ZH015", WARNING, "the file starts with a UTF-8 byte-order mark (U+FEFF), as Windows Notepad saves it",
         "save the file as UTF-8 without BOM; the build reads it either way"),
)}

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\U00020000-\U0003134f"
CJK_PUNCT = "\u3001-\u3003\u3008-\u3011\u3014-\u301f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—"
MASK = "\x00"          # stands in for text that is not prose; no rule matches it
OPENERS = {"“": "”", "‘": "’", "（": "）", "《": "》", "「": "」", "『": "』", "〈": "〉", "【": "】"}
CLOSERS = {close: open_ for open_, close in OPENERS.items()}
FULL_WIDTH = {",": "，", ".": "。", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
MID_SENTENCE = re.compile(f"[{HAN}，、{''.join(OPENERS)}]")
SENTENCE_PUNCT = re.compile("[，。、；：！？…]")
INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


@dataclass(frozen=True)
class Finding:
    file: Path
    line: int
    col: int
    code: str
    message: str
    hint: str = ""

    @property
    def severity(self) -> str:
        return RULES[self.code].severity

    def __str__(self) -> str:
        return (f"{self.file}:{self.line}:{self.col}: {self.code} {self.severity}: {self.message}\n"
                f"  hint: {self.hint or RULES[self.code].hint}")


@dataclass
class Segment:
    """The source lines of one run of inline text: a paragraph, a heading or a table row."""
    start: int                     # 0-based first line
    end: int                       # 0-based line after the last
    kind: str                      # paragraph, heading or row


class Source:
    """A chapter's lines as written, and the same lines with everything that is not prose masked."""

    def __init__(self, path: Path, text: str, tokens: list | None = None):
        from ..stages import markdown

        self.path = path
        self.lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
        if tokens is None:
            tokens, _env = markdown.parse(text)
        self.tokens = tokens
        self.headings: set[int] = set()
        self.code: set[int] = set()
        self.segments: list[Segment] = []
        covered: set[int] = set()
        masked = list(self.lines)
        for i, token in enumerate(tokens):
            if not token.map:
                continue
            start, end = token.map
            covered.update(range(start, end))
            if token.type in ("fence", "code_block", "html_block", "hr"):
                self.code.update(range(start, end))
                for n in range(start, min(end, len(masked))):
                    masked[n] = MASK * len(masked[n])
            elif token.type == "heading_open":
                self.headings.update(range(start, end))
                if token.markup in ("=", "-") and end - 1 < len(masked):     # setext underline
                    masked[end - 1] = MASK * len(masked[end - 1])
            elif token.type == "table_open":
                for n in range(start, min(end, len(masked))):
                    if re.fullmatch(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", masked[n]):
                        masked[n] = MASK * len(masked[n])
            elif token.type == "inline":
                kind = {"paragraph_open": "paragraph", "heading_open": "heading"}.get(
                    tokens[i - 1].type if i else "", "row")
                if not any(s.start == start and s.end == end for s in self.segments):
                    self.segments.append(Segment(start, end, kind))
        for n in range(len(masked)):
            if n not in covered:        # blank lines and reference definitions
                masked[n] = MASK * len(masked[n])
        joined = "\n".join(masked)
        for pattern, group in MASKED_INLINE:
            joined = pattern.sub(lambda m: _mask(m, group), joined)
        self.masked = joined.split("\n")
        self.segments.sort(key=lambda s: s.start)

    def prose_lines(self, headings: bool = True) -> Iterator[tuple[int, str]]:
        for n, line in enumerate(self.masked):
            if n not in self.code and (headings or n not in self.headings):
                yield n, line


def _mask(match: re.Match, group: int) -> str:
    start, end = match.span(group)
    inner = re.sub(r"[^\n]", MASK, match.string[start:end])
    return match.string[match.start():start] + inner + match.string[end:match.end()]


MASKED_INLINE = [
    (re.compile(r"(?<![`\\])(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.S), 0),   # code spans
    (re.compile(r"\](\((?:<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\))"), 1),                          # link and image targets
    (re.compile(r"\[\^[^\]\s]+\]"), 0),                                                    # footnote labels
    (re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*>|<[^<>\s@]+@[^<>\s]+>"), 0),      # autolinks
]


# ---------------------------------------------------------------- rules on one chapter

Check = Callable[[Source], Iterable[Finding]]


def _regex_rule(code: str, pattern: str, message: Callable[[re.Match], str],
                hint: Callable[[re.Match], str] | None = None, headings: bool = True,
                group: int = 0, keep: Callable[[re.Match], bool] = lambda m: True) -> Check:
    regex = re.compile(pattern)

    def check(src: Source) -> Iterator[Finding]:
        for n, line in src.prose_lines(headings):
            for m in regex.finditer(line):
                if keep(m):
                    yield Finding(src.path, n + 1, m.start(group) + 1, code, message(m), hint(m) if hint else "")
    check.__name__ = code
    return check


def _near_cjk(m: re.Match) -> bool:
    s, e = m.string, m.span()
    around = (s[e[0] - 1] if e[0] else "") + (s[e[1]] if e[1] < len(s) else "")
    return bool(re.search(f"[{HAN}{CJK_PUNCT}]", around))


def _doubled(m: re.Match) -> bool:
    run = m.group()
    return not set(run) <= {"！", "？"} and not (set(run) == {"。"} and len(run) >= 3)


def _u(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()


REGEX_RULES: list[Check] = [
    _regex_rule("ZH002", f"(?<=[{HAN}])[ ]*([,.;:?!()])[ ]*(?=[{HAN}])",
                lambda m: f"half-width {m.group(1)!r} between Han characters",
                lambda m: f"use the full-width mark {FULL_WIDTH[m.group(1)]}", group=1),
    _regex_rule("ZH003", "[Ａ-Ｚａ-ｚ０-９]+",
                lambda m: f"full-width Latin letters or digits {m.group()!r}",
                lambda m: "write them in ASCII: " + unicodedata.normalize("NFKC", m.group())),
    _regex_rule("ZH006", "(?<!…)…(?:……)*(?!…)",
                lambda m: f"{len(m.group())} ellipsis character{'s' if len(m.group()) > 1 else ''}: an odd number"),
    _regex_rule("ZH006", r"(?<!\.)\.{3,}(?!\.)|。{3,}",
                lambda m: f"{m.group()!r} used as an ellipsis", keep=lambda m: m.group()[0] == "。" or _near_cjk(m)),
    _regex_rule("ZH007", r"(?<!-)-{2,3}(?!-)|－{2,}|─{2,}",
                lambda m: f"{m.group()!r} used as a dash", keep=lambda m: m.group()[0] != "-" or _near_cjk(m)),
    _regex_rule("ZH007", "(?<!—)—{3}(?:——)*(?!—)",
                lambda m: f"{len(m.group())} em dashes: an odd number"),
    _regex_rule("ZH008", "(?<!—)—(?!—)", lambda m: "a single em dash"),
    _regex_rule("ZH009", "[，。、；：！？]{2,}", lambda m: f"{m.group()!r}: marks in a row", keep=_doubled),
    _regex_rule("ZH010", f"(?<=[{HAN}{CJK_PUNCT}])[ \t\u00a0\u3000]+(?=[{HAN}{CJK_PUNCT}])",
                lambda m: f"space between {m.string[m.start() - 1]} and {m.string[m.end()]}",
                headings=False, keep=lambda m: bool(re.search(f"[{HAN}]", m.string[m.start() - 1] + m.string[m.end()]))),
    _regex_rule("ZH013", "^[ >]*([\u3000\u00a0]+)", lambda m: "line indented with " + _u(m.group(1)[0]),
                group=1),
]


def broken_paragraphs(src: Source) -> Iterator[Finding]:
    """ZH001: a paragraph that stops mid-sentence, followed by a paragraph that carries on."""
    tokens = src.tokens
    for i, token in enumerate(tokens):
        if token.type != "paragraph_open" or not token.map:
            continue
        close = next(j for j in range(i + 1, len(tokens)) if tokens[j].type == "paragraph_close"
                     and tokens[j].level == token.level)
        after = tokens[close + 1] if close + 1 < len(tokens) else None
        if after is None or after.type != "paragraph_open" or after.level != token.level or not after.map:
            continue
        last = _end_text_char(tokens[i + 1], reversed)
        if not last or not MID_SENTENCE.fullmatch(last) or not _end_text_char(tokens[close + 2], iter):
            continue
        if last not in "，、" and not SENTENCE_PUNCT.search(tokens[i + 1].content):
            continue                 # a title, a signature or a date set as a paragraph
        n = token.map[1] - 1
        while n > token.map[0] and last not in src.masked[n]:
            n -= 1
        col = src.masked[n].rfind(last) + 1 if last in src.masked[n] else len(src.lines[n])
        yield Finding(src.path, n + 1, max(col, 1), "ZH001",
                      f"paragraph ends mid-sentence on {last!r} and the paragraph at line {after.map[0] + 1} "
                      f"carries on")


def _end_text_char(inline, direction=reversed) -> str:
    """The last (or, with iter, the first) character of a paragraph, if it ends (begins) with text."""
    for child in direction(inline.children or []):
        if child.type == "text":
            text = child.content.strip()
            if text:
                return text[-1] if direction is reversed else text[0]
        elif child.type in ("image", "code_inline", "html_inline"):
            return ""
    return ""


def pairs(src: Source) -> Iterator[Finding]:
    """ZH004: “” ‘’ （） 《》 「」 『』 〈〉 【】 closed in the order they were opened."""
    stack: list[tuple[str, int, int]] = []
    previous: Segment | None = None

    def unclosed() -> Iterator[Finding]:
        for mark, n, c in stack:
            yield Finding(src.path, n + 1, c + 1, "ZH004", f"{mark} is never closed (no {OPENERS[mark]})")
        stack.clear()

    for seg in src.segments:
        text = [(n, c, ch) for n in range(seg.start, min(seg.end, len(src.masked)))
                for c, ch in enumerate(src.masked[n])]
        first = next((ch for _n, _c, ch in text if not ch.isspace() and ch not in "> " + MASK), "")
        if stack:
            if previous and previous.kind == seg.kind == "paragraph" and first == stack[-1][0]:
                text = text[[ch for _n, _c, ch in text].index(first) + 1:]   # the quotation goes on
            else:
                yield from unclosed()
        for n, c, ch in text:
            if ch in OPENERS:
                stack.append((ch, n, c))
            elif ch in CLOSERS:
                line = src.masked[n]
                if ch == "’" and c and (line[c - 1].isascii() and line[c - 1].isalnum()):
                    continue             # an apostrophe: don’t, students’
                opener = CLOSERS[ch]
                if stack and stack[-1][0] == opener:
                    stack.pop()
                elif any(mark == opener for mark, _n, _c in stack):
                    inner = stack[-1]
                    yield Finding(src.path, n + 1, c + 1, "ZH004",
                                  f"{ch} closes {opener} but {inner[0]} (line {inner[1] + 1}, column {inner[2] + 1}) "
                                  f"inside it is still open")
                    depth = max(i for i, (mark, _n, _c) in enumerate(stack) if mark == opener)
                    del stack[depth]         # the marks opened inside it may still be closed: “《书”》
                else:
                    yield Finding(src.path, n + 1, c + 1, "ZH004", f"{ch} without an opening {opener}")
        if stack and seg.kind != "paragraph":
            yield from unclosed()
        previous = seg
    yield from unclosed()


def invisible(src: Source) -> Iterator[Finding]:
    """ZH011: looked for in every line, code included; a byte-order mark at the start is ZH015's."""
    for n, line in enumerate(src.lines):
        for m in INVISIBLE.finditer(line, 1 if n == 0 and line.startswith("\ufeff") else 0):
            yield Finding(src.path, n + 1, m.start() + 1, "ZH011", f"invisible character {_u(m.group())}")


def byte_order_mark(src: Source) -> Iterator[Finding]:
    """ZH015: the build drops it, but other tools (diff, grep, cat of two chapters) trip on it."""
    if src.lines and src.lines[0].startswith("\ufeff"):
        yield Finding(src.path, 1, 1, "ZH015", "the file starts with a UTF-8 byte-order mark")


def trailing_whitespace(src: Source) -> Iterator[Finding]:
    """ZH012: on every line but code blocks (blank lines included)."""
    for n, line in enumerate(src.lines):
        m = re.search("[ \t\u00a0\u3000]+$", line)
        if m and n not in src.code:
            yield Finding(src.path, n + 1, m.start() + 1, "ZH012", "whitespace at the end of the line")


def line_breaks(src: Source) -> Iterator[Finding]:
    """ZH014: a paragraph wrapped between two Han characters."""
    han = re.compile(f"[{HAN}]")
    for seg in src.segments:
        if seg.kind != "paragraph":
            continue
        for n in range(seg.start, min(seg.end, len(src.masked)) - 1):
            here = src.masked[n].rstrip(" \t" + MASK)
            there = src.masked[n + 1].lstrip(" \t>" + MASK)
            if here and there and han.match(here[-1]) and han.match(there[0]) and not here.endswith("\\"):
                yield Finding(src.path, n + 1, len(here), "ZH014",
                              f"line ends between {here[-1]} and {there[0]} (line {n + 2})")


CHAPTER_CHECKS: list[Check] = [broken_paragraphs, pairs, invisible, byte_order_mark, trailing_whitespace, line_breaks, *REGEX_RULES]


# ---------------------------------------------------------------- rules on the whole book

def quote_styles(sources: list[Source]) -> Iterator[Finding]:
    """ZH005: “” and 「」 both used; reported once per file where the less used style appears."""
    places: dict[str, list[tuple[Source, int, int]]] = {"“”": [], "「」": []}
    for src in sources:
        for n, line in src.prose_lines():
            for c, ch in enumerate(line):
                if ch in "“‘":
                    places["“”"].append((src, n, c))
                elif ch in "「『":
                    places["「」"].append((src, n, c))
    if not places["“”"] or not places["「」"]:
        return
    main, other = ("“”", "「」") if len(places["“”"]) >= len(places["「」"]) else ("「」", "“”")
    seen: set[Path] = set()
    for src, n, c in places[other]:
        if src.path in seen:
            continue
        seen.add(src.path)
        count = sum(1 for s, _n, _c in places[other] if s is src)
        yield Finding(src.path, n + 1, c + 1, "ZH005",
                      f"{other} used {count} time{'s' if count > 1 else ''} in this file, but the book's "
                      f"quotation marks are {main} ({len(places[main])} times)")


# ---------------------------------------------------------------- configuration and entry points

def ignored(config: object, chapters: list[str], book_yaml: Path, line: int | None = None) -> dict[str, set[str]]:
    """book.yaml's `lint: {ignore: {FILE: [CODE, …]}}` as {file: codes}; '*' stands for every chapter."""
    def bad(message: str, hint: str = "lint: {ignore: {chapters/01.md: [ZH008]}}") -> PublishError:
        return PublishError(message, book_yaml, line, hint=hint)

    if config in (None, {}):
        return {}
    if not isinstance(config, dict) or set(config) - {"ignore"}:
        raise bad("'lint' must be {ignore: {FILE: [CODE, …]}}")
    table = config.get("ignore") or {}
    if not isinstance(table, dict):
        raise bad("'lint: ignore' must map chapter files to lists of codes")
    result: dict[str, set[str]] = {}
    for name, codes in table.items():
        name = str(name)
        if name != "*" and name not in chapters:
            near = difflib.get_close_matches(name, chapters, n=1)
            raise bad(f"lint: ignore names {name!r}, which is not a chapter",
                      f"did you mean {near[0]!r}?" if near else "name a file listed under 'chapters', or '*'")
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list):
            raise bad(f"lint: ignore: {name}: must be a list of codes")
        for code in codes:
            if str(code) not in RULES:
                near = difflib.get_close_matches(str(code), RULES, n=1)
                raise bad(f"unknown lint code {code!r}",
                          f"did you mean {near[0]!r}?" if near else f"codes are {min(RULES)}–{max(RULES)}")
        result.setdefault(name, set()).update(str(c) for c in codes)
    return result


def lint_sources(sources: list[Source], ignore: dict[str, set[str]] | None = None,
                 names: dict[Path, str] | None = None) -> list[Finding]:
    """Every finding in the chapters, in reading order, without the silenced ones."""
    ignore = ignore or {}
    names = names or {}
    order = {src.path: i for i, src in enumerate(sources)}
    findings = [f for src in sources for check in CHAPTER_CHECKS for f in check(src)]
    findings += list(quote_styles(sources))
    findings = [f for f in findings
                if f.code not in ignore.get("*", set()) | ignore.get(names.get(f.file, ""), set())]
    return sorted(set(findings), key=lambda f: (order[f.file], f.line, f.col, f.code))


def lint_text(text: str, path: Path | str = "chapter.md") -> list[Finding]:
    """Lint one chapter's Markdown, as if it were a book of one chapter."""
    return lint_sources([Source(Path(path), text)])


def lint_book(root: Path | str) -> list[Finding]:
    """Load the book (bad input raises PublishError) and lint its chapters."""
    from ..stages import manuscript

    root = Path(root)
    book = manuscript.load(root)
    book_yaml = root / "book.yaml"
    line = manuscript.key_lines(root, book_yaml).get("lint")
    names = {ch.path: ch.path.relative_to(root).as_posix() for ch in book.chapters}
    ignore = ignored(book.lint, list(names.values()), book_yaml, line)
    sources = [Source(ch.path, ch.path.read_text(encoding="utf-8"), ch.tokens) for ch in book.chapters]
    return lint_sources(sources, ignore, names)


def summary(findings: list[Finding]) -> str:
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"

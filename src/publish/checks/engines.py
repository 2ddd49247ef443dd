"""A PDF as the engines that print and show it draw and read it: Ghostscript (inside many RIPs),
MuPDF (SumatraPDF, KOReader, many Android readers), poppler, pdfium (Chrome) and pdf.js (Firefox),
each at 100 dpi, each with the text it extracts and every warning or error it prints.

poppler is the reference the others are measured against: before the subsets had an identity
charset, poppler, pdfium and pdf.js showed the text while Ghostscript drew boxes and MuPDF nothing,
so agreement of all five is what proves a PDF is drawn as the spec says, not as one engine guesses.
"""
from __future__ import annotations

import base64
import mimetypes
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageMath

from .check import CheckResult
from ..errors import PublishError
from ..stages.layouts import PROJECT

DPI = 100
REFERENCE = "poppler"
ENGINES = ("poppler", "ghostscript", "mupdf", "pdfium", "pdf.js")
# A pixel differs when, after a Gaussian blur of this radius (so anti-aliasing, which each engine does
# its own way, does not count), one of its colour channels is this far from poppler's (of 255). Engines
# turn CMYK into RGB each their own way (MuPDF, built without colour management, the naive way: the
# cover's red is 30 levels off poppler's); the plates are preflight's separations check.
BLUR_RADIUS = 1.0
DIFFERENT = 64
MAX_DIFFERENT = 0.01            # of a page's pixels
INK_GREY = 224                  # darker than this (of 255) is ink, for "is this page blank?" (MuPDF draws a
                                # 0.25 pt mark anti-aliased to grey 136 where poppler draws it black)
PDFJS = PROJECT / "node_modules" / "pdfjs-dist"


@dataclass
class Drawing:
    """One engine's view of a PDF: each page drawn (RGB) and its text, and what the engine printed."""
    engine: str
    pages: list[Image.Image]
    texts: list[str]
    messages: list[str]


def _run(command: list[str]) -> list[str]:
    """Run an engine; every non-empty line it prints (stdout or stderr) is a message, and so is a failure."""
    run = subprocess.run(command, capture_output=True, text=True, errors="replace")
    lines = [line.strip() for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    if run.returncode:
        lines.append(f"{command[0]} exited with {run.returncode}")
    return lines


def _pngs(folder: Path, prefix: str) -> list[Image.Image]:
    images = []
    for file in sorted(folder.glob(f"{prefix}*.png")):
        with Image.open(file) as image:
            images.append(image.convert("RGB"))
    return images


def _texts(folder: Path, prefix: str) -> list[str]:
    return [f.read_text(encoding="utf-8", errors="replace") for f in sorted(folder.glob(f"{prefix}*.txt"))]


def _require(program: str, package: str) -> None:
    if shutil.which(program) is None:
        raise PublishError(f"{program} not found", hint=f"apt-get install {package} (make installs it)")


# Ghostscript's -q would also silence its summary of the errors it met in a PDF, so it runs without, and
# these lines, which it prints for every file, are not messages.
GHOSTSCRIPT_CHATTER = re.compile(r"GPL Ghostscript \S+ \(\d{4}-\d\d-\d\d\)|Copyright \(C\) \d{4} Artifex|"
                                 r"This software is supplied under|see the file COPYING|"
                                 r"Processing pages \d+ through \d+\.|Page \d+")


def _ghostscript(*arguments: str) -> list[str]:
    _require("gs", "ghostscript")
    return [line for line in _run(["gs", "-dSAFER", "-dBATCH", "-dNOPAUSE", *arguments])
            if not GHOSTSCRIPT_CHATTER.match(line)]


def ghostscript(pdf: Path, tmp: Path) -> Drawing:
    messages = _ghostscript("-sDEVICE=png16m", f"-r{DPI}", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
                            f"-sOutputFile={tmp}/gs-%04d.png", str(pdf))
    messages += _ghostscript("-sDEVICE=txtwrite", f"-sOutputFile={tmp}/gs-%04d.txt", str(pdf))
    return Drawing("ghostscript", _pngs(tmp, "gs-"), _texts(tmp, "gs-"), messages)


def mupdf(pdf: Path, tmp: Path) -> Drawing:
    _require("mutool", "mupdf-tools")
    # -q silences only the progress lines; MuPDF's warnings and errors still reach stderr. -N: Debian's
    # MuPDF is built without colour management and says so on every run; -N draws the same, quietly.
    messages = _run(["mutool", "draw", "-q", "-N", "-r", str(DPI), "-o", f"{tmp}/mupdf-%04d.png", str(pdf)])
    messages += _run(["mutool", "draw", "-q", "-N", "-F", "txt", "-o", f"{tmp}/mupdf-%04d.txt", str(pdf)])
    return Drawing("mupdf", _pngs(tmp, "mupdf-"), _texts(tmp, "mupdf-"), messages)


def poppler(pdf: Path, tmp: Path) -> Drawing:
    _require("pdftoppm", "poppler-utils")
    messages = _run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), f"{tmp}/poppler"])
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True)
    messages += [line for line in text.stderr.splitlines() if line.strip()]
    # pdftotext ends every page with a form feed.
    return Drawing("poppler", _pngs(tmp, "poppler"), text.stdout.split("\f")[:-1], messages)


def pdfium(pdf: Path, tmp: Path) -> Drawing:
    import pypdfium2

    pages, texts = [], []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            pages.append(page.render(scale=DPI / 72).to_pil().convert("RGB"))
            texts.append(page.get_textpage().get_text_range())
    finally:
        document.close()
    return Drawing("pdfium", pages, texts, [])


# pdf.js in Debian's Chromium: every page drawn on a canvas at 100 dpi and its getTextContent(), the
# text layer Firefox's viewer selects and copies (one item per run; hasEOL where pdf.js sees a line end).
PDFJS_DRAW = """async ({url, scale}) => {
  const pdfjs = await import("/pdfjs/build/pdf.mjs");
  pdfjs.GlobalWorkerOptions.workerSrc = "/pdfjs/build/pdf.worker.mjs";
  const doc = await pdfjs.getDocument({url, cMapUrl: "/pdfjs/cmaps/", standardFontDataUrl: "/pdfjs/standard_fonts/",
      wasmUrl: "/pdfjs/wasm/", iccUrl: "/pdfjs/iccs/", verbosity: pdfjs.VerbosityLevel.WARNINGS}).promise;
  const pages = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const viewport = page.getViewport({scale});
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(viewport.width);
    canvas.height = Math.ceil(viewport.height);
    await page.render({canvas, viewport}).promise;
    const content = await page.getTextContent();
    pages.push({png: canvas.toDataURL("image/png"),
                text: content.items.map(i => i.str + (i.hasEOL ? "\\n" : "")).join("")});
    page.cleanup();
  }
  await doc.destroy();
  return pages;
}"""
# pdf.js and the PDF are served from a made-up origin (module scripts and workers do not load from
# file:// URLs); nothing leaves the machine.
ORIGIN = "http://pdfjs.invalid"


class PdfJs:
    """One headless Chromium for every PDF drawn with pdf.js (starting it takes most of the time)."""

    def __enter__(self) -> PdfJs:
        from playwright.sync_api import sync_playwright

        from .browser import CHROMIUM, FLAGS

        if not (PDFJS / "build" / "pdf.mjs").is_file():
            raise PublishError(f"pdf.js not found in {PDFJS}", hint="run make (npm ci installs pdfjs-dist)")
        if not Path(CHROMIUM).exists():
            raise PublishError(f"Chromium not found at {CHROMIUM}", hint="apt-get install chromium (or set CHROMIUM)")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        return self

    def __exit__(self, *exc) -> None:
        self._browser.close()
        self._playwright.stop()

    def draw(self, pdf: Path, tmp: Path) -> Drawing:
        messages: list[str] = []
        page = self._browser.new_page()
        # Warnings of pdf.js's worker reach the page's console too.
        page.on("console", lambda m: messages.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: messages.append(f"page error: {e}"))

        def serve(route) -> None:
            path = route.request.url[len(ORIGIN):].split("?")[0]
            file = (PDFJS / path[len("/pdfjs/"):]).resolve() if path.startswith("/pdfjs/") else None
            if path == "/":
                route.fulfill(body="<!doctype html><title>pdf.js</title>", content_type="text/html")
            elif path == "/document.pdf":
                route.fulfill(body=pdf.read_bytes(), content_type="application/pdf")
            elif file is not None and file.is_file() and file.is_relative_to(PDFJS.resolve()):
                kind = "text/javascript" if file.suffix == ".mjs" else mimetypes.guess_type(file.name)[0]
                route.fulfill(body=file.read_bytes(), content_type=kind or "application/octet-stream")
            else:
                messages.append(f"pdf.js asked for {path}, which is not there")
                route.fulfill(status=404, body="")

        try:
            page.route(ORIGIN + "/**", serve)
            page.goto(ORIGIN + "/")
            drawn = page.evaluate(PDFJS_DRAW, {"url": "/document.pdf", "scale": DPI / 72})
        finally:
            page.close()
        images = []
        for number, item in enumerate(drawn, 1):
            file = tmp / f"pdfjs-{number:04d}.png"
            file.write_bytes(base64.b64decode(item["png"].split(",", 1)[1]))
            images.append(Image.open(file).convert("RGB"))
        return Drawing("pdf.js", images, [item["text"] for item in drawn], messages)


def draw(pdf: Path, engines=ENGINES, pdfjs: PdfJs | None = None) -> dict[str, Drawing]:
    """The PDF drawn and read by each engine named; pdf.js needs an open PdfJs."""
    runners = {"poppler": poppler, "ghostscript": ghostscript, "mupdf": mupdf, "pdfium": pdfium,
               "pdf.js": pdfjs.draw if pdfjs else None}
    with tempfile.TemporaryDirectory() as tmp:
        return {engine: runners[engine](pdf, Path(tmp)) for engine in engines}


def difference(page: Image.Image, reference: Image.Image) -> float:
    """The fraction of pixels of which a colour channel differs by DIFFERENT or more from the reference's,
    both blurred; the pages are compared on their common size (engines round the page size differently)."""
    width, height = min(page.width, reference.width), min(page.height, reference.height)
    a, b = (im.crop((0, 0, width, height)).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)) for im in (page, reference))
    red, green, blue = ImageChops.difference(a, b).split()
    histogram = ImageChops.lighter(ImageChops.lighter(red, green), blue).histogram()
    return sum(histogram[DIFFERENT:]) / (width * height)


def summarise(messages: list[str], limit: int = 3) -> str:
    """The messages, most frequent first, with their count: MuPDF prints one per glyph."""
    counts = Counter(messages)
    return "; ".join(f"{n}× {m}" if n > 1 else m for m, n in counts.most_common(limit)) + (
        f"; and {len(counts) - limit} other messages" if len(counts) > limit else "")


@dataclass(frozen=True)
class Agreement:
    """How one engine's pages compare with poppler's."""
    engine: str
    largest: float              # the largest fraction of differing pixels on a page
    page: int                   # 1-based, where it is
    messages: list[str]
    page_counts: tuple[int, int]  # (this engine's, poppler's)

    @property
    def passed(self) -> bool:
        return self.largest <= MAX_DIFFERENT and not self.messages and self.page_counts[0] == self.page_counts[1]

    def __str__(self) -> str:
        text = f"{self.engine} {self.largest:.2%} (p. {self.page})"
        if self.page_counts[0] != self.page_counts[1]:
            text += f", {self.page_counts[0]} pages, not {self.page_counts[1]}"
        return text + (f", printed {summarise(self.messages)}" if self.messages else "")


def agreements(drawings: dict[str, Drawing]) -> list[Agreement]:
    reference = drawings[REFERENCE]
    found = []
    for engine, drawing in drawings.items():
        diffs = [difference(page, ref) for page, ref in zip(drawing.pages, reference.pages)] or [0.0]
        worst = max(range(len(diffs)), key=diffs.__getitem__)
        found.append(Agreement(engine, diffs[worst], worst + 1, drawing.messages,
                               (len(drawing.pages), len(reference.pages))))
    return found


# --- Blank pages and separations, for preflight: what a RIP would put on the plate ---------------

def _trim_pixels(pdf: Path, size: tuple[int, int], number: int) -> tuple[int, int, int, int]:
    """The page's TrimBox as a pixel box of a render of its MediaBox at `size`."""
    import pikepdf

    with pikepdf.open(pdf) as document:
        page = document.pages[number - 1].obj
        media = [float(v) for v in page.MediaBox]
        trim = [float(v) for v in page.get("/TrimBox", page.MediaBox)]
    sx, sy = size[0] / (media[2] - media[0]), size[1] / (media[3] - media[1])
    return (round((trim[0] - media[0]) * sx), round((media[3] - trim[3]) * sy),
            round((trim[2] - media[0]) * sx), round((media[3] - trim[1]) * sy))


def inked(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    """Anything darker than INK_GREY inside the box (a page's crop marks lie outside its trim)."""
    return image.crop(box).convert("L").getextrema()[0] < INK_GREY


def blank_renders(pdf: Path) -> tuple[bool, str]:
    """Pages with ink inside the trim in poppler's render that Ghostscript or MuPDF draw blank there."""
    drawings = draw(pdf, ("poppler", "ghostscript", "mupdf"))
    reference = drawings.pop(REFERENCE)
    boxes = [_trim_pixels(pdf, page.size, n) for n, page in enumerate(reference.pages, 1)]
    with_ink = [n for n, (page, box) in enumerate(zip(reference.pages, boxes), 1) if inked(page, box)]
    blank = {engine: [n for n in with_ink if n > len(d.pages) or not inked(d.pages[n - 1], boxes[n - 1])]
             for engine, d in drawings.items()}
    if any(blank.values()):
        return False, "; ".join(f"{engine} draws p. {', '.join(map(str, pages[:8]))}"
                                f"{' …' if len(pages) > 8 else ''} blank" for engine, pages in blank.items() if pages) \
            + f" (poppler inks {len(with_ink)} of {len(reference.pages)} pages)"
    return True, (f"Ghostscript and MuPDF ink every page poppler inks inside the trim ({len(with_ink)} of "
                  f"{len(reference.pages)})")


MAX_TOTAL_COVERAGE = 300        # per cent: FOGRA39 (ISO 12647-2, coated paper)
PROCESS_PLATES = ("Cyan", "Magenta", "Yellow", "Black")


@dataclass(frozen=True)
class Separation:
    """One page as Ghostscript's tiffsep separates it, inside the BleedBox (marks lie outside it)."""
    page: int
    coverage: dict[str, float]  # plate -> its highest ink on the page, per cent
    total: float                # the highest sum of all plates at one pixel, per cent


def separate(pdf: Path) -> tuple[list[Separation], list[str]]:
    """Each page's plates, and what Ghostscript printed: tiffsep writes one 8-bit file per plate (process
    and spot), 255 = no ink."""
    with tempfile.TemporaryDirectory() as tmp:
        messages = _ghostscript("-sDEVICE=tiffsep", f"-r{DPI}", "-dUseBleedBox", f"-sOutputFile={tmp}/p%04d.tif",
                                str(pdf))
        plates: dict[int, dict[str, Image.Image]] = {}
        for file in Path(tmp).glob("p*(*).tif"):
            found = re.fullmatch(r"p(\d+)\((.+)\)\.tif", file.name)
            with Image.open(file) as image:
                # Crop marks start at the bleed's edge: its outermost pixels may hold their ends.
                inner = image.convert("L").crop((1, 1, image.width - 1, image.height - 1))
                plates.setdefault(int(found.group(1)), {})[found.group(2)] = inner
    separations = []
    for number in sorted(plates):
        named = {f"plate{i}": image for i, image in enumerate(plates[number].values())}
        # Ink is 255 minus the plate's value; the sum over plates at a pixel is the total area coverage.
        total = ImageMath.lambda_eval(lambda args: sum((255 - args[n] for n in named), start=0), **named)
        coverage = {name: (255 - image.getextrema()[0]) / 2.55 for name, image in plates[number].items()}
        separations.append(Separation(number, coverage, total.getextrema()[1] / 2.55))
    return separations, messages


def separations(pdf: Path, image_pages: set[int], cover: bool) -> tuple[bool, str]:
    """An interior page without images (text and rules are 100 % K) inks the Black plate only; no page's
    total area coverage exceeds MAX_TOTAL_COVERAGE."""
    pages, messages = separate(pdf)
    if messages:
        return False, f"Ghostscript printed: {summarise(messages)}"
    if not pages:
        return False, "Ghostscript wrote no plates"
    colour = [s for s in pages if not cover and s.page not in image_pages
              and any(v > 0 for plate, v in s.coverage.items() if plate != "Black")]
    heavy = [s for s in pages if s.total > MAX_TOTAL_COVERAGE + 0.5]
    plates = sorted({p for s in pages for p, v in s.coverage.items() if v > 0},
                    key=lambda p: (PROCESS_PLATES + (p,)).index(p))
    worst = max(pages, key=lambda s: s.total)
    figures = (f"plates inked: {', '.join(plates) or 'none'}; total area coverage at most {worst.total:.0f} %"
               f" (p. {worst.page}; limit {MAX_TOTAL_COVERAGE} %)")
    problems = [f"p. {s.page} inks {', '.join(f'{p} {v:.0f} %' for p, v in s.coverage.items() if v > 0 and p != 'Black')}"
                f" on a page set in K" for s in colour[:3]]
    problems += [f"p. {s.page} totals {s.total:.0f} %" for s in heavy[:3]]
    return not (colour or heavy), "; ".join([figures, *problems])


# --- The text each engine extracts, against the edition's ------------------------------------------

# Running heads and folios lie within this of the trim's top or bottom edge (the print layout's
# margins are 20 mm, 57 pt; its heads and folios sit 3-4 mm off the text block).
MARGIN_PT = 50


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def margin_lines(pdf: Path) -> list[list[str]]:
    """Per page, the text (whitespace removed) of each line in the top or bottom margin."""
    import pdfplumber

    pages = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            _, top, _, bottom = page.trimbox        # in the page's own top-down coordinates, like its chars
            rows: dict[float, list[dict]] = {}
            for c in page.chars:
                if c["top"] < top + MARGIN_PT or c["bottom"] > bottom - MARGIN_PT:
                    rows.setdefault(round(c["bottom"]), []).append(c)
            pages.append([squeeze("".join(c["text"] for c in sorted(row, key=lambda c: c["x0"])))
                          for _, row in sorted(rows.items())])
    return pages


def body_text(page_text: str, margins: list[str]) -> str:
    """A page's extracted text without the lines that are its running head or folio."""
    left = list(margins)
    kept = []
    for line in page_text.replace("\r\n", "\n").replace("\f", "").split("\n"):
        if squeeze(line) in left and squeeze(line):
            left.remove(squeeze(line))
        else:
            kept.append(line)
    return "\n".join(kept)


@dataclass(frozen=True)
class Run:
    """A stretch of the edition's text that the page draws with nothing else inside it: a heading's or a
    paragraph's text up to a footnote call or an image. Table cells and list markers are not runs (an
    engine reads a table row by row or cell by cell, and a marker is the layout's)."""
    text: str
    footnote: bool              # a footnote's text, drawn at the foot of a page, not after its call


def edition_runs(chapters) -> list[Run]:
    """The runs of the edition's chapters, in reading order."""
    runs, in_footnote = [], 0
    for chapter in chapters:
        tokens = chapter.tokens
        for before, token in zip([None, *tokens], tokens):
            in_footnote += (token.type == "footnote_open") - (token.type == "footnote_close")
            if token.type != "inline" or before is None or before.type not in ("paragraph_open", "heading_open"):
                continue
            pieces: list[list[str]] = [[]]
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    pieces[-1].append(child.content)
                elif not child.type.endswith(("_open", "_close", "break")):   # a footnote call, an image
                    pieces.append([])
            runs += [Run("".join(p), bool(in_footnote)) for p in pieces if squeeze("".join(p))]
    return runs


@dataclass(frozen=True)
class TextMatch:
    """One engine's body text against the edition's."""
    engine: str
    characters: int             # the edition's, in its runs, whitespace aside
    wrong: str                  # where the first missing, extra or wrong character is ("" if none)
    spaces: list[str]           # each space put between two Chinese characters where the edition has none

    @property
    def passed(self) -> bool:
        return not self.wrong and not self.spaces

    def __str__(self) -> str:
        if self.passed:
            return f"{self.engine} {self.characters:,} characters, the same"
        problems = [self.wrong] if self.wrong else []
        if self.spaces:
            problems.append(f"{len(self.spaces)} spaces between Chinese characters: "
                            + ", ".join(f"「{s}」" for s in self.spaces[:3]))
        return f"{self.engine} " + "; ".join(problems)


def _gaps(text: str) -> tuple[str, set[int]]:
    """The text without whitespace, and the positions in it that a space within a line precedes (not
    a line break: a line of a PDF ends where it ends)."""
    chars, spaces = [], set()
    for piece in re.split(r"(\s+)", text):
        if piece.isspace() and "\n" not in piece:
            spaces.add(len(chars))
        elif not piece.isspace():
            chars.extend(piece)
    return "".join(chars), spaces


def _difference(got: str, start: int, run: str) -> str:
    """Where a run is not found: from where its first characters are, the first character that differs."""
    at = got.find(run[:2], start)
    if at < 0:
        return f"「{run[:16]}…」 not found"
    n = next((i for i, (a, b) in enumerate(zip(got[at:], run)) if a != b), min(len(run), len(got) - at))
    return f"「{got[at + max(0, n - 8):at + n + 8]}」 where the edition has 「{run[max(0, n - 8):n + 8]}」"


# A footnote's mark as the layouts draw it, at its call (raised) and before its note: ①–⑳, or [21] past
# them (notes.mark). Not the edition's text, and Ghostscript's txtwrite puts a raised call on a line of
# its own, before the line it is drawn on. Taken out of the edition's runs too, which may hold ① as text.
FOOTNOTE_CALL = re.compile(r"\[\d+\]|[\u2460-\u2473]")


def _without(got: str, spaces: set[int], spans: list[tuple[int, int]]) -> tuple[str, set[int]]:
    """The text with the spans (start, end) taken out, and the positions of its spaces moved to match."""
    kept, moved, removed, at = [], set(), 0, 0
    for start, end in sorted(spans):
        if start < at:            # a note found inside another one's span: already out
            continue
        kept.append(got[at:start])
        moved |= {i - removed for i in spaces if at <= i < start}
        removed += end - start
        at = end
    kept.append(got[at:])
    moved |= {i - removed for i in spaces if i >= at}
    return "".join(kept), moved


def _pieces(got: str, text: str) -> list[tuple[int, int]] | None:
    """Where a footnote's text is, in order: whole, or, for a note continued at the next page's foot, in
    pieces each as long as it can be (at least MIN_PIECE characters, but for the last): None if not."""
    pieces, at = [], 0
    while text:
        low, high = 0, len(text)          # the longest prefix found after `at` (a shorter one is too)
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if got.find(text[:mid], at) >= 0 else (low, mid - 1)
        if low == 0 or (low < min(MIN_PIECE, len(text))):
            return None
        start = got.find(text[:low], at)
        pieces.append((start, start + low))
        at, text = start + low, text[low:]
    return pieces


MIN_PIECE = 10


def match_text(engine: str, extracted: str, runs: list[Run]) -> TextMatch:
    """Whitespace aside, each run of the edition is in the extracted text, character for character, in
    the edition's order (a footnote's anywhere, in pieces if it goes on overleaf); and no space stands
    between two Chinese characters (Han or full-width marks) of a run where the edition has none. The
    footnotes are found first and taken out: drawn at a page's foot, a note stands inside the text of a
    paragraph that goes on overleaf."""
    from .proof import CJK

    got, spaces = _gaps(FOOTNOTE_CALL.sub("", extracted))
    wrong, inserted, notes = "", [], []

    def check_spaces(found: int, text: str, expected: set[int]) -> None:
        inserted.extend(got[max(0, i - 6):i] + " " + got[i:i + 6] for i in sorted(spaces)
                        if found < i < found + len(text) and i - found not in expected
                        and CJK.match(got[i - 1]) and CJK.match(got[i]))

    for run in runs:
        if run.footnote:
            text, expected = _gaps(FOOTNOTE_CALL.sub("", run.text))
            pieces = _pieces(got, text)
            if pieces is None:
                wrong = wrong or _difference(got, 0, text)
                continue
            if len(pieces) == 1:
                check_spaces(pieces[0][0], text, expected)
            notes += pieces
    got, spaces = _without(got, spaces, notes)
    at = 0
    for run in runs:
        if run.footnote:
            continue
        text, expected = _gaps(FOOTNOTE_CALL.sub("", run.text))
        found = got.find(text, at)
        if found < 0:
            wrong = wrong or _difference(got, at, text)
            continue
        check_spaces(found, text, expected)
        at = found + len(text)
    return TextMatch(engine, sum(len(squeeze(r.text)) for r in runs), wrong, inserted)


def first_body_page(pdf: Path, title: str) -> int | None:
    """The 0-based page the first chapter starts on, from the outline; None if the file has none (a cover)."""
    import pikepdf

    with pikepdf.open(pdf) as document:
        pages = {page.objgen: number for number, page in enumerate(document.pages)}
        with document.open_outline() as outline:
            for item in outline.root:
                if item.title == title and item.destination is not None:
                    return pages.get(item.destination[0].objgen)
    return None


def text_matches(pdf: Path, drawings: dict[str, Drawing], runs: list[Run], first: int) -> list[TextMatch]:
    """Every engine's text of the body pages (page `first`, 0-based, to the end; running heads and
    folios aside) against the edition's runs."""
    margins = margin_lines(pdf)
    return [match_text(engine, "\n".join(body_text(text, margins[n] if n < len(margins) else [])
                                         for n, text in enumerate(drawing.texts) if n >= first), runs)
            for engine, drawing in drawings.items()]


def _edition_texts(book: Path) -> dict[str, tuple[list[Run], str]]:
    """Per edition of the book: (its runs, its first chapter's title)."""
    from ..stages import manuscript
    from ..build import labels
    from ..stages.edition import make

    source = manuscript.load(book)
    texts = {}
    for name in source.editions:
        edition = make(source, name, labels(source))
        texts[name] = edition_runs(edition.chapters), edition.chapters[0].title
    return texts


def _edition_of(pdf: Path, names) -> str:
    import pikepdf

    with pikepdf.open(pdf) as document:
        lang = str(document.Root.get("/Lang", ""))
    # an edition's tag may name a region after its name: zh-Hant-TW is the zh-Hant edition
    for name in names:
        if lang == name or lang.startswith(name + "-"):
            return name
    raise PublishError(f"the PDF's language {lang or '(none)'} is none of the book's editions "
                       f"({', '.join(names)})", pdf, hint="check it with --book set to the book it was built from")


def _pages_count(n: int) -> str:
    return f"{n} page" + ("s" if n != 1 else "")


def check(paths: list[Path], book: Path) -> list[CheckResult]:
    """Two lines per PDF: the five engines draw it alike and print nothing; each one's text of the body
    pages is the edition's (a cover has no body pages: its text is not compared)."""
    editions = _edition_texts(book)
    results = []
    with PdfJs() as pdfjs:
        for path in paths:
            if not path.is_file():
                raise PublishError("file not found: run make pdf first", path)
            runs, first_title = editions[_edition_of(path, editions)]
            drawings = draw(path, pdfjs=pdfjs)
            found = agreements(drawings)
            results.append(CheckResult(path, "engines", all(a.passed for a in found),
                                       f"{_pages_count(len(drawings[REFERENCE].pages))} at {DPI} dpi; largest difference "
                                       f"from poppler: " + ", ".join(str(a) for a in found if a.engine != REFERENCE)))
            if len(drawings[REFERENCE].pages) == 1:        # a cover sheet
                results.append(CheckResult(path, "engine-text", True, "no body pages (a cover)"))
                continue
            first = first_body_page(path, first_title)
            if first is None:
                results.append(CheckResult(path, "engine-text", False, f"the first chapter, 「{first_title}」, is "
                                           "not in the PDF's outline: is the PDF one of this book's?"))
                continue
            matches = text_matches(path, drawings, runs, first)
            results.append(CheckResult(path, "engine-text", all(m.passed for m in matches), "; ".join(map(str, matches))))
    return results

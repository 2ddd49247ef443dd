"""EPUB documents seen in a real browser engine: Debian's headless Chromium, driven over the DevTools
protocol (Playwright), for proof images and for checks a reader's eye would make."""
from __future__ import annotations

import base64
import http.server
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import PublishError

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# No network, no first-run or update traffic: this machine (and CI) reaches nothing outside.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 600, "height": 900}   # a phone-sized first screen

# Where the first two characters of the first paragraph sit says which way the text runs.
FLOW = """() => {
  const mode = getComputedStyle(document.documentElement).writingMode;
  const p = document.querySelector("p") || document.querySelector("h1") || document.querySelector("dd");
  const node = p && document.createTreeWalker(p, NodeFilter.SHOW_TEXT).nextNode();
  if (!node || node.length < 2) return {dx: 0, dy: 0, mode: mode};
  const at = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                      return r.getBoundingClientRect(); };
  const a = at(0), b = at(1);
  return {dx: b.left - a.left, dy: b.top - a.top, mode: mode};
}"""

# Numbers set upright side by side take one character's square: no longer along the line than 1.1 em.
UPRIGHT = """() => [...document.querySelectorAll(".tcy")].map(e => {
  const r = e.getBoundingClientRect(), em = parseFloat(getComputedStyle(e).fontSize);
  return (getComputedStyle(document.documentElement).writingMode.startsWith("vertical") ? r.height : r.width) <= 1.1 * em;
})"""

# A label (<dt>) and its value (<dd>) start the same line, or the same column in vertical text: how far
# apart their line starts are, in CSS pixels, per pair.
LABEL_OFFSETS = """() => [...document.querySelectorAll("dt")].map(dt => {
  const a = dt.getBoundingClientRect(), b = dt.nextElementSibling.getBoundingClientRect();
  return getComputedStyle(dt).writingMode.startsWith("vertical") ? Math.abs(a.right - b.right) : Math.abs(a.top - b.top);
})"""


@dataclass(frozen=True)
class DocumentView:
    file: str                      # the document's path in the EPUB
    writing_mode: str              # computed on <html>
    vertical: bool                 # characters really advance downwards, columns right to left
    fonts: dict[str, int]          # PostScript name -> glyphs drawn with it
    fallback: dict[str, int]       # system fonts Chromium fell back to (must be empty)
    png: bytes                     # the first screen
    upright_numbers: list[bool]    # per .tcy span: does it take one character's square?
    text: str                      # what it shows as text (innerText of <body>)
    label_offsets: list[float]     # per <dt>: distance between its line and its <dd>'s (0: side by side)


def _spine(root: Path) -> list[str]:
    container = etree.parse(str(root / "META-INF" / "container.xml"))
    opf_path = container.find(".//{*}rootfile").get("full-path")
    opf = etree.parse(str(root / opf_path))
    items = {i.get("id"): i.get("href") for i in opf.iterfind(".//{*}manifest/{*}item")}
    base = Path(opf_path).parent
    return [str(base / items[ref.get("idref")]) for ref in opf.iterfind(".//{*}spine/{*}itemref")]


def view_epub(epub: Path) -> list[DocumentView]:
    """Open every spine document of the EPUB in Chromium; what it drew, and with which fonts."""
    if not Path(CHROMIUM).exists():
        raise PublishError(f"Chromium not found at {CHROMIUM}", hint="apt-get install chromium (or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    views = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        root = Path(tmp) / "epub"
        with zipfile.ZipFile(epub) as z:
            z.extractall(root)
        profile = Path(tmp) / "profile"
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True, viewport=VIEWPORT)
        try:
            page = browser.new_page()
            cdp = browser.new_cdp_session(page)
            for file in _spine(root):
                page.goto((root / file).as_uri())
                page.evaluate("document.fonts.ready.then(() => true)")
                flow = page.evaluate(FLOW)
                cdp.send("DOM.enable")
                cdp.send("CSS.enable")
                document = cdp.send("DOM.getDocument", {"depth": -1})
                nodes = cdp.send("DOM.querySelectorAll", {"nodeId": document["root"]["nodeId"], "selector": "body *"})
                fonts: dict[str, int] = {}
                fallback: dict[str, int] = {}
                for node in nodes["nodeIds"]:
                    for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                        used = fonts if font["isCustomFont"] else fallback
                        used[font["postScriptName"]] = used.get(font["postScriptName"], 0) + font["glyphCount"]
                # Page.captureScreenshot, not Playwright's screenshot: the latter draws vertical-rl pages blank.
                png = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])
                views.append(DocumentView(file, flow["mode"], flow["dy"] > 0 and abs(flow["dx"]) < 1,
                                          fonts, fallback, png, page.evaluate(UPRIGHT),
                                          page.evaluate("document.body.innerText"), page.evaluate(LABEL_OFFSETS)))
        finally:
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)
    return views


EPUBJS = Path(__file__).resolve().parents[3] / "node_modules"   # epubjs and its jszip (npm ci: make)
# epub.js, as a web reader runs it: the book from its zip, every spine document and landmark it finds,
# and the text it shows for each one it is asked to display.
EPUBJS_PAGE = """<!DOCTYPE html><meta charset="utf-8">
<script src="jszip.min.js"></script><script src="epub.min.js"></script>
<div id="area" style="width: 600px; height: 800px"></div>
<script>
window.reading = (async () => {
  const book = ePub("book.epub");
  const rendition = book.renderTo("area", {width: 600, height: 800});
  await book.ready;
  const navigation = await book.loaded.navigation;
  const shown = {};
  for (const item of book.spine.spineItems) {
    await rendition.display(item.href);
    shown[item.href] = rendition.getContents()[0].document.body.innerText;
  }
  return {landmarks: navigation.landmarks.map(l => [l.type, l.href]), shown: shown};
})();
</script>"""


@dataclass(frozen=True)
class Reading:
    landmarks: list[tuple[str, str]]   # epub:type, href, as epub.js lists the navigation's landmarks
    shown: dict[str, str]              # spine document -> the text epub.js displayed for it


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):   # a request line per file on stderr says nothing to the reader
        pass


def read_in_epubjs(epub: Path) -> Reading:
    """Open the EPUB in epub.js (the reader many web and app readers are built on) in Chromium, served over
    HTTP from a temporary folder as a web reader would, and display every spine document."""
    import threading
    from functools import partial

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(epub, folder / "book.epub")
        shutil.copy(EPUBJS / "epubjs" / "dist" / "epub.min.js", folder)
        shutil.copy(EPUBJS / "jszip" / "dist" / "jszip.min.js", folder)
        (folder / "index.html").write_text(EPUBJS_PAGE, encoding="utf-8")
        handler = partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
                try:
                    page = browser.new_page(viewport=VIEWPORT)
                    page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                    result = page.evaluate("window.reading")
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
    return Reading([tuple(pair) for pair in result["landmarks"]], result["shown"])

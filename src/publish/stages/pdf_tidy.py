"""What every PDF the pipeline writes gets after WeasyPrint, with pikepdf: each font subset named after its
own program, each image after its own data, and no colour space declared that nothing draws with.

- WeasyPrint names a subset (`ZUFEMT+NotoSerifCJKsc-Regular`) from a hash of the font's Pango description
  only, so the interior and the cover of one edition carry two different subsets under one name; a RIP
  that caches fonts by name across a ganged job would print one file with the other's glyphs. Here the
  six letters come from the embedded program's bytes: one name, one program, in every file.
- Structure elements with an ID (a Note, weasyprint_ua) are mapped in the structure tree root's IDTree,
  which ISO 32000 requires when any element has one.
- WeasyPrint names an image `/i` + the MD5 of its URL, an absolute file path: the same book built in
  another folder gave other bytes. Here the name comes from the image's data.
- WeasyPrint declares its Lab colour spaces and the CMYK profile on every page's resources whether the
  page draws with them or not; a preflight lists each as an unused colour space.
"""
from __future__ import annotations

import hashlib
import io
import re

import pikepdf

SUBSET_NAME = re.compile(r"^[A-Z]{6}\+")
FONT_PROGRAMS = ("/FontFile", "/FontFile2", "/FontFile3")
COLOUR_SPACE_OPERATORS = {"cs", "CS"}
SELECTING_OPERATORS = "cs CS Do BI ID EI"   # what _select_colour_spaces reads: colour spaces, forms, inline images
IMAGE_NAME = re.compile(rb"/i[0-9a-f]{32}[01]")   # WeasyPrint's: MD5 of the URL, then the interpolation flag


def subset_tag(program: bytes) -> str:
    """Six capital letters from the font program's SHA-256: the same program gets the same tag."""
    return "".join(chr(ord("A") + byte % 26) for byte in hashlib.sha256(program).digest()[:6])


def font_program(font: pikepdf.Dictionary) -> pikepdf.Stream | None:
    """The embedded program of a font (of its descendant, for a Type0 font), or None."""
    leaf = font.DescendantFonts[0] if "/DescendantFonts" in font else font
    descriptor = leaf.get("/FontDescriptor")
    if descriptor is None:
        return None
    return next((descriptor[key] for key in FONT_PROGRAMS if key in descriptor), None)


def name_subsets_by_program(pdf: pikepdf.Pdf) -> None:
    """Every subset prefix in BaseFont and FontName replaced by the tag of the program embedded."""
    for font in [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Font"]:
        program = font_program(font)
        if program is None:
            continue
        tag = subset_tag(program.read_bytes())
        leaf = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        for owner, key in ((font, "/BaseFont"), (leaf, "/BaseFont"), (leaf.FontDescriptor, "/FontName")):
            name = str(owner.get(key, ""))[1:]
            if SUBSET_NAME.match(name):
                owner[key] = pikepdf.Name("/" + tag + name[6:])


def name_images_by_data(pdf: pikepdf.Pdf) -> None:
    """Every image XObject WeasyPrint named after its URL renamed after the SHA-256 of its data, in the
    resources that declare it and the content streams (pages, forms, patterns) that draw it."""
    named: dict[bytes, bytes] = {}
    holders = [o for o in pdf.objects if isinstance(o, (pikepdf.Dictionary, pikepdf.Stream)) and "/XObject" in o]
    for holder in holders:
        images = holder.XObject
        for name in list(images.keys()):
            if not (IMAGE_NAME.fullmatch(name.encode()) and images[name].get("/Subtype") == "/Image"):
                continue
            digest = hashlib.sha256(images[name].read_raw_bytes()).hexdigest()[:32]
            new = named.setdefault(name.encode(), f"/i{digest}{name[-1]}".encode())
            if new != name.encode():   # a file tidied before (stages/pieces.py joins tidied pieces)
                images[new.decode()] = images[name]
                del images[name]
    if not named:
        return
    drawers = [p.obj for p in pdf.pages] + [o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                                            and (o.get("/Subtype") == "/Form" or o.get("/PatternType") == 1)]
    for drawer in drawers:
        contents = drawer.Contents if "/Contents" in drawer else drawer
        for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
            data = stream.read_bytes()
            renamed = IMAGE_NAME.sub(lambda m: named.get(m.group(), m.group()), data)
            if renamed != data:
                stream.write(renamed)


def _select_colour_spaces(stream, resources, page: int, used: dict, active: frozenset) -> None:
    """Add to used[resources] the colour space names `stream` selects and its page number, following its
    forms and tiling patterns (each with the resources it names)."""
    key = resources.objgen if resources.is_indirect else id(resources)
    _, names, pages = used.setdefault(key, (resources, set(), set()))
    pages.add(page)
    # Only the operators read here: qpdf then makes no Python object for the text's many others.
    for operands, operator in pikepdf.parse_content_stream(stream, SELECTING_OPERATORS):
        op = str(operator)
        if op in COLOUR_SPACE_OPERATORS:
            names.add(str(operands[0]))
        elif op == "INLINE IMAGE":
            space = operands[0].obj.get("/CS", operands[0].obj.get("/ColorSpace"))
            if isinstance(space, pikepdf.Name):
                names.add(str(space))
        elif op == "Do":
            form = resources.get("/XObject", {}).get(operands[0])
            if form is not None and form.get("/Subtype") == "/Form" and form.objgen not in active:
                _select_colour_spaces(form, form.get("/Resources", resources), page, used, active | {form.objgen})
    for pattern in resources.get("/Pattern", {}).values():
        if pattern.get("/PatternType") == 1 and pattern.objgen not in active:
            _select_colour_spaces(pattern, pattern.get("/Resources", pikepdf.Dictionary()), page, used,
                                  active | {pattern.objgen})


def unused_colour_spaces(pdf: pikepdf.Pdf) -> list[tuple[pikepdf.Dictionary, list[str], list[int]]]:
    """(resource dictionary, the colour space names it declares that nothing drawn with it selects, the
    pages drawn with it) for each resource dictionary of the pages, their forms and their patterns."""
    used: dict = {}
    for number, page in enumerate(pdf.pages, 1):
        _select_colour_spaces(page, page.obj.get("/Resources", pikepdf.Dictionary()), number, used, frozenset())
    return [(resources, [n for n in resources.get("/ColorSpace", {}).keys() if n not in names], sorted(pages))
            for resources, names, pages in used.values()]


def drop_unused_colour_spaces(pdf: pikepdf.Pdf) -> None:
    """Each resource dictionary keeps only the colour spaces its pages, forms and patterns select
    (WeasyPrint's pages share one dictionary: what any of them selects stays)."""
    for resources, unused, _ in unused_colour_spaces(pdf):
        for name in unused:
            del resources.ColorSpace[name]
        if "/ColorSpace" in resources and not len(resources.ColorSpace):
            del resources["/ColorSpace"]


def map_element_ids(pdf: pikepdf.Pdf) -> None:
    """The structure tree root's IDTree: every structure element's /ID -> the element, sorted by ID."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return
    named = sorted((bytes(o.ID), o) for o in pdf.objects
                   if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem" and "/ID" in o)
    if named:
        root.IDTree = pikepdf.Dictionary(Names=pikepdf.Array([x for key, o in named for x in (pikepdf.String(key), o)]))


def tidy(data: bytes) -> bytes:
    """A PDF as WeasyPrint wrote it (uncompressed), tidied and compressed (the screen PDF's path;
    press.finish does the same on the print files it opens anyway)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return tidied(pdf)


def tidied(pdf: pikepdf.Pdf, colour_spaces: bool = True) -> bytes:
    """`tidy` of an open PDF (stages/pieces.py joins the screen PDF's tidied pieces into one, whose unused
    colour spaces are gone already: `colour_spaces=False`), saved."""
    name_subsets_by_program(pdf)
    name_images_by_data(pdf)
    if colour_spaces:
        drop_unused_colour_spaces(pdf)
    map_element_ids(pdf)
    if "/ID" in pdf.trailer:   # WeasyPrint's hashes what it wrote, image names and all: qpdf's, what is saved
        del pdf.trailer["/ID"]
    out = io.BytesIO()
    # Object streams, as WeasyPrint writes them compressed: the structure tree is hundreds of small
    # dictionaries.
    pdf.save(out, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()

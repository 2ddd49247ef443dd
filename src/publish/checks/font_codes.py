"""Each code a PDF's text uses, resolved to a glyph as ISO 32000-1 tells a reader to, must be the glyph
of the character the font's ToUnicode map gives for it.

Tolerant readers (poppler, pdfium, pdf.js) take a Type 0 font's codes as glyph indices whatever the
font program says; Ghostscript and MuPDF, and the RIPs built on them, follow the standard: code → CID
through the Encoding CMap (9.7.5), CID → glyph through the CFF charset of a CIDFontType0 (9.7.4.2) or
the CIDToGIDMap of a CIDFontType2. A font whose charset is not what the codes assume prints boxes or
other characters on paper while every tolerant tool shows the right text, so this check reads the
font program itself.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pikepdf
from fontTools.cffLib import CFFFontSet
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

TEXT_OPERATORS = {"Tj", "'", '"', "TJ"}


@dataclass
class FontCodes:
    """What one resolved font says: its name, how many codes were used, and every bad one."""
    name: str
    used: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FontCodeReport:
    fonts: int
    codes: int
    problems: list[str]          # "page 8: /ABCDEF+Font code <0123> …", first found first

    @property
    def passed(self) -> bool:
        return not self.problems


def check(pdf: pikepdf.Pdf) -> FontCodeReport:
    fonts: dict[tuple, FontCodes] = {}
    first_page: dict[tuple, int] = {}
    for number, page in enumerate(pdf.pages, 1):
        appearances = [a.get("/AP", {}).get("/N") for a in page.obj.get("/Annots", [])]
        for stream in [page.obj, *(a for a in appearances if isinstance(a, pikepdf.Stream))]:
            for font, codes in _used_codes(stream, stream.get("/Resources", pikepdf.Dictionary()), set()):
                entry = fonts.setdefault(font.objgen, FontCodes(str(font.get("/BaseFont", "?"))))
                entry.used |= codes
                first_page.setdefault(font.objgen, number)
    problems = []
    for key, entry in fonts.items():
        font = pdf.get_object(key)
        for problem in _resolve(font, entry):
            problems.append(f"page {first_page[key]}: {entry.name} {problem}")
    return FontCodeReport(len(fonts), sum(len(e.used) for e in fonts.values()), problems)


def _used_codes(stream, resources, active):
    """(font object, codes) for every text-showing operator in a content stream and the forms it draws."""
    font = None
    font_stack = []
    found: dict[tuple, tuple[pikepdf.Object, set[int]]] = {}
    for operands, operator in pikepdf.parse_content_stream(stream):
        op = str(operator)
        if op == "q":
            font_stack.append(font)
        elif op == "Q" and font_stack:
            font = font_stack.pop()
        elif op == "Tf":
            font = resources.get("/Font", {}).get(operands[0])
        elif op in TEXT_OPERATORS and font is not None and font.is_indirect:
            strings = operands[0] if op == "TJ" else operands[-1:]
            entry = found.setdefault(font.objgen, (font, set()))
            for string in strings:
                if isinstance(string, pikepdf.String):
                    entry[1].update(_codes(font, bytes(string)))
        elif op == "Do":
            xobject = resources.get("/XObject", {}).get(operands[0])
            if xobject is not None and xobject.get("/Subtype") == "/Form" and xobject.objgen not in active:
                yield from _used_codes(xobject, xobject.get("/Resources", resources), active | {xobject.objgen})
    yield from found.values()


def _codes(font, data: bytes) -> list[int]:
    if font.get("/Subtype") == "/Type0":        # the CMaps this check reads use 2-byte codes
        return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
    return list(data)


def _resolve(font, entry: FontCodes) -> list[str]:
    subtype = str(font.get("/Subtype"))
    if subtype == "/Type3":
        return []                                # its glyphs are content streams in the file itself
    if subtype != "/Type0":
        return [f"is a simple {subtype[1:]} font; only Type 0 (CID) fonts are checked"]
    descendant = font.DescendantFonts[0]
    to_cid = _encoding(font.get("/Encoding"))
    if isinstance(to_cid, str):
        return [to_cid]
    to_unicode = _to_unicode(font.get("/ToUnicode"))
    program = _program(descendant)
    if isinstance(program, str):
        return [program]
    cid_to_gid, glyph_count, cmap, has_ink = program
    # Tolerant readers take a CIDFontType0's CIDs as glyph indices; a strict one must agree with them.
    tolerant = str(descendant.get("/Subtype")) == "/CIDFontType0"
    glyph_of = {gid: cp for cp, gid in sorted(cmap.items(), reverse=True)}   # lowest code point wins
    problems = []
    for code in sorted(entry.used):
        cid = to_cid(code)
        gid = cid_to_gid(cid) if cid is not None else None
        text = to_unicode.get(code, "")
        says = f"ToUnicode {text} ({', '.join(f'U+{ord(c):04X}' for c in text)})" if text else "no ToUnicode"
        where = f"code <{code:04X}> → CID {cid} → glyph {gid}"
        own = cmap.get(ord(text)) if len(text) == 1 else None
        if cid is None:
            problems.append(f"code <{code:04X}> is not in its Encoding CMap; {says}")
        elif gid is None or gid >= glyph_count:
            problems.append(f"{where}: the font program has no such CID or glyph (drawn as .notdef); {says}")
        elif gid == 0:
            problems.append(f"{where} (.notdef, drawn as a box); {says}")
        elif text.strip() and not has_ink(gid):
            problems.append(f"{where}, which draws nothing; {says}")
        elif tolerant and gid != cid:
            problems.append(f"{where}, but poppler, pdfium and pdf.js draw glyph {cid}; {says}")
        elif own is not None and own != gid and gid in glyph_of:
            # A glyph no character maps to is a substituted form (locl, vert) and taken on trust; one
            # that is another character's glyph prints that character.
            problems.append(f"{where}, the glyph of {chr(glyph_of[gid])} (U+{glyph_of[gid]:04X}); {says}")
    return problems


def _encoding(encoding):
    """code → CID, or a sentence saying why the Encoding cannot be read."""
    if encoding in (pikepdf.Name("/Identity-H"), pikepdf.Name("/Identity-V")):
        return lambda code: code
    if isinstance(encoding, pikepdf.Stream):
        table = {}
        data = encoding.read_bytes().decode("latin-1")
        for block in re.findall(r"begincidchar(.*?)endcidchar", data, re.S):
            for code, cid in re.findall(r"<([0-9a-fA-F]+)>\s+(\d+)", block):
                table[int(code, 16)] = int(cid)
        for block in re.findall(r"begincidrange(.*?)endcidrange", data, re.S):
            for low, high, cid in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s+(\d+)", block):
                for offset in range(int(high, 16) - int(low, 16) + 1):
                    table[int(low, 16) + offset] = int(cid) + offset
        return table.get
    return f"has the Encoding {encoding}, which this check does not read"


def _to_unicode(stream) -> dict[int, str]:
    if not isinstance(stream, pikepdf.Stream):
        return {}
    data = stream.read_bytes().decode("latin-1")
    table = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            table[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be", "replace")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(text, 16)
            for offset in range(int(high, 16) - int(low, 16) + 1):
                table[int(low, 16) + offset] = chr(start + offset)
    return table


def _program(descendant):
    """(CID → glyph index, glyph count, the program's own cmap, glyph index → has an outline) for a
    CIDFont, or a sentence saying why it cannot be read."""
    descriptor = descendant.get("/FontDescriptor", {})
    subtype = str(descendant.get("/Subtype"))
    if subtype == "/CIDFontType2" and "/FontFile2" in descriptor:
        font = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()), lazy=True)
        mapping = descendant.get("/CIDToGIDMap", pikepdf.Name.Identity)
        if isinstance(mapping, pikepdf.Stream):
            data = mapping.read_bytes()
            to_gid = lambda cid: int.from_bytes(data[2 * cid:2 * cid + 2], "big") if 2 * cid < len(data) else None
        else:
            to_gid = lambda cid: cid
        return to_gid, font["maxp"].numGlyphs, _cmap(font), _ink(font.getGlyphSet(), font.getGlyphOrder())
    if subtype == "/CIDFontType0" and "/FontFile3" in descriptor:
        stream = descriptor.FontFile3
        if stream.get("/Subtype") == "/OpenType":
            font = TTFont(io.BytesIO(stream.read_bytes()), lazy=True)
            top, cmap = font["CFF "].cff.topDictIndex[0], _cmap(font)
        else:                                    # /CIDFontType0C: a bare CFF
            cff = CFFFontSet()
            cff.decompile(io.BytesIO(stream.read_bytes()), None)
            top, cmap = cff.topDictIndex[0], {}
        charset = list(top.charset)
        ink = _ink(top.CharStrings, charset)
        if hasattr(top, "ROS"):                  # CID-keyed: the charset gives each glyph's CID
            cid_to_gid = {0: 0}
            for gid, name in enumerate(charset[1:], 1):
                cid_to_gid[int(name[3:])] = gid
            return cid_to_gid.get, len(charset), cmap, ink
        return (lambda cid: cid), len(charset), cmap, ink   # name-keyed CFF in a CIDFont: CID = glyph index
    return f"is a {subtype[1:]} whose font program this check does not read"


def _cmap(font: TTFont) -> dict[int, int]:
    return {cp: font.getGlyphID(name) for cp, name in (font.getBestCmap() or {}).items()}


def _ink(glyphs, order: list[str]):
    """glyph index → whether drawing it marks the page (MuPDF draws nothing for an empty glyph)."""
    def has_ink(gid: int) -> bool:
        pen = BoundsPen(None)
        glyphs[order[gid]].draw(pen)
        return pen.bounds is not None
    return has_ink

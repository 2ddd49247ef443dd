#!/usr/bin/env python3
"""Build the committed Noto Serif CJK subsets in this directory.

Usage (from the repository root):

    python fonts/make_subsets.py [--src-dir DIR] [--jobs N]

Needs:
    apt-get install fonts-noto-cjk      # the source TTCs
    pip install fonttools opencc        # subsetter + OpenCC converter

Reads NotoSerifCJK-{Regular,Bold}.ttc from /usr/share/fonts/opentype/noto/
(override with --src-dir) and writes, next to this script:

    NotoSerifCJKsc-Regular.otf  NotoSerifCJKsc-Bold.otf   (Simplified Chinese face)
        GB 2312 + the common punctuation/symbol set below.
    NotoSerifCJKtc-Regular.otf  NotoSerifCJKtc-Bold.otf   (Traditional Chinese face)
        Big5 + every character OpenCC (s2t, s2tw, s2twp, s2hk) produces from
        GB 2312 + the common punctuation/symbol set below.

Output is plain OTF (CFF), with the CJK layout features (vertical forms,
half-width/proportional punctuation, kern, locl -- the latter only for the
Chinese language systems each face serves, see LOCL_LANGUAGES) and the
vertical metrics tables kept, hints dropped.  Output is byte-for-byte reproducible: the head
timestamps are copied from the source font (or taken from SOURCE_DATE_EPOCH
if that is set).  After writing, each file is re-opened and checked; the
script exits non-zero if a required character or feature is missing.

The fonts are licensed under the SIL Open Font License 1.1 (see OFL.txt);
the family names are kept unchanged, which the OFL allows because Noto CJK
declares no Reserved Font Name.
"""

import argparse
import hashlib
import io
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import opencc
from fontTools import subset
from fontTools.misc.timeTools import epoch_diff
from fontTools.ttLib import TTCollection, TTFont

OUT_DIR = Path(__file__).resolve().parent
DEFAULT_SRC_DIR = Path("/usr/share/fonts/opentype/noto")

# (output file, source TTC, family name of the face inside the TTC, charset)
# The face is found by its family name (name ID 1), not by a hard-coded index,
# so a reordered TTC cannot silently give us the wrong language's glyphs.
JOBS = [
    ("NotoSerifCJKsc-Regular.otf", "NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "sc"),
    ("NotoSerifCJKsc-Bold.otf", "NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC", "sc"),
    ("NotoSerifCJKtc-Regular.otf", "NotoSerifCJK-Regular.ttc", "Noto Serif CJK TC", "tc"),
    ("NotoSerifCJKtc-Bold.otf", "NotoSerifCJK-Bold.ttc", "Noto Serif CJK TC", "tc"),
]

OPENCC_CONFIGS = ["s2t", "s2tw", "s2twp", "s2hk"]

# The Noto CJK faces give each language system (JAN, KOR, ZHS, ZHT, ZHH) its
# own `locl` lookups that swap in that region's glyph forms.  Keeping all of
# them drags in the Japanese/Korean/other-Chinese variants of thousands of
# hanzi (+70% glyphs in SC, +98% in TC).  We keep `locl` only for the
# languages each subset is meant for: SC text is zh-Hans; TC text is zh-Hant /
# zh-TW, or zh-HK, where `locl` gives the Hong Kong forms (OpenCC s2hk
# output).  Other languages keep every other feature and fall back to the
# face's default (SC or TW) glyphs.  Set to None to keep `locl` everywhere.
LOCL_LANGUAGES = {"sc": {"ZHS"}, "tc": {"ZHT", "ZHH"}}

# GSUB: vert/vrt2 (vertical glyphs), locl (per-language glyphs), the width
# variants and ccmp.  GPOS: halt/palt/vhal/vpal (punctuation squeezing, what
# CSS text-spacing-trim / font-feature-settings use), kern/vkrn, mark.
# liga/dlig/aalt/hist/ruby are left out on purpose.
LAYOUT_FEATURES = [
    "ccmp", "locl", "vert", "vrt2", "fwid", "hwid", "pwid",
    "halt", "palt", "vhal", "vpal", "kern", "vkrn", "mark", "mkmk",
]
# All four files together must stay within this (repository size budget).
SIZE_BUDGET = 40 * 1000 * 1000
# Features whose absence after subsetting is an error (table, tag).
REQUIRED_FEATURES = [
    ("GSUB", "vert"), ("GSUB", "vrt2"), ("GSUB", "locl"),
    ("GPOS", "halt"), ("GPOS", "palt"), ("GPOS", "vhal"), ("GPOS", "vpal"),
]
# The subsetter keeps these by default; they are checked because vertical
# writing in WeasyPrint/e-readers breaks without them.
REQUIRED_TABLES = ["CFF ", "GSUB", "GPOS", "vhea", "vmtx", "VORG", "name", "OS/2"]


def cp_range(first, last):
    return set(range(first, last + 1))


# Punctuation and symbols every book needs, whatever the script variant.
COMMON = set()
COMMON |= cp_range(0x0020, 0x007E)   # ASCII printable
COMMON |= cp_range(0x00A0, 0x00FF)   # NBSP, Latin-1 punctuation and letters (incl. U+00B7)
COMMON |= cp_range(0x2010, 0x2027)   # dashes, quotes, ellipsis, U+2022, U+2027
COMMON |= cp_range(0x2030, 0x203B)   # per mille, primes, reference mark
COMMON |= {0x2E3A, 0x2E3B}           # two-/three-em dash
COMMON |= cp_range(0x3000, 0x303F)   # CJK symbols and punctuation
COMMON |= cp_range(0xFF01, 0xFF5E)   # full-width ASCII
COMMON |= cp_range(0xFF5F, 0xFFEF)   # full-width brackets, half-width forms
COMMON |= {0x25A1, 0x25CB, 0x25CF}   # white square, white/black circle
COMMON |= cp_range(0x2460, 0x2473)   # circled 1-20 (footnote marks)
COMMON |= cp_range(0xFE10, 0xFE19)   # vertical punctuation forms
COMMON |= cp_range(0xFE30, 0xFE4F)   # CJK compatibility (vertical) forms


def decode_double_byte(codec, leads, trails):
    """Every character a 2-byte code of a legacy encoding decodes to."""
    chars = set()
    for lead in leads:
        for trail in trails:
            try:
                text = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            chars.update(text)
    return chars


def gb2312_chars():
    return decode_double_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))


def big5_chars():
    trails = list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
    return decode_double_byte("big5", range(0x81, 0xFF), trails)


def make_converter(name):
    # The pip `opencc` package accepts "s2tw" or "s2tw.json"; older builds and
    # the libopencc C API want the .json file name, so try that first.
    for config in (name + ".json", name):
        try:
            return opencc.OpenCC(config)
        except Exception:  # noqa: BLE001 - wrapper raises various types
            continue
    raise RuntimeError(f"OpenCC config {name!r} not available")


def opencc_outputs(source_chars):
    """All characters OpenCC emits for `source_chars`, one at a time and as one
    string (phrase tables can pick different characters in context)."""
    ordered = sorted(source_chars)
    out = set()
    for name in OPENCC_CONFIGS:
        conv = make_converter(name)
        for ch in ordered:
            out.update(conv.convert(ch))
        out.update(conv.convert("".join(ordered)))
    return out


def build_charsets():
    gb = gb2312_chars()
    b5 = big5_chars()
    cc = opencc_outputs(gb)
    # Whitespace/control characters that the codecs or OpenCC might pass
    # through are not wanted as glyphs (space itself comes from COMMON).
    def cps(chars):
        return {ord(c) for c in chars if ord(c) >= 0x20}
    sets = {
        "sc": {"GB 2312": cps(gb), "common": set(COMMON)},
        "tc": {"Big5": cps(b5), "OpenCC(GB 2312)": cps(cc), "common": set(COMMON)},
    }
    return sets


def find_face(ttc_path, family):
    """Index of the face in the TTC whose name ID 1 is `family`."""
    # lazy=True: only the name table of each face gets parsed here.
    collection = TTCollection(ttc_path, lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(1) == family:
                return index
    finally:
        collection.close()
    raise SystemExit(f"{ttc_path}: no face with family {family!r}")


def fixed_timestamp(src_head):
    """head.created/modified for the output: SOURCE_DATE_EPOCH if set, else the
    source font's own values, so repeated runs give identical bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        t = int(epoch) - epoch_diff
        return t, t
    return src_head.created, src_head.modified


def subset_options():
    opts = subset.Options()
    opts.layout_features = list(LAYOUT_FEATURES)
    opts.name_IDs = ["*"]           # keep copyright, licence, version, ...
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = False            # CFF stem hints: not needed for print/e-book, saves space
    opts.desubroutinize = False     # keep CFF subroutines: smaller file
    opts.recalc_timestamp = False
    opts.flavor = None              # plain OTF, not WOFF/WOFF2
    return opts


def restrict_locl(font, keep_languages):
    """Unhook `locl` from every language system not in `keep_languages`; the
    subsetter then drops the unreferenced lookups and the glyphs they reach."""
    for table_tag in ("GSUB", "GPOS"):
        if table_tag not in font:
            continue
        table = font[table_tag].table
        if not table.ScriptList or not table.FeatureList:
            continue
        records = table.FeatureList.FeatureRecord
        for script in table.ScriptList.ScriptRecord:
            for lang in script.Script.LangSysRecord:
                if lang.LangSysTag.strip() in keep_languages:
                    continue
                lang.LangSys.FeatureIndex = [
                    i for i in lang.LangSys.FeatureIndex if records[i].FeatureTag != "locl"]
                lang.LangSys.FeatureCount = len(lang.LangSys.FeatureIndex)


def with_identity_charset(font):
    """The same font with its CFF charset made the identity: glyph N gets CID N.

    The subsetter renumbers the glyphs but keeps each one's original CID. A PDF embeds such a font as
    CIDFontType0 and writes glyph indices as its codes; ISO 32000 (9.7.4.2) has a reader look a code up
    as a CID through the charset, so Ghostscript and MuPDF (most RIPs) would find .notdef or another
    glyph. With CID = GID the code, the CID and the glyph index agree in every reader.

    Only the CFF table is rewritten: the font is saved and reopened so that every other table stays
    the compiled bytes the subsetter wrote, which refer to glyphs by index, not by name."""
    buffer = io.BytesIO()
    font.save(buffer)
    font.close()
    font = TTFont(io.BytesIO(buffer.getvalue()), recalcTimestamp=False, recalcBBoxes=False)
    top = font["CFF "].cff.topDictIndex[0]
    if not hasattr(top, "ROS"):
        raise SystemExit("expected a CID-keyed CFF font (the Noto CJK sources are)")
    old_names = list(top.charset)
    new_names = [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(old_names))]
    char_strings = top.CharStrings
    char_strings.charStrings = {new: char_strings.charStrings[old] for old, new in zip(old_names, new_names)}
    top.charset = new_names
    font.setGlyphOrder(new_names)
    return font


def make_one(src_dir, out_name, ttc_name, family, wanted, locl_languages):
    ttc_path = src_dir / ttc_name
    index = find_face(ttc_path, family)
    # recalcTimestamp=False: do not stamp head.modified with "now" on save.
    font = TTFont(ttc_path, fontNumber=index, recalcTimestamp=False)
    cmap = font.getBestCmap()
    unicodes = sorted(cp for cp in wanted if cp in cmap)   # only what the font maps
    missing = sorted(cp for cp in wanted if cp not in cmap)
    if locl_languages is not None:
        restrict_locl(font, locl_languages)

    subsetter = subset.Subsetter(subset_options())
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    font = with_identity_charset(font)

    head = font["head"]
    head.created, head.modified = fixed_timestamp(head)
    # Write next to the target and rename, so an interrupted run never
    # leaves a truncated font behind.
    out_path = OUT_DIR / out_name
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    font.save(tmp_path)
    font.close()
    os.replace(tmp_path, out_path)
    return index, unicodes, missing


def verify(out_name, unicodes, locl_languages):
    """Re-open the written file and check coverage, features and tables."""
    font = TTFont(OUT_DIR / out_name)
    cmap = font.getBestCmap()
    errors = []
    lost = [cp for cp in unicodes if cp not in cmap]
    if lost:
        errors.append(f"{len(lost)} characters missing, e.g. "
                      + " ".join(f"U+{cp:04X}" for cp in lost[:10]))
    for tag in REQUIRED_TABLES:
        if tag not in font:
            errors.append(f"table {tag!r} missing")
    not_identity = [gid for gid, name in enumerate(font["CFF "].cff.topDictIndex[0].charset)
                    if gid and name != f"cid{gid:05d}"]
    if not_identity:
        errors.append(f"CFF charset is not the identity: {len(not_identity)} glyphs have CID != GID, "
                      f"e.g. GID {not_identity[0]}")
    features = {}
    for table in ("GSUB", "GPOS"):
        features[table] = []
        if table in font and font[table].table.FeatureList:
            records = font[table].table.FeatureList.FeatureRecord
            features[table] = sorted({r.FeatureTag for r in records})
    for table, tag in REQUIRED_FEATURES:
        if tag not in features[table]:
            errors.append(f"{table} feature {tag!r} missing")
    # Which language systems (of any script) still reach a locl feature.
    locl_langs = set()
    if "GSUB" in font:
        gsub = font["GSUB"].table
        records = gsub.FeatureList.FeatureRecord
        for script in gsub.ScriptList.ScriptRecord:
            for lang in script.Script.LangSysRecord:
                if any(records[i].FeatureTag == "locl" for i in lang.LangSys.FeatureIndex):
                    locl_langs.add(lang.LangSysTag.strip())
    if locl_languages is not None and not locl_languages <= locl_langs:
        errors.append(f"locl lost for {sorted(locl_languages - locl_langs)}")
    info = {
        "chars": len(cmap),
        "glyphs": len(font.getGlyphOrder()),
        "features": features,
        "locl_langs": sorted(locl_langs),
        "tables": sorted(t.strip() for t in font.keys() if t != "GlyphOrder"),
    }
    font.close()
    return info, errors


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build(job, src_dir, charsets):
    """Make and check one output file (runs in a worker process)."""
    out_name, ttc_name, family, key = job
    t0 = time.monotonic()
    wanted = set().union(*charsets[key].values())
    locl_languages = LOCL_LANGUAGES[key] if LOCL_LANGUAGES is not None else None
    index, unicodes, missing = make_one(src_dir, out_name, ttc_name, family, wanted,
                                        locl_languages)
    info, errors = verify(out_name, unicodes, locl_languages)
    kept = set(unicodes)
    info.update(
        index=index,
        missing=missing,
        # How much of each named set made it in (the font lacks a few code
        # points, e.g. some Big5 symbols and rare punctuation).
        coverage={name: (len(cps & kept), len(cps)) for name, cps in charsets[key].items()},
        size=(OUT_DIR / out_name).stat().st_size,
        sha256=sha256(OUT_DIR / out_name),
        seconds=time.monotonic() - t0,
    )
    return info, errors


def report(job, info, errors):
    out_name, ttc_name, family, _ = job
    print(f"\n{out_name}: {ttc_name} face {info['index']} ({family})")
    print(f"  size {info['size']:,} bytes; {info['chars']} chars; {info['glyphs']} glyphs;"
          f" {info['seconds']:.0f}s")
    print("  coverage: " + ", ".join(
        f"{name} {got}/{total}" for name, (got, total) in info["coverage"].items()))
    missing = info["missing"]
    if missing:
        print(f"  not in source font ({len(missing)}): "
              + " ".join(f"U+{cp:04X}" for cp in missing[:30])
              + (" ..." if len(missing) > 30 else ""))
    print(f"  GSUB features: {' '.join(info['features']['GSUB'])}")
    print(f"  GPOS features: {' '.join(info['features']['GPOS'])}")
    print(f"  locl for: {' '.join(info['locl_langs'])}")
    print(f"  tables: {' '.join(info['tables'])}")
    print(f"  sha256 {info['sha256']}")
    for err in errors:
        print(f"  ERROR: {err}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src-dir", type=Path, default=DEFAULT_SRC_DIR,
                        help=f"directory holding the Noto Serif CJK TTCs (default {DEFAULT_SRC_DIR})")
    parser.add_argument("-j", "--jobs", type=int, default=min(len(JOBS), os.cpu_count() or 1),
                        help="files built in parallel (each needs ~0.5 GB RAM)")
    args = parser.parse_args()

    start = time.monotonic()
    charsets = build_charsets()
    for key, parts in charsets.items():
        print(f"[{key}] " + ", ".join(f"{name}: {len(cps)}" for name, cps in parts.items())
              + f"; union: {len(set().union(*parts.values()))}")

    # Subsetting a 65k-glyph CID font takes minutes; the four files are
    # independent, so build them in parallel.  Output does not depend on order.
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(build, job, args.src_dir, charsets) for job in JOBS]
        results = [f.result() for f in futures]

    failed = False
    total = 0
    for job, (info, errors) in zip(JOBS, results):
        report(job, info, errors)
        total += info["size"]
        failed |= bool(errors)
    print(f"\ntotal {total:,} bytes ({total / 2**20:.1f} MiB); {time.monotonic() - start:.0f}s")
    if total > SIZE_BUDGET:
        print(f"ERROR: over the {SIZE_BUDGET:,} byte budget")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

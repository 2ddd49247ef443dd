"""Stage 6: the print order an edition goes to the print shop with, `<slug>.<edition>.print-spec.txt`: one
page, each line in the trade's Chinese terms and in English, every figure measured on the built files
(pages, trim, spine, PDF/X version, output intent, MD5) or worked from them (开本, 印张: imprint.py)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from . import binding, imprint
from .edition import Edition
from .manuscript import Manuscript

MM = 72 / 25.4
BINDING_WORDS = {"saddle": "骑马钉 saddle-stitched", "perfect": "无线胶装 perfect-bound (adhesive)"}


@dataclass(frozen=True)
class BuiltFiles:
    """The interior and the cover as the shop receives them."""

    pages: int
    trim_mm: tuple[float, float]
    spine_mm: float                # the cover's trim width less twice the page's
    pdfx: str                      # GTS_PDFXVersion
    output_intent: str             # the output condition and its profile's description
    md5: dict[str, str]            # file name -> MD5


def read(interior: Path, cover: Path) -> BuiltFiles:
    import pikepdf
    from PIL import ImageCms

    with pikepdf.open(interior) as pdf:
        x0, y0, x1, y1 = (float(v) for v in pdf.pages[0].TrimBox)
        intent = pdf.Root.OutputIntents[0]
        profile = ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(io.BytesIO(intent.DestOutputProfile.read_bytes()))).strip()
        built = (len(pdf.pages), ((x1 - x0) / MM, (y1 - y0) / MM), str(pdf.trailer.Info.get("/GTS_PDFXVersion", "")),
                 f"{intent.get('/OutputConditionIdentifier', '')}: {profile}")
    with pikepdf.open(cover) as pdf:
        cx0, _, cx1, _ = (float(v) for v in pdf.pages[0].TrimBox)
    spine = (cx1 - cx0) / MM - 2 * built[1][0]
    md5 = {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in (interior, cover)}
    return BuiltFiles(built[0], (round(built[1][0], 1), round(built[1][1], 1)), round(max(spine, 0), 1),
                      built[2], built[3], md5)


def text(book: Manuscript, edition: Edition, files: BuiltFiles) -> str:
    """The print order: one page, Chinese and English on every line."""
    width, height = files.trim_mm
    found = imprint.book_format(files.trim_mm)
    bound = "saddle" if files.spine_mm == 0 else "perfect"
    sheets = imprint.printed_sheets(files.pages, found.pieces) if found else None
    interior, cover = files.md5
    lines = [
        f"印刷规格 Print specification — {edition.meta.title}（{edition.labels.get(f'edition_{edition.name}', edition.name)}）",
        "",
        f"书号 ISBN:                      {book.isbn or '无 none'}",
        f"成品尺寸 Trim size:             {width:g} mm × {height:g} mm",
        f"开本 Format:                    {found or '非标准 non-standard'}",
        f"页数 Pages:                     {files.pages}（含空白页 blank pages included）",
        f"印张 Printed sheets:            {f'{float(sheets):g}' if sheets is not None else '—'}",
        f"装订 Binding:                   {BINDING_WORDS[bound]}",
        f"书脊 Spine:                     {f'{files.spine_mm:g} mm' if bound == 'perfect' else '无 none (saddle-stitched)'}",
        f"内文用纸 Text paper:            {book.print.paper}，单张厚度 caliper {book.print.caliper_mm:g} mm per leaf",
        "印色 Colours:                   内文 1/1 单黑 text 1/1 black (K)；封面 4/0 四色 cover 4/0 CMYK",
        f"出血 Bleed:                     {book.print.bleed_mm:g} mm",
        f"文件格式 File format:           {files.pdfx}",
        f"输出意图 Output intent:         {files.output_intent}",
        "文件 Files (MD5):",
        f"  内文 interior  {interior}  {files.md5[interior]}",
        f"  封面 cover     {cover}  {files.md5[cover]}",
    ]
    if bound != binding.bound(book.print.binding, files.pages):
        lines.append(f"注意 Note: book.yaml asks for {book.print.binding}; the files are {bound}")
    return "\n".join(lines) + "\n"


def write(book_dir: Path, out: Path) -> list[Path]:
    """Each edition's print order beside its built interior and cover in `out`."""
    from ..build import labels
    from .edition import make
    from ..errors import PublishError
    from .manuscript import load
    from ..output import write_atomic

    book = load(book_dir)
    written = []
    for name in book.editions:
        interior, cover = out / f"{book.slug}.{name}.pdf", out / f"{book.slug}.{name}.cover.pdf"
        for built in (interior, cover):
            if not built.is_file():
                raise PublishError("file not found: the print order is measured on the built files", built,
                                   hint="run make pdf (publish build) first")
        path = out / f"{book.slug}.{name}.print-spec.txt"
        write_atomic(path, text(book, make(book, name, labels(book)), read(interior, cover)).encode("utf-8"))
        written.append(path)
    return written

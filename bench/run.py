"""`make bench`: wall time, stages, memory and sizes of cold, warm and incremental builds of this book
and of a generated book of 1,000,000 Han characters (and 100,000, for linearity; and a book of 5,000
footnotes in one chapter), beside the floors (WeasyPrint alone on the same HTML, with and without the
typesetting markup), the peers (Typst on the same text; pandoc on the same Markdown, if installed: apt-get
install pandoc) and the targets of issues 7 and 14. Figures also go to build/bench/<time>.json, to compare
two runs."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import write_book  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1600000000"}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (shared pages counted in each: an upper bound)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(next(l for l in open(f"/proc/{p}/status") if l.startswith("VmRSS")).split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024


def run_all(cmds: list[list[str]], cwd: Path = ROOT) -> dict:
    """Wall time of commands started together, and the peak RSS of all their process trees together
    (sampled every 20 ms); their outputs in order."""
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cmd in cmds]
    peak = [0.0]

    def sample():
        while any(p.poll() is None for p in procs):
            peak[0] = max(peak[0], sum(tree_rss_mb(p.pid) for p in procs))
            time.sleep(0.02)
    sampler = threading.Thread(target=sample)
    sampler.start()
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - start
    sampler.join()
    for cmd, proc, (_, err) in zip(cmds, procs, outs):
        if proc.returncode:
            sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return {"wall": wall, "peak_rss_mb": peak[0], "stdout": [out for out, _ in outs], "loadavg": os.getloadavg()}


def run(cmd: list[str], cwd: Path = ROOT) -> dict:
    result = run_all([cmd], cwd)
    return {**result, "stdout": result["stdout"][0]}


def publish(book: Path, out: Path, *args: str, taskset: int | None = None) -> dict:
    """`taskset`: run on that many cores only (the first ones)."""
    pinned = ["taskset", "-c", f"0-{taskset - 1}"] if taskset else []
    result = run([*pinned, str(BIN / "publish"), "build", "--book", str(book), "--out", str(out), "--quiet", *args])
    result.pop("stdout")
    return result


def sizes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}


def measure(label: str, book: Path, work: Path, full: bool) -> dict:
    """`full`: the incremental builds too (one chapter edited)."""
    import yaml
    print(f"== {label} ({book}), loadavg {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    meta = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))
    names = list(meta["editions"])
    r: dict = {"book": str(book)}
    # The cold build, stage by stage: one process per edition, all at once, as `publish build` forks them.
    cold = run_all([[sys.executable, str(ROOT / "bench" / "stages.py"), str(book), str(work / "cold"),
                     str(work / "html"), name, str(len(names))] for name in names])
    r["stages"] = {name: json.loads(out) for name, out in zip(names, cold.pop("stdout"))}
    r["cold"], r["sizes"] = cold, sizes(work / "cold")
    # The floor: the same print HTML through WeasyPrint alone, the editions at once again.
    floors = run_all([[sys.executable, str(ROOT / "bench" / "floor.py"), str(work / "html" / f"{name}.pdf.html")]
                      for name in names])
    r["floor"] = {name: json.loads(out) for name, out in zip(names, floors["stdout"])}
    # Issue 14's floor: WeasyPrint alone on the same chapters with no typesetting markup.
    unmarked = run_all([[sys.executable, str(ROOT / "bench" / "floor.py"), str(work / "html" / f"{name}.unmarked.html")]
                        for name in names])
    r["floor_unmarked"] = {name: json.loads(out) for name, out in zip(names, unmarked["stdout"])}
    # Ours beside them, as issue 14 measures it: the print PDF in one process, from the edition to its bytes.
    ours = run_all([[sys.executable, str(ROOT / "bench" / "ours.py"), str(book), name] for name in names])
    r["ours"] = {name: json.loads(out) for name, out in zip(names, ours["stdout"])}
    # One edition, all its files, on one core and on all of them (a bigger machine must make it faster).
    r["one_edition"] = {f"{cores} core(s)": publish(book, work / f"one-edition-{cores}", "--edition", names[0],
                                                    taskset=cores)
                        for cores in (1, os.cpu_count() or 1)}
    if not full:   # the command itself, all outputs (for the 1M book, the stage run above is the cold build)
        r["publish_cold"] = publish(book, work / "publish-cold")
    r["peers"] = json.loads(run([sys.executable, str(ROOT / "bench" / "peers.py"), str(book), str(work)])["stdout"])
    if shutil.which("pandoc"):
        r["pandoc"] = run(["pandoc", "-f", "commonmark_x", "-o", str(work / "pandoc.epub"), "--metadata",
                           f"title={meta['title']}", "--metadata", "lang=zh-Hans",
                           *(str(book / c) for c in meta["chapters"])])["wall"]
    r["cold_epub"] = publish(book, work / "cold-epub", "--format", "epub")
    r["warm_epub"] = publish(book, work / "cold-epub", "--format", "epub")
    if full:   # edit one chapter in the middle, in place, as an author does; rebuild into the folders built before
        chapter = sorted((book / "chapters").glob("*.md"))[len(list((book / "chapters").glob("*.md"))) // 2]
        chapter.write_text(chapter.read_text(encoding="utf-8").replace("。", "！", 3), encoding="utf-8")
        r["edit_epub"] = publish(book, work / "cold-epub", "--format", "epub")
        r["edit_pdf"] = publish(book, work / "cold", "--format", "pdf")
        # All eight files after one more edit.
        chapter.write_text(chapter.read_text(encoding="utf-8").replace("，", "；", 3), encoding="utf-8")
        r["edit_all"] = publish(book, work / "cold")
    return r


def measure_notes(book: Path, work: Path) -> dict:
    """The book of 5,000 footnotes: a cold build of all its files, and its pages."""
    import pikepdf
    print(f"== notes ({book}), loadavg {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    r = {"book": str(book), "cold": publish(book, work / "cold")}
    with pikepdf.open(next((work / "cold").glob("*.zh-Hans.pdf"))) as pdf:
        r["pages"] = 2 * len(pdf.pages)   # both editions (zh-Hant sets the same characters, page for page ±1)
    r["notes"] = sum(len(re.findall(r"^\[\^", p.read_text(encoding="utf-8"), re.M)) for p in (book / "chapters").glob("*.md"))
    return r


def noop_make(work: Path) -> dict:
    make = ["make", f"OUT={work / 'make'}", "BOOK=manuscript"]
    run(make)
    return run(make)


def verdict(value: float, target: float) -> str:
    return f"{value:7.2f}  target ≤ {target:g}  {'met' if value <= target else 'MISSED'}"


def report(results: dict, label: str) -> None:
    r = results["books"][label]
    chars = {"this book": None, "100k": 1e5, "1M": 1e6}[label]
    print(f"\n--- {label}")
    print(f"    cold build, stage by stage, one process per edition at once: {r['cold']['wall']:.2f} s wall, "
          f"peak RSS {r['cold']['peak_rss_mb']:.0f} MB (all processes), loadavg {r['cold']['loadavg'][0]:.2f}")
    for name, st in r["stages"].items():
        print(f"    {name} ({st['wall']:.2f} s, peak RSS {st['peak_rss_mb']:.0f} MB), seconds:")
        for where, stages in st["stages"].items():
            print(f"      {where:<16} " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print("    sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in r["sizes"].items()))
    for name, floor in r["floor"].items():
        stages = r["stages"][name]["stages"][f"{name}/pdf"]
        whole = f"WeasyPrint alone {floor['total']:.2f} s (parse {floor['parse']:.2f}, layout {floor['layout']:.2f}, " \
                f"write {floor['write']:.2f}), {floor['pages']} pages, {floor['pages'] / floor['total']:.1f} pages/s"
        if "layout in pieces" in stages:   # print and screen PDFs laid out together, a process per piece
            print(f"    {name} print and screen PDFs, laid out in pieces: {sum(stages.values()):.2f} s; {whole} "
                  "(one print PDF, one process)")
            continue
        pipeline = sum(stages.values()) - stages.get("write screen PDF", 0)
        print(f"    {name} print PDF: pipeline {pipeline:.2f} s (from the edition to the bytes; then the screen "
              f"PDF from the same layout, {stages.get('write screen PDF', 0):.2f} s), {whole}; "
              "ratio " + verdict(pipeline / floor["total"], 1.15))
        bare, ours = r["floor_unmarked"][name], r["ours"][name]
        print(f"    {name} print PDF in one process (HTML {ours['html']:.2f}, layout and write {ours['layout_write']:.2f}, "
              f"finish {ours['finish']:.2f}) {ours['total']:.2f} s against WeasyPrint alone on the text without "
              f"typesetting markup (issue 14) {bare['total']:.2f} s (layout {bare['layout']:.2f}, write "
              f"{bare['write']:.2f}), one process each, the editions at once; ratio " + verdict(ours["total"] / bare["total"], 1.3))
    typst = r["peers"]["typst"]
    first = next(iter(r["stages"]))
    ours = sum(r["stages"][first]["stages"][f"{first}/pdf"].values())
    print(f"    peers on the same text, one edition: Typst {typst['version']} {typst['seconds']:.2f} s, "
          f"{typst['pages']} pages, {typst['pages'] / typst['seconds']:.0f} pages/s; ours ({first} print and screen PDF "
          f"from one layout) {ours:.2f} s, {r['floor'][first]['pages']} pages; XeLaTeX not installable here")
    one, many = r["one_edition"].values()
    ratio = many["wall"] / one["wall"]   # issue 14 sets its 0.6 for the 1M book, whose pieces fill the cores
    print(f"    one edition, all its files: 1 core {one['wall']:.2f} s, {os.cpu_count()} cores {many['wall']:.2f} s; "
          "ratio " + (verdict(ratio, 0.6) if label == "1M" else f"{ratio:7.2f}"))
    if "pandoc" in r:
        for name, st in r["stages"].items():   # reading the book, converting, checking fonts, the EPUB
            t = sum(sum(st["stages"].get(where, {}).values()) for where in ("book", f"{name}/-", f"{name}/epub"))
            print(f"    {name} EPUB: pipeline {t:.2f} s, pandoc {r['pandoc']:.2f} s; ratio "
                  + verdict(t / r["pandoc"], 10 if label == "this book" else 3))
    print(f"    cold EPUBs only (publish build --format epub) {r['cold_epub']['wall']:.2f} s; again, nothing changed "
          f"{r['warm_epub']['wall']:.2f} s")
    if label == "this book":
        print(f"    publish build, cold, all {len(r['sizes'])} files: " + verdict(r["publish_cold"]["wall"], 4))
        print(f"    make with nothing changed: " + verdict(results["noop_make"]["wall"], 0.5))
    if label == "1M":
        print("    cold, all files: " + verdict(r["cold"]["wall"], 150) + " (issue 14); peak RSS GB: "
              + verdict(r["cold"]["peak_rss_mb"] / 1024, 1.5))
        print(f"    one chapter edited, all files: {r['edit_all']['wall']:.2f} s; share of the cold build "
              + verdict(r["edit_all"]["wall"] / r["cold"]["wall"], 0.15))
        print(f"    one chapter edited: EPUBs {r['edit_epub']['wall']:.2f} s = "
              f"{100 * r['edit_epub']['wall'] / r['cold']['wall']:.1f} % of the cold build; "
              + verdict(r["edit_epub"]["wall"] / r["cold"]["wall"], 0.2)
              + f"; {100 * r['edit_epub']['wall'] / r['cold_epub']['wall']:.0f} % of cold EPUBs only")
        print(f"    one chapter edited: PDFs {r['edit_pdf']['wall']:.2f} s vs the cold build "
              f"{r['cold']['wall']:.2f} s; ratio " + verdict(r["edit_pdf"]["wall"] / r["cold"]["wall"], 1))
    small, large = results["books"].get("100k"), results["books"].get("1M")
    if label == "1M" and small:
        per = {k: b["cold"]["wall"] / (n / 1e5) for k, b, n in (("100k", small, 1e5), ("1M", large, 1e6))}
        pages = {k: sum(f["pages"] for f in b["floor"].values()) for k, b in (("100k", small), ("1M", large))}
        rss = {k: b["cold"]["peak_rss_mb"] / pages[k] for k, b in (("100k", small), ("1M", large))}
        print(f"\nlinear: cold build seconds per 100,000 characters: 100k {per['100k']:.2f}, 1M {per['1M']:.2f}; "
              "1M / 100k " + verdict(per["1M"] / per["100k"], 1.2))
        print(f"linear: peak RSS per page (both editions' pages {pages['100k']} → {pages['1M']}): "
              f"{rss['100k']:.2f} → {rss['1M']:.2f} MB; grows no faster than pages: "
              + ("met" if rss["1M"] <= rss["100k"] else "MISSED"))


def report_notes(results: dict) -> None:
    r, large = results["books"]["notes"], results["books"].get("1M")
    per_page = r["cold"]["wall"] / r["pages"]
    print(f"\n--- notes: {r['notes']} footnotes in one chapter, {r['pages']} pages (both editions), cold, all files: "
          f"{r['cold']['wall']:.2f} s, peak RSS {r['cold']['peak_rss_mb']:.0f} MB, {1000 * per_page:.0f} ms a page")
    if large:
        pages = sum(f["pages"] for f in large["floor"].values())
        print(f"    per page against the 1M book ({1000 * large['cold']['wall'] / pages:.0f} ms a page, {pages} pages): "
              + verdict(per_page / (large["cold"]["wall"] / pages), 1) + " (issue 14)")


def main(labels: list[str]) -> None:
    """`labels`: which books (this-book, 100k, 1M; all by default). Each book's figures are printed and
    saved as soon as they are measured: the 1M book takes many minutes."""
    results = {"machine": f"{os.cpu_count()} cores, loadavg at start {os.getloadavg()[0]:.2f}, "
                          f"{time.strftime('%Y-%m-%d %H:%M:%S')}", "books": {}}
    print(f"machine: {results['machine']}")
    out = ROOT / "build" / "bench" / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        for label in labels:
            if label == "this-book":
                results["noop_make"] = noop_make(work)
                results["noop_make"].pop("stdout")
                results["books"]["this book"] = measure("this book", ROOT / "manuscript", work / "book", full=False)
                label = "this book"
            elif label == "notes":   # 5,000 footnotes: a note to every paragraph, short paragraphs, one chapter
                book = write_book(work / "gen-notes" / "book", 470_000, chapters=1, note_rate=1.0, longest_paragraph=60)
                results["books"]["notes"] = measure_notes(book, work / "gen-notes")
                report_notes(results)
                out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
                continue
            else:
                chars = {"100k": 100_000, "1M": 1_000_000}[label]
                book = write_book(work / f"gen-{label}" / "book", chars)
                results["books"][label] = measure(label, book, work / f"gen-{label}", full=label == "1M")
            report(results, label)
            out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"figures: {out}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["this-book", "100k", "1M", "notes"])

"""`make bench`: wall time, stages, memory and sizes of cold, warm and incremental builds of this book
and of a generated book of 1,000,000 Han characters (and 100,000, for linearity), beside the floors
(WeasyPrint alone on the same HTML; pandoc on the same Markdown, if installed: apt-get install pandoc)
and the targets of issue 7. Figures also go to build/bench/<time>.json, to compare two runs."""
from __future__ import annotations

import json
import os
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


def run(cmd: list[str], cwd: Path = ROOT) -> dict:
    """Wall time and peak RSS of the process tree (sampled every 20 ms)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.02)
    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return {"wall": wall, "peak_rss_mb": peak[0], "stdout": out, "loadavg": os.getloadavg()}


def publish(book: Path, out: Path, *args: str) -> dict:
    return run([str(BIN / "publish"), "build", "--book", str(book), "--out", str(out), "--quiet", *args])


def sizes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}


def measure(label: str, book: Path, work: Path, full: bool, builds: bool = True) -> dict:
    """`builds`: the whole-build figures too, not only the stages and the floor (for linearity)."""
    print(f"== {label} ({book}), loadavg {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    r: dict = {"book": str(book)}
    if builds:
        r["cold"] = publish(book, work / "cold")
        r["sizes"] = sizes(work / "cold")
    stages = run([sys.executable, str(ROOT / "bench" / "stages.py"), str(book), str(work / "stages"), str(work / "html")])
    r["stages"] = json.loads(stages["stdout"])
    r["floor"] = {}
    for html in sorted((work / "html").glob("*.pdf.html")):   # the print PDF of each edition
        r["floor"][html.name.split(".")[0]] = json.loads(run([sys.executable, str(ROOT / "bench" / "floor.py"),
                                                              str(html)])["stdout"])
    if not builds:
        return r
    if shutil.which("pandoc"):
        import yaml
        meta = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))
        r["pandoc"] = run(["pandoc", "-f", "commonmark_x", "-o", str(work / "pandoc.epub"), "--metadata",
                           f"title={meta['title']}", "--metadata", "lang=zh-Hans",
                           *(str(book / c) for c in meta["chapters"])])["wall"]
    r["cold_epub"] = publish(book, work / "cold-epub", "--format", "epub")
    r["warm_epub"] = publish(book, work / "cold-epub", "--format", "epub")
    if full:   # edit one chapter in the middle, rebuild each format in a folder built before
        edited = shutil.copytree(book, work / "edited")
        chapter = sorted((edited / "chapters").glob("*.md"))[len(list((edited / "chapters").glob("*.md"))) // 2]
        chapter.write_text(chapter.read_text(encoding="utf-8").replace("。", "！", 3), encoding="utf-8")
        r["edit_epub"] = publish(edited, work / "cold-epub", "--format", "epub")
        r["edit_pdf"] = publish(edited, work / "cold", "--format", "pdf")
    for k in ("cold", "cold_epub", "warm_epub", "edit_epub", "edit_pdf"):
        if k in r:
            r[k].pop("stdout")
    return r


def noop_make(work: Path) -> dict:
    make = ["make", f"OUT={work / 'make'}", "BOOK=manuscript"]
    run(make)
    return run(make)


def verdict(value: float, target: float) -> str:
    return f"{value:7.2f}  target ≤ {target:g}  {'met' if value <= target else 'MISSED'}"


def report(results: dict, label: str) -> None:
    r = results["books"][label]
    st = r["stages"]
    print(f"\n--- {label}")
    if "cold" in r:
        print(f"    cold build, all outputs, editions in parallel: {r['cold']['wall']:.2f} s wall, "
              f"peak RSS {r['cold']['peak_rss_mb']:.0f} MB (process tree), loadavg {r['cold']['loadavg'][0]:.2f}")
        print(f"    cold EPUBs only {r['cold_epub']['wall']:.2f} s; EPUBs again, nothing changed "
              f"{r['warm_epub']['wall']:.2f} s")
    print(f"    stages, one edition after the other in one process ({st['wall']:.2f} s, peak RSS "
          f"{st['peak_rss_mb']:.0f} MB), seconds:")
    for where, stages in st["stages"].items():
        print(f"      {where:<16} " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    if "sizes" in r:
        print("    sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in r["sizes"].items()))
    for name, floor in r["floor"].items():
        pipeline = sum(st["stages"][f"{name}/pdf"].values())
        print(f"    {name} print PDF: pipeline {pipeline:.2f} s (from the edition to the bytes), WeasyPrint "
              f"alone {floor['total']:.2f} s (parse {floor['parse']:.2f}, layout {floor['layout']:.2f}, "
              f"write {floor['write']:.2f}), {floor['pages']} pages; ratio "
              + verdict(pipeline / floor["total"], 1.15))
    if "pandoc" in r:
        epubs = {n: sum(st["stages"].get(f"{n}/epub", {}).values()) for n in r["floor"]}
        for name, t in epubs.items():
            print(f"    {name} EPUB: pipeline {t:.2f} s, pandoc {r['pandoc']:.2f} s; ratio "
                  + verdict(t / r["pandoc"], 10 if label == "this book" else 3))
    if label == "this book":
        print("    cold, all files: " + verdict(r["cold"]["wall"], 4))
        print(f"    make with nothing changed: " + verdict(results["noop_make"]["wall"], 0.5))
    if "edit_epub" in r:
        print(f"    1M cold, all files: " + verdict(r["cold"]["wall"], 60) + "; peak RSS GB: "
              + verdict(r["cold"]["peak_rss_mb"] / 1024, 2))
        print(f"    one chapter edited: EPUBs {r['edit_epub']['wall']:.2f} s = "
              f"{100 * r['edit_epub']['wall'] / r['cold_epub']['wall']:.0f} % of cold EPUBs, "
              f"{100 * r['edit_epub']['wall'] / r['cold']['wall']:.0f} % of the cold build; "
              + verdict(r["edit_epub"]["wall"] / r["cold_epub"]["wall"], 0.2))
        print(f"    one chapter edited: PDFs {r['edit_pdf']['wall']:.2f} s vs the cold build "
              f"{r['cold']['wall']:.2f} s; ratio " + verdict(r["edit_pdf"]["wall"] / r["cold"]["wall"], 1))
    small, large = results["books"].get("100k"), results["books"].get("1M")
    if label == "1M" and small and large:
        per = {k: r["stages"]["wall"] / (n / 1e5) for k, r, n in (("100k", small, 1e5), ("1M", large, 1e6))}
        pages = {k: r["floor"]["zh-Hans"]["pages"] for k, r in (("100k", small), ("1M", large))}
        print(f"\nlinear: sequential build seconds per 100,000 characters: 100k {per['100k']:.2f}, 1M {per['1M']:.2f}; "
              "1M / 100k " + verdict(per["1M"] / per["100k"], 1.2))
        print(f"linear: peak RSS per page (zh-Hans pages {pages['100k']} → {pages['1M']}): "
              f"{small['stages']['peak_rss_mb'] / pages['100k']:.2f} → {large['stages']['peak_rss_mb'] / pages['1M']:.2f} MB"
              "; grows no faster than pages: "
              + ("met" if large['stages']['peak_rss_mb'] / pages['1M'] <= small['stages']['peak_rss_mb'] / pages['100k'] else "MISSED"))


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
            else:
                chars = {"100k": 100_000, "1M": 1_000_000}[label]
                book = write_book(work / f"gen-{label}" / "book", chars)
                results["books"][label] = measure(label, book, work / f"gen-{label}", full=label == "1M",
                                                  builds=label == "1M")
            report(results, label)
            out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"figures: {out}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["this-book", "100k", "1M"])

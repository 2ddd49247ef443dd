"""The screen PDF is PDF/UA as a screen reader meets it, read back with pikepdf (the structure tree, the
annotations) and pdfplumber (each character with its marked-content tag and MCID, in drawing order)."""
from __future__ import annotations

import itertools

import pdfplumber
import pikepdf
import pytest

from conftest import MANUSCRIPT
from extract import outline
from publish.stages import manuscript
from publish.build import labels
from publish.stages.edition import make

EDITIONS = ["zh-Hans", "zh-Hant"]
MM = 72 / 25.4
MARGIN_PT = 20 * MM   # layouts/print/book.css.j2: the text block is 20 mm from the top and bottom


@pytest.fixture(scope="module")
def editions():
    book = manuscript.load(MANUSCRIPT)
    return {name: make(book, name, labels(book)) for name in EDITIONS}


def _kids(element) -> list:
    kids = element.get("/K", pikepdf.Array())
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _structure(pdf: pikepdf.Pdf) -> list[tuple[pikepdf.Dictionary, object]]:
    """(element, the object it hangs from) for every structure element reachable from the root, depth first."""
    found = []

    def walk(element, parent):
        found.append((element, parent))
        for kid in _kids(element):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                walk(kid, element)
    root = pdf.Root.StructTreeRoot
    for kid in _kids(root):
        walk(kid, root)
    return found


def _mcids_in_tree_order(pdf: pikepdf.Pdf, page_index: int) -> list[int]:
    page = pdf.pages[page_index].obj.objgen
    return [kid for element, _ in _structure(pdf) for kid in _kids(element)
            if isinstance(kid, int) and element.Pg.objgen == page]


def _mcids_under(element) -> list[int]:
    """The MCIDs an element holds, its descendants' included (a typeset title's spans are elements)."""
    return [mcid for kid in _kids(element)
            for mcid in ([kid] if isinstance(kid, int) else _mcids_under(kid) if "/S" in kid else [])]


def _cells(chars: list[dict]) -> list[tuple[str, dict, list[int]]]:
    """Runs of marked characters that abut on one line (a value's typeset spans are runs of their own), as
    (text, first character, MCIDs): a copyright page's labels and values, each label a column apart."""
    cells: list[tuple[str, dict, list[int]]] = []
    end = 0.0
    for mcid, text, first in _marked_runs(chars):
        if cells and abs(first["top"] - cells[-1][1]["top"]) < 3 and -0.5 < first["x0"] - end < first["size"] / 2:
            cells[-1] = (cells[-1][0] + text, cells[-1][1], cells[-1][2] + [mcid])
        else:
            cells.append((text, first, [mcid]))
        end = max(c["x1"] for c in chars if c["mcid"] == mcid)
    return cells


def _marked_runs(chars: list[dict]) -> list[tuple[int | None, str, dict]]:
    """Consecutive characters of one MCID as (mcid, text, first character), in drawing order."""
    return [(mcid, "".join(c["text"] for c in group), group[0])
            for mcid, group in ((m, list(g)) for m, g in itertools.groupby(chars, key=lambda c: c["mcid"]))]


@pytest.mark.parametrize("name", EDITIONS)
@pytest.mark.parametrize("book", ["manuscript_build", "sample_build"])
def test_every_structure_element_is_in_the_tree(request, book, name):
    """Reachable from /StructTreeRoot, with /P its parent; every MCID drawn maps (ParentTree) to the
    element holding it. Also in the test book (footnotes, a table, a figure, three chapters)."""
    with pikepdf.open(request.getfixturevalue(book)[name, "screen"]) as pdf:
        tree = _structure(pdf)
        reachable = {element.objgen for element, _ in tree}
        every = {o.objgen for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem"}
        assert every - reachable == set(), f"{len(every - reachable)} detached structure elements"
        assert all(element.P.objgen == parent.objgen for element, parent in tree)
        parent_tree = pdf.Root.StructTreeRoot.ParentTree.Nums
        by_page = {int(parent_tree[i]): parent_tree[i + 1] for i in range(0, len(parent_tree), 2)}
        for index, page in enumerate(pdf.pages):
            drawn = {int(operands[1].MCID) for operands, op in pikepdf.parse_content_stream(page)
                     if str(op) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]}
            owners = by_page[int(page.StructParents)]
            for mcid in drawn:
                assert owners[mcid].objgen in reachable and mcid in _kids(owners[mcid]), (index + 1, mcid)


@pytest.mark.parametrize("name", EDITIONS)
def test_running_heads_folios_and_leader_dots_are_artifacts(manuscript_build, editions, name):
    path = manuscript_build[name, "screen"]
    contents_page = dict(outline(path))[editions[name].labels["contents"]]
    margins = 0
    with pdfplumber.open(path) as pdf:
        for index, page in enumerate(pdf.pages):
            for char in page.chars:
                assert char["tag"] == "Artifact" or char["mcid"] is not None, "drawn, neither content nor artifact"
                if char["bottom"] < MARGIN_PT or char["top"] > page.height - MARGIN_PT:
                    assert char["tag"] == "Artifact", (index + 1, char["text"], char["top"])
                    margins += 1
        dots = [c for c in pdf.pages[contents_page].chars if c["text"] == "."]
        assert len(dots) > 10 and all(c["tag"] == "Artifact" for c in dots)
    assert margins > 20, "the running heads and folios of the body pages"


@pytest.mark.parametrize("name", EDITIONS)
def test_one_link_per_contents_entry_titled_by_its_chapter(manuscript_build, editions, name):
    path = manuscript_build[name, "screen"]
    bookmarks = dict(outline(path))
    chapters = editions[name].chapters
    contents_page = bookmarks[editions[name].labels["contents"]]
    with pikepdf.open(path) as pdf:
        links = [a for a in pdf.pages[contents_page].get("/Annots", []) if a.Subtype == "/Link"]
        assert [str(a.Contents) for a in links] == [c.title for c in chapters]
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        names = pikepdf.NameTree(pdf.Root.Names.Dests)
        for link, chapter in zip(links, chapters):
            assert pages[names[str(link.Dest)][0].objgen] == bookmarks[chapter.title]
        # each annotation belongs to one Link element, whose text is the title
        holders = {kid.Obj.objgen: element for element, _ in _structure(pdf) for kid in _kids(element)
                   if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR"}
        link_mcids = [_mcids_under(holders[a.objgen]) for a in links]
        assert all(holders[a.objgen].S == "/Link" for a in links)
    with pdfplumber.open(path) as pdf:
        chars = pdf.pages[contents_page].chars
        for mcids, chapter in zip(link_mcids, chapters):
            assert "".join(c["text"] for c in chars if c["mcid"] in mcids).replace(" ", "") == \
                chapter.title.replace(" ", "")


@pytest.mark.parametrize("name", EDITIONS)
def test_the_colophon_reads_label_value_in_drawing_and_tree_order(manuscript_build, editions, name):
    """Page 4: each label is followed by its value on the same line, in the content stream (what pdf.js
    and copy-paste read) and in the structure tree (what a screen reader reads)."""
    path = manuscript_build[name, "screen"]
    words = editions[name].labels
    expected_labels = [words[k] for k in ("book_title", "creators", "publisher", "edition", "date", "identifier",
                                          "rights", "book_format", "printed_sheets", "characters", "edition_number",
                                          "printing", "isbn", "price")]
    with pdfplumber.open(path) as pdf:
        chars = [c for c in pdf.pages[3].chars if c["mcid"] is not None]
    cells = _cells(chars)
    # zh-Hant's last line (版權所有·翻印必究) has no label
    pairs = cells[:-1] if cells[-1][0] == words["all_rights_reserved"] else cells
    texts = [text for text, _, _ in pairs]
    found_labels = texts[0::2]
    assert found_labels == [label for label in expected_labels if label in found_labels] and len(found_labels) >= 5
    for (_, label, _), (_, value, _) in zip(pairs[0::2], pairs[1::2]):
        assert abs(label["top"] - value["top"]) < 3 and label["x1"] <= value["x0"], (label["text"], value["text"])
    with pikepdf.open(path) as pdf:
        assert _mcids_in_tree_order(pdf, 3) == [mcid for _, _, mcids in cells for mcid in mcids]

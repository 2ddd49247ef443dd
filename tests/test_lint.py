"""`publish lint`: every rule fires on a text that breaks it and stays quiet on one that does not; the shipped
manuscript is clean; the raw seed text is flagged at exactly its two cut paragraphs."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import MANUSCRIPT, SAMPLE, SEED, build_book
from publish import cli
from publish.checks import lint
from publish.errors import ExitCode, PublishError


def codes(text: str) -> list[str]:
    return [f.code for f in lint.lint_text(text)]


# code -> (texts that must fire it, texts that must not)
CASES = {
    "ZH001": (["前面说到，坚决落实核酸检\n\n测、流调溯源。\n",
               "建立实施关键核心技术联合攻关机制、“经纪人”机制，\n\n将科技创新的资源优势转化。\n",
               "> 引文，没有完结的\n>\n> 句子继续。\n"],
              ["前面说到，坚决落实核酸检测、流调溯源。\n\n下一段。\n",
               "措施如下：\n\n第一段。\n",                        # a colon introduces what follows
               "中共石家庄市委\n\n2021年11月12日\n",               # signature and date: no punctuation at all
               "前面说到，坚决落实核酸检\n\n## 标题\n",             # last before a heading: not carried on
               "见下图，\n\n![图](x.png)\n\n正文。\n",
               "他说：“好。”\n\n“对。”\n"]),
    "ZH002": (["中文,中文。", "这是.那是。", "好;好", "注意:这里", "真的?真的", "好!好", "中国(河北)自贸区。"],
              ["中文，中文。", "版本 1.2, ok.", "投资4.2亿元。", "中国（河北）自贸区。", "见 Python(3) 文档。"]),
    "ZH003": (["沿着Ｇ４高速。", "ａｂｃ"], ["沿着G4高速。", "第1天，A股。"]),
    "ZH004": (["“你好。", "你好。”", "“《书”》", "（注", "「甲『乙」』", "【注】】"],
              ["“他说：‘好。’”《书》（注）〈篇〉【注】",
               "“第一段。\n\n“第二段。”\n",                       # one quotation over two paragraphs
               "“I don’t know,” he said.",                      # an apostrophe is no closing ‘
               "「甲『乙』」"]),
    "ZH005": (["“甲”。\n\n「乙」。\n"], ["“甲‘乙’”。\n", "「甲『乙』」。\n"]),
    "ZH006": (["等等…", "等等...", "等等。。。", "等等………"],
              ["等等……", "等等…………", "Wait... what", "`中...`"]),
    "ZH007": (["他说--好", "他说———好", "他──好", "他－－好"],
              ["他说——好", "他说————好", "用 --book 选项", "----\n"]),
    "ZH008": (["北京—上海"], ["北京——上海", "北京——上海——广州"]),
    "ZH009": (["好，，好", "好。。", "好，。好", "好、、好", "好；；"], ["好！！", "好？！", "好。。。", "好，好。"]),
    "ZH010": (["中 文。", "中文 。", "中\u3000文。", "| 北京 上海 |\n| --- |\n"],
              ["# 传承红色基因 赓续奋斗精神\n", "中文 English 中文", "中文。\n\n中文。\n"]),
    "ZH011": (["中\u200b文", "# 标题\ufeff\n", "中\u202e文", "中\u2066文", "中\u200e文", "`a\u200bb`"],
              ["中文", "👍"]),
    "ZH012": (["中文。 \n", "中文。\t\n", "中文。\n   \n下一段。\n"], ["中文。\n", "```\ncode  \n```\n"]),
    "ZH013": (["\u3000\u3000中文。\n", "\u00a0中文。\n"], ["中文。\n", "# 第一章\u3000出发\n"]),
    "ZH014": (["中文\n中文。\n"], ["中文，\n中文。\n", "中文\\\n中文。\n", "中文\n\n中文。\n", "English\n中文。\n"]),
    "ZH015": (["\ufeff# 标题\n\n中文。\n"], ["# 标题\n\n中文\ufeff。\n"]),
}


def test_every_rule_has_cases():
    assert set(CASES) == set(lint.RULES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires(code):
    for text in CASES[code][0]:
        assert code in codes(text), text


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_stays_quiet(code):
    for text in CASES[code][1]:
        assert code not in codes(text), text


def test_positions_are_source_line_and_column():
    text = "# 标题\n\n第一行。\n中文,中文。\n"
    [finding] = lint.lint_text(text, "ch.md")
    assert (finding.line, finding.col, finding.code) == (4, 3, "ZH002")
    assert str(finding) == ("ch.md:4:3: ZH002 error: half-width ',' between Han characters\n"
                            "  hint: use the full-width mark ，")


def test_not_prose_is_skipped():
    for text in ["中`中,文`文。", "```\n中,文 。。\n```\n", "    中,文\n", "见[链接](#中,文)。",
                 "[ref]: http://a.b/中,文\n\n正文。\n", "标题\n---\n\n正文。\n", "<http://x.y/中,文>"]:
        assert codes(text) == [], text


def test_misnesting_points_at_the_wrong_closer():
    [finding] = lint.lint_text("“《书”》")
    assert finding.code == "ZH004" and finding.col == 4
    assert "《" in finding.message and "still open" in finding.message


def test_mixed_quotes_across_chapters_report_the_less_used_style_once_per_file():
    a = lint.Source(Path("a.md"), "“甲”，“乙”，“丙”。\n")
    b = lint.Source(Path("b.md"), "「丁」，「戊」。\n")
    findings = lint.lint_sources([a, b])
    assert [(f.file.name, f.line, f.col, f.code) for f in findings] == [("b.md", 1, 1, "ZH005")]
    assert lint.lint_sources([a]) == []


# ---------------------------------------------------------------- whole books

def write_book(root: Path, chapters: dict[str, str], extra: dict | None = None) -> Path:
    data = yaml.safe_load((MANUSCRIPT / "book.yaml").read_text(encoding="utf-8"))
    data["editions"] = {"zh-Hans": {}}
    data["chapters"] = list(chapters)
    data.update(extra or {})
    root.mkdir(parents=True, exist_ok=True)
    (root / "book.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for name, text in chapters.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_shipped_manuscript_lints_clean(capsys):
    assert lint.lint_book(MANUSCRIPT) == []
    assert cli.main(["lint", "--book", str(MANUSCRIPT)]) == ExitCode.OK
    assert capsys.readouterr().out == ""


def test_seed_is_flagged_at_exactly_the_two_cut_paragraphs(tmp_path):
    book = tmp_path / "seed"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(SEED, book / "chapters" / "seed.md")
    shutil.copy(MANUSCRIPT / "corrections.zh-Hant.tsv", book)
    data = yaml.safe_load((MANUSCRIPT / "book.yaml").read_text(encoding="utf-8"))
    data["chapters"] = ["chapters/seed.md"]
    (book / "book.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert lines[14].endswith("坚决落实核酸检") and lines[16].startswith("测、流调溯源")
    assert lines[22].endswith("“经纪人”机制，") and lines[24].startswith("将科技创新")

    findings = lint.lint_book(book)
    errors = [(f.file.name, f.line, f.code) for f in findings if f.severity == lint.ERROR]
    assert errors == [("seed.md", 15, "ZH001"), ("seed.md", 23, "ZH001")]
    assert [(f.line, f.col) for f in findings] == [(15, len(lines[14])), (23, len(lines[22]))]
    assert "line 17" in findings[0].message and "line 25" in findings[1].message
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.CHECK_FAILED


def test_cli_output_errors_fail_warnings_do_not(tmp_path, capsys):
    book = write_book(tmp_path / "b", {"chapters/01.md": "# 一\n\n从北京—上海出发。\n"})
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.OK      # a warning only
    out, err = capsys.readouterr()
    assert re.fullmatch(r"\S+/chapters/01\.md:3:4: ZH008 warning: a single em dash\n  hint: .+\n", out)
    assert "0 errors, 1 warning" in err

    (book / "chapters/01.md").write_text("# 一\n\n从北京—上海出发，，到了。\n", encoding="utf-8")
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.CHECK_FAILED
    out, err = capsys.readouterr()
    assert [line.split(": ")[1] for line in out.splitlines() if not line.startswith("  hint: ")] == [
        "ZH008 warning", "ZH009 error"]
    assert "1 error, 1 warning" in err


def test_book_yaml_silences_a_code_for_a_file(tmp_path, capsys):
    chapters = {"chapters/01.md": "# 一\n\n好，，好。北京—上海。\n", "chapters/02.md": "# 二\n\n好，，好。\n"}
    book = write_book(tmp_path / "b", chapters, {"lint": {"ignore": {"chapters/01.md": ["ZH009"]}}})
    assert [(f.file.name, f.code) for f in lint.lint_book(book)] == [("01.md", "ZH008"), ("02.md", "ZH009")]

    book = write_book(tmp_path / "c", chapters, {"lint": {"ignore": {"*": ["ZH009"], "chapters/01.md": "ZH008"}}})
    assert lint.lint_book(book) == []
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.OK


@pytest.mark.parametrize("config, message, hint", [
    ({"ignore": {"chapters/01.md": ["ZH090"]}}, "unknown lint code 'ZH090'", "did you mean"),
    ({"ignore": {"chapters/1.md": ["ZH009"]}}, "not a chapter", "did you mean 'chapters/01.md'?"),
    ({"ignore": {"chapters/01.md": {"a": 1}}}, "must be a list of codes", ""),
    ({"ignor": {}}, "'lint' must be", "lint: {ignore:"),
    ("ZH009", "'lint' must be", ""),
    ({"ignore": ["ZH009"]}, "must map chapter files", ""),
])
def test_bad_lint_config_is_a_message_not_a_traceback(tmp_path, capsys, config, message, hint):
    book = write_book(tmp_path / "b", {"chapters/01.md": "# 一\n\n好。\n"}, {"lint": config})
    with pytest.raises(PublishError) as caught:
        lint.lint_book(book)
    assert message in caught.value.message and hint in (caught.value.hint or "")
    yaml_lines = (book / "book.yaml").read_text(encoding="utf-8").splitlines()
    assert caught.value.line == yaml_lines.index(next(l for l in yaml_lines if l.startswith("lint:"))) + 1
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "book.yaml:" in err and message in err and "Traceback" not in err


def test_bad_book_is_a_message_not_a_traceback(tmp_path, capsys):
    book = write_book(tmp_path / "b", {"chapters/01.md": "没有标题。\n"})
    assert cli.main(["lint", "--book", str(book)]) == ExitCode.BAD_INPUT
    assert "level-1 heading" in capsys.readouterr().err


FUZZ_ALPHABET = "中文，。,.…—-“”‘’「」（）()《》`*_[]!#>|\\ \n\u3000\u200b\ufeffaZ１"


def test_any_text_lints_without_an_exception():
    rng = random.Random(6)
    for _ in range(300):
        text = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 60)))
        for finding in lint.lint_text(text):
            assert finding.code in lint.RULES and finding.line >= 1 and finding.col >= 1, text
            assert str(finding).count("\n") == 1


def test_a_byte_order_mark_has_its_own_code_and_the_book_builds(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(SAMPLE, book)
    chapter = book / "chapters" / "01.md"
    chapter.write_bytes(b"\xef\xbb\xbf" + chapter.read_bytes().replace(b"\n", b"\r\n"))   # Windows Notepad
    findings = [f for f in lint.lint_book(book) if f.file == chapter]
    assert [str(f).splitlines()[0] for f in findings] == [
        f"{chapter}:1:1: ZH015 warning: the file starts with a UTF-8 byte-order mark"]
    outputs = build_book(book, tmp_path / "out", formats=["epub"], edition_names=["zh-Hans"])
    assert outputs[("zh-Hans", "epub")].is_file()

"""The one Markdown dialect of a chapter: CommonMark plus tables and footnotes (markdown-it-py)."""
from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin


def _footnote_backref(self, tokens, idx, options, env) -> str:
    # The plugin's default arrow (U+21A9) is in no CJK font; ↑ is in GB 2312 and Big5.
    ident = self.rules["footnote_anchor_name"](tokens, idx, options, env)
    if tokens[idx].meta["subId"] > 0:
        ident += ":" + str(tokens[idx].meta["subId"])
    return f' <a href="#fnref{ident}" class="footnote-backref" role="doc-backlink">↑</a>'


def _footnote_block_open(self, tokens, idx, options, env) -> str:
    return '<section class="footnotes" role="doc-endnotes">\n<ol class="footnotes-list">\n'


def _is_cjk(ch: str) -> bool:
    """Han, CJK and full-width punctuation, and the marks Chinese shares with Latin (“”‘’…—)."""
    return ("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"
            or "\U00020000" <= ch <= "\U0003ffff" or ch in "“”‘’…—")


def _softbreak(self, tokens, idx, options, env) -> str:
    # A line break inside a paragraph is a space between words, but nothing between two Chinese
    # characters (CSS Text 3 segment-break rule, which neither WeasyPrint nor every reading system applies).
    before = tokens[idx - 1].content[-1:] if idx > 0 else ""
    after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
    return "" if _is_cjk(before) and _is_cjk(after) else "\n"


@cache
def parser() -> MarkdownIt:
    # Raw HTML is parsed (so it can be found and refused), never passed through.
    md = MarkdownIt("commonmark", {"xhtmlOut": True, "html": True}).enable("table").use(footnote_plugin)
    md.add_render_rule("footnote_anchor", _footnote_backref)
    md.add_render_rule("footnote_block_open", _footnote_block_open)
    md.add_render_rule("softbreak", _softbreak)
    # markdown-it leaves file:, data: and javascript: targets as literal text; let them through as
    # links and images so that the manuscript stage refuses them with a message instead.
    md.validateLink = lambda url: True
    return md


def parse(text: str) -> tuple[list[Token], dict]:
    """Tokens and the env the footnote plugin fills; both are needed to render."""
    env: dict = {}
    return parser().parse(text, env), env


def render(tokens: list[Token], env: dict, doc_id: str) -> str:
    """XHTML for the tokens; doc_id keeps footnote ids unique when chapters share one document."""
    return parser().renderer.render(tokens, parser().options, {**env, "docId": doc_id})


def inline_text(token: Token) -> str:
    """The plain text of an inline token (a heading's words without markup)."""
    return "".join(child.content for child in token.children or [] if child.type in ("text", "code_inline"))

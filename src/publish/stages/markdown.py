"""The one Markdown dialect of a chapter: CommonMark plus tables and footnotes (markdown-it-py)."""
from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from . import notes


# Notes are rendered one of three ways (env["notes"]): "chapter", a list after the chapter's text (print,
# book.yaml notes.place: chapter); "page", each note a <div class="footnote"> after the text, which
# notes.at_page_foot moves into its call once the chapter is typeset (print, the default); "epub", pop-up
# footnotes: a noteref call and an <aside epub:type="footnote"> whose mark links back to it, which Apple
# Books, Kobo and Readium show over the page. Marks are ①②③ (notes.mark), from env["firstNote"] + 1.

def _note_ident(self, tokens, idx, options, env) -> str:
    return self.rules["footnote_anchor_name"](tokens, idx, options, env)


def _footnote_caption(self, tokens, idx, options, env) -> str:
    return notes.mark(env.get("firstNote", 0) + tokens[idx].meta["id"] + 1)


def _footnote_ref(self, tokens, idx, options, env) -> str:
    ident = _note_ident(self, tokens, idx, options, env)
    refid = ident + (f":{tokens[idx].meta['subId']}" if tokens[idx].meta.get("subId", -1) > 0 else "")
    caption = _footnote_caption(self, tokens, idx, options, env)
    if env.get("notes") == "epub":
        return (f'<sup class="footnote-ref"><a epub:type="noteref" role="doc-noteref" href="#fn{ident}" '
                f'id="fnref{refid}">{caption}</a></sup>')
    if env.get("notes") == "page":   # the id on <sup>: notes.at_page_foot replaces the whole call
        return f'<sup class="footnote-ref" id="fnref{refid}"><a href="#fn{ident}">{caption}</a></sup>'
    return f'<sup class="footnote-ref"><a href="#fn{ident}" id="fnref{refid}">{caption}</a></sup>'


def _footnote_block_open(self, tokens, idx, options, env) -> str:
    if env.get("notes") in ("page", "epub"):
        return '<div class="footnotes">\n'
    return '<section class="footnotes" role="doc-endnotes">\n<ol class="footnotes-list">\n'


def _footnote_block_close(self, tokens, idx, options, env) -> str:
    return "</div>\n" if env.get("notes") in ("page", "epub") else "</ol>\n</section>\n"


def _footnote_open(self, tokens, idx, options, env) -> str:
    ident = _note_ident(self, tokens, idx, options, env)
    if env.get("notes") == "epub":
        return f'<aside epub:type="footnote" role="doc-footnote" class="footnote" id="fn{ident}">'
    if env.get("notes") == "page":
        return f'<div class="footnote" id="fn{ident}" data-mark="{_footnote_caption(self, tokens, idx, options, env)}">'
    return f'<li id="fn{ident}" class="footnote-item">'


def _footnote_close(self, tokens, idx, options, env) -> str:
    return {"epub": "</aside>\n", "page": "</div>\n"}.get(env.get("notes"), "</li>\n")


def _paragraph_open(self, tokens, idx, options, env) -> str:
    """A note's first paragraph begins with the note's mark (at the foot of a page, WeasyPrint's
    ::footnote-marker draws it); in the EPUB the mark links back to the call."""
    html = self.renderToken(tokens, idx, options, env)
    if idx == 0 or tokens[idx - 1].type != "footnote_open" or env.get("notes") == "page":
        return html
    mark = _footnote_caption(self, tokens, idx - 1, options, env)
    if env.get("notes") == "epub":
        ident = _note_ident(self, tokens, idx - 1, options, env)
        return html + f'<a class="footnote-mark" href="#fnref{ident}" role="doc-backlink">{mark}</a>'
    return html + f'<span class="footnote-mark">{mark}</span>'


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
    for rule, render in (("footnote_caption", _footnote_caption), ("footnote_ref", _footnote_ref),
                         ("footnote_block_open", _footnote_block_open),
                         ("footnote_block_close", _footnote_block_close), ("footnote_open", _footnote_open),
                         ("footnote_close", _footnote_close), ("paragraph_open", _paragraph_open)):
        md.add_render_rule(rule, render)
    md.add_render_rule("footnote_anchor", lambda *args: "")   # the mark links back (EPUB), print needs no link
    md.add_render_rule("softbreak", _softbreak)
    # markdown-it leaves file:, data: and javascript: targets as literal text; let them through as
    # links and images so that the manuscript stage refuses them with a message instead.
    md.validateLink = lambda url: True
    return md


def parse(text: str) -> tuple[list[Token], dict]:
    """Tokens and the env the footnote plugin fills; both are needed to render."""
    env: dict = {}
    return parser().parse(text, env), env


def render(tokens: list[Token], env: dict, doc_id: str, note_style: str = "chapter", first_note: int = 0) -> str:
    """XHTML for the tokens; doc_id keeps footnote ids unique when chapters share one document. `note_style`:
    "chapter", "page" or "epub" (above); `first_note`: the notes of the book before this chapter's, when
    a book numbers its notes through."""
    return parser().renderer.render(tokens, parser().options,
                                    {**env, "docId": doc_id, "notes": note_style, "firstNote": first_note})


def inline_text(token: Token) -> str:
    """The plain text of an inline token (a heading's words without markup)."""
    return "".join(child.content for child in token.children or [] if child.type in ("text", "code_inline"))

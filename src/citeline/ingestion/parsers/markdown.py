"""Markdown: block structure from markdown-it-py's token source maps; blocks keep their source text."""

from __future__ import annotations

import re
from pathlib import PurePath

from markdown_it import MarkdownIt
from markdown_it.token import Token

from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import (
    BlockAssembler,
    collapse_whitespace,
    decode_text,
    normalise_text,
    short_title,
)

MIME = "text/markdown"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(?P<title>.+?)[ \t]*$", re.MULTILINE)
_TAG = re.compile(r"<[^>]*>")
_ATTR_LIST = re.compile(r"\s*\{:?\s*[#.][^{}]*\}\s*$")  # "## Title { #anchor }" (attr_list extension)
_BLOCK_CLOSER = re.compile(r"^(?:///|:::)$")  # closes a "/// note" or ":::" admonition
_KINDS = {
    "paragraph_open": "paragraph",
    "blockquote_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "html_block": "paragraph",
}


def split_front_matter(text: str) -> tuple[str, str | None]:
    """The text without a leading YAML front matter block, and the front matter's ``title``."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, None
    title_match = _FRONT_MATTER_TITLE.search(match.group("body") or "")
    title = title_match.group("title").strip("'\"") if title_match else None
    return text[match.end() :], title or None


def _is_markup_only(html: str) -> bool:
    """An HTML block with no visible text (a comment, an image, an empty wrapper)."""
    return html.lstrip().startswith("<!--") or not _TAG.sub("", html).strip()


def parse_markdown(filename: str, data: bytes) -> ParsedDocument:
    """Top-level markdown blocks in order; headings build the heading path and are blocks themselves."""
    body, title = split_front_matter(normalise_text(decode_text(data)))
    lines = body.split("\n")
    tokens: list[Token] = MarkdownIt("commonmark").enable("table").parse(body)
    blocks = BlockAssembler()
    headings: list[tuple[int, str]] = []
    first_h1: str | None = None
    for index, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or token.map is None:
            continue
        first, last = token.map
        if token.type == "heading_open":
            level = int(token.tag[1:])
            text = _ATTR_LIST.sub("", collapse_whitespace(tokens[index + 1].content))
            if not text:
                continue
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            if level == 1 and first_h1 is None:
                first_h1 = text
            blocks.add(text, "heading", heading_path=tuple(h for _, h in headings))
            continue
        kind = _KINDS.get(token.type)
        if kind is None or (token.type == "html_block" and _is_markup_only(token.content)):
            continue
        source = "\n".join(lines[first:last]).strip()
        if not _BLOCK_CLOSER.match(source):
            blocks.add(source, kind, heading_path=tuple(h for _, h in headings))
    title = short_title(title) or short_title(first_h1) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=MIME)

"""HTML: headings, paragraphs, list items, tables and preformatted text, in document order."""

from __future__ import annotations

import re
from itertools import islice
from pathlib import PurePath

from selectolax.lexbor import LexborHTMLParser, LexborNode

from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import (
    BlockAssembler,
    collapse_whitespace,
    decode_text,
    normalise_text,
    short_title,
)

MIME = "text/html"
_DROPPED = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")
_PAGE_CHROME = "header, footer"  # dropped unless part of an article (whose header holds its title)
_CONTENT_ROOTS = frozenset({"article", "main"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_PARAGRAPHS = frozenset({"p", "dd", "dt", "figcaption", "caption", "address", "summary", "legend"})
# Phrasing elements: their text flows into the surrounding paragraph. Any other element is a block.
_INLINE = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "big", "button", "cite", "code", "data", "del", "dfn", "em",
        "font", "i", "img", "input", "ins", "kbd", "label", "mark", "nobr", "output", "q", "s", "samp",
        "select", "small", "span", "strike", "strong", "sub", "sup", "textarea", "time", "tt", "u",
        "var", "wbr",
    }
)  # fmt: skip
_BREAKS = frozenset({"br", "hr"})
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _inline_text(node: LexborNode) -> str:
    """The visible text under ``node``; the text of block descendants is separated by spaces."""
    parts: list[str] = []
    for child in node.iter(include_text=True):
        if child.is_text_node:
            parts.append(child.text(deep=False))
        elif child.is_element_node:
            inline = child.tag in _INLINE
            parts.append(_inline_text(child) if inline else f" {_inline_text(child)} ")
    return "".join(parts)


def _table_rows(table: LexborNode) -> list[str]:
    """One line per row, non-empty cells joined with " | "."""
    rows = []
    for row in table.css("tr"):
        cells = (collapse_whitespace(_inline_text(cell)) for cell in row.iter() if cell.tag in ("td", "th"))
        line = " | ".join(cell for cell in cells if cell)
        if line:
            rows.append(line)
    return rows


def _drop_page_chrome(tree: LexborHTMLParser) -> None:
    """Remove site-wide headers and footers, keeping those inside an <article> or <main>."""
    for node in tree.css(_PAGE_CHROME):
        parent = node.parent
        while parent is not None and parent.tag not in _CONTENT_ROOTS:
            parent = parent.parent
        if parent is None:
            node.decompose()


def _has_nested_table(table: LexborNode) -> bool:
    """Layout tables hold other tables; those are walked as containers rather than rendered as rows."""
    return any(node.tag == "table" for node in islice(table.traverse(), 1, None))


class _Walker:
    """Depth-first walk that turns block elements into blocks and loose inline text into paragraphs."""

    def __init__(self, blocks: BlockAssembler | None = None, base_path: tuple[str, ...] = ()) -> None:
        self.blocks = blocks if blocks is not None else BlockAssembler()
        self.base_path = base_path
        self.headings: list[tuple[int, str]] = []
        self.first_h1: str | None = None
        self._loose: list[str] = []
        self._loose_kind = "paragraph"

    def add(self, text: str, kind: str = "paragraph") -> None:
        self.flush()
        path = self.base_path + tuple(heading for _, heading in self.headings)
        self.blocks.add(text, kind, heading_path=path)

    def flush(self) -> None:
        """Emit the loose inline text gathered so far as one block."""
        if self._loose:
            text = collapse_whitespace("".join(self._loose))
            self._loose.clear()
            self.add(text, self._loose_kind)

    def heading(self, level: int, node: LexborNode) -> None:
        self.flush()
        text = collapse_whitespace(_inline_text(node))
        if not text:
            return
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, text))
        if level == 1 and self.first_h1 is None:
            self.first_h1 = text
        self.add(text, "heading")

    def container(self, node: LexborNode, loose_kind: str) -> None:
        """Walk a block container; its loose text becomes blocks of ``loose_kind``."""
        self.flush()
        outer, self._loose_kind = self._loose_kind, loose_kind
        self.walk(node)
        self.flush()
        self._loose_kind = outer

    def walk(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            if child.is_text_node:
                self._loose.append(child.text(deep=False))
                continue
            if not child.is_element_node:
                continue
            tag = child.tag or ""
            if tag in _HEADINGS:
                self.heading(_HEADINGS[tag], child)
            elif tag in _PARAGRAPHS:
                self.add(collapse_whitespace(_inline_text(child)))
            elif tag == "pre":
                self.add(child.text(deep=True), "code")
            elif tag == "table" and not _has_nested_table(child):
                self.add("\n".join(_table_rows(child)), "table")
            elif tag == "li":
                self.container(child, "list")
            elif tag in _BREAKS:
                self._loose.append(" ")
            elif tag in _INLINE:
                self._loose.append(_inline_text(child))
            else:
                self.container(child, "paragraph")


def html_blocks(html: str, blocks: BlockAssembler, heading_path: tuple[str, ...] = ()) -> str | None:
    """Add the visible text of an HTML fragment or page to ``blocks``; returns its first h1 or title."""
    tree = LexborHTMLParser(normalise_text(html))
    title_node = tree.css_first("title")
    page_title = title_node.text(deep=True) if title_node is not None else None
    tree.strip_tags(list(_DROPPED))
    _drop_page_chrome(tree)
    walker = _Walker(blocks, heading_path)
    root = tree.body or tree.root
    if root is not None:
        walker.walk(root)
        walker.flush()
    return short_title(walker.first_h1, 200) or short_title(page_title, 200)


def parse_html(filename: str, data: bytes) -> ParsedDocument:
    """Visible text of an HTML page as blocks; navigation, headers, footers and scripts are dropped."""
    declared = _CHARSET.search(data[:4096])
    text = decode_text(data, declared.group(1).decode("ascii") if declared else None)
    tree = LexborHTMLParser(normalise_text(text))
    title_node = tree.css_first("title")
    page_title = title_node.text(deep=True) if title_node is not None else None
    tree.strip_tags(list(_DROPPED))
    _drop_page_chrome(tree)
    walker = _Walker()
    root = tree.body or tree.root
    if root is not None:
        walker.walk(root)
        walker.flush()
    title = short_title(page_title, 200) or short_title(walker.first_h1, 200) or PurePath(filename).stem
    return walker.blocks.build(filename, title=title, mime=MIME)

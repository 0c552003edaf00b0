"""ZIP-packaged text formats read with the standard library and lxml: EPUB books and ODT documents."""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import PurePath
from typing import Any

from lxml import etree

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, collapse_whitespace, decode_text, short_title
from citeline.ingestion.parsers.html import html_blocks

EPUB_MIME = "application/epub+zip"
ODT_MIME = "application/vnd.oasis.opendocument.text"
MAX_MEMBER_BYTES = 50 * 1024 * 1024  # one chapter or content.xml larger than this is refused
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}


def _open(filename: str, data: bytes, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DocumentParseError(filename, f"the file is not a valid {what} or is damaged") from exc


def _read(filename: str, package: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = package.getinfo(name)
    except KeyError as exc:
        raise DocumentParseError(filename, f"the package has no {name}") from exc
    if info.file_size > MAX_MEMBER_BYTES:
        raise DocumentParseError(filename, f"{name} is larger than {MAX_MEMBER_BYTES // 1048576} MiB")
    return package.read(info)


def _xml(filename: str, data: bytes) -> Any:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocumentParseError(filename, f"the package holds damaged XML ({exc.msg})") from exc


def parse_epub(filename: str, data: bytes) -> ParsedDocument:
    """Chapters in spine (reading) order; each chapter's headings nest under the book's title."""
    with _open(filename, data, "EPUB book") as package:
        container = _xml(filename, _read(filename, package, "META-INF/container.xml"))
        rootfile = container.find(".//c:rootfile", _NS)
        if rootfile is None or not rootfile.get("full-path"):
            raise DocumentParseError(filename, "the EPUB names no package document")
        opf_path = rootfile.get("full-path")
        opf = _xml(filename, _read(filename, package, opf_path))
        base = posixpath.dirname(opf_path)
        items = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:manifest/opf:item", _NS)}
        book_title = opf.findtext(".//dc:title", namespaces=_NS)
        blocks = BlockAssembler()
        for itemref in opf.iterfind(".//opf:spine/opf:itemref", _NS):
            href = items.get(itemref.get("idref"))
            if not href:
                continue
            chapter = _read(filename, package, posixpath.normpath(posixpath.join(base, href)))
            html_blocks(decode_text(chapter), blocks)
    title = short_title(book_title, 200) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=EPUB_MIME, empty_reason="the book contains no text")


def _text(element: Any) -> str:
    return collapse_whitespace("".join(element.itertext()))


def _odt_body(element: Any, blocks: BlockAssembler, headings: list[tuple[int, str]]) -> None:
    for child in element:
        tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
        path = tuple(text for _, text in headings)
        if tag == "h":
            level = int(child.get(f"{{{_NS['text']}}}outline-level") or 1)
            text = _text(child)
            if text:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                blocks.add(text, "heading", heading_path=tuple(t for _, t in headings))
        elif tag == "p":
            blocks.add(_text(child), heading_path=path)
        elif tag == "list":
            items = [_text(item) for item in child.iter(f"{{{_NS['text']}}}list-item")]
            blocks.add("\n".join(item for item in items if item), "list", heading_path=path)
        elif tag == "table":
            rows = []
            for row in child.iter(f"{{{_NS['table']}}}table-row"):
                cells = [_text(cell) for cell in row.iter(f"{{{_NS['table']}}}table-cell")]
                if any(cells):
                    rows.append(" | ".join(cell for cell in cells if cell))
            blocks.add("\n".join(rows), "table", heading_path=path)
        elif tag in ("section", "soft-page-break", "tracked-changes") or len(child):
            _odt_body(child, blocks, headings)


def parse_odt(filename: str, data: bytes) -> ParsedDocument:
    with _open(filename, data, "OpenDocument text") as package:
        content = _xml(filename, _read(filename, package, "content.xml"))
        try:
            meta = _xml(filename, package.read("meta.xml")) if "meta.xml" in package.namelist() else None
        except DocumentParseError:
            meta = None
    body = content.find(".//office:body/office:text", _NS)
    if body is None:
        raise DocumentParseError(filename, "the file is not an OpenDocument text document")
    blocks = BlockAssembler()
    headings: list[tuple[int, str]] = []
    _odt_body(body, blocks, headings)
    meta_title = meta.findtext(".//dc:title", namespaces=_NS) if meta is not None else None
    title = short_title(meta_title, 200) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=ODT_MIME)

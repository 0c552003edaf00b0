"""Parsers for each supported format, format detection and the errors for unreadable files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import docx
import pytest

from citeline.core.errors import DocumentParseError, UnsupportedMediaTypeError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers import detect_format, parse_document
from citeline.ingestion.parsers.pdf import page_paragraphs

CheckBlocks = Callable[[ParsedDocument], None]


def block_texts(doc: ParsedDocument) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks]


# -- plain text ---------------------------------------------------------------------------------


def test_text_paragraphs_and_title(check_blocks: CheckBlocks) -> None:
    data = b"Release notes\r\n\r\nFirst paragraph\r\nwraps here.\r\n\r\n  \r\nSecond paragraph.\r\n"
    doc = parse_document("notes.txt", data)
    check_blocks(doc)
    assert block_texts(doc) == ["Release notes", "First paragraph\nwraps here.", "Second paragraph."]
    assert doc.title == "Release notes"
    assert doc.mime == "text/plain"


def test_text_long_first_line_falls_back_to_file_name() -> None:
    doc = parse_document("minutes-2024.txt", ("word " * 40).encode())
    assert doc.title == "minutes-2024"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Caf\u00e9 cr\u00e8me, 10 \u20ac".encode("cp1252"), "Caf\u00e9 cr\u00e8me, 10 \u20ac"),
        ("Stra\u00dfe \u00fcber alles".encode("latin-1"), "Stra\u00dfe \u00fcber alles"),
        ("\ufeffUTF-8 with BOM \u2713".encode(), "UTF-8 with BOM \u2713"),
        ("UTF-16 text \u00e9".encode("utf-16"), "UTF-16 text \u00e9"),
        ("UTF-16 without BOM".encode("utf-16-le"), "UTF-16 without BOM"),
    ],
)
def test_text_encodings(data: bytes, expected: str) -> None:
    assert parse_document("legacy.txt", data).text == expected


def test_text_with_unknown_extension_is_read_as_text() -> None:
    doc = parse_document("server.log", b"2024-01-01 started\n\n2024-01-02 stopped\n")
    assert doc.mime == "text/plain"
    assert len(doc.blocks) == 2


# -- markdown -----------------------------------------------------------------------------------

MARKDOWN = b"""---
title: "Install Guide"
tags: [setup]
---
# Installing Citeline

Citeline runs on Python 3.11.
It needs no GPU.

Requirements
------------

- Python 3.11
- 2 GB of memory

## Commands { #commands }

```bash
pip install citeline
```

| Command | Purpose |
|---------|---------|
| serve   | run the API |

> A quoted tip.

<!-- an editor's comment -->

# Troubleshooting

Read the logs first.
"""


def test_markdown_blocks_kinds_and_heading_paths(check_blocks: CheckBlocks) -> None:
    doc = parse_document("install.md", MARKDOWN)
    check_blocks(doc)
    got = [(b.kind, b.heading_path, doc.text[b.start : b.end]) for b in doc.blocks]
    install, requirements = "Installing Citeline", "Requirements"
    assert got == [
        ("heading", (install,), install),
        ("paragraph", (install,), "Citeline runs on Python 3.11.\nIt needs no GPU."),
        ("heading", (install, requirements), requirements),
        ("list", (install, requirements), "- Python 3.11\n- 2 GB of memory"),
        ("heading", (install, "Commands"), "Commands"),
        ("code", (install, "Commands"), "```bash\npip install citeline\n```"),
        (
            "table",
            (install, "Commands"),
            "| Command | Purpose |\n|---------|---------|\n| serve   | run the API |",
        ),
        ("paragraph", (install, "Commands"), "> A quoted tip."),
        ("heading", ("Troubleshooting",), "Troubleshooting"),
        ("paragraph", ("Troubleshooting",), "Read the logs first."),
    ]
    assert "title:" not in doc.text, "front matter is not document text"
    assert doc.title == "Install Guide"
    assert doc.mime == "text/markdown"


def test_markdown_title_from_first_h1_then_file_name() -> None:
    assert parse_document("a.md", b"Intro text.\n\n# Real Title\n\nBody.\n").title == "Real Title"
    assert parse_document("notes.markdown", b"## Only a subsection\n\nBody.\n").title == "notes"


# -- HTML ---------------------------------------------------------------------------------------

HTML = b"""<!DOCTYPE html>
<html><head><title>Citeline Handbook</title><style>p { color: red }</style>
<script>var secret = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav>
<header>Site banner</header>
<h1>Handbook</h1>
<p>Welcome to the <b>handbook</b>.</p>
<div>Loose text in a div<div>and a nested div</div></div>
<h2>Lists</h2>
<ul><li>First item</li><li>Second item<ul><li>Nested item</li></ul></li></ul>
<table><tr><th>Name</th><th>Role</th></tr><tr><td>Ada</td><td></td><td>Admin</td></tr></table>
<pre>def f():
    return 1</pre>
<dl><dt>Term</dt><dd>Definition</dd></dl>
<article><header><h1>Appendix</h1></header>
<blockquote><p>Quoted.</p></blockquote></article>
<footer>Copyright</footer>
</body></html>"""


def test_html_blocks_and_dropped_elements(check_blocks: CheckBlocks) -> None:
    doc = parse_document("handbook.html", HTML)
    check_blocks(doc)
    got = [(b.kind, b.heading_path, doc.text[b.start : b.end]) for b in doc.blocks]
    lists = ("Handbook", "Lists")
    assert got == [
        ("heading", ("Handbook",), "Handbook"),
        ("paragraph", ("Handbook",), "Welcome to the handbook."),
        ("paragraph", ("Handbook",), "Loose text in a div"),
        ("paragraph", ("Handbook",), "and a nested div"),
        ("heading", lists, "Lists"),
        ("list", lists, "First item"),
        ("list", lists, "Second item"),
        ("list", lists, "Nested item"),
        ("table", lists, "Name | Role\nAda | Admin"),
        ("code", lists, "def f():\n    return 1"),
        ("paragraph", lists, "Term"),
        ("paragraph", lists, "Definition"),
        ("heading", ("Appendix",), "Appendix"),
        ("paragraph", ("Appendix",), "Quoted."),
    ]
    for dropped in ("secret", "color", "Home", "banner", "Copyright"):
        assert dropped not in doc.text
    assert doc.title == "Citeline Handbook"
    assert doc.mime == "text/html"


def test_html_cp1252_and_title_fallbacks() -> None:
    doc = parse_document("page.htm", "<p>Na\u00efve caf\u00e9</p><h1>Heading One</h1>".encode("cp1252"))
    assert doc.text.startswith("Na\u00efve caf\u00e9")
    assert doc.title == "Heading One"
    assert parse_document("bare.html", b"<html><body><p>Just text.</p></body></html>").title == "bare"


# -- PDF ----------------------------------------------------------------------------------------


def test_pdf_pages_paragraphs_and_title(two_page_pdf: bytes, check_blocks: CheckBlocks) -> None:
    doc = parse_document("guide.pdf", two_page_pdf)
    check_blocks(doc)
    assert [b.page for b in doc.blocks] == [1, 1, 2]
    first, second, third = block_texts(doc)
    assert first.startswith("Citeline indexes documents") and first.endswith("page boundary.")
    assert "\n" not in first, "lines of a paragraph are joined"
    assert "words like information are joined" in second, "line-end hyphenation is undone"
    assert third.startswith("The second page")
    assert doc.title == "Citeline Field Guide"
    assert doc.mime == "application/pdf"
    assert doc.metadata["pages"] == 2


def test_pdf_title_falls_back_to_first_line(make_pdf: Callable[..., bytes]) -> None:
    lines = ["Short Memo Title", *["The body of the memo runs across the whole width of the page."] * 3]
    assert parse_document("memo.pdf", make_pdf([lines])).title == "Short Memo Title"
    assert parse_document("memo.pdf", make_pdf([["x" * 130]])).title == "memo"


def test_page_paragraphs_heuristics() -> None:
    raw = (
        "1 Introduction\r\n"
        "Deep learning is the state of the art for a wide range of document analysis tasks\r\n"
        "and many more applica\ufffetions in practice.\r\n"
        "A new paragraph starts here and it runs across the full width of the page too\r\n"
        "ending with a state-of-the-\r\n"
        "art result.\r\n"
        "\r\n"
        "After a blank line."
    )
    assert page_paragraphs(raw) == [
        "1 Introduction",
        "Deep learning is the state of the art for a wide range of document analysis tasks "
        "and many more applications in practice.",
        "A new paragraph starts here and it runs across the full width of the page too "
        "ending with a state-of-the-art result.",
        "After a blank line.",
    ]


def test_encrypted_pdf_needs_password(encrypted_pdf: bytes) -> None:
    with pytest.raises(DocumentParseError) as caught:
        parse_document("locked.pdf", encrypted_pdf)
    assert caught.value.reason == "the PDF is encrypted and needs a password"
    assert caught.value.status_code == 400
    assert "locked.pdf" in caught.value.detail


def test_pdf_without_text_needs_ocr(image_only_pdf: bytes) -> None:
    with pytest.raises(DocumentParseError, match=r"no extractable text.*OCR"):
        parse_document("scan.pdf", image_only_pdf)


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage that is not a PDF", b"not a pdf at all"])
def test_damaged_pdf_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(DocumentParseError, match="not a valid PDF"):
        parse_document("broken.pdf", data)


# -- DOCX ---------------------------------------------------------------------------------------


def test_docx_headings_lists_tables(report_docx: bytes, check_blocks: CheckBlocks) -> None:
    doc = parse_document("report.docx", report_docx)
    check_blocks(doc)
    got = [(b.kind, b.heading_path, doc.text[b.start : b.end]) for b in doc.blocks]
    regions = ("Overview", "Regions")
    assert got == [
        ("heading", ("Overview",), "Overview"),
        ("paragraph", ("Overview",), "Revenue grew in every region this quarter."),
        ("heading", regions, "Regions"),
        ("list", regions, "North grew fastest.\nSouth was flat."),
        ("table", regions, "Region | Revenue\nNorth | 120\nSouth | 80"),
        ("heading", ("Outlook",), "Outlook"),
        ("paragraph", ("Outlook",), "We expect steady growth next year."),
    ]
    assert doc.title == "Quarterly Report"
    assert doc.mime.endswith("wordprocessingml.document")


def test_docx_title_style_is_the_outermost_heading(check_blocks: CheckBlocks) -> None:
    document = docx.Document()
    document.add_heading("Field Manual", level=0)
    document.add_heading("Chapter One", level=1)
    document.add_paragraph("1. Numbered", style="List Number")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = parse_document("manual.docx", buffer.getvalue())
    check_blocks(doc)
    assert [(b.kind, b.heading_path) for b in doc.blocks] == [
        ("heading", ("Field Manual",)),
        ("heading", ("Field Manual", "Chapter One")),
        ("list", ("Field Manual", "Chapter One")),
    ]
    assert doc.title == "Field Manual"


@pytest.mark.parametrize(
    "data",
    [b"this is not a zip file", b"PK\x03\x04" + b"\x00" * 40],
    ids=["not-a-zip", "truncated-zip"],
)
def test_corrupt_docx_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(DocumentParseError, match=r"not a valid \.docx"):
        parse_document("report.docx", data)


def test_docx_missing_its_document_part(report_docx: bytes) -> None:
    source = zipfile.ZipFile(io.BytesIO(report_docx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as damaged:
        for name in source.namelist():
            if name != "word/document.xml":
                damaged.writestr(name, source.read(name))
    with pytest.raises(DocumentParseError, match=r"not a valid \.docx"):
        parse_document("report.docx", buffer.getvalue())


# -- empty files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.pdf", "empty.docx"])
def test_empty_file_is_a_parse_error(name: str) -> None:
    with pytest.raises(DocumentParseError, match="empty"):
        parse_document(name, b"")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("blank.txt", b" \n\t\n "),
        ("blank.md", b"---\ntitle: x\n---\n\n<!-- nothing -->\n"),
        ("blank.html", b"<p> </p>"),
    ],
)
def test_document_without_text_is_a_parse_error(name: str, data: bytes) -> None:
    with pytest.raises(DocumentParseError, match="no text"):
        parse_document(name, data)


# -- detection ----------------------------------------------------------------------------------


def test_magic_bytes_beat_a_misleading_extension(two_page_pdf: bytes, report_docx: bytes) -> None:
    assert detect_format("notes.txt", "text/plain", two_page_pdf) == "pdf"
    assert detect_format("upload.bin", "application/octet-stream", report_docx) == "docx"
    assert detect_format("page.md", None, b"  <!DOCTYPE html><html><body>x</body></html>") == "html"
    assert parse_document("really-a-pdf.txt", two_page_pdf).mime == "application/pdf"


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("a.TXT", None, "text"),
        ("a.text", None, "text"),
        ("a.md", None, "markdown"),
        ("a.markdown", None, "markdown"),
        ("a.htm", None, "html"),
        ("a.HTML", None, "html"),
        ("upload", "text/markdown; charset=utf-8", "markdown"),
        ("upload", "text/html", "html"),
        ("upload", None, "text"),
    ],
)
def test_detection_by_extension_then_content_type(name: str, content_type: str | None, expected: str) -> None:
    assert detect_format(name, content_type, b"plain words") == expected


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG"),
        ("photo.txt", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "JPEG"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00", None),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "legacy"),
    ],
)
def test_unsupported_types_are_415(name: str, data: bytes, what: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_document(name, data)
    error = caught.value
    assert error.status_code == 415
    assert error.code == "unsupported_media_type"
    assert repr(name) in error.detail
    assert "PDF (.pdf), Word (.docx)" in error.detail
    if what:
        assert what in error.detail


def test_a_zip_archive_is_not_one_document() -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_document("archive.zip", _zip("readme.txt"))
    assert "unpacked" in caught.value.detail

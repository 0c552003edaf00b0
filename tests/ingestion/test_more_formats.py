"""PPTX, XLSX, CSV, EML, RTF, EPUB and ODT: real files built here, parsed and chunked."""

from __future__ import annotations

import io
import re
import zipfile
from email.message import EmailMessage

import pytest

from citeline.core.errors import DocumentParseError
from citeline.ingestion.chunking import chunk_document
from citeline.ingestion.parsers import detect_format, parse_document


def make_pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "Quarterly review"
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Revenue"
    first.placeholders[1].text = "Revenue grew 12% in the third quarter.\nCosts were flat."
    first.notes_slide.notes_text_frame.text = "Mention the new Berlin office."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Headcount"
    table = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate([("Team", "People"), ("Sales", "14"), ("Support", "9")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Offices"
    sheet.append(["City", "Opened", "Staff"])
    sheet.append(["Berlin", 2019, 40])
    sheet.append(["Lisbon", 2022, 12])
    other = workbook.create_sheet("Notes")
    other.append(["Lisbon moves to a larger floor in May."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_eml(html: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana <ana@example.com>"
    message["To"] = "team@example.com"
    message["Subject"] = "Server maintenance window"
    message["Date"] = "Tue, 01 Dec 2026 09:00:00 +0000"
    body = "The database servers will be patched on Saturday.\n\nExpect 20 minutes of downtime."
    if html:
        message.set_content("fallback")
        message.add_alternative(
            f"<html><body><p>{body.replace(chr(10), ' ')}</p></body></html>", subtype="html"
        )
    else:
        message.set_content(body)
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="schedule.pdf")
    return bytes(message)


def make_epub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored, first
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Field Guide</dc:title></metadata>'
            '<manifest><item id="c2" href="two.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="c1" href="one.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>',
        )
        book.writestr(
            "OEBPS/one.xhtml", "<html><body><h1>Birds</h1><p>Robins sing at dawn.</p></body></html>"
        )
        book.writestr(
            "OEBPS/two.xhtml", "<html><body><h1>Trees</h1><p>Oaks live for centuries.</p></body></html>"
        )
    return buffer.getvalue()


def make_odt() -> bytes:
    content = (
        '<?xml version="1.0"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:text>'
        '<text:h text:outline-level="1">Safety</text:h><text:p>Wear a helmet on site.</text:p>'
        "<text:list><text:list-item><text:p>Boots</text:p></text:list-item>"
        "<text:list-item><text:p>Gloves</text:p></text:list-item></text:list>"
        "<table:table><table:table-row><table:table-cell><text:p>Zone</text:p></table:table-cell>"
        "<table:table-cell><text:p>Rule</text:p></table:table-cell></table:table-row>"
        "<table:table-row><table:table-cell><text:p>A</text:p></table:table-cell>"
        "<table:table-cell><text:p>Hard hats</text:p></table:table-cell></table:table-row></table:table>"
        "</office:text></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", content)
    return buffer.getvalue()


def test_pptx_slides_are_pages_with_titles_tables_and_notes() -> None:
    doc = parse_document("review.pptx", make_pptx())
    assert doc.title == "Quarterly review"
    headings = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading"]
    assert headings == ["Slide 1: Revenue", "Slide 2: Headcount"]
    by_text = {doc.text[b.start : b.end]: b for b in doc.blocks}
    assert by_text["Revenue grew 12% in the third quarter.\nCosts were flat."].page == 1
    assert by_text["Speaker notes: Mention the new Berlin office."].heading_path == ("Slide 1: Revenue",)
    table = by_text["Team | People\nSales | 14\nSupport | 9"]
    assert (table.kind, table.page) == ("table", 2)


def test_xlsx_rows_name_their_columns_and_sheets_are_sections() -> None:
    doc = parse_document("offices.xlsx", make_xlsx())
    texts = [doc.text[b.start : b.end] for b in doc.blocks]
    assert "Columns: City | Opened | Staff" in texts
    assert "City: Berlin; Opened: 2019; Staff: 40\nCity: Lisbon; Opened: 2022; Staff: 12" in texts
    assert "Lisbon moves to a larger floor in May." in texts
    assert {b.heading_path for b in doc.blocks} == {("Offices",), ("Notes",)}


def test_csv_sniffs_the_delimiter_and_keeps_rows_whole_when_chunked(embedder: object) -> None:
    rows = ["region;product;units"] + [f"north;widget model {i} with a long name;{i}" for i in range(60)]
    doc = parse_document("sales.csv", "\n".join(rows).encode())
    assert doc.text.startswith("Columns: region | product | units")
    chunks = chunk_document(doc, embedder.count_tokens, max_tokens=64, overlap_tokens=0)  # type: ignore[attr-defined]
    assert len(chunks) > 3
    whole_row = re.compile(r"region: north; product: widget model (\d+) with a long name; units: \1")
    seen = set()
    for chunk in chunks:
        for line in filter(None, chunk.text.split("\n")):
            match = whole_row.fullmatch(line)
            assert match or line == "Columns: region | product | units", line
            if match:
                seen.add(int(match.group(1)))
    assert seen == set(range(60))


def test_tsv_without_header_is_plain_rows() -> None:
    doc = parse_document("numbers.tsv", b"1\t2\t3\n4\t5\t6\n")
    assert doc.text == "1 | 2 | 3\n4 | 5 | 6"


@pytest.mark.parametrize("html", [False, True])
def test_eml_headers_body_and_attachment_names(html: bool) -> None:
    doc = parse_document("maintenance.eml", make_eml(html))
    assert doc.title == "Server maintenance window"
    assert "From: Ana <ana@example.com>" in doc.text
    assert "patched on Saturday" in doc.text
    assert "Attachments: schedule.pdf" in doc.text
    assert "fallback" not in doc.text


def test_rtf_is_read_as_text() -> None:
    data = rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Overtime is paid at 1.5x.\par Night shifts at 2x.\par}"
    assert detect_format("pay.rtf", None, data) == "rtf"
    doc = parse_document("pay.rtf", data)
    assert [doc.text[b.start : b.end] for b in doc.blocks] == [
        "Overtime is paid at 1.5x.",
        "Night shifts at 2x.",
    ]


def test_epub_chapters_in_spine_order() -> None:
    data = make_epub()
    assert detect_format("guide.epub", None, data) == "epub"
    doc = parse_document("guide.epub", data)
    assert doc.title == "Field Guide"
    assert doc.text.index("Robins") < doc.text.index("Oaks")
    assert ("Trees",) in {b.heading_path for b in doc.blocks}


def test_odt_headings_lists_and_tables() -> None:
    data = make_odt()
    assert detect_format("rules.odt", None, data) == "odt"
    doc = parse_document("rules.odt", data)
    kinds = {doc.text[b.start : b.end]: (b.kind, b.heading_path) for b in doc.blocks}
    assert kinds["Wear a helmet on site."] == ("paragraph", ("Safety",))
    assert kinds["Boots\nGloves"] == ("list", ("Safety",))
    assert kinds["Zone | Rule\nA | Hard hats"] == ("table", ("Safety",))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("broken.pptx", b"PK\x03\x04ppt/" + b"\x00" * 40),
        ("broken.xlsx", b"PK\x03\x04xl/" + b"\x00" * 40),
        ("broken.epub", b"PK\x03\x04\x00\x00mimetypeapplication/epub+zip" + b"\x00" * 40),
        ("broken.odt", make_odt()[:-40]),
    ],
)
def test_damaged_packages_are_parse_errors(name: str, data: bytes) -> None:
    with pytest.raises(DocumentParseError) as caught:
        parse_document(name, data)
    assert name in caught.value.detail

"""Fixtures for parser and chunker tests: real PDF/DOCX files built on the fly, simple token counters."""

from __future__ import annotations

import io
from collections.abc import Callable

import docx
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from citeline.ingestion.model import ParsedDocument

TokenCounter = Callable[[list[str]], list[int]]

PAGE_ONE = [
    "Citeline indexes documents so that every answer can point at its source text. The",
    "parser keeps page numbers for PDF files, and the chunker never lets a chunk cross a",
    "page boundary.",
    "A second paragraph on the first page explains that hyphenated words like infor-",
    "mation are joined again when a line ends with a hyphen.",
]
PAGE_TWO = [
    "The second page starts a new paragraph about retrieval. Lexical and vector search",
    "are fused, and the best passages are cited in the answer.",
]


def build_pdf(pages: list[list[str]], *, title: str | None = None) -> bytes:
    """A PDF with one line of text per entry, one page per list (an empty list gives a blank page)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=letter)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        if not lines:
            pdf.rect(100, 100, 200, 200, fill=1)  # a drawing, but no text
        for number, line in enumerate(lines):
            pdf.drawString(72, 720 - 14 * number, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    return build_pdf


@pytest.fixture
def two_page_pdf() -> bytes:
    return build_pdf([PAGE_ONE, PAGE_TWO], title="Citeline Field Guide")


@pytest.fixture
def image_only_pdf() -> bytes:
    return build_pdf([[]])


@pytest.fixture
def encrypted_pdf(two_page_pdf: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(two_page_pdf)))
    writer.encrypt(user_password="secret", owner_password="owner-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def report_docx() -> bytes:
    """A DOCX with a core title, headings on two levels, a paragraph, a bullet list and a table."""
    document = docx.Document()
    document.core_properties.title = "Quarterly Report"
    document.add_heading("Overview", level=1)
    document.add_paragraph("Revenue grew in every region this quarter.")
    document.add_heading("Regions", level=2)
    document.add_paragraph("North grew fastest.", style="List Bullet")
    document.add_paragraph("South was flat.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, values in zip(
        table.rows, [("Region", "Revenue"), ("North", "120"), ("South", "80")], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Outlook", level=1)
    document.add_paragraph("We expect steady growth next year.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def count_words(texts: list[str]) -> list[int]:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return [len(text.split()) for text in texts]


@pytest.fixture
def word_counter() -> TokenCounter:
    return count_words


@pytest.fixture
def check_blocks() -> Callable[[ParsedDocument], None]:
    """Asserts the block invariants every parser promises."""

    def check(doc: ParsedDocument) -> None:
        assert doc.blocks, "a parsed document has at least one block"
        previous_end = 0
        for block in doc.blocks:
            text = doc.text[block.start : block.end]
            assert text.strip() == text != "", block
            assert block.start >= previous_end, "blocks are ordered and do not overlap"
            previous_end = block.end
        assert doc.text == "\n\n".join(doc.text[b.start : b.end] for b in doc.blocks)

    return check

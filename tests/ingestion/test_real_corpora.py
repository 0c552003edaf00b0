"""Parsers and chunker on the real files in ../shared/data: every file parses or fails with a typed error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from citeline.core.errors import DocumentParseError, UnsupportedMediaTypeError
from citeline.embeddings.local import LocalEmbedder
from citeline.ingestion.chunking import chunk_document
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers import parse_document

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MAX_TOKENS = 200

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is not available"),
]

TokenCounter = Callable[[list[str]], list[int]]
CheckBlocks = Callable[[ParsedDocument], None]

# pdf-samples files that cannot be read, and why; every other PDF there must parse.
PDF_FAILURES = {
    "005-libreoffice-writer-password/libreoffice-writer-password.pdf": "needs a password",
    "007-imagemagick-images/imagemagick-ASCII85Decode.pdf": "OCR",
    "007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf": "OCR",
    "007-imagemagick-images/imagemagick-lzw.pdf": "OCR",
    "019-grayscale-image/grayscale-image.pdf": "OCR",
    "023-cmyk-image/cmyk-image.pdf": "OCR",
    "017-unreadable-meta-data/unreadablemetadata.pdf": "not a valid PDF",  # PDFium refuses its xref
}
# Large mixed-formats files left out to keep this test fast (each takes seconds on its own).
MIXED_SKIPPED = {"handbook-872p.docx", "DA-619p.pdf", "book-war-and-peace-1225p.txt"}
SUPPORTED_SUFFIXES = {
    *(".docx", ".html", ".htm", ".md", ".txt", ".pdf"),
    *(".pptx", ".xlsx", ".csv", ".tsv", ".eml", ".rtf", ".epub", ".odt"),
}
UNSUPPORTED_SUFFIXES = {
    *(".xls", ".msg"),  # (one ".doc" there is really a .docx, and is read as one)
    *(".png", ".jpg", ".jpeg", ".heic", ".bmp", ".tiff", ".wav", ".zip"),  # a .zip is unpacked on upload
}


def files(folder: str, pattern: str = "*") -> list[Path]:
    root = DATA / folder
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(pattern) if p.is_file() and not p.name.startswith("."))


def ids(paths: list[Path], folder: str) -> list[str]:
    return [str(p.relative_to(DATA / folder)) for p in paths]


@pytest.fixture(scope="module")
def count_tokens() -> TokenCounter:
    """The embedding model's own tokenizer, as ingestion uses it."""
    return LocalEmbedder().count_tokens


def check_chunks(doc: ParsedDocument, count_tokens: TokenCounter) -> None:
    chunks = chunk_document(doc, count_tokens, max_tokens=MAX_TOKENS)
    assert chunks
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start : chunk.end]
        assert chunk.token_count <= MAX_TOKENS or len(chunk.text.split()) == 1, chunk.text[:200]


PDF_SAMPLES = files("pdf-samples", "*.pdf")


@pytest.mark.parametrize("path", PDF_SAMPLES, ids=ids(PDF_SAMPLES, "pdf-samples"))
def test_pdf_samples(path: Path, count_tokens: TokenCounter, check_blocks: CheckBlocks) -> None:
    name = str(path.relative_to(DATA / "pdf-samples"))
    try:
        doc = parse_document(path.name, path.read_bytes())
    except DocumentParseError as exc:
        assert name in PDF_FAILURES, exc.detail
        assert PDF_FAILURES[name] in exc.reason
        return
    assert name not in PDF_FAILURES
    check_blocks(doc)
    assert all(b.page is not None and b.page >= 1 for b in doc.blocks)
    check_chunks(doc, count_tokens)


FASTAPI_DOCS = files("fastapi-docs", "*.md")[::4]


@pytest.mark.parametrize("path", FASTAPI_DOCS, ids=ids(FASTAPI_DOCS, "fastapi-docs"))
def test_fastapi_docs(path: Path, count_tokens: TokenCounter, check_blocks: CheckBlocks) -> None:
    doc = parse_document(path.name, path.read_bytes())
    check_blocks(doc)
    headings = [b for b in doc.blocks if b.kind == "heading"]
    assert headings, "every page of the FastAPI docs has headings"
    assert all(b.heading_path and b.heading_path[-1] == doc.text[b.start : b.end] for b in headings)
    assert not any("{ #" in path_part for b in doc.blocks for path_part in b.heading_path)
    after_first_heading = [b for b in doc.blocks if b.start > headings[0].start]
    assert all(b.heading_path for b in after_first_heading)
    check_chunks(doc, count_tokens)


MIXED = [p for p in files("mixed-formats") if p.name not in MIXED_SKIPPED]


@pytest.mark.parametrize("path", MIXED, ids=ids(MIXED, "mixed-formats"))
def test_mixed_formats(path: Path, count_tokens: TokenCounter, check_blocks: CheckBlocks) -> None:
    suffix = path.suffix.lower()
    try:
        doc = parse_document(path.name, path.read_bytes())
    except UnsupportedMediaTypeError as exc:
        assert suffix not in SUPPORTED_SUFFIXES, exc.detail
        return
    except DocumentParseError as exc:
        assert exc.reason
        return
    assert suffix not in UNSUPPORTED_SUFFIXES, f"{path.name} should have been refused"
    check_blocks(doc)
    check_chunks(doc, count_tokens)

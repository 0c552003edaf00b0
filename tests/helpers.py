"""Builders for test documents (real PDF and DOCX files) and the handbook fixture upload."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
HANDBOOK = FIXTURES / "handbook"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def handbook_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    types = {".md": "text/markdown", ".txt": "text/plain", ".html": "text/html"}
    return [
        ("files", (path.name, path.read_bytes(), types[path.suffix])) for path in sorted(HANDBOOK.iterdir())
    ]


def make_pdf(pages: list[list[str]]) -> bytes:
    """A real PDF with one page per list of paragraphs (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    story: list[Any] = []
    for number, paragraphs in enumerate(pages):
        if number:
            story.append(PageBreak())
        story.extend(Paragraph(text, styles["BodyText"]) for text in paragraphs)
    SimpleDocTemplate(buffer, pagesize=A4).build(story)
    return buffer.getvalue()


def make_docx(heading: str, paragraphs: list[str]) -> bytes:
    """A real DOCX with a Heading 1 and body paragraphs (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def read_sse(client: Any, method: str, url: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """(event name, decoded JSON data) for each server-sent event of a streamed response."""
    import json

    events: list[tuple[str, Any]] = []
    name = "message"
    with client.stream(method, url, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.partition(":")[2])))
    return events

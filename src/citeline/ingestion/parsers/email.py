"""E-mail messages (.eml): the headers people search by, then the body (HTML, else plain text)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import PurePath

from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, normalise_text, short_title
from citeline.ingestion.parsers.html import html_blocks

MIME = "message/rfc822"
_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def parse_eml(filename: str, data: bytes) -> ParsedDocument:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    blocks = BlockAssembler()
    subject = str(message.get("Subject") or "").strip()
    path = (subject,) if subject else ()
    header_lines = [f"{name}: {message[name]}" for name in _HEADERS if message.get(name)]
    if header_lines:
        blocks.add("\n".join(header_lines), heading_path=path)
    body = message.get_body(preferencelist=("html", "plain"))  # HTML is the complete part more often
    if body is not None:
        content = body.get_content()
        if body.get_content_type() == "text/html":
            html_blocks(content, blocks, heading_path=path)
        else:
            for paragraph in normalise_text(str(content)).split("\n\n"):
                blocks.add(paragraph, heading_path=path)
    attachments = [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
    if attachments:
        blocks.add(
            "Attachments: " + ", ".join(str(a) for a in attachments),
            heading_path=path,
        )
    title = short_title(subject, 200) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=MIME, empty_reason="the message has no text")

"""CSV/TSV and Excel workbooks: each row becomes one self-describing line ("Header: value; ...").

A table split between chunks keeps its meaning because every row names its columns, and the chunker
cuts table blocks only between rows. Each sheet is a section (its name is the heading).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import (
    BlockAssembler,
    collapse_whitespace,
    decode_text,
    normalise_text,
)

_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+%?")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_PER_BLOCK = 50  # a block is a run of rows; the chunker packs them into chunks by tokens
MAX_CELLS = 2_000_000  # a workbook bigger than this is refused rather than read into memory


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return collapse_whitespace(str(value))


def _is_header(row: Sequence[str]) -> bool:
    """A first row of distinct, non-empty, non-numeric labels."""
    labels = [cell for cell in row if cell]
    if len(labels) < max(1, len(row) // 2) or len(set(labels)) != len(labels):
        return False
    return all(
        not label.replace(".", "", 1).replace("-", "", 1).replace(",", "").isdigit() for label in labels
    )


def _column_name(header: Sequence[str], index: int) -> str:
    return header[index] if index < len(header) and header[index] else f"column {index + 1}"


def _row_lines(rows: Iterable[Sequence[Any]]) -> tuple[str | None, list[str]]:
    """(header line or None, one line per non-empty row)."""
    cleaned = ([_cell(value) for value in row] for row in rows)
    non_empty = [row for row in cleaned if any(row)]
    if not non_empty:
        return None, []
    header: list[str] | None = non_empty[0] if _is_header(non_empty[0]) and len(non_empty) > 1 else None
    body = non_empty[1:] if header else non_empty
    lines = []
    for row in body:
        if header:
            names = [
                header[i] if i < len(header) and header[i] else f"column {i + 1}" for i in range(len(row))
            ]
            pairs = [f"{name}: {value}" for name, value in zip(names, row, strict=True) if value]
            lines.append("; ".join(pairs))
        else:
            lines.append(" | ".join(value for value in row if value))
    return (" | ".join(h for h in header if h) if header else None), lines


def _add_table(blocks: BlockAssembler, name: str | None, rows: Iterable[Sequence[Any]]) -> None:
    header, lines = _row_lines(rows)
    path = (name,) if name else ()
    if name and lines:
        blocks.add(name, "heading", heading_path=path)
    if header:
        blocks.add(f"Columns: {header}", "table", heading_path=path)
    for start in range(0, len(lines), ROWS_PER_BLOCK):
        blocks.add("\n".join(lines[start : start + ROWS_PER_BLOCK]), "table", heading_path=path)


def parse_csv(filename: str, data: bytes) -> ParsedDocument:
    text = normalise_text(decode_text(data))
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if PurePath(filename).suffix.lower() == ".tsv" else csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise DocumentParseError(filename, f"the CSV could not be read ({exc})") from exc
    blocks = BlockAssembler()
    _add_table(blocks, None, rows)
    return blocks.build(filename, title=PurePath(filename).stem, mime=CSV_MIME)


def parse_xlsx(filename: str, data: bytes) -> ParsedDocument:
    import openpyxl  # imported here: only workbooks need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DocumentParseError(filename, "the file is not a valid Excel workbook or is damaged") from exc
    blocks = BlockAssembler()
    cells = 0
    try:
        for sheet in workbook.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
                if cells > MAX_CELLS:
                    raise DocumentParseError(filename, f"the workbook has more than {MAX_CELLS:,} cells")
                rows.append(row)
            _add_table(blocks, sheet.title, rows)
        title = workbook.properties.title if workbook.properties else None
    finally:
        workbook.close()
    return blocks.build(filename, title=title or PurePath(filename).stem, mime=XLSX_MIME)

"""chunk_document: exact offsets, token bounds, structure boundaries and overlap of split blocks."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import pytest

from citeline.embeddings.local import LocalEmbedder
from citeline.ingestion.chunking import chunk_document, sentence_spans
from citeline.ingestion.model import ChunkDraft, ParsedDocument
from citeline.ingestion.parsers import parse_document
from citeline.ingestion.parsers.assembly import BlockAssembler

TokenCounter = Callable[[list[str]], list[int]]


def markdown(source: str) -> ParsedDocument:
    return parse_document("doc.md", source.encode())


def sentences(count: int, words: int = 10, prefix: str = "Sentence") -> str:
    """``count`` distinct sentences of ``words`` words each."""
    return " ".join(f"{prefix} {n} " + " ".join(["word"] * (words - 3)) + " end." for n in range(count))


def assert_exact(doc: ParsedDocument, chunks: list[ChunkDraft]) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start : chunk.end]
        assert chunk.text.strip() == chunk.text != ""


def test_offsets_are_exact_and_chunks_fit(word_counter: TokenCounter) -> None:
    doc = markdown(
        "# Guide\n\n"
        + sentences(40)
        + "\n\n## Setup\n\n- one\n- two\n\n```\ncode here\n```\n\n# Usage\n\n"
        + sentences(5)
    )
    chunks = chunk_document(doc, word_counter, max_tokens=60, overlap_tokens=15)
    assert_exact(doc, chunks)
    assert all(c.token_count <= 60 for c in chunks)
    assert [c.token_count for c in chunks] == word_counter([c.text for c in chunks])
    covered = "".join(doc.text[c.start : c.end] for c in chunks)
    assert all(word in covered for word in doc.text.split()), "no text is lost"


def test_blocks_are_packed_greedily(word_counter: TokenCounter) -> None:
    doc = markdown("\n\n".join(" ".join([f"p{n}"] * 30) for n in range(10)))
    chunks = chunk_document(doc, word_counter, max_tokens=100)
    assert [c.token_count for c in chunks] == [90, 90, 90, 30]
    assert_exact(doc, chunks)


def test_headings_start_chunks_and_stay_with_their_content(word_counter: TokenCounter) -> None:
    doc = markdown(
        "Preamble text.\n\n# Alpha\n\nAlpha text.\n\n# Beta\n\n## Beta One\n\nBeta text.\n\n## Beta Two\n"
    )
    chunks = chunk_document(doc, word_counter)
    assert [c.text for c in chunks] == [
        "Preamble text.",
        "Alpha\n\nAlpha text.",
        "Beta\n\nBeta One\n\nBeta text.",
        "Beta Two",  # a heading alone only at the very end of the document
    ]
    assert [c.heading_path for c in chunks] == [(), ("Alpha",), ("Beta", "Beta One"), ("Beta", "Beta Two")]


def test_heading_goes_with_the_first_piece_of_a_split_block(word_counter: TokenCounter) -> None:
    doc = markdown("# Long Section\n\n" + sentences(30))
    chunks = chunk_document(doc, word_counter, max_tokens=50, overlap_tokens=10)
    assert chunks[0].text.startswith("Long Section\n\nSentence 0 ")
    assert all(c.text != "Long Section" for c in chunks)
    assert all(c.heading_path == ("Long Section",) for c in chunks)
    assert all(c.token_count <= 50 for c in chunks)


def test_chunks_do_not_cross_pages_or_top_level_sections(word_counter: TokenCounter) -> None:
    blocks = BlockAssembler()
    blocks.add("First page, first paragraph.", page=1)
    blocks.add("First page, second paragraph.", page=1)
    blocks.add("Second page.", page=2)
    blocks.add("Still the second page, new section.", page=2, heading_path=("Appendix",))
    doc = blocks.build("doc.pdf", title=None, mime="application/pdf")
    chunks = chunk_document(doc, word_counter)
    assert [(c.page, c.heading_path, c.text) for c in chunks] == [
        (1, (), "First page, first paragraph.\n\nFirst page, second paragraph."),
        (2, (), "Second page."),
        (2, ("Appendix",), "Still the second page, new section."),
    ]


def test_split_block_pieces_overlap_by_whole_sentences(word_counter: TokenCounter) -> None:
    text = sentences(30)
    doc = markdown(text)
    chunks = chunk_document(doc, word_counter, max_tokens=45, overlap_tokens=20)
    assert len(chunks) > 3
    assert_exact(doc, chunks)
    spans = sentence_spans(doc.text, 0, len(doc.text))
    starts, ends = {start for start, _ in spans}, {end for _, end in spans}
    for before, after in pairwise(chunks):
        assert after.start < before.end, "consecutive pieces overlap"
        assert after.start in starts and before.end in ends, "the overlap is whole sentences"
        assert 0 < len(doc.text[after.start : before.end].split()) <= 20
        assert after.token_count <= 45
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)


def test_overlap_can_be_turned_off(word_counter: TokenCounter) -> None:
    doc = markdown(sentences(30))
    chunks = chunk_document(doc, word_counter, max_tokens=45, overlap_tokens=0)
    assert all(after.start > before.end for before, after in pairwise(chunks))


def test_long_sentence_is_split_at_words(word_counter: TokenCounter) -> None:
    doc = markdown(" ".join(f"w{n}" for n in range(500)))
    chunks = chunk_document(doc, word_counter, max_tokens=100, overlap_tokens=10)
    assert_exact(doc, chunks)
    assert all(c.token_count <= 100 for c in chunks)
    assert chunks[-1].text.endswith("w499")


def test_long_list_is_split_at_lines(word_counter: TokenCounter) -> None:
    items = [f"- item {n} has four words" for n in range(60)]
    doc = markdown("\n".join(items))
    chunks = chunk_document(doc, word_counter, max_tokens=50, overlap_tokens=0)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("- item") and chunk.text.endswith("words")
        assert chunk.token_count <= 50


def test_a_single_word_over_the_limit_is_its_own_chunk() -> None:
    def count_by_length(texts: list[str]) -> list[int]:
        return [sum(math.ceil(len(word) / 4) for word in text.split()) for text in texts]

    blob = "x" * 1000
    doc = markdown(f"Some words before. {blob} Some words after.")
    chunks = chunk_document(doc, count_by_length, max_tokens=50, overlap_tokens=0)
    assert_exact(doc, chunks)
    oversized = [c for c in chunks if c.token_count > 50]
    assert [c.text for c in oversized] == [blob]


def test_token_counter_is_called_in_batches(word_counter: TokenCounter) -> None:
    calls: list[int] = []

    def counting(texts: list[str]) -> list[int]:
        calls.append(len(texts))
        return word_counter(texts)

    doc = markdown("\n\n".join(sentences(20) + " " + " ".join(["long"] * 300) for _ in range(5)))
    chunk_document(doc, counting, max_tokens=80)
    assert len(calls) <= 4


def test_sentence_splitter_respects_abbreviations_and_decimals() -> None:
    text = (
        "Results improve, e.g. on SciFact. Fig. 3 shows a gain of 2.5 points. Dr. Smith and J. Doe agree! "
        'Is it "robust?" Yes. it is lowercase here. Done\u3002\u6b21\u306e\u6587\u3002'
    )
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == [
        "Results improve, e.g. on SciFact.",
        "Fig. 3 shows a gain of 2.5 points.",
        "Dr. Smith and J. Doe agree!",
        'Is it "robust?"',
        "Yes. it is lowercase here.",
        "Done\u3002",
        "\u6b21\u306e\u6587\u3002",
    ]


def test_chunking_is_deterministic(word_counter: TokenCounter) -> None:
    doc = markdown("# A\n\n" + sentences(50) + "\n\n# B\n\n" + sentences(7))
    first = chunk_document(doc, word_counter, max_tokens=64, overlap_tokens=16)
    assert first == chunk_document(doc, word_counter, max_tokens=64, overlap_tokens=16)


def test_empty_document_and_bad_limits(word_counter: TokenCounter) -> None:
    assert chunk_document(ParsedDocument(text="", blocks=[]), word_counter) == []
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(markdown("text"), word_counter, max_tokens=0)


def test_with_the_real_tokenizer() -> None:
    count_tokens = LocalEmbedder().count_tokens
    doc = markdown(
        "# Retrieval\n\nHybrid retrieval fuses BM25 and dense vectors, e.g. with reciprocal rank fusion.\n\n"
        "## Details\n\n" + sentences(80, prefix="Tokenization")
    )
    chunks = chunk_document(doc, count_tokens, max_tokens=128, overlap_tokens=32)
    assert_exact(doc, chunks)
    assert len(chunks) > 3
    assert all(c.token_count <= 128 for c in chunks)
    assert [c.token_count for c in chunks] == count_tokens([c.text for c in chunks])
    assert any(after.start < before.end for before, after in pairwise(chunks))


def test_a_table_cut_between_chunks_keeps_its_header_row_in_later_chunks(word_counter: TokenCounter) -> None:
    rows = "".join(
        f"<tr><td>Office {i}</td><td>{i * 7} staff</td><td>opened {2000 + i}</td></tr>" for i in range(40)
    )
    html = f"<h2>Offices</h2><table><tr><th>Office</th><th>Staff</th><th>Opened</th></tr>{rows}</table>"
    doc = parse_document("offices.html", html.encode())
    chunks = chunk_document(doc, word_counter, max_tokens=60, overlap_tokens=0)
    table_chunks = [c for c in chunks if "staff" in c.text]
    assert len(table_chunks) > 3
    assert table_chunks[0].heading_path == ("Offices",)
    assert all(c.heading_path == ("Offices", "Office | Staff | Opened") for c in table_chunks[1:])
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start : chunk.end]
        assert all(line.count(" | ") == 2 for line in chunk.text.split("\n") if "|" in line)  # whole rows

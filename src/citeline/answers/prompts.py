"""What an LLM is told: numbered sources, cite each claim as [n], and refuse when the sources don't say."""

from __future__ import annotations

from citeline.answers.citations import strip_document_markers
from citeline.retrieval.service import SearchHit

REFUSAL = "The documents don't say."

SYSTEM = f"""You answer questions using only the numbered sources you are given.
- Every sentence that states a fact must end with the number of its source in brackets, like [2];
  cite several as [1][3]. Never cite a number that is not in the list.
- Use nothing from your own knowledge. If the sources do not contain the answer, reply exactly:
  {REFUSAL}
- Be brief and direct; keep the sources' own figures, names and wording where they matter."""


def format_sources(sources: list[SearchHit]) -> str:
    """Sources as the model sees them; the documents' own reference markers are removed first."""
    blocks = []
    for number, hit in enumerate(sources, start=1):
        where = " > ".join([hit.title, *(h for h in hit.heading_path if h != hit.title)])
        page = f", page {hit.page}" if hit.page else ""
        blocks.append(f"[{number}] {where}{page}\n{strip_document_markers(hit.text)}")
    return "\n\n".join(blocks)


def user_message(question: str, sources: list[SearchHit]) -> str:
    return f"Sources:\n\n{format_sources(sources)}\n\nQuestion: {question}"


def is_refusal(text: str) -> bool:
    """True when the model said the documents don't contain the answer (or said nothing)."""
    folded = " ".join(text.lower().split()).replace("\u2019", "'")
    return not folded or folded.startswith(REFUSAL.lower().rstrip("."))

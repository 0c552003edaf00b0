"""What an LLM is told: numbered sources, cite each claim as [n], and refuse when the sources don't say."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citeline.answers.citations import strip_document_markers
from citeline.answers.schemas import Turn
from citeline.retrieval.service import SearchHit

HISTORY_TURNS = 8  # the most recent turns a model sees (older ones rarely matter and cost tokens)
HISTORY_TURN_CHARS = 4000  # each turn is cut to this many characters

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


REWRITE_SYSTEM = """You turn the last question of a conversation into one standalone search query.
- Replace pronouns and references ("it", "that policy", "the second one") with what they mean in the
  earlier turns; keep names, numbers and technical terms exactly.
- If the question already stands alone, return it unchanged.
- Reply with the query only: no quotes, no explanation, no answer."""


def conversation(history: Sequence[Turn]) -> list[dict[str, Any]]:
    """The recent turns as chat messages that start with the user and alternate roles, as the providers
    require: leading assistant turns are dropped, consecutive turns of one role are joined."""
    messages: list[dict[str, Any]] = []
    for turn in history[-HISTORY_TURNS:]:
        content = turn.content.strip()[:HISTORY_TURN_CHARS]
        if not content or (not messages and turn.role == "assistant"):
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + content
        else:
            messages.append({"role": turn.role, "content": content})
    if messages and messages[-1]["role"] == "user":  # the question comes next, as a user message
        messages.append({"role": "assistant", "content": "(no answer)"})
    return messages


def rewrite_message(question: str, history: Sequence[Turn]) -> str:
    lines = [f"{turn['role'].capitalize()}: {turn['content']}" for turn in conversation(history)]
    return "Conversation:\n" + "\n".join(lines) + f"\n\nLast question: {question}"


def standalone(reply: str, question: str) -> str:
    """The model's rewrite, cleaned; the question itself when the reply is unusable."""
    line = next((line.strip() for line in reply.splitlines() if line.strip()), "")
    line = line.removeprefix("Query:").strip().strip("\"'`").strip()
    return line[:2000] if line and not is_refusal(line) else question

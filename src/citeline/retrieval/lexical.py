"""BM25 keyword retrieval on SQLite FTS5 (porter stemming), inside the same database as the chunks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, TextClause, bindparam, column, literal_column, select, table, text
from sqlalchemy.orm import Session

from citeline.retrieval.base import Candidates, Ranked, ScoreStats
from citeline.retrieval.scope import SearchScope
from citeline.storage.models import Chunk, Document

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_TERMS = 64

# Function words that only add noise to an OR query; BM25's idf handles the rest.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression ORing the query's content words, or None when there are none."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    terms = list(seen)[:_MAX_TERMS]
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in terms)


_fts = table("chunks_fts", column("rowid"), column("body"))
_rank: ColumnElement[float] = literal_column("bm25(chunks_fts)")


class SqliteLexicalIndex:
    """FTS5 table `chunks_fts` whose rowid is the chunk id."""

    def add(self, session: Session, rows: Sequence[tuple[int, str]]) -> None:
        if rows:
            session.execute(
                text("INSERT INTO chunks_fts(rowid, body) VALUES (:id, :body)"),
                [{"id": chunk_id, "body": body} for chunk_id, body in rows],
            )

    def remove(self, session: Session, chunk_ids: Sequence[int]) -> None:
        if chunk_ids:
            stmt = text("DELETE FROM chunks_fts WHERE rowid IN :ids").bindparams(
                bindparam("ids", expanding=True)
            )
            session.execute(stmt, {"ids": list(chunk_ids)})

    def search(self, session: Session, query: str, k: int, scope: SearchScope) -> Candidates:
        """The k best chunks inside ``scope``, best first, and the statistics of the BM25 scores of every
        matching chunk in the index (like BM25's idf, they are index-wide).

        Joining every FTS match to its chunk and document costs ~4x the ranking itself, so a scoped search
        first ranks the FTS table alone, over-fetching, and filters those ids; only when too few of them
        are in scope (a small collection in a large index) does it fall back to the joined query. Both
        paths return exactly the top k in scope.
        """
        expression = match_expression(query)
        if expression is None or k <= 0:
            return Candidates([])
        clauses = scope.document_clauses()
        if not clauses:
            return self._ranked(session, expression, k)
        depth = max(4 * k, 200)
        first = self._ranked(session, expression, depth)
        # With the ACL's hidden chunks known, they are dropped by id and SQL checks only the collections.
        hidden = scope.hidden_chunks if scope.only_acl else None
        check = scope.collection_clauses() if hidden is not None else clauses
        candidates = [chunk_id for chunk_id, _ in first.ranked if not hidden or chunk_id not in hidden]
        allowed = set(candidates)
        if check:
            allowed = set(
                session.execute(
                    select(Chunk.id)
                    .join(Document, Document.id == Chunk.document_id)
                    .where(Chunk.id.in_(candidates), *check)
                ).scalars()
            )
        in_scope = [pair for pair in first.ranked if pair[0] in allowed]
        if len(in_scope) >= k or len(first.ranked) < depth:  # enough, or every match was seen
            return Candidates(in_scope[:k], first.stats)
        stmt = (
            select(Chunk.id, _rank)
            .select_from(
                _fts.join(Chunk, Chunk.id == _fts.c.rowid).join(Document, Document.id == Chunk.document_id)
            )
            .where(_match(expression), *clauses)
            .order_by(_rank)
            .limit(k)
        )
        return Candidates(_flip(session.execute(stmt)), first.stats)

    @staticmethod
    def _ranked(session: Session, expression: str, k: int) -> Candidates:
        """The k best matches in the whole index, and the moments of all the matches' scores, in one
        pass: window aggregates over the materialised matches (FTS5 allows bm25() only in its own query,
        and the ranking computes every match's score anyway)."""
        rows = session.execute(_RANKED_WITH_MOMENTS, {"expression": expression, "k": k}).all()
        if not rows:
            return Candidates([])
        _, _, count, total, total_squares = rows[0]
        # Scores are flipped (larger is better): the mean flips sign, the spread does not.
        stats = ScoreStats.of_moments(int(count), -float(total), float(total_squares))
        return Candidates([(int(chunk_id), -float(score)) for chunk_id, score, *_ in rows], stats)


_RANKED_WITH_MOMENTS = text(
    "WITH matches AS MATERIALIZED ("
    " SELECT rowid AS id, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH :expression)"
    " SELECT id, score, count(*) OVER (), sum(score) OVER (), sum(score * score) OVER ()"
    " FROM matches ORDER BY score, id LIMIT :k"
)


def _match(expression: str) -> TextClause:
    return text("chunks_fts MATCH :expression").bindparams(expression=expression)


def _flip(rows: Any) -> Ranked:
    """FTS5's bm25() is negative (lower is better); flip it so larger is better like every other score."""
    return [(int(chunk_id), -float(score)) for chunk_id, score in rows]

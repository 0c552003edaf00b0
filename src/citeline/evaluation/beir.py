"""BEIR-format data sets: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

Qrels = dict[str, dict[str, int]]  # query id -> {doc id: relevance grade}


class BeirFormatError(ValueError):
    """The folder is not a readable BEIR data set; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class BeirDataset:
    name: str
    corpus: dict[str, dict[str, str]]  # doc id -> {"title", "text"}
    queries: dict[str, str]
    qrels: Qrels  # only queries that have text and at least one relevant document

    @classmethod
    def load(cls, folder: Path, split: str) -> BeirDataset:
        for required in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
            if not (folder / required).is_file():
                raise BeirFormatError(f"{folder} has no {required}")
        queries = load_queries(folder)
        qrels = {
            qid: judged
            for qid, judged in load_qrels(folder, split).items()
            if qid in queries and any(grade > 0 for grade in judged.values())
        }
        return cls(folder.resolve().name, load_corpus(folder), queries, qrels)


def _jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise BeirFormatError(f"{path.name} line {number}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or "_id" not in row:
                raise BeirFormatError(f"{path.name} line {number}: expected an object with an _id")
            rows.append(row)
    return rows


def load_corpus(folder: Path) -> dict[str, dict[str, str]]:
    """corpus.jsonl -> {doc id: {"title", "text"}}, in file order."""
    return {
        str(row["_id"]): {"title": str(row.get("title") or ""), "text": str(row.get("text") or "")}
        for row in _jsonl(folder / "corpus.jsonl")
    }


def load_queries(folder: Path) -> dict[str, str]:
    """queries.jsonl -> {query id: text}."""
    return {str(row["_id"]): str(row.get("text") or "") for row in _jsonl(folder / "queries.jsonl")}


def load_qrels(folder: Path, split: str) -> Qrels:
    """qrels/{split}.tsv (header: query-id, corpus-id, score) -> {query id: {doc id: grade}}."""
    qrels: Qrels = {}
    path = folder / "qrels" / f"{split}.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)  # header
        for number, row in enumerate(reader, start=2):
            if len(row) < 3:
                continue
            try:
                grade = int(row[2])
            except ValueError as exc:
                raise BeirFormatError(
                    f"{path.name} line {number}: score {row[2]!r} is not an integer"
                ) from exc
            qrels.setdefault(row[0], {})[row[1]] = grade
    return qrels

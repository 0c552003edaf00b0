"""Sentence splitting, scoring and citation placement of the extractive generator."""

from __future__ import annotations

from citeline.answers.generators.extractive import ExtractiveGenerator, cite, content_terms, split_sentences
from citeline.embeddings.local import LocalEmbedder
from citeline.retrieval.service import SearchHit


def hit(text: str, chunk_id: int = 1) -> SearchHit:
    return SearchHit(chunk_id, "d", None, "t", text, 1.0, 0, len(text), None, [], {})


def test_split_sentences_keeps_abbreviations_and_decimals() -> None:
    text = "Use a mask, e.g. an N95. The rate was 2.5 per cent. Fig. 3 shows it!\nNext line here"
    assert split_sentences(text) == [
        "Use a mask, e.g. an N95.",
        "The rate was 2.5 per cent.",
        "Fig. 3 shows it!",
        "Next line here",
    ]


def test_cite_places_marker_before_final_punctuation() -> None:
    assert cite("It rains.", 2) == "It rains [2]."
    assert cite("Set the default to `None`:", 1) == "Set the default to `None` [1]."
    assert cite("No punctuation", 3) == "No punctuation [3]."


def test_content_terms_fold_plurals_and_drop_stopwords() -> None:
    assert content_terms("What are the vaccines for the kids?") == {"vaccine", "kid"}


def test_generator_picks_the_answering_sentence_and_refuses_weak_evidence(embedder: LocalEmbedder) -> None:
    generator = ExtractiveGenerator(embedder, min_score=0.4, max_sentences=2)
    sources = [
        hit("The office closes at 18:00. Lunch is served from noon in the cafeteria."),
        hit("Parking permits cost 30 euros per month and are issued by facilities.", 2),
    ]
    question = "How much does a parking permit cost?"
    answer = generator.generate(question, sources, embedder.embed_query(question))
    assert answer.answerable
    assert answer.text.startswith("Parking permits cost 30 euros per month and are issued by facilities [2].")

    off_topic = "Who won the 1998 football world cup?"
    refused = generator.generate(off_topic, sources, embedder.embed_query(off_topic))
    assert not refused.answerable
    assert generator.generate(question, [], embedder.embed_query(question)).answerable is False

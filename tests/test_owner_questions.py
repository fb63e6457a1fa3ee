"""Owners' own words over the padded library (starter shelf + same-domain business documents):
first person, paraphrase, follow-ups, small talk and questions the library does not cover."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase
from knowledge.types import Turn

SUCCESSION = {"family-firms-succession-cliff", "zh-succession-legal-tax", "zh-family-succession-digital"}


def cited(answer) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.doc_id for c in answer.citations}


def test_handing_the_family_business_to_the_children_is_answered_from_succession_documents(
        padded_kb: KnowledgeBase) -> None:
    answer = padded_kb.ask("How do I hand my family business to my children?")
    assert answer.outcome in ("answered", "hedged") and cited(answer) & SUCCESSION, answer.answer


# Open (issue 11): neither model relates these paraphrases to the passages that answer them
# (best sentence relevance below zero), so the evidence says "refuse"; kept here as the target.
OPEN_PARAPHRASE = pytest.mark.xfail(reason="paraphrase beyond the embedding models' reach (issue 11)", strict=False)


@pytest.mark.parametrize(("question", "doc_id"), [
    pytest.param("I'm burning out running every part of my shop alone. Any advice?",
                 "small-micro-enterprise-innovation", marks=OPEN_PARAPHRASE),
    pytest.param("Could the shops on our street do their marketing as a group?",
                 "sme-digital-transformation-misconceptions", marks=OPEN_PARAPHRASE),
])
def test_first_person_questions_the_library_answers_are_not_refused(padded_kb: KnowledgeBase, question: str,
                                                                      doc_id: str) -> None:
    answer = padded_kb.ask(question)
    assert not answer.refused and doc_id in cited(answer), answer.answer


@OPEN_PARAPHRASE
def test_a_family_quarrel_about_selling_online_gets_the_generational_divide(padded_kb: KnowledgeBase) -> None:
    answer = padded_kb.ask("My son wants to sell our products online and I'm against it. "
                           "Do other family firms fight about this?")
    assert not answer.refused and ("Generational Divides" in answer.answer or "两代人" in answer.answer), answer.answer


@pytest.mark.parametrize(("question", "fact"), [
    ("What does it take for a company to be called a little giant?", "market share"),
    pytest.param("In which industries do most of the little giants work?", "high-end equipment",
                 marks=pytest.mark.xfail(reason="'industries' matches 'minister of industry' better than the "
                                                "answer's 'manufacture' (issue 11)", strict=False)),
    ("How many little giants are based in Shanghai?", "262"),
])
def test_the_quoted_sentence_holds_the_fact(padded_kb: KnowledgeBase, question: str, fact: str) -> None:
    answer = padded_kb.ask(question)
    assert answer.outcome == "answered" and fact in answer.answer, answer.answer
    for citation in answer.citations:
        chunk = padded_kb.chunk(citation.chunk_id)
        assert chunk is not None and citation.quote in chunk.text
        assert citation.before in chunk.text and citation.after in chunk.text  # the context is verbatim too


def test_a_follow_up_keeps_the_thread(padded_kb: KnowledgeBase) -> None:
    first = "When should I start planning to hand over my business?"
    opening = padded_kb.ask(first)
    assert not opening.refused
    answer = padded_kb.ask("and should I get it valued?", [Turn("user", first), Turn("assistant", opening.answer)])
    assert not answer.refused and "family-firms-succession-cliff" in cited(answer), answer.answer
    assert "valuation" in answer.answer


@pytest.mark.parametrize("question", [
    "How do I register for VAT in the UK?",
    "What does GDPR require from my online shop?",
    "Should I buy a franchise of a coffee chain?",
])
def test_questions_leaning_on_terms_the_library_never_covers_get_no_confident_answer(
        padded_kb: KnowledgeBase, question: str) -> None:
    answer = padded_kb.ask(question)
    assert answer.outcome in ("refused", "hedged"), answer.answer
    if answer.outcome == "hedged":
        assert answer.answer.startswith("My library only touches on this") and answer.citations


@pytest.mark.parametrize(("message", "language", "words"), [
    ("hi", "en", "Ask me anything"), ("thanks!", "en", "welcome"), ("你好", "zh", "您好"),
    ("https://example.com/news/story", "en", "can't open links"), ("who are you?", "en", "SME Advisor"),
])
def test_small_talk_gets_a_friendly_uncited_reply(padded_kb: KnowledgeBase, message: str, language: str,
                                                  words: str) -> None:
    answer = padded_kb.ask(message)
    assert answer.outcome == "conversation" and not answer.refused and not answer.citations
    assert answer.language == language and words in answer.answer


def test_a_greeting_in_front_of_a_question_does_not_change_the_answer(padded_kb: KnowledgeBase) -> None:
    plain = padded_kb.ask("How many little giants are based in Shanghai?")
    greeted = padded_kb.ask("Hi! How many little giants are based in Shanghai?")
    assert greeted.outcome == plain.outcome == "answered" and greeted.answer == plain.answer

"""Generative answers across Chinese and English, through the fake OpenAI endpoint (a real HTTP
server) over real knowledge bases: the English starter library, and a Chinese document ingested
into a fresh store.

The passages are retrieved from the real stores; the generator is called with them directly where
the question's language differs from the library's, so that these tests judge the answer and its
grounding, not cross-language retrieval (which is tested with retrieval).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ingest.pipeline import ingest_paths
from knowledge.base import KnowledgeBase
from knowledge.conversation import search_query
from knowledge.generative import GenerationError, attach_llm
from knowledge.language import primary
from knowledge.types import Citation, Turn
from tests.fake_openai import FakeOpenAI, Reply, last_user_message, passages_in

# Written for these tests (no source).
FAMILY_FIRMS = """家族企业的交接班与数字化转型

许多家族企业的两代人在数字化转型上意见不一。创始一代更看重现金流、熟悉的客户和稳妥的经营方式，担心新系统投入大、见效慢。年轻一代则希望尽快引入电商平台、客户数据系统和自动化设备。

2023年的一项针对浙江三百家制造企业的调查显示，约有六成企业把交接班列为未来五年的首要难题。其中一半以上的企业表示，两代人对数字化投入的分歧是交接中最常见的矛盾。

顾问建议先从一个小范围的试点项目开始，例如把仓库盘点搬到线上，用三个月的数据说话，再决定是否扩大投入。
"""


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


def llm_settings(make_settings, path: Path, fake: FakeOpenAI):  # type: ignore[no-untyped-def]
    return make_settings(path, llm_provider="openai", llm_base_url=fake.base_url, llm_model="fake-model",
                         llm_api_key="test-key", llm_timeout_s=5)


@pytest.fixture
def english_kb(starter_kb: KnowledgeBase, fake: FakeOpenAI, make_settings, tmp_path) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    attach_llm(starter_kb, llm_settings(make_settings, tmp_path, fake))
    try:
        yield starter_kb
    finally:
        starter_kb.generator = starter_kb.condenser = None


@pytest.fixture(scope="module")
def chinese_store(open_kb, tmp_path_factory) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("zh-library")
    document = root / "family-firms-digital.txt"
    document.write_text(FAMILY_FIRMS, encoding="utf-8")
    kb = open_kb(root / "data")
    report = ingest_paths(kb, [document])
    assert report.ok and len(report.added) == 1, report.failed
    yield kb
    kb.close()


@pytest.fixture
def chinese_kb(chinese_store: KnowledgeBase, fake: FakeOpenAI, make_settings, tmp_path) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    attach_llm(chinese_store, llm_settings(make_settings, tmp_path, fake))
    try:
        yield chinese_store
    finally:
        chinese_store.generator = chinese_store.condenser = None


def quoting(*claims: tuple[str, str]) -> Callable[[dict[str, Any]], str]:
    """A reply with one JSON claim per (claim, pattern): the quote is the text the regular
    expression `pattern` matches in a passage of the request, cited by that passage's number
    (as a model copies from what it was shown). A pattern found nowhere is quoted as written."""

    def reply(request: dict[str, Any]) -> str:
        lines = []
        for text, pattern in claims:
            found = [(n, m.group(0)) for n, sentences in passages_in(request).items() for s in sentences
                     for m in [re.search(pattern, s)] if m]
            n, quote = found[0] if found else (1, pattern)
            lines.append(json.dumps({"claim": text, "passage": n, "quote": quote}, ensure_ascii=False))
        return "\n".join(lines)

    return reply


def assert_verbatim(kb: KnowledgeBase, text: str, citations: list[Citation]) -> None:
    assert citations and [c.n for c in citations] == list(range(1, len(citations) + 1))
    for citation in citations:
        chunk = kb.chunk(citation.chunk_id)
        assert chunk is not None and citation.quote in chunk.text, "quotes are verbatim slices of stored chunks"
        assert (citation.doc_id, citation.title) == (chunk.doc_id, chunk.title)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} == {c.n for c in citations}


def test_a_chinese_question_over_english_passages_is_answered_in_chinese(english_kb: KnowledgeBase,
                                                                        fake: FakeOpenAI) -> None:
    question = "小巨人企业有多少家？要满足什么条件？"
    passages = english_kb.retrieve("How many little giants are there and what must they have?", 4).passages(4)
    fake.queue(Reply.text(quoting(
        ("自2018年以来，中国已公布三批创新型中小企业名单，共4900家，被称为“小巨人”。",
         r"announced three lists of innovative SMEs, totaling 4,900 companies"),
        ("入选企业须拥有较高的市场份额和较强的创新能力。", r"must have a high market share, have a significant capacity"),
        ("The ministry expects about 10,000 such companies.", r"expects to see about 10,000 such companies"),
        ("每家小巨人企业都能获得五百万元补贴。", r"every little giant receives a subsidy of five million yuan"),
    )))
    text, citations = english_kb.generator(question, [], passages)  # type: ignore[misc]
    assert text == ("自2018年以来，中国已公布三批创新型中小企业名单，共4900家，被称为“小巨人”。 [1] "
                    "入选企业须拥有较高的市场份额和较强的创新能力。 [2]"), "English and fabricated claims dropped"
    assert_verbatim(english_kb, text, citations)
    assert {c.doc_id for c in citations} == {"little-giants-growing"}
    assert "totaling 4,900 companies" in citations[0].quote and citations[1].quote.startswith("must have")
    # The request names the answer's language and shows the Chinese worked example.
    request = fake.requests[0]
    assert "every claim in Chinese (简体中文)" in request["messages"][0]["content"]
    assert "面包店早上六点开门" in request["messages"][2]["content"]
    assert f"Question: {question}" in last_user_message(request)
    assert "Chinese (简体中文)" in last_user_message(request).split("Question:")[1]


def test_an_english_question_over_a_chinese_passage_is_answered_in_english(chinese_kb: KnowledgeBase,
                                                                          fake: FakeOpenAI) -> None:
    question = "Why do the two generations of a family firm disagree about going digital?"
    passages = chinese_kb.retrieve(question, 4).passages(4)
    assert passages and all(primary(p.chunk.text) == "zh" for p in passages)
    fake.queue(Reply.text(quoting(
        ("The founders care more about cash flow, familiar customers and a cautious way of doing business.",
         r"创始一代更看重现金流、熟悉的客户和稳妥的经营方式"),
        ("The younger generation wants e-commerce platforms and customer data systems soon.",
         r"年轻一代则希望尽快引入电商平台、客户数据系统"),
        ("A 2024 survey found that most firms regret going digital.", r"2023年的一项针对浙江三百家制造企业的调查"),
    )))
    text, citations = chinese_kb.generator(question, [], passages)  # type: ignore[misc]
    assert text == ("The founders care more about cash flow, familiar customers and a cautious way of doing business. [1] "
                    "The younger generation wants e-commerce platforms and customer data systems soon. [2]"), (
        "the claim with a figure its passage does not state is dropped")
    assert_verbatim(chinese_kb, text, citations)
    assert citations[0].quote == "创始一代更看重现金流、熟悉的客户和稳妥的经营方式"
    assert "every claim in English" in fake.requests[0]["messages"][0]["content"]


def test_nothing_verified_across_languages_raises_the_reason_the_fallback_shows(chinese_kb: KnowledgeBase,
                                                                                 fake: FakeOpenAI) -> None:
    # KnowledgeBase.ask answers extractively with this reason (tests/test_generative.py checks that path).
    question = "Why do the two generations of a family firm disagree about going digital?"
    passages = chinese_kb.retrieve(question, 4).passages(4)
    fake.queue(Reply.text(quoting(("Founders fear that new systems cost a lot and pay off slowly.",
                                   "创始人担心新系统成本高而回报慢"))))  # a paraphrase, not a quote
    with pytest.raises(GenerationError) as caught:
        chinese_kb.generator(question, [], passages)  # type: ignore[misc]
    assert caught.value.reason == "no verified quote (quote not found)"


def test_a_chinese_follow_up_is_condensed_in_chinese(english_kb: KnowledgeBase, fake: FakeOpenAI) -> None:
    history = [Turn("user", "什么是小巨人企业？"), Turn("assistant", "小巨人企业专注于细分市场。 [1]")]
    question = "它们当中有多少家上市了？"
    fake.queue(Reply.text("独立问题：小巨人企业当中有多少家上市了？"))
    answer = english_kb.ask(question, history=history)
    assert answer.search_query == "小巨人企业当中有多少家上市了？"
    assert not (answer.fallback_reason or "").startswith("condense")
    condense = last_user_message(fake.requests[0])
    assert "Write the question in Chinese (简体中文)" in condense
    assert "User: 什么是小巨人企业？" in condense and f"Last message: {question}" in condense


def test_a_condensed_question_in_another_language_is_not_used(english_kb: KnowledgeBase, fake: FakeOpenAI) -> None:
    history = [Turn("user", "什么是小巨人企业？"), Turn("assistant", "小巨人企业专注于细分市场。 [1]")]
    question = "它们当中有多少家上市了？"
    fake.queue(Reply.text("How many of the little giant companies are listed?"))
    answer = english_kb.ask(question, history=history)
    assert answer.search_query == search_query(question, history)
    assert (answer.fallback_reason or "").startswith("condense: condensed question in another language")


def test_the_copy_style_does_not_ask_the_model_when_no_passage_is_in_the_question_language(
        english_kb: KnowledgeBase, fake: FakeOpenAI, make_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from knowledge.generative import LLMAnswerer
    from knowledge.generative.models import build_chat_model

    settings = llm_settings(make_settings, tmp_path, fake)
    copier = LLMAnswerer(lambda: build_chat_model(settings), style="copy")
    passages = english_kb.retrieve("How many little giants are there?", 4).passages(4)
    with pytest.raises(GenerationError) as caught:
        copier.generate("小巨人企业有多少家？", [], passages)
    assert caught.value.reason == "no passage in the question's language" and fake.requests == []
    # An English question is asked, in the copy style: tagged sentences, copied sentences back.
    fake.queue(Reply.text(lambda request: next(
        line for line in last_user_message(request).splitlines() if "4,900" in line)))
    text, citations = copier.generate("How many little giants are there?", [], passages)
    assert "4,900" in text and citations[0].doc_id == "little-giants-growing"
    assert_verbatim(english_kb, text, citations)
    assert "Answer by copying sentences" in fake.requests[0]["messages"][0]["content"]

"""Small talk is told from questions: greetings, thanks and questions about the bot get a reply of
their own; a question with a greeting in front of it is still a question."""

from __future__ import annotations

import pytest

from knowledge.smalltalk import intent_of, reply, without_pleasantries


@pytest.mark.parametrize(("message", "intent"), [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("good morning", "greeting"), ("你好", "greeting"),
    ("您好！", "greeting"), ("thanks!", "thanks"), ("Thank you, that helps a lot.", "thanks"), ("谢谢", "thanks"),
    ("太感谢了，很有帮助", "thanks"), ("bye", "farewell"), ("再见", "farewell"), ("ok", "acknowledgement"),
    ("好的", "acknowledgement"), ("who are you?", "about_bot"), ("What can you do?", "about_bot"),
    ("Are you a real person?", "about_bot"), ("你是谁？", "about_bot"), ("你能做什么？", "about_bot"),
    ("Which documents do you use to answer?", "about_library"), ("https://example.com/news/a-story", "link"),
])
def test_small_talk_is_recognised(message: str, intent: str) -> None:
    assert intent_of(message) == intent


@pytest.mark.parametrize("question", [
    "How do I hand my family business to my children?", "Hi, how do I value my firm?",
    "What do you know about succession?", "Is it expensive?", "ok so what about taxes?",
    "谢谢！那税呢？", "你好，专精特新企业的研发费用要求是什么？", "Who should pay the import duties?",
    "Read https://example.com and tell me what it says about exports",
])
def test_questions_are_not_small_talk(question: str) -> None:
    assert intent_of(question) is None


def test_a_greeting_in_front_of_a_question_is_left_out_of_the_search() -> None:
    assert without_pleasantries("Hi, how do I value my firm?") == "how do I value my firm?"
    assert without_pleasantries("Thanks! And what about taxes?") == "And what about taxes?"
    assert without_pleasantries("谢谢！那税呢？") == "那税呢？"
    assert without_pleasantries("How do I value my firm?") == "How do I value my firm?"


def test_replies_come_in_the_owners_language() -> None:
    assert "library" in reply("greeting", "en")
    chinese = reply("greeting", "zh")
    assert "资料库" in chinese and "library" not in chinese
    assert reply("link", "zh") != reply("link", "en")

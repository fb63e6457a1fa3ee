"""An admin on a phone (real PTB Application, fake Bot API server, real knowledge base): ids to tap
and copy, "did you mean", /export as files, and /start and /help worded from the library and the
admin's texts file."""

from __future__ import annotations

import csv
import io
import json
import re

from bot.shortcuts import COMMAND_LIMIT, SHORTCUT, short_id, shortcut
from ingest.starter import starter_files
from tests.fake_bot_api import buttons, callback_update, document_update
from tests.test_bot_e2e import ADMIN, OTHER, Bot, _chats, bot  # noqa: F401  (the module's bot fixture)

COMMAND = re.compile(r"/(?:show|remove)_[a-z0-9_]+")


def test_short_ids_are_commands_telegram_accepts() -> None:
    ids = [path.stem for path in starter_files()] + ["a" * 80, "年度报告-2024", "report_2024", "report-2024", "x"]
    shorts = [short_id(doc_id) for doc_id in ids]
    assert len(set(shorts)) == len(shorts)  # one per document
    for short in shorts:
        assert re.fullmatch(r"[a-z0-9_]+", short) and len(f"remove_{short}") <= COMMAND_LIMIT, short
        assert SHORTCUT.match(f"/remove_{short}") and SHORTCUT.match(f"/show_{short}@sme_advisor_test_bot")
    assert short_id("little-giants-growing") == "little_giants_growing"  # readable when it fits
    assert short_id("report_2024") != short_id("report-2024")
    assert shortcut("/remove_abc@sme_advisor_test_bot", "sme_advisor_test_bot") == ("remove", "abc")
    assert shortcut("/remove_abc@another_bot", "sme_advisor_test_bot") is None  # a group's other bot
    assert shortcut("/remove_abc please", "sme_advisor_test_bot") is None


async def test_sources_lists_ids_to_copy_and_commands_to_tap(bot: Bot) -> None:
    mark = await bot.say(ADMIN, ADMIN, "/sources")
    first = await bot.reply(ADMIN, mark)
    await bot.server.wait_for("sendMessage", chat_id=ADMIN, after=mark, where=lambda c: "/remove DOC_ID" in c.text)
    parts = [c.params for c in bot.server.calls_of("sendMessage", after=mark, chat_id=ADMIN)]
    text = "".join(p["text"] for p in parts)
    assert all(p["parse_mode"] == "HTML" and len(p["text"]) <= 4096 for p in parts)
    assert f"{len(bot.kb.sources())} documents in the library" in first["text"]
    for source in bot.kb.sources():
        short = short_id(source.doc_id)
        assert f"<code>{source.doc_id}</code>" in text  # a tap on a code span copies it
        assert f"/show_{short} · /remove_{short}" in text
    assert all(len(command) - 1 <= COMMAND_LIMIT for command in COMMAND.findall(text))


async def test_a_tapped_remove_command_asks_to_confirm_then_removes(bot: Bot) -> None:
    content = b"Bakery night shifts\n\nBakers on the night shift earn a 25 percent bonus in the regional agreement."
    bot.server.add_file("f-night", "bakery-night-shifts.txt", content)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-night", "bakery-night-shifts.txt", len(content)))
    await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=120, where=lambda c: "Added" in c.text)

    shown = await bot.ask(ADMIN, "/show_bakery_night_shifts")
    assert "25 percent bonus" in shown["text"]
    confirm = await bot.ask(ADMIN, "/remove_bakery_night_shifts")
    assert "Remove <b>Bakery night shifts</b>" in confirm["text"]
    yes = next(b for b in buttons(confirm) if b.startswith("rm:"))
    assert bot.kb.source("bakery-night-shifts") is not None  # a tap alone changes nothing
    mark = bot.server.mark()
    await bot.server.push(callback_update(ADMIN, ADMIN, 5, yes))
    await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, where=lambda c: "Removed" in c.text)
    assert bot.kb.source("bakery-night-shifts") is None


async def test_a_mistyped_id_gets_did_you_mean_with_commands_to_tap(bot: Bot) -> None:
    target = "sme-digital-transformation-misconceptions"
    reply = await bot.ask(ADMIN, "/remove sme-digtal-transformation-misconception")
    assert "There is no document “sme-digtal-transformation-misconception”" in reply["text"]
    assert "Did you mean" in reply["text"] and f"/remove_{short_id(target)}" in reply["text"]
    assert not buttons(reply) and bot.kb.source(target) is not None  # nothing to confirm: only suggestions
    by_title = await bot.ask(ADMIN, "/show misconceptions")  # a word of the title finds it too
    assert f"/show_{short_id(target)}" in by_title["text"]
    nothing = await bot.ask(ADMIN, "/remove zzzz-qqqq")
    assert "There is no document" in nothing["text"] and "Did you mean" not in nothing["text"]


async def test_shortcuts_are_for_admins_only(bot: Bot) -> None:
    reply = await bot.ask(OTHER, "/remove_little_giants_growing")
    assert "admins only" in reply["text"] and bot.kb.source("little-giants-growing") is not None
    assert "admins only" in (await bot.ask(OTHER, "/export"))["text"]


async def test_export_sends_feedback_and_unanswered_questions_as_files(bot: Bot) -> None:
    chat = next(_chats)
    answered = await bot.ask(chat, "How many little giants are based in Shanghai?")
    vote = next(b for b in buttons(answered) if b.startswith("f:") and b.endswith(":-1"))
    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, vote))
    await bot.server.wait_for("answerCallbackQuery", after=mark)
    await bot.ask(chat, "明天巴黎的天气怎么样？")  # not covered: an unanswered question, in Chinese

    mark = await bot.say(ADMIN, ADMIN, "/export")
    sent = [await bot.server.wait_for("sendDocument", chat_id=ADMIN, after=mark, where=lambda c, kind=kind:
                                      c.params["document"]["filename"].startswith(kind))
            for kind in ("feedback-", "unanswered-")]
    feedback_file, unanswered_file = (call.params["document"] for call in sent)
    assert feedback_file["filename"].endswith(".csv") and unanswered_file["filename"].endswith(".csv")
    assert feedback_file["content"].startswith(b"\xef\xbb\xbf")  # spreadsheets then read it as UTF-8
    votes = list(csv.DictReader(io.StringIO(feedback_file["content"].decode("utf-8-sig"))))
    mine = [row for row in votes if row["chat_id"] == str(chat)]
    assert len(mine) == 1 and mine[0]["vote"] == "down" and "Shanghai" in mine[0]["question"]
    assert "262" in mine[0]["answer"] and "little-giants-growing" in mine[0]["sources"].split("; ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mine[0]["voted_at"])
    assert "votes" in sent[0].params["caption"] or "vote" in sent[0].params["caption"]
    questions = list(csv.DictReader(io.StringIO(unanswered_file["content"].decode("utf-8-sig"))))
    weather = [row for row in questions if row["chat_id"] == str(chat)]
    assert weather[0]["question"] == "明天巴黎的天气怎么样？" and weather[0]["reason"] == "not_covered"
    assert weather[0]["language"] == "zh"

    mark = await bot.say(ADMIN, ADMIN, "/export jsonl")
    lines = (await bot.server.wait_for("sendDocument", chat_id=ADMIN, after=mark, where=lambda c: c.params[
        "document"]["filename"].startswith("feedback-"))).params["document"]["content"].decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert any(row["chat_id"] == chat and "little-giants-growing" in row["sources"] for row in rows)


async def test_start_and_help_speak_of_the_librarys_own_topics(bot: Bot) -> None:
    chat = next(_chats)
    start = (await bot.ask(chat, "/start"))["text"]
    # the starter shelf's most common tags, not a fixed sentence
    assert "questions on policy, digital transformation and innovation" in start
    assert "Try asking: <i>What should I know about policy?</i>" in start
    helped = (await bot.ask(chat, "/help"))["text"]
    assert "What should I know about policy?" in helped


async def test_the_admins_texts_file_words_start_and_help(bot: Bot) -> None:
    texts = bot.settings.texts_path
    texts.write_text('[en]\nname = "Bakery Advisor"\n'
                     'intro = "I help bakery owners with {topics}; my shelf holds {documents} documents."\n'
                     'examples = ["How much is an apprenticeship voucher for a bakery worth?"]\n'
                     'help = "Ask about apprentices, shifts & ovens."\n', encoding="utf-8")
    try:
        chat = next(_chats)
        start = (await bot.ask(chat, "/start"))["text"]
        assert "<b>Hello! I'm Bakery Advisor.</b>" in start
        assert f"my shelf holds {len(bot.kb.sources())} documents" in start and "policy, digital transformation and innovation" in start
        assert "<i>How much is an apprenticeship voucher for a bakery worth?</i>" in start
        helped = (await bot.ask(chat, "/help"))["text"]
        assert "Ask about apprentices, shifts &amp; ovens." in helped  # escaped for HTML, as written
        chinese = (await bot.ask(chat, "专精特新企业的研发费用要求是什么？"))  # the chat now speaks Chinese
        assert chinese
        zh_start = (await bot.ask(chat, "/start"))["text"]
        assert "您好！我是 Bakery Advisor。" in zh_start  # no [zh] section: the name, with Chinese defaults
        assert "我为中小企业主解答" in zh_start

        texts.write_text('[en]\nname = "Export Desk"\n', encoding="utf-8")  # an edit shows at the next /start
        assert "Hello! I'm Export Desk." in (await bot.ask(next(_chats), "/start"))["text"]
        texts.write_text('[en\nname = broken', encoding="utf-8")  # a broken file: the defaults, no error
        assert "Hello! I'm SME Advisor." in (await bot.ask(next(_chats), "/start"))["text"]
    finally:
        texts.unlink(missing_ok=True)

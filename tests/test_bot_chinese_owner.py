"""A Chinese owner in the bot, end to end: an admin uploads a Chinese .docx and a Chinese .pdf, and
owners asking in Chinese get Chinese answers quoting those documents verbatim (real PTB Application,
real knowledge base, fake Bot API server on 127.0.0.1)."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import AsyncIterator

import pytest

from bot.app import build_application
from sme_advisor.i18n import translator
from tests.fake_bot_api import TOKEN, FakeBotApi, document_update, text_update
from tests.test_bot_e2e import Bot

ADMIN, OWNER = 8101, 8102
_chats = itertools.count(500)
ZH = translator("zh")
PDF = Path(__file__).parent / "fixtures" / "zh-export-guide.pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def chinese_docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("学徒培养补贴办法", level=1)
    document.add_paragraph("为了帮助小微企业留住年轻技术工人，本市对签订三年以上劳动合同的学徒给予培养补贴。")
    document.add_heading("补贴标准", level=2)
    document.add_paragraph("企业每培养一名学徒，每年可申领6000元补贴，最长补贴三年。")
    document.add_paragraph("申请材料包括劳动合同、社保缴费记录和培训计划，每年3月和9月集中受理。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
async def bot(open_kb, make_settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:  # type: ignore[no-untyped-def]
    server = FakeBotApi()
    await server.start()
    data_dir = tmp_path_factory.mktemp("bot-zh-owner")
    kb = open_kb(data_dir, auto_ingest_starter=False)
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url, admin_user_ids=[ADMIN],
                             auto_ingest_starter=False)
    running = Bot(server, build_application(settings, kb), kb, settings)
    await running.start()
    yield running
    await running.stop()
    await server.stop()
    kb.close()


async def upload(bot: Bot, file_id: str, name: str, content: bytes, mime_type: str) -> str:
    bot.server.add_file(file_id, name, content)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, file_id, name, len(content), mime_type=mime_type,
                                          language_code="zh-hans"))
    done = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=300,
                                     where=lambda c: c.text.startswith(("✅", "❌")))
    return done.text


async def ask(bot: Bot, text: str, language_code: str | None = "zh-hans") -> str:
    chat = next(_chats)
    mark = bot.server.mark()
    await bot.server.push(text_update(OWNER, chat, text, language_code=language_code))
    return (await bot.reply(chat, mark, timeout=120))["text"]


async def test_a_chinese_owner_is_answered_in_chinese_from_uploaded_chinese_documents(bot: Bot) -> None:
    assert (await upload(bot, "zh-docx", "学徒补贴.docx", chinese_docx(), DOCX_MIME)).startswith("✅")
    assert (await upload(bot, "zh-pdf", "zh-export-guide.pdf", PDF.read_bytes(), "application/pdf")).startswith("✅")

    # Telegram set to English: the question's language decides.
    reply = await ask(bot, "我们招学徒的话，每年能拿到多少补贴？", language_code="en")
    assert "6000元" in reply and "<b>[1]</b>" in reply
    assert f"<b>{ZH.gettext('Sources')}</b>" in reply and "学徒培养补贴办法" in reply

    reply = await ask(bot, "委托货运代理报关的话，清关时间能缩短多少？")
    assert "百分之三十八" in reply and f"<b>{ZH.gettext('Sources')}</b>" in reply
    for citation_source in ("中小企业出口指南", "zh-export-guide"):
        if citation_source in reply:
            break
    else:
        raise AssertionError(reply)

    refusal = await ask(bot, "明天上海的天气怎么样？")
    assert ZH.gettext("My library doesn't cover this question.") in refusal and "[1]" not in refusal

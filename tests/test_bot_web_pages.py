"""An admin sends the bot a web address: the page is fetched from a real HTTP server on 127.0.0.1
and added like an uploaded file, then owners' questions are answered from it. Fetch failures are
one line each; a non-admin's link stays an ordinary message (real PTB Application, fake Bot API)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from bot.links import web_address
from ingest.loaders import LoadError
from ingest.web import fetch_web_page
from tests.fake_bot_api import Call, callback_update, buttons
from tests.structured_documents import CLUTTERED_NEWS_PAGE
from tests.test_bot_e2e import ADMIN, OTHER, Bot
from tests.test_bot_structured import quotes_shown, running_bot

NEWS = "/news/succession-cliff.html"


class _Site(BaseHTTPRequestHandler):
    pages = {NEWS: ("text/html; charset=utf-8", CLUTTERED_NEWS_PAGE.encode()),
             "/logo.png": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)}
    requested: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.requested.append(self.path)
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(25):  # 25 MB without a Content-Length: the 20 MB cap stops the download
                self.wfile.write(b"<p>" + b"x" * (1024 * 1024) + b"</p>")
            return
        content_type, body = self.pages.get(self.path, ("text/plain", b"not here"))
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def bot(open_kb, make_settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp("bot-web")
    kb = open_kb(data_dir)  # an empty library: whatever is answered comes from the fetched page
    async with running_bot(make_settings, kb, data_dir) as running:
        yield running
    kb.close()


async def send_address(bot: Bot, text: str) -> Call:
    """The admin sends `text`; returns the status message's final edit (the report)."""
    mark = await bot.say(ADMIN, ADMIN, text)
    await bot.reply(ADMIN, mark, contains="Fetching the page")
    return await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=120,
                                     where=lambda c: c.text.startswith(("✅", "❌", "“")))


async def test_an_admins_address_is_added_and_owners_are_answered_from_it(bot: Bot, site: str) -> None:
    url = site + NEWS
    report = await send_address(bot, f"{url} for the family-firm folder #succession")
    doc_id = "127-0-0-1-news-succession-cliff"
    assert report.text.startswith(f"✅ Added “{url}” as {doc_id} (")
    source = bot.kb.source(doc_id)
    assert source is not None and source.path == url and "succession" in source.topics
    assert source.title == "Family firms face succession cliff, survey finds"
    stored = " ".join(c.text for c in bot.kb.chunks_of(doc_id))
    assert "62 percent" in stored and "office chairs" not in stored and "Great article" not in stored

    reply = await bot.ask(OTHER, "How many firms without a written succession plan had a dispute among heirs?")
    assert "62 percent" in reply["text"] and f"{source.title} · <i>Why handovers stall</i>" in reply["text"]
    mark = bot.server.mark()
    await bot.server.push(callback_update(OTHER, OTHER, 1, next(b for b in buttons(reply) if b.startswith("q:"))))
    shown = await bot.reply(OTHER, mark, contains="<blockquote")
    assert any(title == source.title and where == "Why handovers stall" and "62 percent of firms without one" in quote
               for title, where, quote in quotes_shown(reply, shown))

    again = await send_address(bot, url)  # the same address again: the same document, unchanged
    assert again.text == f"“{url}” is already in the library as {doc_id}, unchanged – nothing to do."


@pytest.mark.parametrize(("path", "reason"), [
    ("/missing", "the web address answered HTTP 404"),
    ("/logo.png", "the web address returned image/png, not a web page or a supported document"),
    ("/huge", "the page is too large (over 20 MB)"),
])
async def test_a_failed_fetch_is_one_clear_line(bot: Bot, site: str, path: str, reason: str) -> None:
    before = len(bot.kb.sources())
    report = await send_address(bot, site + path)
    assert report.text == f"❌ “{site + path}” was not added: {reason}"
    assert len(bot.kb.sources()) == before


def test_a_page_that_does_not_answer_in_time_says_so(site: str, tmp_path: Path) -> None:
    # The bot reports this like the failures above; the 20 s limit is shortened here to keep the test short.
    with pytest.raises(LoadError, match=r"^the web address did not answer within 1 s$"):
        fetch_web_page(site + "/slow", tmp_path, timeout_s=1)


async def test_an_address_nothing_answers_on_says_so(bot: Bot) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = await send_address(bot, f"http://127.0.0.1:{port}/guide")
    assert report.text == (f"❌ “http://127.0.0.1:{port}/guide” was not added: cannot reach 127.0.0.1: "
                           "the connection was refused (nothing answers on that port)")


async def test_an_address_without_its_scheme_asks_for_the_whole_address(bot: Bot, site: str) -> None:
    _Site.requested.clear()
    reply = await bot.ask(ADMIN, "www.example.org/guide")
    assert reply["text"] == "To add a web page, send its whole address, e.g. https://www.example.org/guide"
    assert _Site.requested == []


async def test_someone_elses_link_and_an_admins_question_stay_messages(bot: Bot, site: str) -> None:
    _Site.requested.clear()
    sources = len(bot.kb.sources())
    owner = await bot.ask(OTHER + 1, site + "/news/other-page.html")
    assert "I can't open links" in owner["text"]
    question = await bot.ask(ADMIN, f"What does {site + NEWS} say about disputes among heirs?")
    assert "Fetching" not in question["text"]
    assert _Site.requested == [] and len(bot.kb.sources()) == sources


def test_what_counts_as_an_address_to_add() -> None:
    assert web_address("https://example.org/guide").url == "https://example.org/guide"  # type: ignore[union-attr]
    found = web_address("Please add this one: https://example.org/a_(b). #export #tax")
    assert found is not None and found.url == "https://example.org/a_(b)" and found.topics == ["export", "tax"]
    assert web_address("see (https://example.org/guide)").url == "https://example.org/guide"  # type: ignore[union-attr]
    assert web_address("https://example.org/search?q=grants#top").url == "https://example.org/search?q=grants#top"  # type: ignore[union-attr]
    assert web_address("https://a.example/x and https://b.example/y") is None  # two pages: which one?
    assert web_address("Is https://example.org/guide still up to date?") is None  # a question
    assert web_address("https://example.org/guide " + "because " * 20) is None  # a long message
    assert web_address("no address here") is None
    assert not web_address("www.example.org/guide").complete  # type: ignore[union-attr]


async def test_a_chinese_admin_is_told_in_chinese(bot: Bot) -> None:
    chat = 8001  # a chat of its own: the admin's usual chat remembers English from the tests above
    mark = await bot.say(ADMIN, chat, "www.example.org/指南", language_code="zh-hans")
    reply = await bot.reply(chat, mark)
    assert reply["text"] == "如需添加网页，请发送完整的网址，例如 https://www.example.org/指南"

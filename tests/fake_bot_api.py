"""A fake Telegram Bot API server (aiohttp on 127.0.0.1, random port) for end-to-end bot tests.

It speaks enough of the Bot API for the real PTB `Application` to run against it with long
polling: getMe, deleteWebhook, getUpdates (long polling with offset and timeout), sendMessage,
sendDocument, editMessageText, editMessageReplyMarkup, sendChatAction, answerCallbackQuery, setMyCommands,
getFile and file downloads (`/file/bot<token>/<path>`). Tests push updates, await the bot's calls
("a sendMessage to chat X matching …"), and can make the next N calls of a method fail with 429
(with `parameters.retry_after`) or 500, or every call of a method for a while (`fail_for`: an
outage of so many seconds answering 500 or 429, or dropping the connection without an answer), or
be slow for a while (`slow_for`: each call is carried out at once, as Telegram would deliver the
message, but its answer comes only after a delay, past the client's read timeout).

Webhook mode too: `setWebhook` is remembered, and `deliver` POSTs an update to the bot's webhook
with the secret token it registered, as Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

TOKEN = "123456:TEST-token-never-logged"
BOT_USER = {"id": 999000, "is_bot": True, "first_name": "SME Advisor", "username": "sme_advisor_test_bot"}
# Parameters PTB sends JSON-encoded inside its form posts.
JSON_PARAMS = {"reply_markup", "commands", "entities", "caption_entities", "reply_parameters", "scope",
               "link_preview_options", "allowed_updates"}


@dataclass
class Call:
    index: int
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    failed: int | None = None  # the HTTP status when the call was made to fail on purpose

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))


@dataclass
class Failure:
    status: int
    remaining: int
    retry_after: int | None = None
    passing: int = 0  # calls that still succeed before the failures start


@dataclass
class Outage:
    until: float  # time.monotonic() when it ends
    status: int | None  # None: the connection is dropped, no answer at all
    retry_after: int | None = None


DROPPED = 0  # `Call.failed` of a call whose connection was dropped


@dataclass
class Slowness:
    until: float  # time.monotonic() when it ends
    delay: float  # seconds between carrying a call out and answering it


@dataclass
class FakeBotApi:
    token: str = TOKEN
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    outages: dict[str, Outage] = field(default_factory=dict)
    slowness: dict[str, Slowness] = field(default_factory=dict)
    port: int = 0
    webhook: dict[str, Any] | None = None  # the last setWebhook's parameters (url, secret_token, …)

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        async with self._changed:  # wake pending long polls: the runner waits for open requests
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what tests do -----------------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> int:
        """Queues an update for the bot's next getUpdates; returns its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update["update_id"]

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POSTs an update to the registered webhook (with its secret token unless `secret` is given,
        as a forger would) and returns the bot's HTTP status."""
        from aiohttp import ClientSession

        await self.wait_for("setWebhook")
        assert self.webhook is not None
        update = {"update_id": next(self._update_ids), **update}
        token = secret if secret is not None else str(self.webhook.get("secret_token", ""))
        async with ClientSession() as session:
            async with session.post(str(self.webhook["url"]), json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": token}) as response:
                return response.status

    def fail_next(self, method: str, status: int, times: int = 1, retry_after: int | None = None,
                  after: int = 0) -> None:
        """The next `times` calls of `method` (once `after` more have succeeded) answer `status`
        (429 carries `retry_after`)."""
        self.failures[method] = Failure(status, times, retry_after if status != 429 else (retry_after or 1), after)

    def fail_for(self, method: str, seconds: float, status: int | None = 500, retry_after: int | None = None) -> None:
        """Every call of `method` for the next `seconds` answers `status` (429 with `retry_after`),
        or, with `status=None`, has its connection dropped before any answer."""
        self.outages[method] = Outage(time.monotonic() + seconds, status, retry_after or 1 if status == 429 else None)

    def slow_for(self, method: str, seconds: float, delay: float) -> None:
        """Every call of `method` for the next `seconds` succeeds (a message is delivered and
        recorded) but is answered only `delay` seconds later: a client that gives up before then
        cannot know its message arrived."""
        self.slowness[method] = Slowness(time.monotonic() + seconds, delay)

    def add_file(self, file_id: str, name: str, content: bytes) -> None:
        self.files[file_id] = (f"documents/{file_id}/{name}", content)

    def mark(self) -> int:
        """A position in the call log: pass it as `after` to look only at later calls."""
        return len(self.calls)

    def calls_of(self, method: str, after: int = 0, chat_id: int | None = None,
                 include_failed: bool = False) -> list[Call]:
        return [c for c in self.calls[after:] if c.method == method and (include_failed or c.failed is None)
                and (chat_id is None or _int(c.params.get("chat_id")) == chat_id)]

    async def wait_for(self, method: str, *, chat_id: int | None = None, after: int = 0, timeout: float = 60,
                       where: Callable[[Call], bool] = lambda call: True) -> Call:
        """The first successful `method` call (to `chat_id`, after `after`) that `where` accepts."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for call in self.calls_of(method, after, chat_id):
                    if where(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.params.get("chat_id"), c.text[:80]) for c in self.calls[after:]]
                    raise TimeoutError(f"no matching {method} to chat {chat_id} within {timeout} s; calls: {seen}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    # --- the API -----------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        try:
            params = await _params(request)
        except ConnectionResetError:  # the bot hung up mid-request (it is shutting down)
            return web.Response(status=499)
        outage = self.outages.get(method)
        if outage is not None and time.monotonic() < outage.until:
            await self._record(method, params, failed=DROPPED if outage.status is None else outage.status)
            if outage.status is None:
                assert request.transport is not None
                request.transport.abort()  # as a proxy or a dead link does: no status line, nothing
                return web.Response(status=499)  # never written: the connection is gone
            failure = Failure(outage.status, 1, outage.retry_after)
        else:
            failure = self.failures.get(method)
            if failure and failure.passing > 0:
                failure.passing -= 1
                failure = None
            elif failure and failure.remaining > 0:
                await self._record(method, params, failed=failure.status)
        if failure and failure.remaining > 0:
            failure.remaining -= 1
            if failure.status == 429:
                return web.json_response({"ok": False, "error_code": 429,
                                          "description": f"Too Many Requests: retry after {failure.retry_after}",
                                          "parameters": {"retry_after": failure.retry_after}}, status=429)
            return web.json_response({"ok": False, "error_code": failure.status,
                                      "description": "Internal Server Error"}, status=failure.status)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "setWebhook":
            self.webhook = params
        elif method == "deleteWebhook":
            self.webhook = None
        await self._record(method, params)
        result = self._result(method, params)
        slow = self.slowness.get(method)
        if slow is not None and time.monotonic() < slow.until:
            await asyncio.sleep(slow.delay)  # a client that hangs up first was delivered to all the same
        return _ok(result)

    async def _record(self, method: str, params: dict[str, Any], failed: int | None = None) -> None:
        async with self._changed:
            self.calls.append(Call(len(self.calls), method, params, time.monotonic(), failed))
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset"))
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        async with self._changed:
            # Confirmed updates (id < offset) are gone for good, as on the real server.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            return list(self.updates[: _int(params.get("limit")) or 100])

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            return self._message(params, next(self._message_ids))
        if method == "sendDocument":
            message = self._message(params, next(self._message_ids))
            upload = params.get("document")
            name = upload.get("filename", "document") if isinstance(upload, dict) else "document"
            message["document"] = {"file_id": f"sent-{message['message_id']}", "file_unique_id": "u",
                                   "file_name": name}
            return message
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._message(params, _int(params.get("message_id")))
        if method == "getFile":
            path, content = self.files[params["file_id"]]
            return {"file_id": params["file_id"], "file_unique_id": params["file_id"] + "-u",
                    "file_size": len(content), "file_path": path}
        return True  # deleteWebhook, sendChatAction, answerCallbackQuery, setMyCommands, …

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        message = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER, "chat": chat(chat_id),
                   "text": params.get("text", "")}
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for path, content in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content)
        return web.Response(status=404)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    params: dict[str, Any] = {}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):  # an upload (sendDocument): keep its name and bytes
            params[key] = {"filename": value.filename, "content": value.file.read()}
            continue
        params[key] = json.loads(value) if key in JSON_PARAMS and isinstance(value, str) else value
    return params


# --- updates as Telegram sends them -------------------------------------------------------------
_ids = itertools.count(1)


def user(user_id: int, name: str = "Owner", language_code: str | None = None) -> dict[str, Any]:
    """A user; `language_code` is their Telegram app's language ("zh-hans", "en"), when it is known."""
    found: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
    if language_code is not None:
        found["language_code"] = language_code
    return found


def chat(chat_id: int) -> dict[str, Any]:
    """Positive ids are private chats, negative ones groups (as on Telegram)."""
    return {"id": chat_id, "type": "private", "first_name": "Owner"} if chat_id > 0 else \
        {"id": chat_id, "type": "group", "title": "Owners' circle"}


def message_update(user_id: int, chat_id: int, language_code: str | None = None, **content: Any) -> dict[str, Any]:
    sender = user(user_id, language_code=language_code)
    return {"message": {"message_id": next(_ids), "date": int(time.time()), "from": sender, "chat": chat(chat_id),
                        **content}}


def text_update(user_id: int, chat_id: int, text: str, language_code: str | None = None,
                **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text, **extra}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message_update(user_id, chat_id, language_code, **content)


def document_update(user_id: int, chat_id: int, file_id: str, name: str, size: int, caption: str = "",
                    mime_type: str = "text/plain", language_code: str | None = None) -> dict[str, Any]:
    return message_update(user_id, chat_id, language_code, caption=caption, document={
        "file_id": file_id, "file_unique_id": file_id + "-u", "file_name": name, "file_size": size,
        "mime_type": mime_type})


def callback_update(user_id: int, chat_id: int, message_id: int, data: str,
                    language_code: str | None = None) -> dict[str, Any]:
    return {"callback_query": {"id": f"cb{next(_ids)}", "from": user(user_id, language_code=language_code),
                               "chat_instance": "ci", "data": data,
                               "message": {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                                           "chat": chat(chat_id), "text": "answer"}}}


def buttons(params: dict[str, Any]) -> list[str]:
    """The callback data of every inline button in a sent message's parameters."""
    markup = params.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]

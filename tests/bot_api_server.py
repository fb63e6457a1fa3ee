"""A fake Telegram Bot API server (aiohttp, 127.0.0.1, random port) for end-to-end bot tests.

It speaks enough of the Bot API for the real PTB `Application` to run against it with long polling:
getMe, deleteWebhook, getUpdates (long polling with offset), sendMessage, editMessageText,
editMessageReplyMarkup, sendChatAction, answerCallbackQuery, setMyCommands, getFile and file
downloads. Tests push updates, wait for the bot's calls, and can make a method fail with 429 or 500.
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


@dataclass
class Call:
    index: int
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Failure:
    status: int
    remaining: int
    retry_after: int | None = None


@dataclass
class FakeBotApi:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

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
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update["update_id"]

    def fail_next(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        self.failures[method] = Failure(status, times, retry_after)

    def add_file(self, file_id: str, name: str, content: bytes) -> None:
        self.files[file_id] = (f"documents/{file_id}/{name}", content)

    def mark(self) -> int:
        return len(self.calls)

    def calls_of(self, method: str, after: int = 0, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls[after:] if c.method == method
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    async def wait_for(self, method: str, *, chat_id: int | None = None, after: int = 0, timeout: float = 60,
                       where: Callable[[Call], bool] = lambda call: True) -> Call:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for call in self.calls_of(method, after, chat_id):
                    if where(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, str(c.params)[:120]) for c in self.calls[after:]]
                    raise TimeoutError(f"no {method} to chat {chat_id} within {timeout} s; calls: {seen}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    # --- the API -----------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await _params(request)
        failure = self.failures.get(method)
        if failure and failure.remaining > 0:
            failure.remaining -= 1
            await self._record(method, {**params, "_failed": failure.status})
            if failure.status == 429:
                return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                                          f"after {failure.retry_after}", "parameters": {"retry_after": failure.retry_after}},
                                         status=429)
            return web.json_response({"ok": False, "error_code": failure.status, "description": "Internal Server Error"},
                                     status=failure.status)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        await self._record(method, params)
        return _ok(self._result(method, params))

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append(Call(len(self.calls), method, params, time.monotonic()))
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            # Confirmed updates (id < offset) are gone for good, as on the real server.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            return list(self.updates[:100])

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "sendDocument"):
            return self._message(params, next(self._message_ids))
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._message(params, int(params.get("message_id", 0)))
        if method == "getFile":
            path, content = self.files[params["file_id"]]
            return {"file_id": params["file_id"], "file_unique_id": params["file_id"] + "-u",
                    "file_size": len(content), "file_path": path}
        return True

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        message = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                   "text": params.get("text", "")}
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        for path, content in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content)
        return web.Response(status=404)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, str) and value[:1] in "[{":
            try:
                params[key] = json.loads(value)
                continue
            except json.JSONDecodeError:
                pass
        params[key] = value
    return params


# --- updates as Telegram sends them -------------------------------------------------------------
_message_ids = itertools.count(1)


def user(user_id: int, name: str = "Owner") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name}


def chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Owner"} if chat_id > 0 else \
        {"id": chat_id, "type": "group", "title": "Owners' circle"}


def message_update(user_id: int, chat_id: int, **content: Any) -> dict[str, Any]:
    return {"message": {"message_id": next(_message_ids), "date": int(time.time()), "from": user(user_id),
                        "chat": chat(chat_id), **content}}


def text_update(user_id: int, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text, **extra}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message_update(user_id, chat_id, **content)


def document_update(user_id: int, chat_id: int, file_id: str, name: str, size: int, caption: str = "") -> dict[str, Any]:
    return message_update(user_id, chat_id, caption=caption, document={
        "file_id": file_id, "file_unique_id": file_id + "-u", "file_name": name, "file_size": size,
        "mime_type": "text/plain"})


def callback_update(user_id: int, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
    return {"callback_query": {"id": f"cb{next(_message_ids)}", "from": user(user_id), "chat_instance": "ci",
                               "data": data, "message": {"message_id": message_id, "date": int(time.time()),
                                                         "from": BOT_USER, "chat": chat(chat_id), "text": "answer"}}}

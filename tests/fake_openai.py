"""A real HTTP server on 127.0.0.1 that speaks OpenAI's `/v1/chat/completions`, with canned replies.

    with FakeOpenAI() as server:
        server.queue(Reply.text("Answer [1]."), Reply.status(500))
        ... ChatOpenAI(base_url=server.base_url, ...) ...
        server.requests      # the JSON bodies received, in order

Replies are served in queue order; when the queue is empty, `default` is served (a 500 unless
set). A reply's content may be a function of the request, to answer from the passages it holds.
Streaming requests (`"stream": true`) get server-sent events.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Content = str | Callable[[dict[str, Any]], str]


@dataclass
class Reply:
    status: int = 200
    content: Content | None = None  # a chat completion with this message content (None: null content)
    body: bytes | None = None  # raw body instead of a completion
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, content: Content) -> Reply:
        return cls(content=content)

    @classmethod
    def empty(cls) -> Reply:
        return cls(content="")

    @classmethod
    def status_error(cls, status: int, message: str = "server error") -> Reply:
        body = json.dumps({"error": {"message": message, "type": "server_error", "code": status}}).encode()
        return cls(status=status, body=body)

    @classmethod
    def malformed(cls) -> Reply:
        return cls(body=b'{"id": "chatcmpl-1", "choices": [{"message": {"content": "unterminated')

    @classmethod
    def slow(cls, seconds: float, then: Reply | None = None) -> Reply:
        reply = then or cls.text("Too late [1].")
        reply.delay_s = seconds
        return reply


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: deque[Reply] = deque()
        self.default: Reply = Reply.status_error(500, "no canned reply queued")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                reply = server._next(payload)
                if reply.delay_s and server._stop.wait(reply.delay_s):
                    return
                if reply.body is not None:
                    self._send(reply.status, reply.body, reply.headers)
                    return
                content = reply.content(payload) if callable(reply.content) else reply.content
                if payload.get("stream"):
                    self._stream(payload, content)
                else:
                    self._send(reply.status, json.dumps(completion(payload, content)).encode(), reply.headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def _stream(self, payload: dict[str, Any], content: str | None) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    pieces = re.findall(r"\S+\s*", content or "") or [""]
                    for i, piece in enumerate(pieces):
                        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": payload.get("model", "fake"),
                                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece} if i == 0
                                              else {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    last = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": payload.get("model", "fake"),
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
                    self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # releases slow replies still waiting
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.replies.clear()

    def _next(self, payload: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(payload)
            return self.replies.popleft() if self.replies else self.default


def completion(payload: dict[str, Any], content: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": payload.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


# --- reading the prompt a request carries (to build answers from its passages) -------------------
def last_user_message(payload: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(payload["messages"]) if m["role"] == "user")


def passages_in(payload: dict[str, Any]) -> dict[int, list[str]]:
    """{n: [sentence, ...]} of the numbered passages in the request's last user message (one
    sentence a line; a trailing `[n]` tag, as the "copy" style shows it, is removed)."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    for line in last_user_message(payload).splitlines():
        header = re.match(r"Passage \[(\d+)\]", line)
        if header:
            current = int(header.group(1))
            found[current] = []
        elif current is not None and not line.strip():
            current = None  # a blank line ends the passage
        elif current is not None:
            found[current].append(re.sub(rf"\s*\[{current}\](?=[.。]?$)", "", line.strip()))
    return found

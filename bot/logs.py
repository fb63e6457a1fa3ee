"""Logging that never shows the bot token.

The token is part of every Bot API URL (`/bot<token>/sendMessage`): httpx logs those URLs at
INFO, and PTB puts the token in `InvalidToken`'s message. So the HTTP loggers stay at WARNING, and
a filter on the handlers replaces the token wherever it still appears, tracebacks included.
"""

from __future__ import annotations

import logging

REDACTED = "<bot-token>"


def quiet_http_logs() -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class TokenFilter(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, REDACTED), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: format the traceback once, redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, REDACTED)
        return True


def redact_token_in_logs(token: str, logger: logging.Logger | None = None) -> TokenFilter:
    """Adds the filter to every handler of `logger` (the root logger by default).

    Handler filters see the records of all child loggers; a logger's own filter would not.
    """
    token_filter = TokenFilter(token)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(token_filter)
    return token_filter

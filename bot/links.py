"""An admin's message that is a web address to add: the address alone, or with a short comment
("for the succession folder #succession"). Anything longer, or a question that happens to hold an
address, stays a question for the library."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message
from telegram.ext import filters

# Telegram sends links as typed; "www.…" is caught too, so an admin is told to write the whole
# address instead of getting the owners' "I can't open links".
_ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
MAX_COMMENT_CHARS = 120
_TRAILING = ".,;:!?»”’'\""


@dataclass(frozen=True, slots=True)
class WebAddress:
    url: str
    comment: str
    topics: list[str]  # "#succession" in the comment, as in an upload's caption

    @property
    def complete(self) -> bool:
        return bool(re.match(r"^https?://", self.url, re.IGNORECASE))


def web_address(text: str) -> WebAddress | None:
    found = _ADDRESS.findall(text)
    if len(found) != 1:
        return None  # several addresses, or none: not one page to add
    url = _trimmed(found[0])
    comment = " ".join(text.replace(url, " ", 1).split())
    if len(comment) > MAX_COMMENT_CHARS or "?" in comment or "？" in comment:
        return None
    return WebAddress(url, comment, re.findall(r"#([\w-]+)", comment))


def _trimmed(url: str) -> str:
    """The address without the punctuation of the sentence around it ("see https://x.org/a.")."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


class WebAddressMessage(filters.MessageFilter):
    """Lets through text messages `web_address` accepts."""

    def filter(self, message: Message) -> bool:
        return web_address(message.text or "") is not None

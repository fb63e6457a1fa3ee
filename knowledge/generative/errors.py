"""Why a generative answer failed, in the few words `Answer.fallback_reason` shows."""

from __future__ import annotations

import json
import sys


class GenerationError(Exception):
    """A generative answer (or a condensed question) that cannot be used; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason_for(error: BaseException) -> str:
    """A short, stable reason: "timeout", "http 500", "connection failed", "malformed response"…"""
    if isinstance(error, GenerationError):
        return error.reason
    openai = sys.modules.get("openai")  # only loaded when the openai provider is in use
    if openai is not None:
        if isinstance(error, openai.APITimeoutError):
            return "timeout"
        if isinstance(error, openai.APIStatusError):
            return f"http {error.status_code}"
        if isinstance(error, openai.APIConnectionError):
            return "connection failed"
        if isinstance(error, openai.APIResponseValidationError):
            return "malformed response"
    httpx = sys.modules.get("httpx")
    if isinstance(error, TimeoutError) or (httpx is not None and isinstance(error, httpx.TimeoutException)):
        return "timeout"
    pydantic = sys.modules.get("pydantic")
    if isinstance(error, (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError)) or (
        pydantic is not None and isinstance(error, pydantic.ValidationError)
    ):
        return "malformed response"
    return f"{type(error).__name__}: {error}"[:200]

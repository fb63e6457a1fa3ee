"""Plain data passed between ingest, knowledge and the front ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document's cleaned text: `text == cleaned_text[start:end]`."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    position: int
    start: int
    end: int
    # Where in the document the passage sits, for citations: "p. 3", "Costs › Table 2", "slide 4".
    location: str | None = None
    # The headings above the passage ("Costs › Staff"): embedded and keyword-indexed with the
    # passage, never quoted.
    context: str | None = None

    def indexed_text(self) -> str:
        """What is embedded and keyword-indexed: the title, the heading path, the passage."""
        return "\n".join(part for part in (self.title, self.context, self.text) if part)


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    chunk: Chunk
    score: float
    dense_similarity: float | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    doc_id: str
    title: str
    chunk_id: str
    quote: str
    location: str | None = None
    # The chunk's text just before and after the quote (verbatim, up to a sentence or two each), so
    # a reader sees the quote where it stands.
    before: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class Retrieved:
    doc_id: str
    chunk_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(slots=True)
class Answer:
    """What `ask` returns; `to_dict()` is the `sme-advisor ask --json` object."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Retrieved] = field(default_factory=list)
    latency_ms: float = 0.0
    mode: Literal["extractive", "generative"] = "extractive"
    fallback_reason: str | None = None
    search_query: str | None = None
    # The question's language ("en" or "zh"): refusals and fixed texts around the answer use it.
    language: str = "en"
    # Why it was refused, for programs: "not_covered", "unclear", "instructions", "task", "no_answer_sentence".
    refusal: str | None = None
    # "answered"; "hedged" (the library only touches on it: the closest passages, said so); "refused";
    # "conversation" (a greeting, thanks, a question about the bot: a short reply, nothing cited).
    outcome: Literal["answered", "hedged", "refused", "conversation"] = "answered"
    # For a conversation: what it was ("greeting", "thanks", "farewell", "acknowledgement", "about_bot",
    # "about_library", "link").
    intent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_ms"] = round(self.latency_ms, 1)
        data["retrieved"] = [
            {"doc_id": r.doc_id, "chunk_id": r.chunk_id, "score": round(r.score, 4)}
            for r in self.retrieved
        ]
        return data


@dataclass(frozen=True, slots=True)
class SourceInfo:
    doc_id: str
    title: str
    path: str
    chunks: int
    sha256: str
    topics: tuple[str, ...]
    ingested_at: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["topics"] = list(self.topics)
        return data

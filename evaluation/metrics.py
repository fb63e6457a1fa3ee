"""Metric functions: pure, small, and tested against hand-computed values.

Retrieval is judged at document level: the ranked chunks are collapsed to the ranked list of
distinct documents (first appearance wins), because an owner is served by the right source, not by
one particular chunk of it.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence


def ranked_documents(doc_ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for doc_id in doc_ids:
        seen.setdefault(doc_id, None)
    return list(seen)


def hit_at(ranked: Sequence[str], expected: Iterable[str], k: int) -> float:
    """1.0 when any expected document is among the first k ranked documents."""
    wanted = set(expected)
    return 1.0 if wanted & set(ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], expected: Iterable[str]) -> float:
    wanted = set(expected)
    for rank, doc_id in enumerate(ranked, start=1):
        if doc_id in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], expected: Iterable[str], k: int) -> float:
    """Binary-relevance nDCG@k: every expected document is equally relevant."""
    wanted = set(expected)
    if not wanted:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc_id in enumerate(ranked[:k], start=1) if doc_id in wanted)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def citation_precision(cited_docs: Sequence[str], expected: Iterable[str]) -> float | None:
    """Share of citations that point into an expected document; None when nothing is cited."""
    if not cited_docs:
        return None
    wanted = set(expected)
    return sum(1 for doc_id in cited_docs if doc_id in wanted) / len(cited_docs)


def keyword_hit(answer: str, keywords: Sequence[str]) -> float | None:
    """Share of expected key facts (case-insensitive substrings) present in the answer."""
    if not keywords:
        return None
    lowered = answer.lower()
    return sum(1 for keyword in keywords if keyword.lower() in lowered) / len(keywords)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def refusal_scores(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float | int | None]:
    """From (answerable, refused) pairs: refusing an out-of-scope question is the positive class."""
    tp = fp = fn = tn = 0
    for answerable, refused in pairs:
        if refused and not answerable:
            tp += 1
        elif refused and answerable:
            fp += 1
        elif not refused and not answerable:
            fn += 1
        else:
            tn += 1
    return {
        "refusal_precision": tp / (tp + fp) if tp + fp else None,
        "refusal_recall": tp / (tp + fn) if tp + fn else None,
        "false_refusal_rate": fp / (fp + tn) if fp + tn else None,
        "refused_out_of_scope": tp,
        "refused_answerable": fp,
        "answered_out_of_scope": fn,
        "answered_answerable": tn,
    }

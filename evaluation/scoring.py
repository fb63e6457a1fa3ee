"""Turns answers into per-item metrics and the run's summary (overall, per topic and per language pair)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Collection, Sequence

from evaluation import metrics
from evaluation.dataset import KINDS, EvalItem
from knowledge.types import Answer, Chunk

OUTCOMES = ("answered", "hedged", "refused", "conversation")
# The figures a baseline comparison and the CI gate look at; True means higher is better.
HEADLINE = {
    "hit@1": True,
    "hit@k": True,
    "mrr": True,
    "ndcg@k": True,
    "citation_precision": True,
    "verbatim_validity": True,
    "key_fact_hit": True,
    "refusal_precision": True,
    "refusal_recall": True,
    "false_refusal_rate": False,
}
# Every figure a comparison shows: the headline ones (gated), then these (shown, never gated:
# hit@3/5 follow hit@k, and latency depends on the machine). True: higher is better.
SHOWN = {**HEADLINE, "hit@3": True, "hit@5": True, "with_problems": False, "latency_p50_ms": False,
         "latency_p95_ms": False}


def score_item(item: EvalItem, answer: Answer, k: int, chunk_of: Callable[[str], Chunk | None],
               library: Collection[str] | None = None) -> dict[str, Any]:
    """The `ask --json` object of `answer`, plus the item's expectations and metrics; `library`
    (the doc ids it holds) tells a typo in `expected_sources` from a retrieval miss."""
    record = answer.to_dict()
    ranked = metrics.ranked_documents(r.doc_id for r in answer.retrieved)
    verbatim = all(_is_verbatim(c.quote, chunk_of(c.chunk_id)) for c in answer.citations)
    scores: dict[str, Any] = {"verbatim_valid": verbatim if answer.citations else None}
    if item.answerable:
        scores.update({
            "hit@1": metrics.hit_at(ranked, item.expected_sources, 1),
            "hit@3": metrics.hit_at(ranked, item.expected_sources, 3),
            "hit@5": metrics.hit_at(ranked, item.expected_sources, 5),
            "hit@k": metrics.hit_at(ranked, item.expected_sources, k),
            "rr": metrics.reciprocal_rank(ranked, item.expected_sources),
            "ndcg@k": metrics.ndcg_at(ranked, item.expected_sources, k),
            "citation_precision": metrics.citation_precision([c.doc_id for c in answer.citations],
                                                             item.expected_sources),
            "key_fact_hit": metrics.keyword_hit("" if answer.refused else answer.answer, item.expected_keywords),
        })
    if item.kind == "small-talk":
        scores["small_talk_handled"] = 1.0 if answer.outcome == "conversation" else 0.0
    record.update({
        "id": item.id,
        "topic": item.topic,
        "lang": item.lang,
        "kind": item.kind,
        "answerable": item.answerable,
        "expected_sources": list(item.expected_sources),
        "expected_keywords": list(item.expected_keywords),
        "history": [{"role": t.role, "content": t.content} for t in item.history],
        "split": item.split,
        "ranked_documents": ranked,
        "metrics": scores,
        "unknown_sources": [] if library is None else [d for d in item.expected_sources if d not in library],
        "missing_keywords": [] if answer.refused else missing_keywords(answer.answer, item.expected_keywords),
    })
    record["problems"] = problems_of(record, k)
    return record


def _is_verbatim(quote: str, chunk: Chunk | None) -> bool:
    return chunk is not None and bool(quote) and quote in chunk.text


def problems_of(record: dict[str, Any], k: int) -> list[str]:
    """What went wrong with one item, in words a reader of the report understands."""
    scores, found = record["metrics"], []
    outcome = outcome_of(record)
    if scores.get("verbatim_valid") is False:
        found.append("a quote is not verbatim")
    if record.get("kind") == "small-talk":
        if outcome != "conversation":
            found.append(f"small talk {outcome} instead of a conversational reply")
        return found
    if not record["answerable"]:
        if outcome == "answered":
            found.append("answered an out-of-scope question")
        elif outcome == "hedged":
            found.append("hedged an out-of-scope question (offered the closest passages)")
        elif outcome == "conversation":
            found.append("took an out-of-scope question for small talk")
        return found
    if record["refused"]:
        found.append("refused an answerable question")
    elif outcome == "hedged":
        found.append("hedged an answerable question")
    unknown = record.get("unknown_sources") or []
    if unknown:
        found.append("expected source not in the library: " + ", ".join(unknown) + " (a typo in the question set?)")
    if record["expected_sources"] and scores["hit@k"] == 0:
        found.append(f"no expected source in the top {k}")
    elif record["expected_sources"] and scores["hit@1"] == 0:
        found.append("expected source not ranked first")
    if scores["citation_precision"] is not None and scores["citation_precision"] < 1:
        found.append("cites an unexpected source")
    if not record["refused"] and scores["key_fact_hit"] is not None and scores["key_fact_hit"] < 1:
        missing = record.get("missing_keywords") or []
        found.append("key fact missing from the answer" + (": " + ", ".join(f"“{k}”" for k in missing) if missing
                                                           else ""))
    return found


def outcome_of(record: dict[str, Any]) -> str:
    """answered / hedged / refused / conversation (reports written before outcomes: from `refused`)."""
    return record.get("outcome") or ("refused" if record["refused"] else "answered")


def missing_keywords(answer: str, keywords: Sequence[str]) -> list[str]:
    """The expected key facts the answer does not contain (as `metrics.keyword_hit` counts them)."""
    lowered = answer.lower()
    return [keyword for keyword in keywords if keyword.lower() not in lowered]


# The order language groups are shown in: same-language, across languages, then out-of-scope.
LANG_ORDER = ("en-en", "zh-zh", "zh-en", "en-zh", "en-oos", "zh-oos")


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    summary = _summary_of(records)
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_topic[record["topic"]].append(record)
        # records from before items carried a language pair are kept apart, not guessed
        by_lang[record.get("lang") or "unspecified"].append(record)
    summary["by_topic"] = {topic: _summary_of(group) for topic, group in sorted(by_topic.items())}
    summary["by_lang"] = {lang: _summary_of(by_lang[lang]) for lang in sorted(by_lang, key=_lang_rank)}
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_kind[record.get("kind") or ("direct" if record["answerable"] else "out-of-scope")].append(record)
    summary["by_kind"] = {kind: _kind_summary(by_kind[kind]) for kind in sorted(by_kind, key=_kind_rank)}
    return summary


def _kind_rank(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def _kind_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What owners got, per kind of message: answered / hedged / refused / conversation, and how good."""
    outcomes = [outcome_of(r) for r in records]
    answerable = [r for r in records if r["answerable"]]
    cited = [(r, c) for r in answerable for c in r["citations"]]
    return {
        "items": len(records),
        **{outcome: outcomes.count(outcome) for outcome in OUTCOMES},
        "key_fact_hit": metrics.mean(r["metrics"].get("key_fact_hit") for r in answerable),
        "citation_precision": (sum(1 for r, c in cited if c["doc_id"] in r["expected_sources"]) / len(cited))
        if cited else None,
        "right_document_first": metrics.mean(
            (1.0 if outcome_of(r) in ("answered", "hedged") and r["citations"]
             and r["citations"][0]["doc_id"] in r["expected_sources"] else 0.0)
            for r in answerable if r["expected_sources"]),
    }


def _lang_rank(lang: str) -> tuple[int, str]:
    return (LANG_ORDER.index(lang) if lang in LANG_ORDER else len(LANG_ORDER), lang)


def _summary_of(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    talk = [r for r in records if r.get("kind") == "small-talk"]
    records = [r for r in records if r.get("kind") != "small-talk"]  # neither answerable nor out of scope
    answerable = [r for r in records if r["answerable"]]
    with_sources = [r for r in answerable if r["expected_sources"]]
    cited = [c for r in answerable for c in r["citations"]]
    expected_by_id = {r["id"]: set(r["expected_sources"]) for r in answerable}
    citing = [r for r in records if r["citations"]]
    latencies = [r["latency_ms"] for r in records]
    modes = defaultdict(int)
    for r in records:
        modes[r["mode"]] += 1
    summary: dict[str, Any] = {
        "items": len(records) + len(talk),
        "answerable": len(answerable),
        "out_of_scope": len(records) - len(answerable),
        "with_problems": sum(1 for r in records if r["problems"]),
        "hit@1": _mean(with_sources, "hit@1"),
        "hit@3": _mean(with_sources, "hit@3"),
        "hit@5": _mean(with_sources, "hit@5"),
        "hit@k": _mean(with_sources, "hit@k"),
        "mrr": _mean(with_sources, "rr"),
        "ndcg@k": _mean(with_sources, "ndcg@k"),
        # micro-averaged: every citation counts once, wherever it appears
        "citation_precision": (sum(1 for r in answerable for c in r["citations"] if c["doc_id"] in expected_by_id[r["id"]])
                               / len(cited)) if cited else None,
        "verbatim_validity": (sum(1 for r in citing if r["metrics"]["verbatim_valid"]) / len(citing)) if citing else None,
        "key_fact_hit": metrics.mean(r["metrics"].get("key_fact_hit") for r in answerable),
        "latency_p50_ms": round(metrics.percentile(latencies, 50), 1),
        "latency_p95_ms": round(metrics.percentile(latencies, 95), 1),
        "modes": dict(modes),
        "fallbacks": sum(1 for r in records if r.get("fallback_reason")),
    }
    summary.update(metrics.refusal_scores((r["answerable"], r["refused"]) for r in records))
    outcomes = [outcome_of(r) for r in records]
    summary["hedged"] = outcomes.count("hedged")
    out_of_scope = [outcome for r, outcome in zip(records, outcomes) if not r["answerable"]]
    # Refused or hedged: no confident answer to what the library does not cover.
    summary["out_of_scope_not_answered"] = (sum(1 for o in out_of_scope if o in ("refused", "hedged"))
                                           / len(out_of_scope)) if out_of_scope else None
    summary["small_talk"] = len(talk)
    summary["small_talk_handled"] = metrics.mean(r["metrics"].get("small_talk_handled") for r in talk)
    return summary


def _mean(records: Sequence[dict[str, Any]], key: str) -> float | None:
    return metrics.mean(r["metrics"][key] for r in records)

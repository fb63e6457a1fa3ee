"""The self-contained HTML report: headline cards, charts, per-topic and per-language tables, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation import charts
from evaluation.compare import Comparison
from evaluation.terminal import LABELS, fmt, rank_of_first_expected, signed
from sme_advisor.i18n import plural

TEMPLATES = Path(__file__).parent / "templates"
CARDS = [("hit@1", "hit@1"), ("hit@k", "hit@k"), ("mrr", "MRR"), ("ndcg@k", "nDCG@k"),
         ("citation_precision", "citation precision"), ("verbatim_validity", "verbatim quotes"),
         ("key_fact_hit", "key facts found"), ("refusal_precision", "refusal precision"),
         ("refusal_recall", "refusal recall"), ("false_refusal_rate", "false refusals"),
         ("latency_p50_ms", "latency p50 (ms)"), ("latency_p95_ms", "latency p95 (ms)")]
LANG_COLUMNS = ["items", "hit@1", "hit@k", "mrr", "key_fact_hit", "citation_precision", "false_refusal_rate",
                "refusal_recall", "refused_out_of_scope", "verbatim_validity"]
LANG_LABELS = {"refusal_recall": "out-of-scope refused (share)", "refused_out_of_scope": "out-of-scope refused (n)"}
KIND_COLUMNS = ["items", "answered", "hedged", "refused", "conversation", "key_fact_hit", "citation_precision",
                "right_document_first"]
KIND_LABELS = {"key_fact_hit": "key facts found", "citation_precision": "citation precision",
               "right_document_first": "right document first"}
METRIC_LABELS = {**LABELS, **dict(CARDS), "hit@3": "hit@3", "hit@5": "hit@5", "with_problems": "items with problems"}
COLUMNS = ["items", "hit@1", "hit@3", "hit@5", "hit@k", "mrr", "ndcg@k", "citation_precision", "key_fact_hit",
           "refusal_recall", "false_refusal_rate", "latency_p50_ms"]


def render(report: dict[str, Any], comparison: Comparison | None = None) -> str:
    """The report; with `comparison`, also what changed against the baseline (deltas on the cards,
    a table of every metric, settings side by side, items newly failing and newly fixed)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]))
    summary, items = report["summary"], report["items"]
    k = summary["k"]
    return environment.get_template("report.html.j2").render(
        run=report["run"], summary=summary, items=items, fmt=fmt,
        cards=[(key, label.replace("@k", f"@{k}")) for key, label in CARDS],
        columns=[c for c in COLUMNS if c != "hit@k" or k not in (1, 3, 5)], labels={c: dict(CARDS).get(c, c).replace("@k", f"@{k}") for c in COLUMNS},
        lang_columns=LANG_COLUMNS, kind_columns=KIND_COLUMNS, kind_labels=KIND_LABELS,
        lang_labels={c: LANG_LABELS.get(c) or dict(CARDS).get(c, c).replace("@k", f"@{k}") for c in LANG_COLUMNS},
        failures=[item for item in items if item["problems"]],
        comparison=comparison, card_deltas={d.metric: d for d in comparison.deltas if d.lang is None}
        if comparison else {},
        delta_rows=[d for d in comparison.deltas if (d.lang is None or d.regressed or d.direction == "worse")
                    and not (d.metric == "hit@k" and k in (1, 3, 5))]  # hit@5 is its own row
        if comparison else [], metric_labels=METRIC_LABELS, signed=signed, plural=plural,
        rank_of=rank_of_first_expected,
        charts={"topics": charts.topic_hits(summary), "latency": charts.latency_histogram(items, summary),
                "refusals": charts.refusal_confusion(summary)},
    )


def write(report: dict[str, Any], path: Path, comparison: Comparison | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report, comparison), encoding="utf-8")

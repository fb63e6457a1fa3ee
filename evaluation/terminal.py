"""The readable terminal summary of an evaluation run (rich tables)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from evaluation.compare import Delta, ThresholdCheck, failure_lines

COLUMNS = ["hit@1", "hit@3", "hit@k", "mrr", "ndcg@k", "citation_precision", "key_fact_hit",
           "refusal_recall", "false_refusal_rate"]
# Per language pair: retrieval and key facts for answerable groups, refusals for out-of-scope ones.
LANG_COLUMNS = ["hit@1", "hit@k", "mrr", "key_fact_hit", "citation_precision", "false_refusal_rate",
                "refusal_recall", "verbatim_validity"]
LABELS = {"citation_precision": "cite prec", "key_fact_hit": "key facts", "refusal_recall": "refusal rec",
          "false_refusal_rate": "false refusal", "ndcg@k": "nDCG@k", "mrr": "MRR",
          "verbatim_validity": "verbatim"}


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def print_summary(console: Console, report: dict[str, Any], max_failures: int = 15) -> None:
    summary, run = report["summary"], report["run"]
    k = summary["k"]
    table = Table(title=f"Evaluation · {run['question_set']}"
                        + (f" · split {run['split']}" if run["split"] else "")
                        + f" · {run['library']['documents']} documents", title_justify="left")
    table.add_column("topic")
    table.add_column("items", justify="right")
    columns = [c for c in COLUMNS if c != "hit@k" or k not in (1, 3)]
    for column in columns:
        table.add_column(LABELS.get(column, column).replace("@k", f"@{k}"), justify="right")
    for topic, group in summary["by_topic"].items():
        table.add_row(topic, str(group["items"]), *(fmt(group.get(c)) for c in columns))
    table.add_section()
    table.add_row("[b]all[/]", f"[b]{summary['items']}[/]", *(f"[b]{fmt(summary.get(c))}[/]" for c in columns))
    console.print(table)
    if summary.get("by_lang"):
        console.print(language_table(summary))
    if summary.get("by_kind"):
        console.print(kind_table(summary))
    console.print(
        f"verbatim quotes {fmt(summary['verbatim_validity'])} · refusal precision "
        f"{fmt(summary['refusal_precision'])} · latency p50 {summary['latency_p50_ms']} ms, "
        f"p95 {summary['latency_p95_ms']} ms · modes {summary['modes']}"
        + (f" · {summary['fallbacks']} LLM fallbacks" if summary["fallbacks"] else "")
        + (f" · hedged {summary['hedged']}" if summary.get("hedged") else "")
        + (f" · out of scope not answered {fmt(summary['out_of_scope_not_answered'])}"
           if summary.get("out_of_scope_not_answered") is not None else "")
        + (f" · small talk handled {fmt(summary['small_talk_handled'])}" if summary.get("small_talk") else ""))
    failures = [item for item in report["items"] if item["problems"]]
    if failures:
        listing = Table(title=f"{len(failures)} items with problems", title_justify="left", show_lines=False)
        listing.add_column("id")
        listing.add_column("problems")
        listing.add_column("first expected source at rank", justify="right")
        for item in failures[:max_failures]:
            listing.add_row(item["id"], "; ".join(item["problems"]), rank_of_first_expected(item))
        console.print(listing)
        if len(failures) > max_failures:
            console.print(f"[dim]… and {len(failures) - max_failures} more (see the JSON or HTML report)[/]")
    for error in run["load_errors"]:
        console.print(f"[red]malformed item[/] {error}")


def language_table(summary: dict[str, Any]) -> Table:
    k = summary["k"]
    table = Table(title="By language (question-source; oos: out of scope)", title_justify="left")
    table.add_column("language")
    table.add_column("items", justify="right")
    for column in LANG_COLUMNS:
        label = "oos refused" if column == "refusal_recall" else LABELS.get(column, column)
        table.add_column(label.replace("@k", f"@{k}"), justify="right")
    for lang, group in summary["by_lang"].items():
        table.add_row(lang, str(group["items"]), *(fmt(group.get(c)) for c in LANG_COLUMNS))
    return table


KIND_COLUMNS = ["answered", "hedged", "refused", "conversation", "key_fact_hit", "citation_precision",
                "right_document_first"]


def kind_table(summary: dict[str, Any]) -> Table:
    table = Table(title="By kind of message (what owners got)", title_justify="left")
    table.add_column("kind")
    table.add_column("items", justify="right")
    for column in KIND_COLUMNS:
        table.add_column({"right_document_first": "right doc first"}.get(column, LABELS.get(column, column)),
                         justify="right")
    for kind, group in summary["by_kind"].items():
        table.add_row(kind, str(group["items"]), *(fmt(group.get(c)) for c in KIND_COLUMNS))
    return table


def rank_of_first_expected(item: dict[str, Any]) -> str:
    if not item["expected_sources"]:
        return "–"
    for rank, doc_id in enumerate(item["ranked_documents"], start=1):
        if doc_id in item["expected_sources"]:
            return str(rank)
    return "miss"


def print_deltas(console: Console, deltas: Sequence[Delta], tolerance: float) -> None:
    table = Table(title=f"Against the baseline (tolerance {tolerance:.3f})", title_justify="left")
    for column in ("scope", "metric", "baseline", "now", "change", ""):
        table.add_column(column, justify="right" if column not in ("scope", "metric", "") else "left")
    for delta in deltas:
        if delta.lang is not None and not delta.regressed:
            continue  # per-language rows only when they matter: the table stays readable
        change = "–" if delta.change is None else f"{delta.change:+.3f}"
        table.add_row(delta.lang or "all", delta.metric, fmt(delta.baseline), fmt(delta.current), change,
                      "[red]REGRESSED[/]" if delta.regressed else "[green]ok[/]")
    console.print(table)


def print_thresholds(console: Console, checks: Sequence[ThresholdCheck], summary: dict[str, Any]) -> None:
    table = Table(title="Quality gate", title_justify="left")
    for column in ("scope", "metric", "required", "now", ""):
        table.add_column(column)
    for check in checks:
        sign = "≥" if check.bound == "min" else "≤"
        table.add_row(check.lang or "all", check.metric, f"{sign} {check.limit:.2f}", fmt(check.value),
                      "[green]pass[/]" if check.passed else "[red]FAIL[/]")
    console.print(table)
    for line in failure_lines(list(checks), summary):
        console.print(f"[red]FAILED:[/] {line}")

"""The readable terminal summary of an evaluation run (rich tables)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evaluation.compare import Comparison, Delta, ThresholdCheck, failure_lines
from sme_advisor.i18n import plural

COLUMNS = ["hit@1", "hit@3", "hit@k", "mrr", "ndcg@k", "citation_precision", "key_fact_hit",
           "refusal_recall", "false_refusal_rate"]
# Per language pair: retrieval and key facts for answerable groups, refusals for out-of-scope ones.
LANG_COLUMNS = ["hit@1", "hit@k", "mrr", "key_fact_hit", "citation_precision", "false_refusal_rate",
                "refusal_recall", "verbatim_validity"]
LABELS = {"citation_precision": "cite prec", "key_fact_hit": "key facts", "refusal_recall": "refusal rec",
          "false_refusal_rate": "false refusal", "ndcg@k": "nDCG@k", "mrr": "MRR",
          "verbatim_validity": "verbatim", "refusal_precision": "refusal prec", "with_problems": "items with problems",
          "latency_p50_ms": "latency p50 ms", "latency_p95_ms": "latency p95 ms"}


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
                        + f" · {plural(run['library']['documents'], 'document')}", title_justify="left")
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
        listing = Table(title=f"{plural(len(failures), 'item')} with problems", title_justify="left",
                        show_lines=False)
        listing.add_column("id")
        listing.add_column("problems")
        listing.add_column("expected keywords")
        listing.add_column("first expected source at rank", justify="right")
        for item in failures[:max_failures]:
            listing.add_row(item["id"], escape("; ".join(item["problems"])),
                            escape(", ".join(item.get("expected_keywords", []))), rank_of_first_expected(item))
        console.print(listing)
        if len(failures) > max_failures:
            console.print(f"[dim]… and {len(failures) - max_failures} more (see the JSON or HTML report)[/]")
    for error in run["load_errors"]:
        console.print(f"[red]malformed item[/] {error}")
    for warning in run.get("warnings", []):
        console.print(f"[yellow]warning[/] {escape(warning)}", soft_wrap=True)


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


def print_deltas(console: Console, deltas: Sequence[Delta], tolerance: float, k: int | None = None) -> None:
    table = Table(title=f"Against the baseline (tolerance {tolerance:.3f})", title_justify="left")
    for column in ("scope", "metric", "baseline", "now", "change", ""):
        table.add_column(column, justify="right" if column not in ("scope", "metric", "") else "left")
    for delta in deltas:
        if delta.lang is not None and not delta.regressed:
            continue  # per-language rows only when they matter: the table stays readable
        if delta.metric == "hit@k" and k in (1, 3, 5) and not delta.regressed:
            continue  # the same figure as its own hit@1/3/5 row
        change = signed(delta.change)
        colour = {"better": "green", "worse": "red"}.get(delta.direction, "dim")
        verdict = ("[red]REGRESSED[/]" if delta.regressed else "[green]ok[/]") if delta.gated else "[dim]info[/]"
        label = LABELS.get(delta.metric, delta.metric).replace("@k", f"@{k}" if k else "@k")
        table.add_row(delta.lang or "all", label, fmt(delta.baseline),
                      fmt(delta.current), f"[{colour}]{change}[/]", verdict)
    console.print(table)


def print_comparison(console: Console, comparison: Comparison, tolerance: float, k: int | None = None,
                     max_items: int = 10) -> None:
    """Deltas, the settings that differ, and the items newly failing or newly fixed."""
    print_deltas(console, comparison.deltas, tolerance, k)
    differing = [s for s in comparison.settings if s.differs]
    if differing:
        table = Table(title="Settings that differ between the runs", title_justify="left")
        for column in ("setting", "baseline", "now"):
            table.add_column(column, overflow="fold")
        for setting in differing:
            table.add_row(setting.name, escape(setting.baseline), escape(setting.current))
        console.print(table)
    else:
        console.print("[dim]Same settings, code version and library as the baseline.[/]")
    for title, changes, style in (("newly failing", comparison.newly_failing, "red"),
                                  ("newly fixed", comparison.newly_fixed, "green")):
        if not changes:
            continue
        table = Table(title=f"{len(changes)} {'item' if len(changes) == 1 else 'items'} {title}",
                      title_justify="left", title_style=style, show_lines=True)
        for column in ("id", "question", "problems", "answer before", "answer now"):
            table.add_column(column, overflow="fold")
        for change in changes[:max_items]:
            problems = change.problems_now if title == "newly failing" else change.problems_before
            table.add_row(change.id, escape(change.question), escape("; ".join(problems)),
                          escape(_short(change.answer_before, change.refused_before)),
                          escape(_short(change.answer_now, change.refused_now)))
        console.print(table)
        if len(changes) > max_items:
            console.print(f"[dim]… and {len(changes) - max_items} more (see the HTML or JSON report)[/]")
    console.print(f"[dim]{plural(comparison.still_failing, 'item')} failing in both runs"
                  + (f"; {plural(len(comparison.only_now), 'new item')}" if comparison.only_now else "")
                  + (f"; {plural(len(comparison.only_before), 'baseline item')} gone" if comparison.only_before
                     else "") + ".[/]")


def signed(value: float | None) -> str:
    """A change with its sign, as precise as `fmt` shows the values."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:+d}"
    return f"{value:+.1f}" if abs(value) >= 10 else f"{value:+.3f}"


def _short(answer: str, refused: bool, limit: int = 160) -> str:
    text = " ".join(answer.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"(refused) {text}" if refused else text


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

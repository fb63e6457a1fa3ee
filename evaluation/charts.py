"""Charts for the HTML report, drawn with matplotlib as inline SVG (the report stays one file)."""

from __future__ import annotations

import io
from typing import Any

BLUE, GREEN, RED, GREY = "#2563eb", "#16a34a", "#dc2626", "#9ca3af"


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.fonttype": "none"})
    return plt


def topic_hits(summary: dict[str, Any]) -> str:
    plt = _pyplot()
    topics = [t for t, s in summary["by_topic"].items() if s["answerable"]]
    k = summary["k"]
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    positions = range(len(topics))
    for offset, (metric, colour, label) in enumerate([("hit@1", BLUE, "hit@1"), ("hit@k", GREEN, f"hit@{k}"),
                                                      ("key_fact_hit", GREY, "key facts")]):
        values = [summary["by_topic"][t][metric] or 0 for t in topics]
        axes.bar([p + (offset - 1) * 0.26 for p in positions], values, 0.26, color=colour, label=label)
    axes.set_xticks(list(positions), topics, rotation=15, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share of answerable items")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), frameon=False, ncols=3)
    axes.set_title("Retrieval hit rate by topic")
    svg = _svg(figure)
    plt.close(figure)
    return svg


def latency_histogram(items: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 2.6))
    latencies = [item["latency_ms"] for item in items]
    axes.hist(latencies, bins=min(30, max(5, len(latencies) // 2)), color=BLUE)
    top = axes.get_ylim()[1]
    for value, label, style, height in [(summary["latency_p50_ms"], "p50", "--", 0.92),
                                        (summary["latency_p95_ms"], "p95", ":", 0.75)]:
        axes.axvline(value, color=RED, linestyle=style)
        axes.annotate(f"{label} {value:.0f} ms", (value, top * height), xytext=(4, 0),
                      textcoords="offset points", color=RED)
    axes.set_xlabel("answer latency (ms)")
    axes.set_ylabel("questions")
    axes.set_title("Latency distribution")
    svg = _svg(figure)
    plt.close(figure)
    return svg


def refusal_confusion(summary: dict[str, Any]) -> str:
    plt = _pyplot()
    cells = [[summary["answered_answerable"], summary["refused_answerable"]],
             [summary["answered_out_of_scope"], summary["refused_out_of_scope"]]]
    good = [[True, False], [False, True]]
    figure, axes = plt.subplots(figsize=(3.6, 2.8))
    for row in range(2):
        for column in range(2):
            colour = GREEN if good[row][column] else RED
            alpha = 0.15 + 0.6 * (cells[row][column] > 0)
            axes.add_patch(plt.Rectangle((column, 1 - row), 1, 1, color=colour, alpha=alpha if
                                         cells[row][column] else 0.08))
            axes.text(column + 0.5, 1.5 - row, str(cells[row][column]), ha="center", va="center", fontsize=16)
    axes.set_xlim(0, 2)
    axes.set_ylim(0, 2)
    axes.set_xticks([0.5, 1.5], ["answered", "refused"])
    axes.set_yticks([1.5, 0.5], ["answerable", "out of scope"])
    axes.tick_params(length=0)
    axes.set_title("Refusals")
    svg = _svg(figure)
    plt.close(figure)
    return svg

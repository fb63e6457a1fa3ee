"""`sme-advisor eval`: run a question set, report metrics, compare with a baseline, gate on thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


app = typer.Typer(help="Answer quality over question sets.")


@app.command(name="eval")
def evaluate(
    ctx: typer.Context,
    question_file: Annotated[Path, typer.Argument(help="Question set: JSON Lines (or YAML) items.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the JSON report here.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="An earlier JSON report (--out) to compare "
                                                     "with: deltas, items newly failing or fixed, settings.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Cut-off for hit@k and nDCG@k.")] = 5,
    split: Annotated[Optional[str], typer.Option("--split", help="Only items of this split (e.g. dev, gate).")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0,
                                             help="Allowed drop of a headline metric against the baseline.")] = 0.02,
    thresholds: Annotated[Optional[Path], typer.Option("--thresholds", help="JSON file of minimum/maximum "
                                                       "headline metrics; exit non-zero when one is missed.")] = None,
    llm_provider: Annotated[Optional[str], typer.Option("--llm-provider", help="Override LLM_PROVIDER for "
                                                        "this run (none, openai, local) to compare modes.")] = None,
) -> None:
    """Evaluate answer quality over a question set, as JSON, a terminal table and optionally HTML."""
    from rich.console import Console

    from evaluation.compare import build_comparison, check_thresholds, load_thresholds
    from evaluation.dataset import DatasetError, load_items
    from evaluation.terminal import print_comparison, print_summary, print_thresholds
    from sme_advisor.context import settings_of

    console, err = Console(), Console(stderr=True)
    settings = settings_of(ctx)
    if llm_provider is not None:
        if llm_provider not in ("none", "openai", "local"):
            err.print(f"[red]Error:[/] unknown LLM provider {llm_provider!r} (none, openai, local)")
            raise typer.Exit(2)
        settings = settings.model_copy(update={"llm_provider": llm_provider})
    try:
        loaded = load_items(question_file, split)
        limits = load_thresholds(thresholds) if thresholds else None
        previous = json.loads(baseline.read_text(encoding="utf-8")) if baseline else None
        if previous is not None and not (isinstance(previous, dict) and "summary" in previous and "items" in previous):
            raise ValueError(f"{baseline} is not an evaluation report (write one with `sme-advisor eval … --out`)")
    except (DatasetError, OSError, ValueError) as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(2) from error
    for error in loaded.errors:
        err.print(f"[red]{question_file}, {error}[/] (skipped)")
    if not loaded.items:
        err.print("[red]Error:[/] no questions to evaluate" + (f" in split {split!r}" if split else ""))
        raise typer.Exit(2)

    report = _run(settings, loaded, question_file, split, k, err)
    comparison = None
    if previous is not None:
        comparison = build_comparison(report, previous, tolerance, label=str(baseline))
        report["comparison"] = comparison.to_dict()
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if html:
        from evaluation import html_report

        html_report.write(report, html, comparison)
    print_summary(console, report)
    failed = bool(loaded.errors)
    if comparison is not None:
        print_comparison(console, comparison, tolerance, k)
        failed |= comparison.regressed
    if limits is not None:
        checks = check_thresholds(report["summary"], limits)
        print_thresholds(console, checks, report["summary"])
        failed |= not all(c.passed for c in checks)
    for path in (out, html):
        if path:
            err.print(f"[dim]wrote {path}[/]")
    if failed:
        raise typer.Exit(1)


def _run(settings, loaded, question_file: Path, split: str | None, k: int, err):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from evaluation.runner import build_report, timed_run
    from sme_advisor.commands import open_knowledge_base

    with open_knowledge_base(settings) as kb:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("loading the model…", total=len(loaded.items))

            def on_item(index, item) -> None:  # type: ignore[no-untyped-def]
                progress.update(task, completed=index, description=f"asking · {item.id[:30]}")

            records, wall = timed_run(kb, loaded.items, k, on_item)
            progress.update(task, completed=len(loaded.items))
        return build_report(records, k=k, question_set=question_file.name, split=split,
                            load_errors=loaded.errors, kb=kb, wall_s=wall)

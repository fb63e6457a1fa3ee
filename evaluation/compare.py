"""Regression checks: against an earlier report (`--baseline`) and against fixed thresholds.

Both look at the whole run and at each language pair ("zh-zh", "zh-en", ...): an average over all
items can hide a language that got worse, so each language group is compared and gated on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.dataset import LANG_PAIR
from evaluation.scoring import HEADLINE


@dataclass(frozen=True, slots=True)
class Delta:
    metric: str
    baseline: float | None
    current: float | None
    regressed: bool
    lang: str | None = None  # None: the whole run; else the language pair's group

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline


def compare(current: dict[str, Any], baseline: dict[str, Any], tolerance: float) -> list[Delta]:
    """Headline deltas, for the whole run and then per language pair present in both reports; a
    metric regresses when it worsens by more than `tolerance` (absolute)."""
    deltas = _deltas(current["summary"], baseline["summary"], tolerance, None)
    now_langs, old_langs = current["summary"].get("by_lang", {}), baseline["summary"].get("by_lang", {})
    for lang in now_langs:
        if lang in old_langs:
            deltas += _deltas(now_langs[lang], old_langs[lang], tolerance, lang)
    return deltas


def _deltas(now: dict[str, Any], old: dict[str, Any], tolerance: float, lang: str | None) -> list[Delta]:
    deltas = []
    for metric, higher_is_better in HEADLINE.items():
        before, after = old.get(metric), now.get(metric)
        regressed = False
        if before is not None and after is not None:
            worse_by = (before - after) if higher_is_better else (after - before)
            regressed = worse_by > tolerance + 1e-9
        elif before is not None and after is None:
            regressed = True  # the metric vanished: nothing left to measure it on
        deltas.append(Delta(metric, before, after, regressed, lang))
    return deltas


@dataclass(frozen=True, slots=True)
class ThresholdCheck:
    metric: str
    bound: str  # "min" or "max"
    limit: float
    value: float | None
    lang: str | None = None  # None: the whole run; else the language pair's block

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.limit if self.bound == "min" else self.value <= self.limit


Limits = dict[str, dict[str, float]]


def load_thresholds(path: Path) -> dict[str, Any]:
    """`{"min": {"hit@1": 0.8, ...}, "max": {"false_refusal_rate": 0.1},
    "by_lang": {"zh-zh": {"min": {...}, "max": {...}}, ...}}` (every part optional)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: thresholds must be a JSON object")
    blocks = data.get("by_lang", {})
    if not isinstance(blocks, dict):
        raise ValueError(f"{path}: `by_lang` must map language pairs to {{min, max}} blocks")
    bad_langs = [lang for lang in blocks if not LANG_PAIR.match(lang)]
    if bad_langs:
        raise ValueError(f"unknown language pairs in {path}: {', '.join(bad_langs)} (e.g. zh-zh, zh-en, en-zh, zh-oos)")
    return {**_limits(data, path, "the run"),
            "by_lang": {lang: _limits(block, path, lang) for lang, block in blocks.items()}}


def _limits(block: Any, path: Path, where: str) -> Limits:
    if not isinstance(block, dict):
        raise ValueError(f"{path}: the block for {where} must be an object with `min` and/or `max`")
    unknown = [m for bound in ("min", "max") for m in block.get(bound, {}) if m not in HEADLINE
               and not m.startswith(("hit@", "latency_", "refusal_"))]
    if unknown:
        raise ValueError(f"unknown metrics for {where} in {path}: {', '.join(unknown)}")
    return {"min": block.get("min", {}), "max": block.get("max", {})}


def check_thresholds(summary: dict[str, Any], thresholds: dict[str, Any]) -> list[ThresholdCheck]:
    """One check per limit; a language block whose group has no items in this run fails (value None):
    a gate that measured nothing must not pass."""
    checks = _checks(summary, thresholds, None)
    groups = summary.get("by_lang", {})
    for lang, block in thresholds.get("by_lang", {}).items():
        checks += _checks(groups.get(lang, {}), block, lang)
    return checks


def _checks(summary: dict[str, Any], limits: Limits, lang: str | None) -> list[ThresholdCheck]:
    return [ThresholdCheck(metric, bound, float(limit), summary.get(metric), lang)
            for bound in ("min", "max") for metric, limit in limits.get(bound, {}).items()]


def failure_lines(checks: list[ThresholdCheck], summary: dict[str, Any]) -> list[str]:
    """One sentence per failing scope (the run, or a language pair), naming what missed and by how much."""
    failing: dict[str | None, list[ThresholdCheck]] = {}
    for check in checks:
        if not check.passed:
            failing.setdefault(check.lang, []).append(check)
    lines = []
    groups = summary.get("by_lang", {})
    for lang, missed in failing.items():
        scope = "the run" if lang is None else f"language {lang}"
        if lang is not None and lang not in groups:
            lines.append(f"{scope} fails its gate: no {lang} items in this run")
            continue
        parts = [f"{c.metric} {'–' if c.value is None else f'{c.value:.3f}'} "
                 f"{'<' if c.bound == 'min' else '>'} {c.limit:.2f}" for c in missed]
        lines.append(f"{scope} fails its gate: " + ", ".join(parts))
    return lines

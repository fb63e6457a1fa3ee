"""Regression checks: against an earlier report (`--baseline`) and against fixed thresholds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.scoring import HEADLINE


@dataclass(frozen=True, slots=True)
class Delta:
    metric: str
    baseline: float | None
    current: float | None
    regressed: bool

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline


def compare(current: dict[str, Any], baseline: dict[str, Any], tolerance: float) -> list[Delta]:
    """Headline deltas; a metric regresses when it worsens by more than `tolerance` (absolute)."""
    deltas = []
    for metric, higher_is_better in HEADLINE.items():
        old, new = baseline["summary"].get(metric), current["summary"].get(metric)
        regressed = False
        if old is not None and new is not None:
            worse_by = (old - new) if higher_is_better else (new - old)
            regressed = worse_by > tolerance + 1e-9
        elif old is not None and new is None:
            regressed = True  # the metric vanished: nothing left to measure it on
        deltas.append(Delta(metric, old, new, regressed))
    return deltas


@dataclass(frozen=True, slots=True)
class ThresholdCheck:
    metric: str
    bound: str  # "min" or "max"
    limit: float
    value: float | None

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.limit if self.bound == "min" else self.value <= self.limit


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    """`{"min": {"hit@1": 0.8, ...}, "max": {"false_refusal_rate": 0.1}}`"""
    data = json.loads(path.read_text(encoding="utf-8"))
    unknown = [m for bound in ("min", "max") for m in data.get(bound, {}) if m not in HEADLINE
               and not m.startswith(("hit@", "latency_", "refusal_"))]
    if unknown:
        raise ValueError(f"unknown metrics in {path}: {', '.join(unknown)}")
    return {"min": data.get("min", {}), "max": data.get("max", {})}


def check_thresholds(summary: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[ThresholdCheck]:
    return [ThresholdCheck(metric, bound, float(limit), summary.get(metric))
            for bound in ("min", "max") for metric, limit in thresholds.get(bound, {}).items()]

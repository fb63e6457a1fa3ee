"""Regression checks: against an earlier report (`--baseline`) and against fixed thresholds, and
the comparison view of two runs (`build_comparison`: deltas, items newly failing or fixed, settings).

Both look at the whole run and at each language pair ("zh-zh", "zh-en", ...): an average over all
items can hide a language that got worse, so each language group is compared and gated on its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evaluation.dataset import LANG_PAIR
from evaluation.scoring import HEADLINE, SHOWN


@dataclass(frozen=True, slots=True)
class Delta:
    metric: str
    baseline: float | None
    current: float | None
    regressed: bool
    lang: str | None = None  # None: the whole run; else the language pair's group
    gated: bool = True  # False: shown for information (latency, hit@3…), never a regression
    higher_is_better: bool = True

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    @property
    def direction(self) -> str:
        """"better", "worse" or "same" (also "–" when one side has no value)."""
        change = self.change
        if change is None:
            return "–"
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.lang or "all", "metric": self.metric, "baseline": self.baseline, "now": self.current,
                "change": self.change, "direction": self.direction, "gated": self.gated,
                "regressed": self.regressed}


def compare(current: dict[str, Any], baseline: dict[str, Any], tolerance: float) -> list[Delta]:
    """Deltas of every metric, for the whole run and then per language pair present in both
    reports; a headline metric regresses when it worsens by more than `tolerance` (absolute)."""
    deltas = _deltas(current["summary"], baseline["summary"], tolerance, None)
    now_langs, old_langs = current["summary"].get("by_lang", {}), baseline["summary"].get("by_lang", {})
    for lang in now_langs:
        if lang in old_langs:
            deltas += _deltas(now_langs[lang], old_langs[lang], tolerance, lang)
    return deltas


def _deltas(now: dict[str, Any], old: dict[str, Any], tolerance: float, lang: str | None) -> list[Delta]:
    deltas = []
    for metric, higher_is_better in SHOWN.items():
        gated = metric in HEADLINE
        before, after = _number(old.get(metric)), _number(now.get(metric))
        regressed = False
        if gated and before is not None and after is not None:
            worse_by = (before - after) if higher_is_better else (after - before)
            regressed = worse_by > tolerance + 1e-9
        elif gated and before is not None and after is None:
            regressed = True  # the metric vanished: nothing left to measure it on
        deltas.append(Delta(metric, before, after, regressed, lang, gated, higher_is_better))
    return deltas


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# --- the comparison view: deltas, items that changed, settings side by side ----------------------
@dataclass(frozen=True, slots=True)
class ItemChange:
    id: str
    question: str
    history: list[dict[str, str]]
    lang: str | None
    problems_before: list[str]
    problems_now: list[str]
    answer_before: str
    answer_now: str
    refused_before: bool
    refused_now: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    baseline: str
    current: str

    @property
    def differs(self) -> bool:
        return self.baseline != self.current


@dataclass(slots=True)
class Comparison:
    baseline_label: str
    deltas: list[Delta]
    newly_failing: list[ItemChange]
    newly_fixed: list[ItemChange]
    still_failing: int
    only_now: list[str]  # item ids the baseline did not have
    only_before: list[str]
    settings: list[Setting]

    @property
    def regressed(self) -> bool:
        return any(delta.regressed for delta in self.deltas)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline_label, "regressed": self.regressed,
                "deltas": [d.to_dict() for d in self.deltas],
                "newly_failing": [c.to_dict() for c in self.newly_failing],
                "newly_fixed": [c.to_dict() for c in self.newly_fixed], "still_failing": self.still_failing,
                "only_now": self.only_now, "only_before": self.only_before,
                "settings": [{"name": s.name, "baseline": s.baseline, "now": s.current, "differs": s.differs}
                             for s in self.settings]}


def build_comparison(current: dict[str, Any], baseline: dict[str, Any], tolerance: float,
                     label: str = "baseline") -> Comparison:
    """What changed between `baseline` and `current`: every metric's delta, the items that started
    or stopped failing (with both answers), and the settings of both runs."""
    before = {item["id"]: item for item in baseline.get("items", [])}
    now = {item["id"]: item for item in current.get("items", [])}
    failing, fixed, still = [], [], 0
    for item_id, item in now.items():
        old = before.get(item_id)
        if old is None:
            continue
        if item["problems"] and not old["problems"]:
            failing.append(_change(old, item))
        elif old["problems"] and not item["problems"]:
            fixed.append(_change(old, item))
        elif item["problems"]:
            still += 1
    return Comparison(label, compare(current, baseline, tolerance), failing, fixed, still,
                      [i for i in now if i not in before], [i for i in before if i not in now],
                      settings_side_by_side(current, baseline))


def _change(old: dict[str, Any], new: dict[str, Any]) -> ItemChange:
    return ItemChange(new["id"], new["question"], list(new.get("history", [])), new.get("lang"),
                      list(old["problems"]), list(new["problems"]), old.get("answer", ""), new.get("answer", ""),
                      bool(old.get("refused")), bool(new.get("refused")))


def settings_side_by_side(current: dict[str, Any], baseline: dict[str, Any]) -> list[Setting]:
    """The run settings of both reports, one row each ("–" where a report predates the field)."""
    rows: dict[str, tuple[Any, Any]] = {}
    now_run, old_run = current.get("run", {}), baseline.get("run", {})

    def add(name: str, now_value: Any, old_value: Any) -> None:
        rows[name] = (old_value, now_value)

    for key in ("question_set", "split", "code_version", "embedding_model", "embedding_model_zh", "llm_provider"):
        add(key, now_run.get(key), old_run.get(key))
    add("k", current.get("summary", {}).get("k"), baseline.get("summary", {}).get("k"))
    for name in sorted(set(now_run.get("min_relevance", {})) | set(old_run.get("min_relevance", {}))):
        add(f"min_relevance {name}", now_run.get("min_relevance", {}).get(name),
            old_run.get("min_relevance", {}).get(name))
    now_settings, old_settings = now_run.get("settings", {}), baseline.get("run", {}).get("settings", {})
    for name in list(dict.fromkeys([*now_settings, *old_settings])):
        add(name, now_settings.get(name), old_settings.get(name))
    now_library, old_library = now_run.get("library", {}), old_run.get("library", {})
    for key in ("documents", "chunks", "version", "fingerprint"):
        add(f"library {key}", now_library.get(key), old_library.get(key))
    if "doc_ids" in now_library and "doc_ids" in old_library:
        added = sorted(set(now_library["doc_ids"]) - set(old_library["doc_ids"]))
        removed = sorted(set(old_library["doc_ids"]) - set(now_library["doc_ids"]))
        if added or removed:
            add("library documents added", _ids(added), "")
            add("library documents removed", "", _ids(removed))
    return [Setting(name, _shown(old), _shown(new)) for name, (old, new) in rows.items()]


def _ids(ids: list[str], limit: int = 8) -> str:
    return ", ".join(ids[:limit]) + (f" … and {len(ids) - limit} more" if len(ids) > limit else "")


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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

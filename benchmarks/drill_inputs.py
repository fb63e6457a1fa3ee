"""Drills for the bad inputs of issue 14 (and the identity cases of issue 10): each case generates
its files afresh, ingests them into a temporary library, and checks the outcome.

    .venv/bin/python benchmarks/drill_inputs.py [--trials 3] [--json] [--only CASE]

Prints trials and failures per case, and the first failure's detail. Exit code 1 when any failed.
Uses temporary folders only; the model is loaded once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.chunking import MAX_CHUNK_CHARS, make_chunks  # noqa: E402
from ingest.loaders import LoadError, load_document  # noqa: E402
from ingest.pipeline import IngestReport, ingest_paths  # noqa: E402
from ingest.worker import LoadTimeout, LoadWorker  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.embeddings import LazyEmbedder  # noqa: E402
from sme_advisor.settings import Settings  # noqa: E402
from bot.render import answer_messages  # noqa: E402
from tests.documents import SUCCESSION_PARAGRAPHS  # noqa: E402
from tests.input_documents import (GRANT_GUIDE, WEB_CAPTURE, annual_report, filtered_pdf,  # noqa: E402
                                   write_zip_bomb_docx)

ENGLISH = "Small firms that digitalise step by step avoid costly mistakes. They train their staff first."
CHINESE = "中小企业数字化转型的常见误区。许多小企业认为数字化需要大量投资，其实分步实施成本更低。"
MOSTLY_ENGLISH = ("Annual report 2023. Revenue grew by 12 percent and the cooperative hired four people. "
                  "本报告介绍了公司的年度业绩。The outlook for 2024 is stable.")


class Drill:
    def __init__(self, models_dir: Path, embedder: LazyEmbedder, embedder_zh: LazyEmbedder) -> None:
        self.models_dir, self.embedder, self.embedder_zh = models_dir, embedder, embedder_zh

    def library(self, folder: Path, **overrides: object) -> KnowledgeBase:
        settings = Settings(_env_file=None, data_dir=folder / "data", models_dir_override=self.models_dir,
                            **overrides)
        return KnowledgeBase.open(settings, embedder=self.embedder, embedder_zh=self.embedder_zh)

    def ingest(self, folder: Path, paths: list[Path], **options: object) -> tuple[KnowledgeBase, IngestReport]:
        kb = self.library(folder)
        return kb, ingest_paths(kb, paths, **options)  # type: ignore[arg-type]


def stored(kb: KnowledgeBase) -> str:
    return " ".join(c.text for c in kb.catalog.iter_chunks())


# --- the cases: each returns None when the outcome is right, else what went wrong ---------------
def case_utf16_32_english(d: Drill, folder: Path, trial: int) -> str | None:
    encoding = ["utf-16", "utf-16-le", "utf-32", "utf-16-be"][trial % 4]
    path = folder / "english.txt"
    path.write_bytes(ENGLISH.encode(encoding))
    kb, report = d.ingest(folder, [path])
    return None if report.added and ENGLISH in stored(kb) else f"{encoding}: {report.failed or stored(kb)[:80]}"


def case_gbk_chinese(d: Drill, folder: Path, trial: int) -> str | None:
    text, encoding = [(CHINESE, "gbk"), (MOSTLY_ENGLISH, "gbk"), (CHINESE, "gb18030")][trial % 3]
    path = folder / "report.txt"
    path.write_bytes(text.encode(encoding))
    kb, report = d.ingest(folder, [path])
    kept = stored(kb).replace(" ", "")
    return None if text.replace(" ", "")[:20] in kept else f"{encoding}: stored {stored(kb)[:60]!r}"


def case_nul_bytes(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "padded.txt"
    path.write_bytes((ENGLISH + "\n") .encode() * (100 + 50 * trial) + b"\x00" * (trial + 1) + b"The end.\x00")
    kb, report = d.ingest(folder, [path])
    return None if report.added and "\x00" not in stored(kb) and "The end." in stored(kb) else str(report.failed)


def _refused_as_too_large(d: Drill, folder: Path, path: Path) -> str | None:
    """A 52.4 MB file is refused by its size, quickly and without reading it into memory."""
    before, started = peak_mb(), time.monotonic()
    kb, report = d.ingest(folder, [path])
    error = report.failed[0].error if report.failed else ""
    if not error.startswith("the file is too large (52.4 MB; the limit is 50 MB)"):
        return f"message: {error!r}"
    return None if time.monotonic() - started < 5 and peak_mb() - before < 100 else "slow or memory grew"


def case_oversize_one_letter(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "letters.txt"
    with open(path, "wb") as handle:  # sparse: refusing it must not read it
        handle.truncate(50 * 1024 * 1024 + trial)
    return _refused_as_too_large(d, folder, path)


def case_oversize_by_one_byte(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "letters.txt"
    with open(path, "wb") as handle:
        handle.truncate(50_000_000 + 1 + trial)
    kb, report = d.ingest(folder, [path])
    error = report.failed[0].error if report.failed else ""
    return None if error == f"the file is too large (50.00000{1 + trial} MB; the limit is 50 MB)" else repr(error)


def case_fifty_mb_of_one_letter(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "letters.txt"
    path.write_bytes(b"a" * (50 * 1024 * 1024 - trial))  # written out, not sparse: 52.4 MB, over the limit
    return _refused_as_too_large(d, folder, path)


def case_long_prose(d: Drill, folder: Path, trial: int) -> str | None:
    sentence = "Owners of small firms plan their succession years ahead and train the next generation. "
    path = folder / "long-prose.txt"
    path.write_text((sentence * 10 + "\n\n") * (7000 + 1000 * trial))  # 6 to 8 MB of prose
    started = time.monotonic()
    kb, report = d.ingest(folder, [path])
    error = report.failed[0].error if report.failed else ""
    took = time.monotonic() - started
    return None if "split it into parts" in error and took < 30 else f"{error!r} after {took:.0f} s"


def case_fifty_mb_prose(d: Drill, folder: Path, trial: int) -> str | None:
    """The issue's 50 MB prose file, just under the 50 MB file limit: read, then refused by its length."""
    sentence = f"Owners of small firms plan their succession years ahead, variant {trial}, and train their heirs. "
    paragraph = (sentence * 10 + "\n\n").encode()
    path = folder / "fifty-mb-prose.txt"
    path.write_bytes(paragraph * ((50_000_000 - 1000) // len(paragraph)))
    started = time.monotonic()
    kb, report = d.ingest(folder, [path])
    error = report.failed[0].error if report.failed else ""
    took = time.monotonic() - started
    return None if "split it into parts" in error and took < 120 else f"{error!r} after {took:.0f} s"


def case_long_run_of_one_letter(d: Drill, folder: Path, trial: int) -> str | None:
    text = "a" * (1_000_000 * (trial + 1))
    chunks = make_chunks("letters", "Letters", text, "0" * 64, d.embedder.count_tokens, 200, 1)
    longest = max(len(c.text) for c in chunks)
    return None if longest <= MAX_CHUNK_CHARS else f"a chunk of {longest} characters"


def case_zip_bomb_docx(d: Drill, folder: Path, trial: int) -> str | None:
    bomb = write_zip_bomb_docx(folder / "bomb.docx", inflated_mb=120 + 40 * trial)
    before = peak_mb()
    kb, report = d.ingest(folder, [bomb])
    error = report.failed[0].error if report.failed else ""
    grew = peak_mb() - before
    return None if "zip bomb" in error and grew < 100 else f"{error!r}, peak memory grew {grew:.0f} MB"


def case_hanging_load(d: Drill, folder: Path, trial: int) -> str | None:
    (folder / "slow.txt").write_text("slow")
    started = time.monotonic()
    with LoadWorker(1.0, function="tests.slow_loader:sleep_then_load") as worker:
        try:
            worker.load(folder / "slow.txt")
            return "no time-out"
        except LoadTimeout:
            pass
    return None if time.monotonic() - started < 10 else "the time-out took too long"


def case_short_html_page(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "short.html"
    path.write_text(f"<p>Small firms that digitalise step by step avoid costly mistakes (note {trial}).</p>")
    kb, report = d.ingest(folder, [path])
    return None if report.added else str(report.failed)


def awkward_folder(folder: Path, trial: int) -> Path:
    docs = folder / "docs"
    docs.mkdir()
    (docs / "report.txt").write_text(annual_report(2023 + trial, "4.1 million euros", 37))
    (docs / ".hidden.txt").write_text("hidden")
    (docs / "..txt").write_text("dots")
    (folder / "outside.txt").write_text("Outside the folder: must never be read.")
    (docs / "to-outside.txt").symlink_to(folder / "outside.txt")
    (docs / "hostname.txt").symlink_to("/etc/hostname")
    (docs / "dangling.txt").symlink_to(folder / "missing.txt")
    (docs / "loop-a.txt").symlink_to(docs / "loop-b.txt")
    (docs / "loop-b.txt").symlink_to(docs / "loop-a.txt")
    os.mkfifo(docs / "pipe.txt")
    (docs / os.fsdecode(b"caf\xe9-\xff-plan.txt")).write_text(annual_report(2020, "3.1 million euros", 30))
    return docs


def case_awkward_paths(d: Drill, folder: Path, trial: int) -> str | None:
    docs = awkward_folder(folder, trial)
    kb, report = d.ingest(folder, [docs])
    skipped = {Path(s.path).name for s in report.skipped}
    expected = {".hidden.txt", "..txt", "to-outside.txt", "hostname.txt", "dangling.txt", "loop-a.txt", "loop-b.txt",
                "pipe.txt"}
    if not expected <= skipped:
        return f"not reported: {sorted(expected - skipped)}"
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if "must never be read" in stored(kb) or (hostname and hostname in stored(kb)):
        return "followed a symlink out of the folder"
    try:
        json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        return f"invalid UTF-8 in the report: {error}"
    return None if sorted(report.added) == ["caf-plan", "report"] else f"added {report.added}"


def case_same_slug_names(d: Drill, folder: Path, trial: int) -> str | None:
    (folder / "Report 2024.txt").write_text(annual_report(2024, "4.6 million euros", 41 + trial))
    (folder / "report_2024.md").write_text(annual_report(2024, "5.0 million euros", 44 + trial))
    kb = d.library(folder)
    first = ingest_paths(kb, [folder / "Report 2024.txt"])
    second = ingest_paths(kb, [folder / "report_2024.md"])
    return None if first.added == ["report-2024"] and second.added == ["report-2024-2"] else \
        f"{first.added} {second.added} {second.updated}"


def case_two_annual_reports(d: Drill, folder: Path, trial: int) -> str | None:
    for year, revenue in ((2023, "4.1 million euros"), (2024, "4.6 million euros")):
        (folder / str(year)).mkdir()
        (folder / str(year) / "annual-report.txt").write_text(annual_report(year, revenue, 30 + trial))
    kb, report = d.ingest(folder, [folder / "2023", folder / "2024"])
    answer = kb.ask("What was the cooperative's revenue in 2023?")
    found = " ".join(c.quote for c in answer.citations)
    return None if report.added == ["annual-report", "annual-report-2"] and "4.1 million" in found else \
        f"{report.added}; quoted {found[:80]!r}"


def case_three_copies(d: Drill, folder: Path, trial: int) -> str | None:
    for name in ("a.txt", "b copy.txt", f"final-{trial}.txt"):
        (folder / name).write_text(annual_report(2023, "4.1 million euros", 37))
    kb, report = d.ingest(folder, [folder])
    return None if len(report.added) == 1 and len(report.duplicates) == 2 else f"{report.added} {report.duplicates}"


def case_comments_heading(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "grant-guide.txt"
    path.write_text(GRANT_GUIDE)
    kb, report = d.ingest(folder, [path])
    answer = kb.ask("Can I apply in September if I missed March?")
    return None if "1 September" in answer.answer else answer.answer[:100]


def case_web_capture_cleaned(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "bakery-news.txt"
    path.write_text(WEB_CAPTURE)
    kb, report = d.ingest(folder, [path])
    text = stored(kb)
    if any(junk in text for junk in ("Maria", "ACME", "All rights reserved")):
        return "boilerplate kept"
    return None if report.documents and report.documents[0].removed_chars > 0 and report.warnings else "not reported"


def case_clear_messages(d: Drill, folder: Path, trial: int) -> str | None:
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n" + os.urandom(64 + trial))
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + os.urandom(64 + trial))
    # pdfminer fails on these without a message of its own (PDFValueError(None)) or with a class name
    (folder / "fax.pdf").write_bytes(filtered_pdf("CCITTFaxDecode"))
    (folder / "unknown-filter.pdf").write_bytes(filtered_pdf("FooDecode"))
    messages = []
    for name in ("broken.pdf", "broken.docx", "fax.pdf", "unknown-filter.pdf"):
        try:
            load_document(folder / name)
            messages.append(f"{name}: no error")
        except LoadError as error:
            messages.append(str(error))
    bad = [m for m in messages if not (m.startswith("corrupt or unreadable PDF: ") or
                                       m.startswith("corrupt or not a Word .docx file"))
           or re.search(r"\((error|None|\w*Error)\)$|: None$|: \w*Error$", m)]
    return "; ".join(bad) or None


OWNER_PLAN = ("A new owner is not bound by the previous owner's succession plan. The plan can be ignored or "
              "rewritten, but the heirs and the bank should hear the new plan within six months.")


def case_owner_may_ignore_a_plan(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "succession.txt"
    path.write_text("Succession plans\n\n" + "\n\n".join([*SUCCESSION_PARAGRAPHS, OWNER_PLAN]))
    kb, report = d.ingest(folder, [path])
    question = ["Can I ignore the previous owner's succession plan?",
                "Can I ignore the previous owner's succession plan",
                "can i ignore the previous owner's succession plan?"][trial % 3]
    answer = kb.ask(question)
    return None if answer.outcome in ("answered", "hedged") else f"{answer.outcome} ({answer.refusal})"


def case_planted_markers(d: Drill, folder: Path, trial: int) -> str | None:
    path = folder / "results.txt"
    path.write_text(f"Results {2023 + trial}\n\nSales of the bakery cooperative grew 12 percent [7] last year, while "
                    "flour costs fell [99] by a fifth. Margins held at 9 percent [1].")
    kb, report = d.ingest(folder, [path])
    answer = kb.ask("How much did the bakery cooperative's sales grow?")
    shown = "".join(answer_messages(answer))
    planted = [m for m in ("[7]", "[99]") if f"<b>{m}</b>" in shown or f"{m}</b>" in shown]
    if planted:
        return f"planted markers bold: {planted}"
    return None if answer.outcome in ("answered", "hedged") and "<b>[1]</b>" in shown else shown[:120]


def case_cli_undecodable_question(d: Drill, folder: Path, trial: int) -> str | None:
    """`ask` given bytes that are not UTF-8 (Python sees lone surrogates), with and without --json."""
    path = folder / "digital.txt"
    path.write_text("Digitalising\n\n" + ENGLISH)
    kb, report = d.ingest(folder, [path])
    kb.close()
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(folder / "data"), "SME_ADVISOR_MODELS_DIR": str(d.models_dir)}
    question = [b"What do small firms avoid \xff\xfe?", b"caf\xe9 \xed\xa0\x80 digitalise?",
                b"\xc3 step by step?"][trial % 3]
    for extra in ([], ["--json"]):
        done = subprocess.run([sys.executable, "-m", "sme_advisor", "ask", *extra, question], capture_output=True,
                              env=env, cwd=ROOT, timeout=300)
        try:
            out = done.stdout.decode("utf-8")  # strict: a lone surrogate written out would fail here
            if extra:
                json.loads(out)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return f"ask {extra}: {error}"
        if done.returncode != 0 or "Traceback" in done.stderr.decode(errors="replace"):
            return f"ask {extra}: exit {done.returncode}: {done.stderr.decode(errors='replace')[-200:]}"
    return None


CASES: dict[str, Callable[[Drill, Path, int], str | None]] = {
    name[len("case_"):].replace("_", "-"): function for name, function in globals().items() if name.startswith("case_")
}


def peak_mb() -> float:
    """The peak resident memory of this process and of the load workers (child processes) that
    have ended: files are read in a worker, so a zip bomb would inflate there."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drill-inputs-") as scratch:
        models = Path(os.environ.get("SME_ADVISOR_MODELS_DIR") or Path(scratch) / "models")
        settings = Settings(_env_file=None, data_dir=Path(scratch) / "model-data", models_dir_override=models)
        embedder = LazyEmbedder(settings)
        same = settings.embedding_model_zh == embedder.model_id
        embedder_zh = embedder if same else LazyEmbedder(settings, settings.embedding_model_zh)
        embedder.embed(["warm up"])
        drill = Drill(models, embedder, embedder_zh)
        results = []
        for name, case in CASES.items():
            if options.only and name not in options.only:
                continue
            failures: list[str] = []
            started = time.monotonic()
            for trial in range(options.trials):
                folder = Path(tempfile.mkdtemp(dir=scratch, prefix=f"{name}-"))
                try:
                    problem = case(drill, folder, trial)
                except Exception as error:  # a crash is a failure of the drill, with its cause
                    problem = f"crash: {type(error).__name__}: {error}"
                    traceback.print_exc(file=sys.stderr)
                if problem:
                    failures.append(problem)
            results.append({"case": name, "trials": options.trials, "failures": len(failures),
                            "first_failure": failures[0] if failures else None,
                            "seconds": round(time.monotonic() - started, 1)})
            if not options.json:
                row = results[-1]
                print(f"{name:28} trials {row['trials']:2}  failures {row['failures']:2}  {row['seconds']:6.1f} s"
                      + (f"  {row['first_failure']}" if row["first_failure"] else ""), flush=True)
    if options.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Drills for several processes on one library (issue 14), through the real CLI: kill -9 at random
moments of `ingest` and `reindex`, readers opening the library during an ingest, two ingests of one
folder at once. After each trial the next start (`sme-advisor check --json`, which recovers what a
dead writer left) must find catalog, vectors and keyword index in agreement, and a question must
still be answered once the folder is ingested.

    .venv/bin/python benchmarks/drill_processes.py [--trials N] [--only kill-ingest] [--json] [--work DIR]

Trials per drill default to the issue's (kill-ingest 20, reader-during-ingest 7, two-ingests 3,
kill-reindex 6); --trials sets them all. The fast, deterministic versions are tests/test_processes.py.
Exit code 1 when any trial failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.documents import SUCCESSION_PARAGRAPHS  # noqa: E402

QUESTION = "How long does a family business handover take?"
PARAGRAPHS_PER_DOCUMENT = 60  # ~20 chunks each: writing, not start-up, takes most of an ingest
DEFAULT_TRIALS = {"kill-ingest": 20, "reader-during-ingest": 7, "two-ingests": 3, "kill-reindex": 6}


@dataclass
class Trial:
    broken: str | None = None  # None: the library held
    landed: str = ""  # where a kill landed: "start-up", "first document", "writing" ("running"), "after exit"
    notes: dict[str, int] = field(default_factory=dict)


class Drill:
    def __init__(self, work: Path, documents: int) -> None:
        self.work, self.documents = work, documents
        self.models = work / "models"
        self.logs: list[Path] = []
        self.folder = work / "docs"
        self.ingest_s = self.reindex_s = 0.0
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            for n in range(documents):  # distinct documents, so every one is embedded and written
                paragraphs = [f"Note {n}, part {i}: {SUCCESSION_PARAGRAPHS[i % len(SUCCESSION_PARAGRAPHS)]}"
                              for i in range(PARAGRAPHS_PER_DOCUMENT)]
                (self.folder / f"family-note-{n:02d}.txt").write_text(f"Note {n}\n\n" + "\n\n".join(paragraphs))

    def env(self, data: Path) -> dict[str, str]:
        return {**os.environ, "SME_ADVISOR_DATA_DIR": str(data), "SME_ADVISOR_MODELS_DIR": str(self.models),
                "HF_HUB_OFFLINE": "1"}

    def start(self, data: Path, *args: str) -> subprocess.Popen[str]:
        self.logs.append(self.work / f"{data.name}-{len(self.logs)}.log")  # stderr, for a failure's detail
        return subprocess.Popen([sys.executable, "-m", "sme_advisor", *args], stdout=subprocess.DEVNULL,
                                stderr=self.logs[-1].open("w"), text=True, env=self.env(data), cwd=ROOT)

    def tail(self, log: Path) -> str:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])

    def run(self, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sme_advisor", *args], capture_output=True, text=True,
                              env=self.env(data), cwd=ROOT, timeout=900)

    def check(self, data: Path) -> dict:  # type: ignore[type-arg]
        return json.loads(self.run(data, "check", "--json").stdout)

    def verdict(self, data: Path, answers: bool = True) -> str | None:
        """None when the library is whole (and, with `answers`, answers the question); else what is wrong."""
        report = self.check(data)
        if not report["ok"]:
            return f"check after the next start: {report['problems']}"
        asked = self.run(data, "ask", QUESTION, "--json")
        if asked.returncode != 0:
            return f"ask failed: exit {asked.returncode} {asked.stderr[-200:]}"
        if answers and json.loads(asked.stdout)["outcome"] not in {"answered", "hedged"}:
            return f"not answered: {asked.stdout[:200]}"
        return None

    def ingest(self, data: Path) -> float:
        started = time.monotonic()
        done = self.run(data, "ingest", str(self.folder), "--json")
        assert done.returncode == 0, done.stderr[-500:]
        return time.monotonic() - started

    def calibrate(self) -> None:
        """Models compiled first (once per --work), then real run lengths for the kills to land in."""
        self.ingest(self.work / "warm-up")
        shutil.rmtree(self.work / "warm-up", ignore_errors=True)
        self.ingest_s = self.ingest(self.work / "timing")
        started = time.monotonic()
        assert self.run(self.work / "timing", "reindex").returncode == 0
        self.reindex_s = time.monotonic() - started
        shutil.rmtree(self.work / "timing", ignore_errors=True)

    def kill_at_random(self, data: Path, length: float, *args: str) -> str:
        """Starts a CLI command, kills it -9 somewhere within its usual run, says where it landed."""
        proc = self.start(data, *args)
        time.sleep(random.uniform(0.2, length))
        if proc.poll() is not None:
            return "after exit"
        documents = self._documents(data)  # the catalog as the kill finds it (read without opening the library)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return "start-up" if documents is None else "first document" if documents == 0 else "writing"

    @staticmethod
    def _documents(data: Path) -> int | None:
        import sqlite3

        catalog = data / "catalog.sqlite3"
        if not catalog.exists():
            return None
        try:
            with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5) as db:
                return int(db.execute("select count(*) from documents").fetchone()[0])
        except sqlite3.Error:
            return None

    # --- the drills: each returns a Trial ----------------------------------------------------
    def kill_ingest(self, data: Path) -> Trial:
        landed = self.kill_at_random(data, self.ingest_s, "ingest", str(self.folder), "--json")
        broken = self.verdict(data, answers=False)  # a kill before the first document leaves nothing to ask
        if broken:
            return Trial(broken, landed)
        again = self.run(data, "ingest", str(self.folder), "--json")  # finishes what the kill cut off
        if again.returncode != 0:
            return Trial(f"re-ingest exit {again.returncode}: {again.stderr[-300:]}", landed)
        return Trial(self.verdict(data), landed)

    def kill_reindex(self, data: Path) -> Trial:
        self.ingest(data)
        landed = self.kill_at_random(data, self.reindex_s, "reindex")
        # The library is full before a reindex starts: the catalog cannot tell its phases apart.
        return Trial(self.verdict(data), "running" if landed in ("first document", "writing") else landed)

    def reader_during_ingest(self, data: Path) -> Trial:
        proc = self.start(data, "ingest", str(self.folder), "--json")
        log, readers, failed = self.logs[-1], 0, []
        while proc.poll() is None:  # each start used to "recover" the writer's unfinished document away
            opened = self.run(data, "sources", "list", "--json")
            readers += 1
            if opened.returncode != 0:
                failed.append(f"reader exit {opened.returncode}: {opened.stderr.strip()[-200:]}")
        notes = {"readers": readers, "reader_failures": len(failed)}
        if proc.returncode != 0:
            return Trial(f"ingest exit {proc.returncode}: {self.tail(log)}", notes=notes)
        if failed:
            return Trial(failed[0], notes=notes)
        return Trial(self.verdict(data), notes=notes)

    def two_ingests(self, data: Path) -> Trial:
        procs = [self.start(data, "ingest", str(self.folder), "--json") for _ in range(2)]
        logs = self.logs[-2:]
        codes = [p.wait() for p in procs]
        if codes != [0, 0]:
            return Trial(f"ingest exits {codes}: {[self.tail(logs[i]) for i, c in enumerate(codes) if c]}")
        report = self.check(data)
        if report["documents"] != self.documents:
            return Trial(f"{report['documents']} documents in the catalog, not {self.documents}")
        return Trial(self.verdict(data))


DRILLS: dict[str, Callable[[Drill, Path], Trial]] = {
    "kill-ingest": Drill.kill_ingest, "reader-during-ingest": Drill.reader_during_ingest,
    "two-ingests": Drill.two_ingests, "kill-reindex": Drill.kill_reindex}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, help="for every drill (default: the issue's counts)")
    parser.add_argument("--documents", type=int, default=12)
    parser.add_argument("--only", choices=sorted(DRILLS), action="append")
    parser.add_argument("--work", type=Path, help="keeps the models and documents for a rerun")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="drill-processes-"))
    drill = Drill(work, args.documents)
    drill.calibrate()
    rows = []
    for name in args.only or list(DRILLS):
        trials = args.trials or DEFAULT_TRIALS[name]
        failures: list[str] = []
        landed: dict[str, int] = {}
        notes: dict[str, int] = {}
        started = time.monotonic()
        for trial in range(trials):
            data = work / f"{name}-{trial}"
            shutil.rmtree(data, ignore_errors=True)
            result = DRILLS[name](drill, data)
            if result.broken:
                failures.append(f"trial {trial}: {result.broken}")
            if result.landed:
                landed[result.landed] = landed.get(result.landed, 0) + 1
            for key, value in result.notes.items():
                notes[key] = notes.get(key, 0) + value
            shutil.rmtree(data, ignore_errors=True)
        rows.append({"drill": name, "trials": trials, "failures": len(failures), "landed": landed, **notes,
                     "seconds": round(time.monotonic() - started, 1), "failed": failures})
    if args.json:
        print(json.dumps({"documents": args.documents, "ingest_seconds": round(drill.ingest_s, 1),
                          "reindex_seconds": round(drill.reindex_s, 1), "drills": rows}, indent=2))
    else:
        print(f"{args.documents} documents; one ingest takes {drill.ingest_s:.1f} s, a reindex "
              f"{drill.reindex_s:.1f} s; kills land within those\n")
        print(f"{'drill':<22}{'trials':>7}{'failures':>10}{'seconds':>9}  notes")
        for row in rows:
            extra = {k: v for k, v in row.items() if k not in ("drill", "trials", "failures", "seconds", "failed")}
            print(f"{row['drill']:<22}{row['trials']:>7}{row['failures']:>10}{row['seconds']:>9}  "
                  + ", ".join(f"{k}: {v}" for k, v in extra.items() if v))
            for failure in row["failed"][:3]:
                print(f"    {failure}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(row["failures"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

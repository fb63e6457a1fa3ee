"""Before/after figures for structure-preserving ingest: the documents of
tests/structured_documents.py and eight questions, through whichever ingest/knowledge code comes
first on PYTHONPATH. A fact counts as found when a citation quotes it (a quoted heading, header row
or front matter does not count).

    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/structure_before_after.py [MODELS_DIR]
    PYTHONPATH=. .venv/bin/python benchmarks/structure_before_after.py [MODELS_DIR]
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CASES = [  # question, text the quote must hold, and a second text it must hold too
    ("Which retention measure reduces resignations the most?", "Four-day week", "41%"),
    ("Can a micro firm with under 10 employees get an export loan?", "Micro (under 10)", "Export loan: Yes"),
    ("How much does a freight forwarder cut customs clearance delays?", "38 percent", ""),
    ("Do free returns help an online shop convert first-time visitors?", "23 percent", ""),
    ("What is the deadline for the green machinery grant?", "30 September", ""),
    ("What did the survey find about family firms facing a succession cliff?", "one in five has named a successor", ""),
    ("How do small retailers forecast their cash flow?", "thirteen-week cash-flow forecast", ""),
    ("Which share of machinery firms has named a successor?", "24%", ""),
]


def _documents_module():  # type: ignore[no-untyped-def]
    # Loaded by file path, so the ingest code under test can come from another checkout.
    path = Path(__file__).resolve().parent.parent / "tests" / "structured_documents.py"
    spec = importlib.util.spec_from_file_location("structured_documents", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    from ingest.pipeline import ingest_paths
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

    sd = _documents_module()
    docs = Path(tempfile.mkdtemp())
    sd.write_retention_docx(docs / "staff-retention.docx")
    sd.write_export_pdf(docs / "export-readiness.pdf")
    sd.write_sales_pptx(docs / "shop-launch.pptx")
    sd.write_grants_xlsx(docs / "regional-grants.xlsx")
    (docs / "cash-flow.md").write_text(sd.MARKDOWN_WITH_FRONT_MATTER)
    (docs / "succession-cliff.html").write_text(sd.CLUTTERED_NEWS_PAGE)
    (docs / "suppliers.csv").write_text(sd.SUPPLIERS_CSV)
    models = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()), models_dir_override=models))
    report = ingest_paths(kb, [docs])
    print("added", report.added, "failed", [(Path(f.path).name, f.error) for f in report.failed])
    found = 0
    for question, must, also in CASES:
        answer = kb.ask(question).to_dict()
        ok = not answer["refused"] and any(must in c["quote"] and also in c["quote"] for c in answer["citations"])
        found += ok
        shown = [(c["quote"][:90], c.get("location")) for c in answer["citations"][:2]]
        print("FOUND " if ok else "MISSED", question, "->", "refused" if answer["refused"] else shown)
    print(f"facts found: {found} of {len(CASES)}")
    kb.close()


if __name__ == "__main__":
    main()

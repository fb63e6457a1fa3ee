"""Ingest figures per format, on the project's own test documents (tests/structured_documents.py,
tests/input_documents.py), measured on what the library stores, not on a loader's output:

- prose kept: characters of the documents' true sentences found whole, on one line, in the stored
  (cleaned, rendered) text, against the characters of those sentences in the source;
- cells kept: table cells found in order on their row's line of the stored text, against the cells
  in the source (a dropped repeated value or a shifted column loses cells);
- stored: characters of the stored text (row statements repeat their header names, so a table's
  stored text is longer than its cells), and the number of passages (chunks);
- text/MB: characters of stored text per MB of file, which is what embedding time follows;
- s/MB: seconds per MB of file on a larger copy of each document, split into load (the format's
  reader), clean + chunk, and embedding. Embedding runs on the copy's first passages (at most
  EMBED_SAMPLE) and is scaled by characters to the copy's whole stored text (as if no passage
  repeated: the copies repeat paragraphs, and a repeated passage is embedded only once). One run each on a shared 2-core
  machine, so read them ±30 %. (In `ingest_paths` the load also runs in a worker process, about
  0.3 s more per file.)

    PYTHONPATH=. .venv/bin/python benchmarks/ingest_per_format.py [--models-dir DIR]

benchmarks/compare_loaders.py compares candidate readers (this script reuses its true texts and
large copies); benchmarks/structure_before_after.py counts answers found before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Imported from its folder: a site-packages "benchmarks" package (a dependency's) shadows ours.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_loaders as loaders  # noqa: E402
from compare_loaders import cells_kept, text_kept  # noqa: E402
from tests import input_documents as inputs  # noqa: E402
from tests import structured_documents as docs  # noqa: E402

EMBED_SAMPLE = 300
Truth = tuple[list[str], list[list[str]]]


@dataclass(slots=True)
class Case:
    kind: str
    small: Path
    truth: Truth
    big: Path


# --- true texts and larger copies the comparison script has no case for ------------------------
def truth_freight_pdf() -> Truth:
    prose = [docs.FREIGHT_TITLE, "The chamber collected freight quotes from 40 member firms in 2025.",
             "Ask two forwarders for a quote before you accept the first price.",
             "Member firms rated the bonded warehouses they use near the border.",
             "A warehouse with a customs office on site clears goods on the day they arrive."]
    rows = docs.FREIGHT_TABLE[1:] + [["Iceland", "Quoted on request", "Quoted on request", "0%"]] + docs.WAREHOUSE_ROWS
    return prose, rows


def truth_markdown() -> Truth:
    prose = ["A thirteen-week cash-flow forecast shows a shop owner when the till will run short.",
             "List every payment you know is coming, week by week.",
             "Add seasonal stock purchases four weeks before the season starts.",
             "Retailers who update the forecast every Monday spot a shortfall five weeks earlier on average."]
    return prose, [["1", "EUR 8,200", "EUR 7,900"], ["2", "EUR 7,100", "EUR 9,400"]]


def truth_csv() -> Truth:
    return [], [line.replace('"', "").split(";") for line in docs.SUPPLIERS_CSV.strip().splitlines()[1:]]


def truth_text() -> Truth:
    """The grant guide's paragraphs (its "Comments" and "Contact" sections included), headings aside."""
    headings = {"Who can apply", "How much you can get", "The March round", "Comments", "The September round",
                "Reporting", "Contact"}
    prose = []
    for paragraph in inputs.GRANT_GUIDE.split("\n\n")[1:]:
        lines = [line for line in paragraph.strip().splitlines() if line not in headings]
        if paragraph.strip().startswith("Contact"):
            prose += lines  # address lines are separate lines
        else:
            prose.append(" ".join(lines))
    return prose, []


def big_freight_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in range(20):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"Quotes collected in week {page + 1}.", new_x="LMARGIN", new_y="NEXT")
        with pdf.table() as table:
            for values in [docs.FREIGHT_TABLE[0]] + [[f"{row[0]} {page}-{n}", *row[1:]] for n in range(8)
                                                     for row in docs.FREIGHT_TABLE[1:]][:30]:
                row = table.row()
                for value in values:
                    row.cell(value)
    pdf.output(str(path))
    return path


def big_markdown(path: Path) -> Path:
    body = docs.MARKDOWN_WITH_FRONT_MATTER.split("---", 2)[2]
    path.write_text(docs.MARKDOWN_WITH_FRONT_MATTER + "".join(
        body.replace("Building the forecast", f"Building the forecast, part {n}").replace("EUR 8,200", f"EUR {n},200")
        for n in range(300)))
    return path


def big_csv(path: Path) -> Path:
    header, *rows = docs.SUPPLIERS_CSV.strip().splitlines()
    path.write_text("\n".join([header] + [f"{rows[n % 3].split(';')[0]} {n};{rows[n % 3].split(';', 1)[1]}"
                                          for n in range(6000)]) + "\n")
    return path


def big_text(path: Path) -> Path:
    path.write_text("\n\n".join(inputs.GRANT_GUIDE.replace("8,000 euros", f"{8000 + n} euros") for n in range(200)))
    return path


def cases(folder: Path) -> list[Case]:
    def write(name: str, text: str) -> Path:
        (folder / name).write_text(text)
        return folder / name

    return [
        Case("docx", docs.write_retention_docx(folder / "d.docx"), loaders.truth_docx(),
             loaders.big_docx(folder / "big.docx")),
        Case("pdf", docs.write_export_pdf(folder / "d.pdf"), loaders.truth_pdf(), loaders.big_pdf(folder / "big.pdf")),
        Case("pdf (tables)", docs.write_freight_pdf(folder / "t.pdf"), truth_freight_pdf(),
             big_freight_pdf(folder / "big-t.pdf")),
        Case("pptx", docs.write_sales_pptx(folder / "d.pptx"), loaders.truth_pptx(),
             loaders.big_pptx(folder / "big.pptx")),
        Case("xlsx", docs.write_grants_xlsx(folder / "d.xlsx"), loaders.truth_xlsx(),
             loaders.big_xlsx(folder / "big.xlsx")),
        Case("csv", write("d.csv", docs.SUPPLIERS_CSV), truth_csv(), big_csv(folder / "big.csv")),
        Case("md", write("d.md", docs.MARKDOWN_WITH_FRONT_MATTER), truth_markdown(), big_markdown(folder / "big.md")),
        Case("html", write("d.html", docs.CLUTTERED_NEWS_PAGE), loaders.truth_html(),
             loaders.big_html(folder / "big.html")),
        Case("txt", write("d.txt", inputs.GRANT_GUIDE), truth_text(), big_text(folder / "big.txt")),
    ]


# --- measuring ----------------------------------------------------------------------------------
def timed(work: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, help="where the compiled embedding model is kept (else compiled anew)")
    args = parser.parse_args()

    from ingest.loaders import load_document
    from ingest.prepare import prepare_document
    from knowledge.base import KnowledgeBase
    from knowledge.encoding import encode_document
    from sme_advisor.settings import Settings

    settings = Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp(prefix="ingest-per-format-")),
                        models_dir_override=args.models_dir)
    kb = KnowledgeBase.open(settings)
    kb.embedder.embed(["warm up"])  # the model's load and compile are not a format's cost

    def prepare(path: Path, document):  # type: ignore[no-untyped-def]
        return prepare_document(document, path.stem, path.stem, "0" * 64, kb.embedder.count_tokens,
                                settings.chunk_max_tokens, settings.chunk_overlap_sentences)

    print(f"{'format':12} {'prose kept (chars)':>20} {'cells kept':>11} {'stored chars':>12} {'passages':>8} | "
          f"{'copy MB':>7} {'text/MB':>8} {'load':>7} {'clean+chunk':>11} {'embedding':>9} {'total s/MB':>10}")
    folder = Path(tempfile.mkdtemp(prefix="ingest-per-format-docs-"))
    for case in cases(folder):
        prose, rows = case.truth
        small = prepare(case.small, load_document(case.small))
        prose_chars = sum(len(p) for p in prose)
        kept_chars = round(text_kept(small.text, prose) * prose_chars) if prose else 0
        cells = sum(len(row) for row in rows)
        kept_cells = round(cells_kept(small.text, rows) * cells) if rows else 0

        megabytes = case.big.stat().st_size / 1e6
        document, load_s = timed(lambda: load_document(case.big))
        big, prepare_s = timed(lambda: prepare(case.big, document))
        sample = big.chunks[:EMBED_SAMPLE]  # type: ignore[attr-defined]
        _, sample_s = timed(lambda: encode_document(kb.embedders, sample))
        # Per character of the stored text, not per passage kept: the large copies repeat their
        # paragraphs, and a passage repeated word for word is embedded once, which a real document
        # of that size would not get away with.
        embed_s = sample_s / sum(len(c.text) for c in sample) * len(big.text)  # type: ignore[attr-defined]
        text_per_mb = f"{len(big.text) / megabytes / 1e6:.2f}M"  # type: ignore[attr-defined]
        print(f"{case.kind:12} {f'{kept_chars:,} / {prose_chars:,}':>20} {f'{kept_cells} / {cells}':>11} "
              f"{len(small.text):>12,} {len(small.chunks):>8} | {megabytes:7.2f} {text_per_mb:>8} "
              f"{load_s / megabytes:7.1f} "
              f"{prepare_s / megabytes:11.1f} {embed_s / megabytes:9.1f} {(load_s + prepare_s + embed_s) / megabytes:10.1f}")
    print("s/MB per MB of file; text/MB: characters of stored text per MB of file (a zipped office file holds "
          "more text per MB than markup does); "
          f"embedding timed on the first {EMBED_SAMPLE} passages of each copy, scaled by characters to its stored text.")
    kb.close()


if __name__ == "__main__":
    main()

"""Compares document loaders on documents written for the purpose, whose true text is known.

For each format and candidate it prints:
- text kept: share of the true sentences' characters found verbatim (white space aside) in the output,
  each sentence whole on one line (a sentence broken over lines is quoted in halves);
- extra: output characters beyond the true text (running headers, page numbers, markup; and, by design,
  the header names our table-row statements repeat), in % of it;
- cells kept: share of table cells found, in order, on the line of their row (a dropped repeated
  value or a row split over lines loses cells);
- s/MB: load time per MB of file, on a larger copy of each document (median of 3 runs);
- install weight: MB on disk of the candidate's distributions and their own dependencies.

    PYTHONPATH=. .venv/bin/python benchmarks/compare_loaders.py [--markitdown-path DIR]

markitdown is optional: install it somewhere apart (`pip install --target DIR
"markitdown[docx,pptx,xlsx,pdf]==0.1.9"`) and pass that folder.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import structured_documents as docs  # noqa: E402

Loader = Callable[[Path], str]


# --- the true text of each test document -------------------------------------------------------
def truth_docx() -> tuple[list[str], list[list[str]]]:
    prose = ["Small employers lose about one worker in six every year, and each departure costs roughly half a "
             "year's salary in hiring and training.", "The measures below were tried by 120 firms in the regional survey.",
             "Owners who combined two measures kept staff longest.",
             "Applications open on 1 March and close on 30 April each year.",
             "Submit the payroll summary with the form.", "Attach the last two annual accounts."]
    return prose, docs.RETENTION_TABLE[1:] + docs.SUPPORT_TABLE[1:]


def truth_pdf() -> tuple[list[str], list[list[str]]]:
    return [p for page in docs.EXPORT_PAGES for p in page] + [docs.EXPORT_TITLE], []


def truth_pptx() -> tuple[list[str], list[list[str]]]:
    prose = ["Goals for the first year", "Channels and budget", "Introduce the plan in two minutes.", "Own web shop",
             "Two marketplaces", "Marketplaces charge 8 to 15 percent commission.", "Free returns within 30 days",
             "Returns handled by the warehouse partner",
             "Shops that offered free returns converted 23 percent more first-time visitors in the pilot."]
    return prose, [["Shop software", "EUR 79"], ["Marketplace fees", "EUR 240"]]


def truth_xlsx() -> tuple[list[str], list[list[str]]]:
    return ["Regional grants for small firms, 2025"], [["Digital voucher", "4800", "31 May"],
                                                   ["Green machinery", "25000", "30 September"],
                                                   ["Hiring apprentices", "3000", "Open all year"]]


def truth_html() -> tuple[list[str], list[list[str]]]:
    prose = ["Almost half of family-owned manufacturers expect their founder to retire within five years, yet only "
             "one in five has named a successor, according to a survey of 1,300 firms by the regional chamber.",
             "Owners most often blamed the lack of a written succession plan: 62 percent of firms without one "
             "reported a dispute among heirs during the handover, against 14 percent of firms with one.",
             "Advisers recommend starting the plan ten years before the founder steps back."]
    return prose, [["Machinery", "24%", "31%"], ["Food processing", "17%", "22%"]]


# --- candidates ---------------------------------------------------------------------------------
def ours(path: Path) -> str:
    from ingest.loaders import load_document

    return load_document(path).text


def old_pdf_pypdf(path: Path) -> str:
    """The loader before structure: pypdf text with lines rejoined by punctuation."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    out = []
    for page in pages:
        page = re.sub(r"(\w)-\n(\w)", r"\1\2", page)
        lines: list[str] = []
        for line in (line.strip() for line in page.split("\n")):
            if not line:
                lines.append("")
            elif lines and lines[-1] and not lines[-1].endswith((".", "!", "?", ":")) and (
                    line[0].islower() or len(lines[-1]) > 50):
                lines[-1] += " " + line
            else:
                lines.append(line)
        out.append("\n".join(lines))
    return "\n\n".join(out)


def pdfplumber_plain(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n\n".join(page.extract_text() or "" for page in pdf.pages)


def old_docx(path: Path) -> str:
    """The loader before structure: paragraphs, then every table at the end, repeated cells dropped."""
    import docx

    document = docx.Document(str(path))
    blocks = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                blocks.append(" | ".join(dict.fromkeys(cells)))
    return "\n\n".join(blocks)


def old_html(path: Path) -> str:
    import trafilatura

    return trafilatura.extract(path.read_text(), include_comments=False, include_tables=True, favor_recall=True,
                               deduplicate=True) or ""


def markitdown(path: Path) -> str:
    from markitdown import MarkItDown

    return MarkItDown(enable_plugins=False).convert(str(path)).text_content


# --- measuring ----------------------------------------------------------------------------------
def _flat(text: str) -> str:
    return " ".join(re.sub(r"[*_#|`>]+", " ", text).split())


def text_kept(output: str, prose: list[str]) -> float:
    """Sentences must come out whole, on one line: a line break inside one splits it (and its quote)."""
    lines = [_flat(line) for line in output.split("\n")]
    return sum(len(p) for p in prose if any(_flat(p) in line for line in lines)) / sum(len(p) for p in prose)


def extra_share(output: str, prose: list[str], rows: list[list[str]]) -> float:
    true_length = len(_flat(" ".join(prose + [c for row in rows for c in row])))
    return max(0.0, len(_flat(output)) - true_length) / true_length


def cells_kept(output: str, rows: list[list[str]]) -> float:
    if not rows:
        return float("nan")
    lines = output.split("\n")
    kept = 0
    for row in rows:
        best = 0
        for line in (l for l in lines if row[0] in l):
            position, found = 0, 0
            for cell in row:
                at = line.find(cell, position)
                if at >= 0:
                    found, position = found + 1, at + len(cell)
            best = max(best, found)
        kept += best
    return kept / sum(len(row) for row in rows)


def seconds_per_mb(loader: Loader, path: Path) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        loader(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times) / (path.stat().st_size / 1e6)


def install_mb(*distributions: str) -> float:
    """Disk size of the named distributions (their files as installed)."""
    total = 0
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            located = Path(dist.locate_file(file))
            if located.is_file():
                total += located.stat().st_size
    return total / 1e6


# --- larger copies for the speed figure --------------------------------------------------------
def big_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    for section in range(60):
        document.add_heading(f"Section {section}", level=2)
        for _ in range(6):
            document.add_paragraph(docs.EXPORT_PAGES[2][0])
        table = document.add_table(rows=len(docs.SUPPORT_TABLE), cols=4)
        for r, row in enumerate(docs.SUPPORT_TABLE):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    document.save(str(path))
    return path


def big_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(40):
        pdf.add_page()
        for paragraph in [p for page in docs.EXPORT_PAGES for p in page]:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def big_pptx(path: Path) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for number in range(60):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Slide {number}"
        slide.placeholders[1].text_frame.text = docs.EXPORT_PAGES[2][0]
        slide.notes_slide.notes_text_frame.text = docs.EXPORT_PAGES[1][0]
    deck.save(str(path))
    return path


def big_xlsx(path: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(docs.GRANTS_ROWS[0])
    for index in range(8000):
        row = docs.GRANTS_ROWS[1 + index % 3]
        sheet.append([f"{row[0]} {index}", *row[1:]])
    workbook.save(str(path))
    return path


def big_html(path: Path) -> Path:
    article = "".join(f"<h2>Part {n}</h2><p>{docs.EXPORT_PAGES[2][0]}</p><p>{docs.EXPORT_PAGES[1][0]}</p>" for n in range(150))
    path.write_text(docs.CLUTTERED_NEWS_PAGE.replace("<h2>Why handovers stall</h2>", article + "<h2>Why handovers stall</h2>"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markitdown-path", help="folder where markitdown was installed with pip --target")
    args = parser.parse_args()
    have_markitdown = False
    if args.markitdown_path:
        sys.path.append(args.markitdown_path)  # after ours: our pinned versions win
        try:
            import markitdown as _  # noqa: F401

            have_markitdown = True
        except ImportError as error:
            print(f"markitdown not usable: {error}")
    folder = Path(tempfile.mkdtemp(prefix="compare-loaders-"))
    (folder / "page.html").write_text(docs.CLUTTERED_NEWS_PAGE)
    formats = {
        "docx": (docs.write_retention_docx(folder / "d.docx"), truth_docx(), big_docx(folder / "big.docx"),
                 [("python-docx, old loader", old_docx, ("python-docx", "lxml")),
                  ("python-docx, structured (chosen)", ours, ("python-docx", "lxml"))]),
        "pdf": (docs.write_export_pdf(folder / "d.pdf"), truth_pdf(), big_pdf(folder / "big.pdf"),
                [("pypdf, old loader", old_pdf_pypdf, ("pypdf",)),
                 ("pdfplumber, plain text", pdfplumber_plain, ("pdfplumber", "pdfminer.six", "pypdfium2", "cryptography", "cffi", "pycparser")),
                 ("pdfplumber, structured (chosen)", ours, ("pdfplumber", "pdfminer.six", "pypdfium2", "cryptography", "cffi", "pycparser"))]),
        "pptx": (docs.write_sales_pptx(folder / "d.pptx"), truth_pptx(), big_pptx(folder / "big.pptx"),
                 [("python-pptx, structured (chosen)", ours, ("python-pptx", "XlsxWriter"))]),
        "xlsx": (docs.write_grants_xlsx(folder / "d.xlsx"), truth_xlsx(), big_xlsx(folder / "big.xlsx"),
                 [("openpyxl read-only, structured (chosen)", ours, ("openpyxl", "et_xmlfile"))]),
        "html": (folder / "page.html", truth_html(), big_html(folder / "big.html"),
                 [("trafilatura text, old loader", old_html, ("trafilatura",)),
                  ("trafilatura XML, structured (chosen)", ours, ("trafilatura", "selectolax"))]),
    }
    print(f"{'format':6} {'candidate':40} {'text kept':>9} {'extra':>7} {'cells kept':>10} {'s/MB':>7} {'install MB':>10}")
    for kind, (path, (prose, rows), big, candidates) in formats.items():
        if have_markitdown:
            candidates = candidates + [("markitdown 0.1.9", markitdown, ())]
        for name, loader, distributions in candidates:
            try:
                output = loader(path)
                speed = seconds_per_mb(loader, big)
            except Exception as error:  # a candidate that fails is a result too
                print(f"{kind:6} {name:40} failed: {type(error).__name__}: {error}"[:160])
                continue
            weight = install_mb(*distributions) if distributions else float("nan")
            print(f"{kind:6} {name:40} {text_kept(output, prose):9.0%} {extra_share(output, prose, rows):7.0%} "
                  f"{cells_kept(output, rows):10.0%} {speed:7.2f} {weight:10.1f}")
    if have_markitdown:
        weight = sum(f.stat().st_size for f in Path(args.markitdown_path).rglob("*") if f.is_file()) / 1e6
        print(f"markitdown install weight (its folder, all its dependencies): {weight:.0f} MB")


if __name__ == "__main__":
    main()

"""End to end through the real knowledge base: answers found in a table row, on page 3 of a PDF, on
a slide and in a spreadsheet row are quoted verbatim with where they sit; web addresses ingest from
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from ingest.pipeline import ingest_paths
from knowledge.base import KnowledgeBase
from tests.structured_documents import (
    CLUTTERED_NEWS_PAGE, MARKDOWN_WITH_FRONT_MATTER, SUPPLIERS_CSV, write_export_pdf, write_grants_xlsx,
    write_retention_docx, write_sales_pptx,
)


@pytest.fixture(scope="module")
def library(open_kb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("office-docs")
    write_retention_docx(docs / "staff-retention.docx")
    write_export_pdf(docs / "export-readiness.pdf")
    write_sales_pptx(docs / "shop-launch.pptx")
    write_grants_xlsx(docs / "regional-grants.xlsx")
    (docs / "cash-flow.md").write_text(MARKDOWN_WITH_FRONT_MATTER)
    (docs / "succession-cliff.html").write_text(CLUTTERED_NEWS_PAGE)
    (docs / "suppliers.csv").write_text(SUPPLIERS_CSV)
    kb = open_kb(tmp_path_factory.mktemp("structured-kb"))
    report = ingest_paths(kb, [docs])
    assert report.ok and len(report.added) == 7, report.failed
    yield kb
    kb.close()


def cited(kb: KnowledgeBase, question: str) -> list[dict]:
    answer = kb.ask(question).to_dict()
    assert not answer["refused"], answer["answer"]
    return answer["citations"]


@pytest.mark.parametrize(
    ("question", "doc_id", "quote", "location"),
    [
        ("Which retention measure reduces resignations the most?", "staff-retention",
         "Four-day week — Yearly cost per employee: EUR 2,750; Drop in resignations: 41%", "Costs"),
        ("Can a micro firm with under 10 employees get an export loan?", "staff-retention",
         "Micro (under 10) — Innovation grant: Yes; Export loan: Yes; Tax credit: No", "Public support › By firm size"),
        ("How much does a freight forwarder cut customs clearance delays?", "export-readiness",
         "cut clearance delays by 38 percent on average", "p. 3"),
        ("Do free returns help an online shop convert first-time visitors?", "shop-launch",
         "Shops that offered free returns converted 23 percent more first-time visitors in the pilot.", "slide 3"),
        ("What is the deadline for the green machinery grant?", "regional-grants",
         "Green machinery — Maximum amount: 25000; Own contribution: 60%; Deadline: 30 September", "Grants, row 5"),
    ],
)
def test_answer_quotes_the_right_place(library: KnowledgeBase, question: str, doc_id: str, quote: str,
                                       location: str) -> None:
    citations = cited(library, question)
    match = [c for c in citations if c["doc_id"] == doc_id and quote in c["quote"]]
    assert match, citations
    assert match[0]["location"] == location
    chunk = library.chunk(match[0]["chunk_id"])
    assert chunk is not None and match[0]["quote"] in chunk.text


def test_headings_and_front_matter_are_never_quoted(library: KnowledgeBase) -> None:
    for question in ("What did the survey find about family firms facing a succession cliff?",
                     "How do small retailers forecast their cash flow?"):
        for citation in cited(library, question):
            assert citation["quote"] not in ("Family firms face succession cliff, survey finds",
                                             "Cash-Flow Forecasting for Small Retailers")
            assert "title:" not in citation["quote"] and "topics:" not in citation["quote"]
    assert library.source("cash-flow").topics == ("finance", "retail")
    header_only = [c for c in library.chunks_of("staff-retention")
                   if c.text.replace(" ", "") in ("Measure|Yearlycostperemployee|Dropinresignations",)]
    assert header_only == []


class _Site(BaseHTTPRequestHandler):
    pages = {
        "/news/succession-cliff.html": ("text/html; charset=utf-8", CLUTTERED_NEWS_PAGE.encode()),
        "/short": ("text/html", b"<p>Small firms that digitalise step by step avoid costly mistakes.</p>"),
        "/logo.png": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        "/latin": ("text/html; charset=iso-8859-1",
                   "<p>Caf\u00e9 owners in Z\u00fcrich plan their succession five years ahead.</p>".encode("latin-1")),
    }

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):  # 40 MB, no Content-Length: the cap must stop the download
                self.wfile.write(b"<p>" + b"x" * (1024 * 1024) + b"</p>")
            return
        content_type, body = self.pages.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_web_addresses_ingest_as_web_pages(open_kb, tmp_path: Path, site: str) -> None:  # type: ignore[no-untyped-def]
    kb = open_kb(tmp_path / "data")
    try:
        report = ingest_paths(kb, [f"{site}/news/succession-cliff.html", f"{site}/short", f"{site}/latin",
                                   f"{site}/logo.png", f"{site}/missing", f"{site}/huge"])
        assert sorted(report.added) == ["127-0-0-1-latin", "127-0-0-1-news-succession-cliff", "127-0-0-1-short"]
        failed = {f.path.removeprefix(site): f.error for f in report.failed}
        assert failed["/logo.png"] == "the web address returned image/png, not a web page or a supported document"
        assert failed["/missing"] == "the web address answered HTTP 404"
        assert failed["/huge"].startswith("the page is too large")
        news = kb.source("127-0-0-1-news-succession-cliff")
        assert news is not None and news.path == f"{site}/news/succession-cliff.html"
        assert news.title == "Family firms face succession cliff, survey finds"
        texts = " ".join(c.text for c in kb.chunks_of(news.doc_id))
        assert "62 percent" in texts and "office chairs" not in texts and "Great article" not in texts
        assert "Zürich" in kb.chunks_of("127-0-0-1-latin")[0].text
        answer = kb.ask("How many firms without a written succession plan had disputes among heirs?").to_dict()
        assert any("62 percent" in c["quote"] and c["location"] == "Why handovers stall" for c in answer["citations"])
    finally:
        kb.close()


def test_cli_ingests_a_web_address_and_ask_json_shows_the_location(tmp_path: Path, models_dir: Path,
                                                                   site: str) -> None:
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(tmp_path / "data"), "SME_ADVISOR_MODELS_DIR": str(models_dir)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "sme_advisor", *args], capture_output=True,  # noqa: E731
                                       text=True, env=env, timeout=300, cwd=Path(__file__).parent.parent)
    ingested = run("ingest", f"{site}/news/succession-cliff.html", "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["added"] == ["127-0-0-1-news-succession-cliff"]
    asked = run("ask", "--json", "Which share of machinery firms has named a successor?")
    assert asked.returncode == 0, asked.stderr
    citations = json.loads(asked.stdout)["citations"]
    assert any(c["quote"] == "Machinery — Successor named: 24%; Written plan: 31%"
               and c["location"] == "Which firms are ready" for c in citations), citations


def test_a_row_of_a_chinese_table_is_quoted(open_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Chinese table row is a line without a sentence stop, as a Chinese heading is; it is still a
    statement to quote ("仓储管理软件 — 预算: 45万元"), while the heading above it is not."""
    import docx

    document = docx.Document()
    document.add_heading("数字化改造预算（2026年）", 1)
    document.add_paragraph("本公司计划在2026年完成仓储系统的数字化改造，总预算为120万元，由运营部牵头。")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("项目", "预算"), ("仓储管理软件", "45万元"), ("扫码设备", "30万元")]):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    path = tmp_path / "digital-budget.docx"
    document.save(str(path))
    kb = open_kb(tmp_path / "data")
    assert ingest_paths(kb, [path]).ok
    answer = kb.ask("仓储管理软件的预算是多少？")
    assert answer.outcome == "answered" and "仓储管理软件 — 预算: 45万元" in answer.answer, answer.answer
    assert any(c.quote == "仓储管理软件 — 预算: 45万元" for c in answer.citations)
    kb.close()

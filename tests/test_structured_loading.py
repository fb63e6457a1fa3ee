"""Every format becomes one structure: tables keep every cell under their heading, front matter is
metadata, PDF pages and slides and sheet rows are places, and chunks point into the cleaned text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.document import Block
from ingest.loaders import LoadError, load_document
from ingest.prepare import prepare_document
from tests.structured_documents import (
    CLUTTERED_NEWS_PAGE, EXPORT_TITLE, FREIGHT_TABLE, MARKDOWN_WITH_FRONT_MATTER, RETENTION_TABLE, SUPPLIERS_CSV,
    SUPPORT_TABLE, WAREHOUSE_ROWS, write_export_pdf, write_freight_pdf, write_grants_xlsx, write_retention_docx,
    write_sales_pptx,
)

FIXTURES = Path(__file__).parent / "fixtures"


def words(text: str) -> int:
    return len(text.split())


def prepared(path: Path):  # type: ignore[no-untyped-def]
    return prepare_document(load_document(path), path.stem, path.stem, "0123456789abcdef", words, 120)


def assert_chunks_are_slices(result) -> None:  # type: ignore[no-untyped-def]
    for chunk in result.chunks:
        assert chunk.text == result.text[chunk.start : chunk.end]


def test_docx_table_keeps_every_cell_in_order_under_its_heading(tmp_path: Path) -> None:
    document = load_document(write_retention_docx(tmp_path / "retention.docx"))
    rows = [b for b in document.blocks if b.kind == "table_row"]
    assert [list(b.cells) for b in rows[:3]] == RETENTION_TABLE[1:]
    assert [list(b.cells) for b in rows[3:6]] == SUPPORT_TABLE[1:]  # "Yes | Yes | No" stays four cells
    assert all(b.header == tuple(RETENTION_TABLE[0]) for b in rows[:3])
    assert rows[0].path == ("Keeping Staff in Small Firms", "Costs")
    assert rows[3].path == ("Keeping Staff in Small Firms", "Public support", "By firm size")
    # The merged cell fills each column it spans: nothing shifts left.
    assert rows[6].cells == ("All sizes", "Advice vouchers", "Advice vouchers", "Advice vouchers")
    kinds = [b.kind for b in document.blocks]
    first_row = kinds.index("table_row")
    assert document.blocks[first_row - 1].text.startswith("The measures below")  # in place, not at the end
    assert document.blocks[first_row + 3].text == "Owners who combined two measures kept staff longest."
    assert [b.text for b in document.blocks if b.kind == "list_item"] == [
        "Submit the payroll summary with the form.", "Attach the last two annual accounts."]


def test_table_rows_become_self_contained_chunks_and_headers_never_stand_alone(tmp_path: Path) -> None:
    result = prepared(write_retention_docx(tmp_path / "retention.docx"))
    assert_chunks_are_slices(result)
    texts = [c.text for c in result.chunks]
    assert "Four-day week — Yearly cost per employee: EUR 2,750; Drop in resignations: 41%" in texts
    assert "Micro (under 10) — Innovation grant: Yes; Export loan: Yes; Tax credit: No" in texts
    assert not any("Measure" in t and "Yearly cost per employee" in t and "EUR" not in t for t in texts)
    row = next(c for c in result.chunks if c.text.startswith("Micro"))
    assert row.location == "Public support › By firm size" and row.context == "Public support › By firm size"
    # Headings are context, never chunk text (so never quoted).
    assert not any(t.startswith(("Costs", "Public support", "Keeping Staff")) for t in texts)
    assert "Public support" in row.indexed_text() and row.title in row.indexed_text()


def test_markdown_front_matter_is_metadata_not_body(tmp_path: Path) -> None:
    path = tmp_path / "cash-flow.md"
    path.write_text(MARKDOWN_WITH_FRONT_MATTER)
    result = prepared(path)
    assert result.title == "Cash-Flow Forecasting for Small Retailers"
    assert result.topics == ["finance", "retail"]
    assert "title:" not in result.text and "Regional Retail Association" not in result.text
    assert_chunks_are_slices(result)
    week = next(c for c in result.chunks if c.text.startswith("Week: 2"))
    assert week.text == "Week: 2 — Expected takings: EUR 7,100; Planned payments: EUR 9,400"
    assert week.location == "Building the forecast"
    monday = next(c for c in result.chunks if "every Monday" in c.text)
    assert monday.location == "Acting on it"


def test_pdf_pages_are_locations_and_running_lines_go(tmp_path: Path) -> None:
    result = prepared(write_export_pdf(tmp_path / "export.pdf"))
    assert result.title == EXPORT_TITLE
    assert "Chamber of Commerce - Export Desk" not in result.text and "Page 3 of 4" not in result.text
    assert "Export Readiness Guide for Small\n" not in result.text  # the two-line title is one heading
    assert_chunks_are_slices(result)
    fact = next(c for c in result.chunks if "freight forwarder" in c.text)
    assert fact.location == "p. 3"
    assert ("Firms that hand their customs declarations to a licensed freight forwarder cut clearance delays "
            "by 38 percent on average") in fact.text  # lines rejoined into one sentence
    assert {c.location for c in result.chunks} == {"p. 1", "p. 2", "p. 3", "p. 4"}


def test_pdf_tables_are_tables_with_their_page(tmp_path: Path) -> None:
    document = load_document(write_freight_pdf(tmp_path / "freight.pdf"))
    rows = [b for b in document.blocks if b.kind == "table_row"]
    # Every cell in order, repeated values too; the merged cell fills both columns it spans.
    assert [list(b.cells) for b in rows[:4]] == FREIGHT_TABLE[1:] + [
        ["Iceland", "Quoted on request", "Quoted on request", "0%"]]
    assert rows[1].statement() == "Norway — Freight per pallet: EUR 410; Transit days: 5; Import duty: 0%"
    assert {b.place for b in rows[:4]} == {"p. 1"}
    # In place between the prose around it, and its cells are not read a second time as text lines.
    kinds = [b.kind for b in document.blocks]
    first = kinds.index("table_row")
    assert document.blocks[first - 1].text.startswith("The chamber collected freight quotes")
    assert document.blocks[first + 4].text.startswith("Ask two forwarders")
    assert not any("Norway" in b.text or "Warehouse 7" in b.text for b in document.blocks if b.kind != "table_row")
    # The long table runs on over the page break with its header, though the printer did not repeat it.
    warehouses = rows[4:]
    assert [list(b.cells) for b in warehouses] == WAREHOUSE_ROWS
    assert all(b.header == ("Warehouse", "Monthly rent per pallet", "Customs office on site") for b in warehouses)
    assert {b.place for b in warehouses} == {"p. 2", "p. 3"} and warehouses[-1].place == "p. 3"
    result = prepared(tmp_path / "freight.pdf")
    assert_chunks_are_slices(result)
    last = next(c for c in result.chunks if c.text.startswith("Warehouse 40"))
    assert last.text == "Warehouse 40 — Monthly rent per pallet: EUR 290; Customs office on site: Yes"
    assert last.location == "p. 3"


def test_a_framed_box_of_text_in_a_pdf_stays_prose(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    # A one-cell ruled "table" is a box around a paragraph: its lines are joined as prose.
    pdf.multi_cell(80, 6, "Owners who insure their receivables sleep better and get loans on better terms.",
                   border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "box.pdf"))
    blocks = load_document(tmp_path / "box.pdf").blocks
    assert [(b.kind, b.text) for b in blocks] == [
        ("paragraph", "Owners who insure their receivables sleep better and get loans on better terms.")]


def test_pdf_line_joining_undoes_hyphenation_and_keeps_cjk_tight() -> None:
    from ingest.formats.pdf import _join

    assert _join(["Small firms need a busi-", "ness plan before they"]) == "Small firms need a business plan before they"
    assert _join(["委托持证货运代理办理报关的企业，", "平均清关时间缩短"]) == "委托持证货运代理办理报关的企业，平均清关时间缩短"


def test_scanned_pdf_keeps_its_ocr_message(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # an image-like page: drawing, no text
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(LoadError, match="scanned images need OCR first"):
        load_document(tmp_path / "scan.pdf")


def test_chinese_pdf_loads_intact() -> None:
    # Written once by tests.structured_documents.write_chinese_pdf with an embedded CJK font subset.
    result = prepared(FIXTURES / "zh-export-guide.pdf")
    assert result.title == "中小企业出口指南"
    fact = next(c for c in result.chunks if "百分之三十八" in c.text)
    assert "委托持证货运代理办理报关的企业，平均清关时间缩短百分之三十八。" in fact.text
    assert fact.location == "p. 2" and "第 2 页" not in result.text


def test_chinese_docx_loads_intact(tmp_path: Path) -> None:
    import docx

    source = docx.Document()
    source.add_heading("家族企业传承指南", level=1)
    source.add_heading("费用", level=2)
    source.add_paragraph("创始人应提前十年开始规划交接，并让继任者在至少两个部门工作。")
    table = source.add_table(rows=3, cols=3)
    for r, row in enumerate([["措施", "每名员工年成本", "离职率下降"], ["四天工作制", "2750欧元", "41%"],
                             ["导师计划", "300欧元", "12%"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    source.save(str(tmp_path / "传承.docx"))
    result = prepared(tmp_path / "传承.docx")
    assert result.title == "家族企业传承指南"
    texts = [c.text for c in result.chunks]
    assert "创始人应提前十年开始规划交接，并让继任者在至少两个部门工作。" in texts
    assert "四天工作制 — 每名员工年成本: 2750欧元; 离职率下降: 41%" in texts
    assert {c.location for c in result.chunks} == {"费用"}


def test_cluttered_news_page_keeps_article_headings_and_table(tmp_path: Path) -> None:
    path = tmp_path / "succession-cliff.html"
    path.write_text(CLUTTERED_NEWS_PAGE)
    result = prepared(path)
    assert result.title == "Family firms face succession cliff, survey finds"
    for clutter in ("office chairs", "Most read", "Great article", "Copyright", "Log in", "Markets"):
        assert clutter not in result.text
    assert_chunks_are_slices(result)
    dispute = next(c for c in result.chunks if "62 percent" in c.text)
    assert dispute.location == "Why handovers stall"
    assert "Machinery — Successor named: 24%; Written plan: 31%" in [c.text for c in result.chunks]
    assert not any(c.text.startswith("Family firms face") for c in result.chunks)  # the headline is no answer


def test_short_html_page_uses_the_lexbor_fallback(tmp_path: Path) -> None:
    path = tmp_path / "short.html"
    path.write_text("<p>Small firms that digitalise step by step avoid costly mistakes.</p>")
    result = prepared(path)
    assert [c.text for c in result.chunks] == ["Small firms that digitalise step by step avoid costly mistakes."]
    path.write_text("<html><head><title>Tips</title><script>var x = 1;</script></head><body><nav>Home</nav>"
                    "<h2>Tools</h2><div>Start with <b>one</b> tool.<ul><li>Invoices first</li></ul></div>"
                    "<table><tr><th>Tool</th><th>Price</th></tr><tr><td>Ledger</td><td>EUR 9</td></tr></table></body></html>")
    blocks = [(b.kind, b.statement()) for b in load_document(path).blocks]
    assert blocks == [("heading", "Tools"), ("paragraph", "Start with one tool."), ("list_item", "Invoices first"),
                      ("table_row", "Ledger — Price: EUR 9")]


def test_pptx_slides_with_notes_and_tables(tmp_path: Path) -> None:
    result = prepared(write_sales_pptx(tmp_path / "shop-launch.pptx"))
    assert result.title == "Online Shop Launch Plan"
    assert_chunks_are_slices(result)
    notes = next(c for c in result.chunks if "free returns converted 23 percent" in c.text)
    assert notes.location == "slide 3" and notes.context == "Returns policy"
    budget = next(c for c in result.chunks if c.text.startswith("Shop software"))
    assert budget.text == "Shop software — Monthly cost: EUR 79" and budget.location == "slide 4"


def test_xlsx_rows_are_statements_placed_by_sheet_and_row(tmp_path: Path) -> None:
    result = prepared(write_grants_xlsx(tmp_path / "regional-grants.xlsx"))
    assert_chunks_are_slices(result)
    by_text = {c.text: c for c in result.chunks}
    row = by_text["Green machinery — Maximum amount: 25000; Own contribution: 60%; Deadline: 30 September"]
    assert row.location == "Grants, row 5" and row.context == "Grants"
    assert by_text["Regional grants for small firms, 2025"].location == "Grants, row 1"  # a caption, not a header
    assert by_text["Grants desk — Phone: +49 30 1234"].location == "Contacts, row 2"
    assert "Hiring apprentices — Maximum amount: 3000; Own contribution: 0%; Deadline: Open all year" in by_text
    assert result.title == "Regional grants"


def test_csv_sniffs_the_delimiter_and_keeps_repeated_values(tmp_path: Path) -> None:
    path = tmp_path / "suppliers.csv"
    path.write_text(SUPPLIERS_CSV)
    result = prepared(path)
    assert [(c.text, c.location) for c in result.chunks] == [
        ("Nordpack — Lead time (days): 12; Minimum order: 500 units; Payment terms: 30 days", "row 2"),
        ("Baltic Boxes — Lead time (days): 5; Minimum order: 200 units; Payment terms: 14 days", "row 3"),
        ("Carton & Co — Lead time (days): 12; Minimum order: 500 units; Payment terms: 60 days", "row 4"),
    ]


def test_row_statement_rules() -> None:
    row = Block("table_row", cells=("Micro", "Yes", "", "No"), header=("Size", "Grant", "Loan", "Credit"))
    assert row.statement() == "Micro — Grant: Yes; Credit: No"
    assert Block("table_row", cells=("", "", ""), header=("a", "b", "c")).statement() == ""
    assert Block("table_row", cells=("Only",), header=()).statement() == "Only"


def test_plain_text_headings_travel_as_context(tmp_path: Path) -> None:
    path = tmp_path / "grant-guide.txt"
    path.write_text("Grant Guide for Bakeries\n\nThe grant pays half of a new oven.\n\nApplication rounds\n\n"
                    "Rounds open in March and September.\n")
    result = prepared(path)
    september = next(c for c in result.chunks if "September" in c.text)
    assert september.text == "Rounds open in March and September."
    assert september.location == "Application rounds" and "Application rounds" in september.indexed_text()
    shutil.rmtree(tmp_path, ignore_errors=True)

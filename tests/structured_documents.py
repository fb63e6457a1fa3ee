"""Office documents, a PDF, slides, sheets and web pages written for the structure tests.

Each holds a fact that can only be found where a structure-aware loader keeps it: in a table row
with repeated values, on page 3 of a PDF under a running header, on a slide, in a spreadsheet row.
"""

from __future__ import annotations

from pathlib import Path

RETENTION_TABLE = [
    ["Measure", "Yearly cost per employee", "Drop in resignations"],
    ["Four-day week", "EUR 2,750", "41%"],
    ["Mentoring programme", "EUR 300", "12%"],
    ["Profit sharing", "EUR 1,200", "12%"],
]
SUPPORT_TABLE = [
    ["Firm size", "Innovation grant", "Export loan", "Tax credit"],
    ["Micro (under 10)", "Yes", "Yes", "No"],
    ["Small (10 to 49)", "Yes", "No", "No"],
    ["Medium (50 to 249)", "No", "Yes", "Yes"],
]


def write_retention_docx(path: Path) -> Path:
    """Headings, prose, a retention table under "Costs", a support table with repeated values and
    a merged cell, then more prose after the tables."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Keeping Staff in Small Firms"
    document.add_heading("Keeping Staff in Small Firms", level=1)
    document.add_paragraph("Small employers lose about one worker in six every year, and each departure "
                           "costs roughly half a year's salary in hiring and training.")
    document.add_heading("Costs", level=2)
    document.add_paragraph("The measures below were tried by 120 firms in the regional survey.")
    _docx_table(document, RETENTION_TABLE)
    document.add_paragraph("Owners who combined two measures kept staff longest.")
    document.add_heading("Public support", level=2)
    document.add_heading("By firm size", level=3)
    table = _docx_table(document, SUPPORT_TABLE + [["All sizes", "", "", ""]])
    merged = table.cell(4, 1).merge(table.cell(4, 3))  # one cell across three columns
    merged.text = "Advice vouchers"
    document.add_heading("Applying", level=2)
    document.add_paragraph("Applications open on 1 March and close on 30 April each year.")
    document.add_paragraph("Submit the payroll summary with the form.", style="List Bullet")
    document.add_paragraph("Attach the last two annual accounts.", style="List Bullet")
    document.save(str(path))
    return path


def _docx_table(document, rows: list[list[str]]):  # type: ignore[no-untyped-def]
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return table


EXPORT_PAGES = [
    ["Selling abroad for the first time takes preparation more than money. This guide walks an "
     "owner through the checks a chamber adviser would make before the first shipment leaves.",
     "Start with one neighbouring market where your product needs no new certification."],
    ["Price for the destination, not for home. Add freight, insurance, duties and the distributor's "
     "margin before you compare yourself with local competitors.",
     "Ask two banks for the cost of a letter of credit; fees differ by a factor of three."],
    ["Customs paperwork is where first shipments stall. Firms that hand their customs declarations "
     "to a licensed freight forwarder cut clearance delays by 38 percent on average, according to "
     "the chamber's survey of 214 first-time exporters.",
     "Keep the commercial invoice, packing list and certificate of origin in one folder per shipment."],
    ["Review the first year after twelve months: margins, payment days and returns per market.",
     "Drop a market that has not paid for itself after two years."],
]
EXPORT_TITLE = "Export Readiness Guide for Small Businesses"


def write_export_pdf(path: Path) -> Path:
    """Four pages with a running header and "Page N of 4" footer; a title in large type that
    breaks over two lines; the forwarder fact on page 3."""
    from fpdf import FPDF

    class Guide(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 8, "Chamber of Commerce - Export Desk", align="R", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 8, f"Page {self.page_no()} of 4", align="C")

    pdf = Guide(format="A4")
    pdf.set_title(EXPORT_TITLE)
    pdf.set_auto_page_break(True, margin=20)
    for number, paragraphs in enumerate(EXPORT_PAGES, start=1):
        pdf.add_page()
        if number == 1:
            pdf.set_font("Helvetica", "B", 22)
            pdf.multi_cell(120, 10, EXPORT_TITLE, new_x="LMARGIN", new_y="NEXT")  # wraps after "Small"
            pdf.ln(4)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(path))
    return path


MARKDOWN_WITH_FRONT_MATTER = """---
title: Cash-Flow Forecasting for Small Retailers
topics: [finance, retail]
author: Regional Retail Association
---

# Cash-Flow Forecasting for Small Retailers

A thirteen-week cash-flow forecast shows a shop owner when the till will run short.

## Building the forecast

- List every payment you know is coming, week by week.
- Add seasonal stock purchases four weeks before the season starts.

| Week | Expected takings | Planned payments |
| --- | --- | --- |
| 1 | EUR 8,200 | EUR 7,900 |
| 2 | EUR 7,100 | EUR 9,400 |

## Acting on it

Retailers who update the forecast every Monday spot a shortfall five weeks earlier on average.
"""

CLUTTERED_NEWS_PAGE = """<!doctype html><html><head><title>Family firms face succession cliff, survey finds</title>
<meta name="description" content="Survey of family firms"></head><body>
<header><a href="/">Business Daily</a> <a href="/login">Log in</a> <a href="/subscribe">Subscribe</a></header>
<nav><ul><li><a href="/markets">Markets</a></li><li><a href="/tech">Tech</a></li><li><a href="/smes">SMEs</a></li></ul></nav>
<div class="ad">ADVERTISEMENT Buy cheap office chairs now! Free shipping on all orders.</div>
<article>
<h1>Family firms face succession cliff, survey finds</h1>
<p class="byline">By Ana Ruiz, 12 March 2025</p>
<p>Almost half of family-owned manufacturers expect their founder to retire within five years, yet only
one in five has named a successor, according to a survey of 1,300 firms by the regional chamber.</p>
<h2>Why handovers stall</h2>
<p>Owners most often blamed the lack of a written succession plan: 62 percent of firms without one
reported a dispute among heirs during the handover, against 14 percent of firms with one.</p>
<p>Advisers recommend starting the plan ten years before the founder steps back.</p>
<h2>Which firms are ready</h2>
<table><tr><th>Sector</th><th>Successor named</th><th>Written plan</th></tr>
<tr><td>Machinery</td><td>24%</td><td>31%</td></tr>
<tr><td>Food processing</td><td>17%</td><td>22%</td></tr></table>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Rates on hold again</a></li><li><a href="/b">Ten gadgets for the office</a></li></ul></aside>
<section class="comments"><h3>Comments (3)</h3><p>Great article!!! Visit my site for cheap loans www.loans.example</p></section>
<footer><p>Copyright 2025 Business Daily Ltd. All rights reserved.</p><p>Contact: news@daily.example</p></footer>
</body></html>"""


def write_sales_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "Online Shop Launch Plan"
    layout = deck.slide_layouts[1]  # title and content
    slides = [
        ("Online Shop Launch Plan", ["Goals for the first year", "Channels and budget"],
         "Introduce the plan in two minutes."),
        ("Channels", ["Own web shop", "Two marketplaces"], "Marketplaces charge 8 to 15 percent commission."),
        ("Returns policy", ["Free returns within 30 days", "Returns handled by the warehouse partner"],
         "Shops that offered free returns converted 23 percent more first-time visitors in the pilot."),
    ]
    for title, bullets, notes in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        slide.notes_slide.notes_text_frame.text = notes
    table_slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    table_slide.shapes.title.text = "Budget"
    shape = table_slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(1.5))
    for r, row in enumerate([["Item", "Monthly cost"], ["Shop software", "EUR 79"], ["Marketplace fees", "EUR 240"]]):
        for c, value in enumerate(row):
            shape.table.cell(r, c).text = value
    deck.save(str(path))
    return path


GRANTS_ROWS = [
    ["Programme", "Maximum amount", "Own contribution", "Deadline"],
    ["Digital voucher", 4800, 0.5, "31 May"],
    ["Green machinery", 25000, 0.6, "30 September"],
    ["Hiring apprentices", 3000, 0, "Open all year"],
]


def write_grants_xlsx(path: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Grants"
    sheet.append(["Regional grants for small firms, 2025"])
    sheet.append([])
    for row in GRANTS_ROWS:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=4, max_row=6, min_col=3, max_col=3):
        row[0].number_format = "0%"
    notes = workbook.create_sheet("Contacts")
    notes.append(["Office", "Phone"])
    notes.append(["Grants desk", "+49 30 1234"])
    workbook.save(str(path))
    return path


SUPPLIERS_CSV = (
    "Supplier;Lead time (days);Minimum order;Payment terms\n"
    "Nordpack;12;500 units;30 days\n"
    "Baltic Boxes;5;200 units;14 days\n"
    "\"Carton & Co\";12;500 units;60 days\n"
)


CHINESE_PDF_PAGES = [
    ["中小企业出口指南", "第一次出口前，企业应先选择一个不需要新认证的邻近市场，并核算运费、保险和关税。"],
    ["报关是首批货物最容易延误的环节。委托持证货运代理办理报关的企业，平均清关时间缩短百分之三十八。",
     "每批货物的商业发票、装箱单和原产地证书应放在同一个文件夹里。"],
]


def write_chinese_pdf(path: Path, font_file: str) -> Path:
    """Two pages of Chinese text in an embedded CJK font (subset), with a page footer. The copy in
    tests/fixtures/ was written with WenQuanYi Micro Hei (fonts-wqy-microhei) by this function."""
    from fpdf import FPDF

    class Guide(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("cjk", size=8)
            self.cell(0, 8, f"第 {self.page_no()} 页", align="C")

    pdf = Guide(format="A5")
    pdf.add_font("cjk", fname=font_file)
    pdf.set_auto_page_break(True, margin=20)
    for page in CHINESE_PDF_PAGES:
        pdf.add_page()
        for index, paragraph in enumerate(page):
            pdf.set_font("cjk", size=18 if page is CHINESE_PDF_PAGES[0] and index == 0 else 11)
            pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(path))
    return path


FREIGHT_TITLE = "Freight Costs for First-Time Exporters"
FREIGHT_TABLE = [
    ["Market", "Freight per pallet", "Transit days", "Import duty"],
    ["Poland", "EUR 180", "3", "0%"],
    ["Norway", "EUR 410", "5", "0%"],
    ["Switzerland", "EUR 410", "4", "2.5%"],
]
# A long table carried over to the next page without its header repeated.
WAREHOUSE_ROWS = [[f"Warehouse {n}", f"EUR {90 + 5 * n}", "Yes" if n % 3 else "No"] for n in range(1, 41)]


def write_freight_pdf(path: Path) -> Path:
    """Ruled tables in a PDF: a freight table with repeated values ("EUR 410", "0%") under a
    heading on page 1, a row with a cell merged over two columns, and a 40-row warehouse table that
    runs on from page 2 to page 3 without repeating its header; prose before and after each."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(FREIGHT_TITLE)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 10, FREIGHT_TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "The chamber collected freight quotes from 40 member firms in 2025.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table() as table:
        for values in FREIGHT_TABLE:
            row = table.row()
            for value in values:
                row.cell(value)
        row = table.row()
        row.cell("Iceland")
        row.cell("Quoted on request", colspan=2)
        row.cell("0%")
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Ask two forwarders for a quote before you accept the first price.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 6, "Member firms rated the bonded warehouses they use near the border.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(repeat_headings=0) as table:
        for values in [["Warehouse", "Monthly rent per pallet", "Customs office on site"], *WAREHOUSE_ROWS]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.ln(4)
    pdf.multi_cell(0, 6, "A warehouse with a customs office on site clears goods on the day they arrive.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path

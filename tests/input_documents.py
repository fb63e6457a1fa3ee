"""Documents written for the identity, cleaning and bad-input tests (and benchmarks/drill_inputs.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

GRANT_GUIDE = """Digital Upgrade Grant: Guide for Applicants

Who can apply
The Digital Upgrade Grant supports small firms with fewer than 50 employees that want to buy
software, train staff or move their bookkeeping online. Sole traders are eligible too.

How much you can get
A grant covers half of the eligible costs, up to 8,000 euros per firm and year. Costs already paid
before the grant decision are not eligible.

The March round
Applications for the first round open on 1 March and close on 31 March. Decisions are sent within
six weeks of the closing date.

Comments
Reviewers' comments on earlier applications showed that most rejected applications lacked a
quotation from a supplier. Attach at least one written quotation for every item you ask us to fund.

The September round
Firms that missed the March round can apply in the second round, which opens on 1 September and
closes on 30 September. The same rules and the same maximum of 8,000 euros apply in September.

Reporting
Within three months of the purchase, send us the paid invoices and a short report on how the
software or training is being used in the firm.

Contact
Questions about the grant are answered by the Regional Business Office.
Email: grants@regional-office.example
Tel: +49 30 1234 5678
The office answers calls on weekdays from 9 am to 4 pm.
"""

WEB_CAPTURE = """Cash-flow planning for small bakeries

Owners of small bakeries often watch sales closely but forget about the timing of payments.
A thirteen-week cash-flow forecast shows when supplier invoices and wages will bunch together.
Planning this way lets an owner negotiate payment terms before a shortfall appears, not after.
Banks also look more kindly on loan requests that come with a clear forecast of cash needs.
A bakery that updates its forecast every Monday sees a shortfall coming five weeks ahead.

Share on Facebook | Twitter | LinkedIn

3 Comments

Maria, 12 May 2024
Great tips, we started doing this in our shop last year.

Tom, 13 May 2024
Which spreadsheet template do you recommend?

Leave a Reply
Your email address will not be published. Required fields are marked *

Most Viewed
Ten tips for payroll
How to price croissants

Industrial Ovens

Leading manufacturers and suppliers of deck ovens and rack ovens at the best price, free shipping.
ACME OVEN CO., LTD. https://www.acme-ovens.example

© 2024 Bakery News Media Ltd. All rights reserved.
"""


def annual_report(year: int, revenue: str, staff: int) -> str:
    return (f"Annual report\n\nIn {year} the cooperative's revenue was {revenue}. It employed {staff} people at the "
            f"end of {year}, and its members met four times during the year.\n\nThe board thanks every member "
            f"for the work done in {year}.\n")


def write_zip_bomb_docx(path: Path, inflated_mb: int = 150) -> Path:
    """A .docx whose document part inflates from well under 1 MB to `inflated_mb` MB of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(inflated_mb):
                member.write(block)
    return path


def filtered_pdf(filter_name: str) -> bytes:
    """A one-page PDF whose page content is (claimed to be) encoded with `filter_name`."""
    content = "BT /F1 10 Tf 50 760 Td (Hello) Tj ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(content)} /Filter /{filter_name} >>\nstream\n{content}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)

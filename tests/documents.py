"""Writes real test documents (PDF, DOCX, HTML, Markdown) made for the purpose."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_pdf(path: Path, paragraphs: list[str], title: str | None = None) -> Path:
    """A one-page PDF with real text objects (Helvetica), as a word processor would write it."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(paragraph, 90) + [""]
    escape = lambda s: s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")  # noqa: E731
    content = "BT /F1 10 Tf 50 760 Td 13 TL\n" + "".join(f"({escape(line)}) Tj T*\n" for line in lines) + "ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({escape(title or '')}) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    info = f" /Info {len(objects)} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, title: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


SUCCESSION_PARAGRAPHS = [
    "Handing a family firm to the next generation works best when the founder starts planning ten years "
    "ahead. The successor should work in at least two departments before taking the lead.",
    "A written succession charter that names who decides what during the transition prevents most "
    "family quarrels. An outside adviser can chair the family council while the charter is drafted.",
    "Founders who keep a seat on the board for a limited time, say three years, give customers and banks "
    "confidence that the handover is orderly.",
]

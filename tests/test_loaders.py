from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, load_document
from tests.documents import SUCCESSION_PARAGRAPHS, write_docx, write_pdf


def test_pdf_text_and_metadata_title(tmp_path: Path) -> None:
    loaded = load_document(write_pdf(tmp_path / "plan.pdf", SUCCESSION_PARAGRAPHS, title="Succession charter"))
    assert loaded.title == "Succession charter"
    assert "written succession charter that names who decides what" in " ".join(loaded.text.split())


def test_docx_paragraphs_and_heading_title(tmp_path: Path) -> None:
    loaded = load_document(write_docx(tmp_path / "plan.docx", "Family handover", SUCCESSION_PARAGRAPHS))
    assert loaded.title == "Family handover"
    assert SUCCESSION_PARAGRAPHS[1] in loaded.text


def test_markdown_is_rendered_to_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("# Exporting for beginners\n\nUse **trade credit insurance** and [letters of credit](https://x.example).\n\n"
                    "```python\nprint('code is skipped')\n```\n\n- First item\n- Second item\n")
    loaded = load_document(path)
    assert loaded.title == "Exporting for beginners"
    assert "Use trade credit insurance and letters of credit." in loaded.text
    assert "print(" not in loaded.text and "**" not in loaded.text and "https" not in loaded.text
    assert "Second item" in loaded.text


def test_html_main_text_without_navigation(tmp_path: Path) -> None:
    body = "".join(f"<p>{p}</p>" for p in SUCCESSION_PARAGRAPHS)
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><title>Handover guide</title></head><body><nav><a href='/'>Home</a> | "
                    f"<a href='/shop'>Shop</a></nav><article><h1>Handover guide</h1>{body}</article>"
                    "<footer>Copyright 2024 Example Ltd</footer></body></html>")
    loaded = load_document(path)
    assert loaded.title == "Handover guide"
    assert "family council" in loaded.text and "Shop" not in loaded.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "corrupt or unreadable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip really", "corrupt or not a Word .docx file"),
        ("empty.txt", b"", "the file is empty"),
        ("image.txt", bytes(range(256)) * 20, "binary content"),
        ("data.xlsx", b"whatever", "corrupt or not an Excel .xlsx file"),
        ("deck.pptx", b"PK\x03\x04 not a zip really", "corrupt or not a PowerPoint .pptx file"),
        ("notes.odt", b"whatever", "unsupported file type '.odt'"),
        ("blank.md", b"   \n\n  ", "no text found"),
    ],
)
def test_bad_files_raise_a_clear_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_document(path)


def test_non_utf8_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café owners in Zürich plan their succession carefully.".encode("cp1252"))
    assert "Zürich" in load_document(path).text


def test_hard_wrapped_text_is_rejoined_but_headings_and_lists_stay(tmp_path: Path) -> None:
    from ingest.loaders import load_document

    path = tmp_path / "wrapped.txt"
    path.write_text("Vouchers for bakeries\n\nEach voucher is\nworth 4,800 euros and pays for the\nfirst year.\n"
                    "The Scheme\nBakeries apply online.\n- one item\n- another item\n")
    document = load_document(path)
    assert "Each voucher is worth 4,800 euros and pays for the first year." in document.text
    kinds = [(b.kind, b.text) for b in document.blocks]
    assert kinds[2:] == [("heading", "The Scheme"), ("paragraph", "Bakeries apply online."),
                         ("list_item", "one item"), ("list_item", "another item")]
    assert document.blocks[3].path == ("Vouchers for bakeries", "The Scheme")

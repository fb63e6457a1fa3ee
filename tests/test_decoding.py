"""Text files in the encodings admins have: BOMs, UTF-16/32, GBK/GB18030, cp1252; NULs dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.decoding import UndecodableText, decode_bytes
from ingest.loaders import load_document

ENGLISH = "Small firms that digitalise step by step avoid costly mistakes.\nThey train staff first."
CHINESE = "中小企业数字化转型的常见误区。许多小企业认为数字化需要大量投资，其实不然。"
MOSTLY_ENGLISH = ("Annual report 2023. Revenue grew by 12 percent and the cooperative hired four people. "
                  "本报告介绍了公司的年度业绩。The outlook for 2024 is stable.")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"])
def test_unicode_with_and_without_byte_order_mark(encoding: str) -> None:
    assert decode_bytes(ENGLISH.encode(encoding))[0] == ENGLISH


@pytest.mark.parametrize("text", [CHINESE, MOSTLY_ENGLISH])
@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_and_gb18030_chinese_is_read_right(text: str, encoding: str) -> None:
    decoded, found = decode_bytes(text.encode(encoding))
    assert decoded == text and found == "gb18030"


def test_western_legacy_text_stays_western() -> None:
    assert decode_bytes("Café owners in Zürich plan their succession.".encode("cp1252"))[0] == \
        "Café owners in Zürich plan their succession."


def test_nul_bytes_anywhere_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "padded.txt"
    path.write_bytes(("Owners plan their succession early. " * 400).encode() + b"\x00\x00Keep this sentence.\x00")
    text = load_document(path).text
    assert "\x00" not in text and text.endswith("Keep this sentence.")


def test_binary_is_refused() -> None:
    with pytest.raises(UndecodableText, match="binary"):
        decode_bytes(bytes(range(256)) * 40)


def test_utf16_and_gbk_files_load_as_documents(tmp_path: Path) -> None:
    (tmp_path / "english.txt").write_bytes(ENGLISH.encode("utf-16"))
    (tmp_path / "chinese.txt").write_bytes(CHINESE.encode("gbk"))
    assert "digitalise step by step" in load_document(tmp_path / "english.txt").text
    assert "数字化转型" in load_document(tmp_path / "chinese.txt").text

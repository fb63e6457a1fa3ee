from __future__ import annotations

import re

from ingest.chunking import derive_title, humanize_stem, make_chunks, slugify
from ingest.cleaning import clean_text
from ingest.starter import starter_files


def word_count(text: str) -> int:
    # A Han character counts as one token (Chinese has no spaces), anything else by white space;
    # the starter library holds Chinese documents too.
    return len(re.findall(r"[\u3400-\u9fff]|[^\s\u3400-\u9fff]+", text))


def test_chunks_are_exact_slices_with_overlap_and_size_bound() -> None:
    for path in starter_files():
        text = clean_text(path.read_text(encoding="utf-8"))
        chunks = make_chunks(path.stem, "t", text, "abc123", word_count, max_tokens=120, overlap_sentences=1)
        assert len(chunks) >= 2
        for i, chunk in enumerate(chunks):
            assert chunk.text == text[chunk.start : chunk.end]
            assert chunk.position == i and chunk.doc_id == path.stem
            assert word_count(chunk.text) <= 120
        pairs = list(zip(chunks, chunks[1:]))
        for before, after in pairs:
            assert after.start > before.start
            assert text[before.end : after.start].strip() == "", "no text falls between two chunks"
        assert sum(after.start < before.end for before, after in pairs) >= len(pairs) // 2, "chunks overlap"
        assert chunks[-1].end == len(text.rstrip())


def test_a_sentence_longer_than_the_window_is_split_on_words() -> None:
    text = " ".join(f"word{i}" for i in range(250)) + "."
    chunks = make_chunks("long", "Long", text, "sha", word_count, max_tokens=100)
    assert [word_count(c.text) for c in chunks] == [100, 100, 50]
    assert all(c.text == text[c.start : c.end] for c in chunks)


def test_chunk_ids_change_with_content() -> None:
    a = make_chunks("doc", "t", "One sentence here. Another one there.", "aaaa", word_count)
    b = make_chunks("doc", "t", "One sentence here. Another one there.", "bbbb", word_count)
    assert a[0].chunk_id != b[0].chunk_id and a[0].chunk_id.startswith("doc:")


def test_titles_slugs() -> None:
    assert derive_title("Manufacturing News\n\nSMEs can solidify industrial economy\n\nText.",
                        "smes-solidify-industrial-economy", None) == "SMEs can solidify industrial economy"
    assert derive_title("A long first paragraph that is a sentence.\n\nMore.", "my-report", None) == "My report"
    assert derive_title("whatever", "x", "Declared Title") == "Declared Title"
    assert humanize_stem("sme-digital-transformation") == "SME digital transformation"
    assert slugify("Annual Report 2024 (final)") == "annual-report-2024-final"
    assert slugify("Überblick_KMU") == "uberblick-kmu"
    assert slugify("报告").startswith("doc-")


def test_a_passage_repeated_word_for_word_is_chunked_once() -> None:
    text = "Opening remarks on the scheme.\n\n" + "Owners train apprentices every week. " * 400 + "\n\nA closing line."
    chunks = make_chunks("log", "Log", text, "sha", word_count, max_tokens=50, overlap_sentences=1)
    texts = [" ".join(c.text.split()) for c in chunks]
    assert len(texts) == len(set(texts)) and len(chunks) <= 5
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert "A closing line." in chunks[-1].text and all(text[c.start : c.end] == c.text for c in chunks)

"""The keyword index kept up to date by changes: same scores as bm25s, same ranking as a full
rebuild after documents are added, updated and removed, across processes sharing one catalog."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import bm25s
import pytest

from knowledge.catalog import Catalog, now_iso
from knowledge.keyword import KeywordIndex, _stemmer, tokens
from knowledge.keyword_cache import KeywordIndexCache
from knowledge.types import Chunk, SourceInfo

PADDING = Path(__file__).parent / "fixtures" / "padding"
QUESTIONS = ["How do banks judge consumer credit delinquencies?", "container shipping rates and freight",
             "board pay governance", "climate disclosure for listed companies", "cash flow cash flow forecasting",
             "专精特新企业的研发费用", "nothing-like-this-word", "the of and"]


def document_chunks(path: Path, doc_id: str | None = None, edition: str = "") -> list[Chunk]:
    """A padding report cut into its paragraphs (no model needed)."""
    doc_id = doc_id or path.stem
    paragraphs = [p for p in path.read_text().split("\n\n") if p.strip()]
    return [Chunk(f"{doc_id}:{i}:{edition}", doc_id, path.stem.replace("-", " "), p + edition, i, 0, len(p))
            for i, p in enumerate(paragraphs)]


def library() -> dict[str, list[Chunk]]:
    found = {path.stem: document_chunks(path) for path in sorted(PADDING.glob("*.md"))[:12]}
    found["zh-doc"] = [Chunk("zh-doc:0", "zh-doc", "认定指南", "申报专精特新中小企业，企业上年度研发费用总额不低于100万元。", 0, 0, 10),
                       Chunk("zh-doc:1", "zh-doc", "留人", "员工流失率在制造业中小企业中高达30%，薪酬是首要原因。", 1, 0, 10)]
    return found


def ranking(index: KeywordIndex, question: str) -> list[tuple[str, float]]:
    return [(hit.chunk_id, round(hit.score, 9)) for hit in index.search(question, 15)]


def test_scores_are_those_of_bm25s() -> None:
    chunks = [c for doc in library().values() for c in doc]
    index = KeywordIndex.build(chunks)
    stemmer = _stemmer()
    reference = bm25s.BM25()
    reference.index([tokens(c.indexed_text(), stemmer) for c in chunks], show_progress=False)
    for question in QUESTIONS:
        mine = index.search(question, 10)
        asked = [t for t in tokens(question, stemmer) if t in reference.vocab_dict]
        if not asked:
            assert mine == []
            continue
        ids, scores = reference.retrieve([asked], k=10, show_progress=False, n_threads=1)
        theirs = [(chunks[int(i)].chunk_id, float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
        assert [h.score for h in mine] == pytest.approx([s for _, s in theirs], rel=1e-5)
        assert {h.chunk_id for h in mine if h.score > mine[-1].score} <= {cid for cid, _ in theirs}
    assert index.languages == {"en", "zh"}
    assert index.document_frequency("freight") == sum("freight" in tokens(c.indexed_text(), stemmer) for c in chunks)


def test_changes_rank_exactly_as_a_rebuild() -> None:
    docs = library()
    names = sorted(docs)
    first = [c for name in names[:6] for c in docs[name]]
    index = KeywordIndex.build(first)
    # Add six documents, remove two of the first ones, update one (new text under some old ids).
    index = index.apply([], [c for name in names[6:] for c in docs[name]])
    index = index.apply([c.chunk_id for name in names[:2] for c in docs[name]], [])
    updated = [Chunk(c.chunk_id, c.doc_id, c.title, c.text + " freight freight", c.position, c.start, c.end)
               for c in docs[names[3]]]
    index = index.apply([], updated)
    index = index.apply([docs[names[7]][0].chunk_id], [])  # a removal from the delta
    live = {c.chunk_id: c for name in names[2:] for c in docs[name]}
    live.update((c.chunk_id, c) for c in updated)
    del live[docs[names[7]][0].chunk_id]
    rebuilt = KeywordIndex.build(sorted(live.values(), key=lambda c: c.chunk_id)[::-1])  # rows in another order
    assert sorted(index.chunk_ids) == sorted(live) and index.document_count == len(live)
    for question in QUESTIONS:
        assert ranking(index, question) == ranking(rebuilt, question), question
    merged = index.merged()
    assert len(merged.delta) == 0 and merged.document_count == len(live)
    for question in QUESTIONS:
        assert ranking(merged, question) == ranking(rebuilt, question), question
    assert index.document_frequency("freight") == rebuilt.document_frequency("freight") == \
        merged.document_frequency("freight")
    removed_all = index.apply(list(live), [])
    assert removed_all.document_count == 0 and removed_all.search("freight", 5) == [] and not removed_all.languages


def write(catalog: Catalog, chunks: list[Chunk]) -> None:
    doc_id = chunks[0].doc_id
    catalog.replace_document(SourceInfo(doc_id, chunks[0].title, f"/{doc_id}", len(chunks), doc_id, (), now_iso()),
                             chunks)


def saved_versions(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_processes_follow_the_catalog_by_its_change_log(tmp_path: Path) -> None:
    docs = library()
    names = sorted(docs)
    writer, reader = Catalog(tmp_path / "catalog.sqlite3"), Catalog(tmp_path / "catalog.sqlite3")
    for name in names[:8]:
        write(writer, docs[name])
    # Two processes' caches on one data dir: the first builds and saves, the second loads it.
    mine, theirs = KeywordIndexCache(tmp_path / "bm25", writer), KeywordIndexCache(tmp_path / "bm25", reader)
    first = mine.get()
    assert saved_versions(tmp_path / "bm25") == [f"base-v{writer.version()}"]
    assert theirs.get().document_count == first.document_count

    def rebuilt() -> KeywordIndex:
        return KeywordIndex.build(writer.iter_chunks())

    # An upload, an update and a removal by one process: both follow from the log, without a
    # new base (the change is small), with the ranking of a rebuild.
    write(writer, docs[names[8]])
    write(writer, [Chunk(c.chunk_id, c.doc_id, c.title, c.text + " 更新", c.position, c.start, c.end)
                   for c in docs[names[2]]])
    writer.remove_document(names[0])
    for cache in (mine, theirs):
        index = cache.get()
        assert len(index.delta) > 0 and len(index.base) == len(first.base)  # caught up, not rebuilt
        for question in QUESTIONS:
            assert ranking(index, question) == ranking(rebuilt(), question)
    assert saved_versions(tmp_path / "bm25") == [f"base-v{writer.version() - 3}"]
    # A process starting now loads the saved base and replays the log after it.
    late = KeywordIndexCache(tmp_path / "bm25", Catalog(tmp_path / "catalog.sqlite3")).get()
    assert len(late.delta) > 0 and ranking(late, QUESTIONS[1]) == ranking(rebuilt(), QUESTIONS[1])


def test_a_large_delta_is_merged_saved_and_the_log_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.keyword as keyword

    monkeypatch.setattr(keyword, "MERGE_MIN_ROWS", 10)  # a small library's threshold
    docs = library()
    names = sorted(docs)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    write(catalog, docs[names[0]])
    cache = KeywordIndexCache(tmp_path / "bm25", catalog)
    cache.get()
    other = KeywordIndexCache(tmp_path / "bm25", Catalog(tmp_path / "catalog.sqlite3"))
    other.get()  # another process, which will find the log it needs pruned
    for name in names[1:6]:
        write(catalog, docs[name])
    index = cache.get()
    assert len(index.delta) == 0, "merged"
    assert saved_versions(tmp_path / "bm25") == [f"base-v{catalog.version()}"]
    with catalog.snapshot() as snapshot:
        assert not snapshot.changes_since(1, 10_000).complete  # behind the pruned log
        assert snapshot.changes_since(catalog.version(), 10_000).removed == frozenset()
    late = KeywordIndexCache(tmp_path / "bm25", Catalog(tmp_path / "catalog.sqlite3")).get()
    expected = KeywordIndex.build(catalog.iter_chunks())
    behind = other.get()  # reloads the saved base
    for question in QUESTIONS:
        assert ranking(late, question) == ranking(index, question) == ranking(expected, question) == \
            ranking(behind, question)


def test_a_reindex_or_a_catalog_older_than_the_log_builds_afresh(tmp_path: Path) -> None:
    docs = library()
    names = sorted(docs)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    write(catalog, docs[names[0]])
    cache = KeywordIndexCache(tmp_path / "bm25", catalog)
    assert cache.get().document_count == len(docs[names[0]])
    # A reindex switches in a whole new library (here: another document) in one transaction.
    staging = Catalog(tmp_path / "staging.sqlite3")
    write(staging, docs[names[1]])
    staging.close()
    catalog.adopt(tmp_path / "staging.sqlite3", {})
    index = cache.get()
    assert sorted(index.chunk_ids) == sorted(c.chunk_id for c in docs[names[1]])
    assert len(index.delta) == 0  # built afresh
    # A catalog made before the log existed: its log starts at the version it had then.
    catalog.close()
    old = sqlite3.connect(tmp_path / "catalog.sqlite3", isolation_level=None)
    old.execute("DROP TABLE chunk_log")
    old.execute("DELETE FROM meta WHERE key = 'chunk_log_floor'")
    # The older code's write: a document and its chunks, a version bump, no log.
    old.execute("INSERT INTO documents VALUES (?, ?, ?, ?, '[]', ?, ?)",
                (names[2], names[2], f"/{names[2]}", names[2], now_iso(), len(docs[names[2]])))
    old.executemany('INSERT INTO chunks(chunk_id, doc_id, position, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                    [(c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text) for c in docs[names[2]]])
    old.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'library_version'")
    old.close()
    reopened = Catalog(tmp_path / "catalog.sqlite3")
    assert reopened.get_meta("chunk_log_floor") == str(reopened.version())
    fresh = KeywordIndexCache(tmp_path / "bm25", reopened).get()
    assert sorted(fresh.chunk_ids) == sorted(c.chunk_id for c in docs[names[1]] + docs[names[2]])

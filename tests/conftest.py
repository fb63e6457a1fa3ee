"""Shared fixtures: the real model (compiled once per run) and real Chroma stores in temp dirs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.pipeline import ingest_paths  # noqa: E402
from ingest.starter import ingest_starter, starter_files  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.embeddings import LazyEmbedder  # noqa: E402
from sme_advisor.settings import Settings  # noqa: E402
from tests.chroma_server import chroma_server  # noqa: E402,F401  (a fixture: `chroma run` on loopback)

FIXTURES = Path(__file__).parent / "fixtures"
PADDING_DIR = FIXTURES / "padding"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def make_settings(models_dir: Path):  # type: ignore[no-untyped-def]
    """Settings for a fresh data dir; every store shares the one compiled model."""

    def make(data_dir: Path, **overrides: object) -> Settings:
        return Settings(_env_file=None, data_dir=data_dir, models_dir_override=models_dir, **overrides)

    return make


@pytest.fixture(scope="session")
def embedder(make_settings, tmp_path_factory: pytest.TempPathFactory) -> LazyEmbedder:  # type: ignore[no-untyped-def]
    shared = LazyEmbedder(make_settings(tmp_path_factory.mktemp("embedder")))
    shared.embed(["warm up"])
    return shared


@pytest.fixture(scope="session")
def open_kb(make_settings, embedder):  # type: ignore[no-untyped-def]
    """Opens a knowledge base on a data dir with the shared embedder."""

    def open_(data_dir: Path, **overrides: object) -> KnowledgeBase:
        return KnowledgeBase.open(make_settings(data_dir, **overrides), embedder=embedder)

    return open_


@pytest.fixture(scope="session")
def starter_kb(open_kb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    kb = open_kb(tmp_path_factory.mktemp("starter"))
    report = ingest_starter(kb)
    assert report.ok and len(report.added) == len(starter_files())
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def english_shelf_kb(open_kb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    """The English starter articles among the padding, without the Chinese shelf: what Chinese owners
    meet in a library of English documents (evaluation/sets/english_shelf.jsonl)."""
    kb = open_kb(tmp_path_factory.mktemp("english-shelf"))
    english = starter_files("en")
    report = ingest_paths(kb, english).merge(ingest_paths(kb, [PADDING_DIR], topics=["general-business"]))
    assert report.ok and len(report.added) >= 25, report.failed
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def padded_kb(open_kb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:  # type: ignore[no-untyped-def]
    """The starter library among same-domain business documents written for the purpose."""
    kb = open_kb(tmp_path_factory.mktemp("padded"))
    ingest_starter(kb)
    report = ingest_paths(kb, [PADDING_DIR], topics=["general-business"])
    assert report.ok and len(report.added) >= 20, report.failed
    yield kb
    kb.close()

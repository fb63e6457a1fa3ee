"""Grounding enforced in code: a model's answer keeps only the claims its quotes prove.

The model returns claims, each citing a passage and quoting it verbatim (see `claims`). A claim is
shown only when all of these hold:

1. **Its quote is in the library.** The quote is found in the cited passage after normalising both
   (`quotes.normalise`: white space, width, case, quotation marks, spaces between Han characters,
   Traditional → Simplified with OpenCC). A quote that is not in the cited passage but is in
   another one is **re-attributed** there: the quote is the evidence and the number only points to
   it, and small models often copy the right text under the wrong number. With no usable quote,
   the claim itself is tried as one (a copied sentence is its own evidence).
2. **The quote says enough**: at least 4 Latin words or 6 Han characters (in proportion when
   mixed), and at most a short paragraph (a quote of the whole passage proves nothing in particular).
3. **Every figure in the claim occurs in that passage** (4,900 = 4900; full-width digits count).
4. **The claim is in the answer's language** (the question's): a claim in another language is
   dropped, not translated.
5. **Same language, same words.** When the claim and its passage are in the same language, the
   earlier lexical check still applies: at least `MIN_SUPPORT` of the claim's terms (English
   content-word stems, Chinese character bigrams) occur in the passage, and below
   `STRONG_SUPPORT` an English claim shares a two-word phrase with it. It stops a true quote being
   attached to an unrelated claim. Across languages no word measure can judge, so there the quote
   (with the figures) is the whole check; a claim that mistranslates its quote is the risk left.

Citations are built from the verified quotes: each is the exact slice of the stored chunk the
quote matched (`citation.quote in chunk.text`), quotes overlapping in one passage share a citation,
and numbers run 1..m in order of first use. Nothing verified → `GenerationError` with a reason,
and the caller answers extractively.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from knowledge.answering import surroundings
from knowledge.generative import quotes, terms
from knowledge.generative.claims import Claim, parse, says_no_answer
from knowledge.generative.errors import GenerationError
from knowledge.language import Language, primary
from knowledge.types import Chunk, Citation, ScoredChunk

MIN_SUPPORT = 0.5
STRONG_SUPPORT = 0.7
MIN_CLAIM_TERMS = 3
MAX_CLAIMS = 8

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class Grounded:
    text: str
    citations: list[Citation]
    dropped: int  # claims of the model's answer that were not shown
    causes: dict[str, int]  # why they were dropped, e.g. {"quote not found": 2}


@dataclass(frozen=True, slots=True)
class _Passage:
    chunk: Chunk
    normalised: quotes.Normalised
    language: Language
    terms: set[str]
    pairs: set[frozenset[str]]
    numbers: set[str]


@dataclass(frozen=True, slots=True)
class _Kept:
    text: str
    passage: int  # index into the passages
    span: quotes.Span


def ground(raw: str, passages: Sequence[ScoredChunk], language: Language = "en") -> Grounded:
    """The model's answer reduced to the claims `passages` (numbered from 1) prove; raises
    GenerationError when none is left."""
    if not (raw or "").strip():
        raise GenerationError("empty answer")
    prepared = [_prepare(p.chunk) for p in passages]
    claims = parse(raw)
    kept: list[_Kept] = []
    causes: Counter[str] = Counter()
    seen: set[str] = set()
    for claim in claims:
        verdict = _verify(claim, prepared, language)
        if isinstance(verdict, str):
            causes[verdict] += 1
            continue
        key = quotes.normalise(verdict.text).text
        if key in seen or len(kept) >= MAX_CLAIMS:
            causes["repeated" if key in seen else "too many claims"] += 1
            continue
        seen.add(key)
        kept.append(verdict)
    if not kept:
        if not claims:
            raise GenerationError("model found no answer" if says_no_answer(raw) else "no claim found")
        raise GenerationError(f"no verified quote ({causes.most_common(1)[0][0]})")
    return _compose(kept, prepared, len(claims) - len(kept), dict(causes))


def _prepare(chunk: Chunk) -> _Passage:
    return _Passage(chunk, quotes.normalise(chunk.text), primary(chunk.text), terms.terms(chunk.text),
                    terms.pairs(chunk.text), set(numbers(chunk.text)))


def _verify(claim: Claim, passages: list[_Passage], language: Language) -> _Kept | str:
    """The kept claim, or why it is dropped."""
    if primary(claim.text, default=language) != language:
        return "wrong language"
    if len(terms.terms(claim.text)) < MIN_CLAIM_TERMS:
        return "fragment"  # "The Innovation Imperative." states nothing to check
    found = _locate(claim, passages)
    if isinstance(found, str):
        return found
    index, span = found
    passage = passages[index]
    if not set(numbers(claim.text)) <= passage.numbers:
        return "figure not in passage"
    if primary(claim.text) == passage.language and not _supports(claim.text, passage):
        return "claim unsupported"
    return _Kept(claim.text, index, span)


def _locate(claim: Claim, passages: list[_Passage]) -> tuple[int, quotes.Span] | str:
    """(passage index, span) of the claim's quote: the cited passages first, then the others.
    Without a usable quote the claim itself is tried; the reason given is the quote's."""
    cited = [n - 1 for n in claim.passages if 1 <= n <= len(passages)]
    order = list(dict.fromkeys(cited + list(range(len(passages)))))
    reasons = []
    for quote, is_claim in ((claim.quote, False), (claim.text, True)):
        if not quote:
            continue
        cleaned = quotes.clean_quote(quote)
        if not quotes.long_enough(cleaned):
            reason = "quote too short"
        elif quotes.too_long(cleaned):
            reason = "quote too long"
        else:
            for index in order:
                span = quotes.find(cleaned, passages[index].chunk.text, passages[index].normalised)
                if span is not None:
                    return index, span
            reason = "quote not found"
        reasons.append("no quote" if is_claim else reason)
    return reasons[0] if reasons else "no quote"


def _supports(claim: str, passage: _Passage) -> bool:
    own = terms.terms(claim)
    support = len(own & passage.terms) / len(own)
    if support >= STRONG_SUPPORT:
        return True
    # English below the strong level must also share a phrase; Chinese bigrams are phrases already.
    return support >= MIN_SUPPORT and (passage.language == "zh" or bool(terms.pairs(claim) & passage.pairs))


def numbers(text: str) -> list[str]:
    """The figures in a text, thousands separators removed ("4,900" → "4900")."""
    text = unicodedata.normalize("NFKC", text)
    return [n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)]


def _compose(kept: list[_Kept], passages: list[_Passage], dropped: int, causes: dict[str, int]) -> Grounded:
    spans: list[tuple[int, quotes.Span]] = []  # citation n = position + 1, by first use
    numbered: list[int] = []
    for claim in kept:
        for position, (index, span) in enumerate(spans):
            if index == claim.passage and span.start < claim.span.end and claim.span.start < span.end:
                spans[position] = (index, quotes.Span(min(span.start, claim.span.start), max(span.end, claim.span.end)))
                numbered.append(position + 1)
                break
        else:
            spans.append((claim.passage, claim.span))
            numbered.append(len(spans))
    text = " ".join(f"{claim.text} [{n}]" for claim, n in zip(kept, numbered))
    citations = []
    for n, (index, span) in enumerate(spans, 1):
        chunk = passages[index].chunk
        quote = chunk.text[span.start:span.end]
        before, after = surroundings(chunk.text, span.start, span.end)
        citations.append(Citation(n, chunk.doc_id, chunk.title, chunk.chunk_id, quote, chunk.location, before, after))
    return Grounded(text, citations, dropped, causes)

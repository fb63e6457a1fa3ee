"""What the question asks for, in words the library can check: weighted terms and the kind of answer.

Cosine similarity says a sentence is about the question's subject; it does not say the sentence
holds the answer, nor that the library knows the question's subject at all. Two cheap signals
add what it misses:

- Terms, weighted by how rare they are in the library (inverse document frequency, from the
  keyword index). A sentence that mentions the question's rare terms ("DDP", "Shanghai") is more
  likely to answer it; a question whose rare terms the library never mentions ("GDPR", "UK") is
  more likely out of scope, however close its generic words come.
- The kind of answer: "how many" wants a number, "when" a date, "who" a name, "what does it take"
  a requirement ("must", "at least"), "which industries" a list.

English terms are the keyword index's own stems. Chinese terms are jieba's words; a word counts as
known to the library when every character pair in it is in the index (which holds Chinese as
character pairs), and its rarity is that of its rarest pair.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace, dataclass
from typing import TYPE_CHECKING, Literal, Sequence

from knowledge import chinese
from knowledge.language import has_han
from knowledge.text import content_words

if TYPE_CHECKING:
    from knowledge.keyword import KeywordIndex

AnswerType = Literal["frequency", "number", "date", "name", "requirement", "list"]
# Words of an owner's phrasing that say nothing about the subject ("any advice?", "I'm worried…").
FILLER = frozenset("""i'm i've i'd i'll we're we've we'd you're it's that's what's there's don't doesn't didn't can't
    won't isn't aren't wasn't advice tip tips help idea ideas suggest suggestion suggestions anyone someone anybody
    somebody really actually please thing things way ways worry worried afraid wonder wondering think know say said
    anything something kind sort lot bit guess maybe perhaps currently today right""".split())
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
MIN_PREFIX = 4  # "valued" (valu) and "valuation" (valuat) are one term; "us" and "use" are not


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # an English stem or a Chinese word (Simplified)
    weight: float  # inverse document frequency in the library
    known: bool  # the library mentions it somewhere
    han: bool
    # A name, an acronym or a code ("UK", "GDPR", "Tmall", "14001"), or a Chinese word: what a
    # question leans on. A library that never mentions one cannot answer the question; a library
    # that lacks an ordinary word ("rival") may still say the same in other words.
    specific: bool = True


@dataclass(frozen=True, slots=True)
class QuestionTerms:
    terms: tuple[Term, ...]

    @property
    def total(self) -> float:
        return sum(t.weight for t in self.terms)

    def coverage(self, text: str) -> float:
        """The weighted share of the terms that `text` mentions (0 when there are none)."""
        if not self.terms:
            return 0.0
        found = mentioned(self.terms, text)
        return sum(t.weight for t, hit in zip(self.terms, found) if hit) / self.total

    def unknown_share(self) -> float:
        """The weighted share of the terms that are specific and that the library never mentions."""
        if not self.terms:
            return 0.0
        return sum(t.weight for t in self.terms if not t.known and t.specific) / self.total


def question_terms(question: str, index: KeywordIndex) -> QuestionTerms:
    from knowledge.keyword import latin_stems

    n = max(1, index.document_count)
    ceiling = math.log(1 + n / 0.5)  # a term in no passage
    found: dict[str, Term] = {}
    for word, specific in _latin_words(chinese.HAN_RUN.sub(" ", question).replace("’", "'")):
        for stem in latin_stems(word):
            df = index.document_frequency(stem)
            found.setdefault(stem, Term(stem, math.log(1 + n / (df + 0.5)), df > 0, False, specific))
    if has_han(question):
        han: dict[str, Term] = {}
        for word in content_words(chinese.to_simplified(question)):
            if not chinese.HAN_RUN.fullmatch(word):
                continue
            pairs = chinese.char_bigrams(word)
            df = min(index.document_frequency(pair) for pair in pairs)
            han.setdefault(word, Term(word, math.log(1 + n / (df + 0.5)) if df else ceiling, df > 0, True))
        # Words the library lacks say something only if it reads Chinese at all: a Chinese question
        # over English articles lacks them all and is asked across languages, not off its subject.
        reads_chinese = any(t.known for t in han.values())
        for word, term in han.items():
            found.setdefault(word, replace(term, specific=reads_chinese))
    return QuestionTerms(tuple(found.values()))


_CASED_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)$")


def _latin_words(text: str) -> list[tuple[str, bool]]:
    """The question's words that may be terms (lowercased), each with whether it is specific: an
    acronym, a word with a digit, or a capitalised word that does not start a sentence."""
    found = []
    for match in _CASED_WORD.finditer(text):
        word = match.group()
        lowered = word.lower()
        if lowered in FILLER:
            continue
        starts = bool(_SENTENCE_START.search(text[: match.start()]))
        specific = (word.isupper() and len(word) > 1 and word != "I") or any(ch.isdigit() for ch in word) or \
            (word[0].isupper() and not starts)
        found.append((lowered, specific))
    return found


def mentioned(terms: Sequence[Term], text: str) -> list[bool]:
    from knowledge.keyword import latin_stems

    simplified = chinese.to_simplified(text) if has_han(text) else text
    stems = set(latin_stems(chinese.HAN_RUN.sub(" ", simplified.lower())))
    return [(t.text in simplified) if t.han else _stem_in(t.text, stems) for t in terms]


def _stem_in(stem: str, stems: set[str]) -> bool:
    """Exactly, or sharing a prefix of at least MIN_PREFIX letters with a word of the text (the
    stemmer keeps "valued" and "valuation" apart)."""
    if stem in stems:
        return True
    if len(stem) < MIN_PREFIX:
        return False
    return any(len(other) >= MIN_PREFIX and (other.startswith(stem) or stem.startswith(other)) for other in stems)


# --- the kind of answer a question wants ---------------------------------------------------------
_WANTS = (
    # "How often…" wants "every Monday", "weekly", "twice a year" — often no digit at all.
    ("frequency", re.compile(r"\bhow\s+(?:often|frequently)\b|(?:多久|多长时间)\w{0,4}一次|隔多久|多频繁|频率|频次",
                             re.IGNORECASE)),
    ("number", re.compile(
        r"\bhow\s+(?:many|much|big|large|long|high|low|far)\b|\bwhat\s+(?:share|proportion|percentage|percent|"
        r"fraction|number|amount|rate|size|price|fee|cost|target)\b|\bwhat\s+(?:is|are|was|were)\s+(?:the\s+)?"
        r"(?:share|proportion|percentage|number|amount|rate|fee|cost|target)\b|\bworth\b|"
        r"多少|几[家个年天次成倍月]|多大|多高|多长|多久|比例|占比|百分之|几年|金额|费用是|税率", re.IGNORECASE)),
    ("date", re.compile(r"\bwhen\b|\bwhat\s+year\b|\bwhich\s+year\b|\bsince\s+when\b|什么时候|何时|哪一?年|几月|哪天",
                        re.IGNORECASE)),
    ("requirement", re.compile(
        r"\bwhat\s+(?:does\s+it|do\s+(?:i|we|you)|does\s+(?:a|an|my|our)\s+\w+)\s+(?:take|need|have\s+to)\b|"
        r"\b(?:requirements?|criteria|conditions|qualify|qualifies|eligible|eligibility)\b|"
        r"条件|要求|门槛|资格|够不够格|符合什么|需要具备|才能申请|才能评", re.IGNORECASE)),
    ("list", re.compile(
        r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?(?:industries|sectors|products|fields|areas|"
        r"markets|goods|services|problems|challenges|obstacles|mistakes|misconceptions|measures|steps|tools|"
        r"documents|papers|paperwork|risks|costs|options)\b|哪些|哪几", re.IGNORECASE)),
    ("name", re.compile(r"\bwho\b|\bwhich\s+(?:company|companies|firm|firms|exchange|person|people|minister|"
                        r"ministry|organisation|organization|agency|bank|province|city|country|countries)\b|"
                        r"\bwhat\s+(?:company|firm|exchange)\b|谁|哪家|哪个(?:公司|企业|机构|部门|城市|国家)|哪位",
                        re.IGNORECASE)),
)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                     r"fifty|hundred|thousand|million|billion|trillion|half|third|quarter|dozen|percent)\b|"
                     r"[一二三四五六七八九十百千万亿两半]", re.IGNORECASE)
_DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b|\b(?:january|february|march|april|may|june|july|august|september|"
                   r"october|november|december|spring|summer|autumn|winter|monday|tuesday|wednesday|thursday|friday)\b|"
                   r"\d+\s*年|[一二三四五六七八九十]+月|年底|年初", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*|[A-Z]{2,}|公司|集团|银行|部|局|委员会|协会")


def wanted_type(question: str) -> AnswerType | None:
    for kind, pattern in _WANTS:
        if pattern.search(question):
            return kind  # type: ignore[return-value]
    return None


_REQUIREMENT = re.compile(r"\b(?:must|need(?:s)?\s+to|has\s+to|have\s+to|required?|requires|at\s+least|no\s+(?:less|fewer)"
                          r"\s+than|minimum|eligible|qualif\w+|criteria|condition)\b|必须|需要|应当|应该|不低于|不少于|"
                          r"以上|达到|满足|要求|条件", re.IGNORECASE)
_ITEM = r"[A-Za-z][\w-]*(?:\s+[\w-]+){0,2}"  # a list item: up to three words
_LIST = re.compile(_ITEM + r",\s+" + _ITEM + r",?\s+(?:and|or)\s+[A-Za-z]|" + _ITEM + r",\s+" + _ITEM + r",\s+" + _ITEM +
                   r"|[^、，。；]{1,12}、[^、，。；]{1,12}|^\s*[-•*]|\b(?:first|second|third)(?:ly)?\b|第[一二三四]",
                   re.IGNORECASE)


_FREQUENCY = re.compile(r"\b(?:every|each|per)\s+(?:\w+\s+)?(?:day|week|month|quarter|year|monday|tuesday|wednesday|"
                        r"thursday|friday|morning|evening|shift|season)s?\b|\b(?:daily|weekly|monthly|quarterly|"
                        r"annually|yearly|fortnightly|hourly|biweekly)\b|\b(?:once|twice|\w+\s+times)\s+(?:a|an|per|every)\b|"
                        r"每(?:个|隔)?[天日周月年季]|每个?(?:星期|礼拜|季度|工作日)|[一两二三四五六七八九十\d]+次",
                        re.IGNORECASE)


def has_type(sentence: str, kind: AnswerType) -> bool:
    if kind == "frequency":
        return bool(_FREQUENCY.search(sentence))
    if kind == "requirement":
        return bool(_REQUIREMENT.search(sentence))
    if kind == "list":
        return bool(_LIST.search(sentence))
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    return bool(_NAME.search(sentence.strip()))

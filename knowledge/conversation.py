"""Follow-up questions and questions the library must not answer at all.

A follow-up ("and how many of them are listed?") means little alone; it is searched together with
the previous question. Instructions aimed at the bot itself are refused outright, whatever the
library holds, because an answer would pretend to follow them.
"""

from __future__ import annotations

import re
from typing import Sequence

from knowledge.language import has_han
from knowledge.text import content_words, words
from knowledge.types import Turn

_CONTINUATIONS = ("and", "but", "also", "so", "then", "or", "what about", "how about", "and what", "why")
_ANAPHORA = {"they", "them", "their", "theirs", "it", "its", "this", "that", "these", "those", "he", "she",
             "his", "her", "there", "such", "which", "same", "former", "latter", "one", "ones"}
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompts?|guidelines|"
    r"everything|above|previous|system)\b"
    r"|\b(system|developer)\s+prompt\b|\byou\s+are\s+now\b|\bpretend\s+(to\s+be|you)\b|\bjailbreak\b"
    r"|\bact\s+as\s+(an?\s+)?(unrestricted|different|evil|dan)\b|\bnew\s+instructions\b",
    re.IGNORECASE | re.DOTALL,
)

# Chinese: "那…", "还有…", "另外…" continue a conversation; 它/他们/这些/该… point back into it; a bare
# "…呢？" ("费用呢？") asks the previous question about something else.
_ZH_CONTINUATIONS = ("那", "那么", "还有", "另外", "此外", "而且", "然后", "那如果", "如果是", "那要是", "为什么")
_ZH_ANAPHORA = {"它", "它们", "他们", "她们", "他", "她", "这", "那", "这个", "那个", "这些", "那些", "其", "该",
                "此", "上述", "前者", "后者", "这样", "那样", "这种", "那种", "这家", "那家", "他家"}
_ZH_ELLIPSIS = re.compile(r"呢\s*[？?]?\s*$")
_INJECTION_ZH = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|绕过).{0,12}(指令|指示|规则|提示词?|设定|要求|以上|之前|前面)"
    r"|系统提示|你现在是|扮演一个|假装你是|越狱"
)


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    if not any(turn.role == "user" for turn in history):
        return False
    lowered = question.strip().lower()
    if lowered.startswith(tuple(f"{c} " for c in _CONTINUATIONS)):
        return True
    if has_han(question):
        stripped = question.strip()
        if stripped.startswith(_ZH_CONTINUATIONS) or _ZH_ELLIPSIS.search(stripped):
            return True
        if _ZH_ANAPHORA & set(words(question)):
            return True
    if _ANAPHORA & set(words(question)):
        return True
    return len(content_words(question)) <= 2


def search_query(question: str, history: Sequence[Turn]) -> str:
    """The question to retrieve with: a follow-up carries the previous question along."""
    if not is_follow_up(question, history):
        return question
    previous = next(turn.content for turn in reversed(history) if turn.role == "user")
    return f"{previous.strip()} {question.strip()}"


def is_instruction_attack(question: str) -> bool:
    return bool(_INJECTION.search(question) or _INJECTION_ZH.search(question))


def is_gibberish(question: str) -> bool:
    """No recognisable words: keyboard mashing, random characters."""
    tokens = [w for w in words(question) if w.isalpha()]
    if not tokens:
        return True
    vowelless = sum(1 for w in tokens if len(w) > 2 and not re.search(r"[aeiouy]", w) and w.isascii())
    return vowelless / len(tokens) > 0.5

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
# An attack names the bot's own instructions: "ignore your/all/the previous instructions", "forget
# everything above". A business question may well ignore, override or forget something ("Can I
# ignore the previous owner's succession plan?", "the rules of the tax office"), so the object must
# be the bot's instructions, or its rules qualified as the bot's (your, previous, above, system…).
_QUALIFIER = r"(?:(?:all|any|every|each)\s+(?:of\s+)?)?(?:(?:your|these|those|my|the|its)\s+)?" \
             r"(?:(?:previous|prior|above|earlier|preceding|original|initial|system|hidden)\s+)+"
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|drop)\s+"
    r"(?:(?:all|any|every)\s+(?:of\s+)?)?(?:your|the\s+above|these|those)?\s*"
    r"(?:instructions?|prompts?|guidelines|directives|programming|system\s+message)\b"
    rf"|\b(?:ignore|disregard|forget|override|bypass|drop)\s+{_QUALIFIER}"
    r"(?:instructions?|rules|prompts?|guidelines|directives|programming|messages?|context)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:(?:that\s+)?(?:was\s+)?(?:said|written|stated)\s+)?"
    r"(?:above|before\s+this|you\s+were\s+told)\b"
    r"|\b(?:ignore|disregard|forget)\s+your\s+(?:rules|training|restrictions|limits)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?the\s+above\b"
    r"|\b(?:ignore|disregard|forget|override)\s+(?:all\s+(?:of\s+)?)?(?:the\s+)?(?:instructions|rules|prompts?)\s+"
    r"(?:above|before|you\s+(?:were|have\s+been|got)\s+given|given\s+to\s+you)\b"
    r"|\b(?:system|developer)\s+prompt\b|\byou\s+are\s+now\s+(?:an?\s+|in\s+)?(?:dan|unrestricted|jailbroken|developer\s+mode|"
    r"free|evil|different|new)\b"
    r"|\bpretend\s+(?:to\s+be|you\s+are)\s+(?:an?\s+)?(?:different|unrestricted|evil|uncensored)?\s*(?:ai|bot|assistant|model|chatbot)\b"
    r"|\bjailbreak\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|different|evil|dan)\b|\bnew\s+instructions\s*:"
    r"|\bfrom\s+now\s+on\s+you\s+(?:are|will|must)\b",
    re.IGNORECASE,
)

# Chinese: "那…", "还有…", "另外…" continue a conversation; 它/他们/这些/该… point back into it; a bare
# "…呢？" ("费用呢？") asks the previous question about something else.
_ZH_CONTINUATIONS = ("那", "那么", "还有", "另外", "此外", "而且", "然后", "那如果", "如果是", "那要是", "为什么")
_ZH_ANAPHORA = {"它", "它们", "他们", "她们", "他", "她", "这", "那", "这个", "那个", "这些", "那些", "其", "该",
                "此", "上述", "前者", "后者", "这样", "那样", "这种", "那种", "这家", "那家", "他家"}
_ZH_ELLIPSIS = re.compile(r"呢\s*[？?]?\s*$")
_INJECTION_ZH = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|绕过|抛开)(你的|你|所有的?|全部的?|以上的?|之前的?|前面的?|上面的?|先前的?|原来的?|系统的?)+"
    r".{0,4}(指令|指示|提示词?|设定|规则|要求|内容|对话)"
    r"|(忽略|无视|忘记|忘掉)(以上|之前|前面|上面)(所有|的一切|一切|全部)?"
    r"|系统提示|你现在是(一个)?(不受限|没有限制|DAN|新的)|假装你是(一个)?(不受限|没有限制|另一个|不同的)?(AI|机器人|助手|模型)|越狱"
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


# A request to make something rather than a question to look up: translate, write code, a poem or a
# joke, do a sum. The library holds no answer to these, however close "translation" or "function"
# come to its words, so they are declined in so many words. Only the whole request at the start of
# the message counts: "How do I write a business plan?" and "这份合同翻译成英文要多少钱？" ask.
_TASK = re.compile(
    r"^\s*(?:(?:please|pls|kindly|can\s+you|could\s+you|would\s+you|will\s+you)\s*,?\s*)?(?:"
    r"translate\b|tell\s+me\s+a\s+(?:joke|story)\b|"
    r"(?:write|compose|generate|create|draft)\s+(?:me\s+)?(?:an?\s+|some\s+)?(?:\w+\s+){0,2}"
    r"(?:poem|song|haiku|story|joke|essay|limerick|function|program|script|code|class|sql\s+query|regex)\b|"
    r"(?:calculate|compute|solve)\s+\d|what\s+is\s+\d+(?:\.\d+)?\s*[-+*/x×÷]\s*\d)",
    re.IGNORECASE)
_TASK_ZH = re.compile(
    r"^\s*(?:请|麻烦|能不能|可以|你能)?\s*(?:帮我|给我|替我|为我)?\s*(?:"
    r"把.{1,60}?(?:翻译|译)成|翻译(?:一下|成|为)?|"
    r"(?:写|作|编)(?:一|几)?(?:首|篇|段|个)?[A-Za-z+# ]{0,12}(?:诗|歌|歌词|小说|故事|笑话|作文|代码|程序|函数|脚本)|"
    r"讲(?:一)?个(?:笑话|故事)|(?:算|计算)一下\s*\d)")


def is_task_request(question: str) -> bool:
    return bool(_TASK.search(question) or _TASK_ZH.search(question))


def is_instruction_attack(question: str) -> bool:
    return bool(_INJECTION.search(question) or _INJECTION_ZH.search(question))


def is_gibberish(question: str) -> bool:
    """No recognisable words: keyboard mashing, random characters."""
    tokens = [w for w in words(question) if w.isalpha()]
    if not tokens:
        return True
    vowelless = sum(1 for w in tokens if len(w) > 2 and not re.search(r"[aeiouy]", w) and w.isascii())
    return vowelless / len(tokens) > 0.5

"""Conversation that is not a question for the library: greetings, thanks, "who are you", a bare link.

Owners talk to the bot as to a person. Searching "hi" or "thanks!" in the library finds nothing,
and a refusal with a list of titles is the wrong reply; it also fills the admins' list of
unanswered questions. So such messages get a short, friendly, uncited reply in the owner's
language, and are never counted as refusals. Only a whole message is small talk: "Hi, how do I
value my firm?" is a question, and its greeting is left out of the search (`without_pleasantries`).
"""

from __future__ import annotations

import re

from knowledge.language import Language
from sme_advisor.i18n import N_, translator

_END = r"[\s!！.。,，~～?？:)]*"


def _whole(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"^\s*(?:" + "|".join(patterns) + r")" + _END + r"$", re.IGNORECASE)


_NAME = r"(?:\s+(?:there|all|everyone|bot|sme\s*advisor|advisor))?"
_GREETING_EN = (r"(?:hi|hello|hey|hiya|howdy|greetings|yo|good\s+(?:morning|afternoon|evening|day))" + _NAME
                + r"(?:[\s,!.]+how\s+are\s+you(?:\s+doing)?(?:\s+today)?)?")
_GREETING_ZH = r"(?:你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|早安|大家好|你好呀|您好呀|在吗|在不在)"
_THANKS_EN = (r"(?:(?:many\s+)?thanks|thank\s+you|thx|ty|cheers|much\s+appreciated|appreciate\s+it)"
              r"(?:\s+(?:so|very)\s+much|\s+a\s+lot|\s+again|\s+for\s+(?:your|the)\s+help|\s+for\s+that)?"
              r"(?:[\s,!.]+(?:that|this|it)(?:'s|\s+is|\s+was)?\s+(?:helps?|helped|helpful|useful|great|perfect)"
              r"(?:\s+a\s+lot|\s+very\s+much)?)?")
_THANKS_ZH = r"(?:太?(?:谢谢|多谢|感谢|谢了|谢啦)(?:你|您)?(?:了|啦)?(?:[，,]?\s*(?:很|非常|挺)?有(?:帮助|用))?|辛苦了)"
_FAREWELL = (r"(?:bye|goodbye|good\s*bye|bye\s*bye|see\s+you(?:\s+later|\s+soon)?|talk\s+(?:to\s+you\s+)?later|"
             r"good\s+night|再见|拜拜|回头见|下次见|晚安)")
_ACK = (r"(?:ok|okay|k|kk|got\s+it|i\s+see|understood|great|cool|nice|perfect|alright|all\s+right|fine|sure|"
        r"good|very\s+good|wow|interesting|好的?|好吧|嗯+|哦+|明白了?|知道了|了解了?|收到|可以|不错)")
_ABOUT_BOT = (r"(?:who|what)\s+are\s+you|who\s+is\s+this|what\s+is\s+this(?:\s+bot)?|are\s+you\s+(?:a\s+)?"
              r"(?:bot|robot|human|person|real\s+person|real|an?\s+ai|chatgpt)|what\s+can\s+you\s+do|"
              r"what\s+do\s+you\s+do|how\s+do\s+you\s+work|how\s+does\s+this\s+work|what\s+can\s+i\s+ask(?:\s+you)?|"
              r"你是谁|你是什么|你是干什么的|你是做什么的|你是机器人吗|你是真人吗|你能做什么|你会什么|你能干什么|"
              r"能问你什么|你怎么用|怎么用你")
_ABOUT_LIBRARY = (r"(?:which|what)\s+(?:documents|sources|articles|books|data|information)\s+do\s+you\s+"
                  r"(?:use|have|know|read)(?:\s+to\s+answer)?|where\s+do\s+your\s+answers\s+come\s+from|"
                  r"what\s+do\s+you\s+know(?:\s+about)?|what\s+is\s+in\s+your\s+library|"
                  r"你的(?:资料|文档|文章|知识)(?:是什么|有哪些|从哪来的?)|你用什么资料(?:回答)?|你知道些?什么")

_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("greeting", _whole(_GREETING_EN, _GREETING_ZH)),
    ("thanks", _whole(_THANKS_EN, _THANKS_ZH)),
    ("farewell", _whole(_FAREWELL)),
    ("acknowledgement", _whole(_ACK)),
    ("about_bot", _whole(_ABOUT_BOT)),
    ("about_library", _whole(_ABOUT_LIBRARY)),
    ("link", re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)),
)
# A greeting or thanks in front of a real question: "Hi! How do I…", "谢谢！那税呢？"
_LEADING = re.compile(r"^\s*(?:" + "|".join((_GREETING_EN, _GREETING_ZH, _THANKS_EN, _THANKS_ZH)) + r")"
                      r"[\s!！.。,，~～:]+(?=\S)", re.IGNORECASE)

REPLIES: dict[str, str] = {
    "greeting": N_("Hello! Ask me anything about running your business – innovation, succession, going digital – "
                   "and I'll answer from my library, showing the passages I used."),
    "thanks": N_("You're welcome! Ask me anything else about your business whenever you like."),
    "farewell": N_("Goodbye, and good luck with your business!"),
    "acknowledgement": N_("Glad to help. Ask me another question whenever you like."),
    "about_bot": N_("I'm SME Advisor: I answer business owners' questions using only the articles and policy "
                    "documents in my library, and I quote the passages I used. I don't search the internet, and "
                    "when my library doesn't cover something, I say so."),
    "about_library": N_("I answer only from the documents in my library, and I quote the passages I used."),
    "link": N_("I can't open links. Tell me in your own words what you'd like to know, and I'll look in my "
               "library. (An admin can add a web page to the library.)"),
}


def intent_of(message: str) -> str | None:
    """What kind of small talk `message` is, or None when it is (or may be) a question."""
    if len(message) > 120:
        return None
    for intent, pattern in _INTENTS:
        if pattern.match(message):
            return intent
    return None


def reply(intent: str, language: Language) -> str:
    return translator(language).gettext(REPLIES[intent])


def without_pleasantries(question: str) -> str:
    """The question without a greeting or thanks in front of it (kept whole when nothing is left)."""
    stripped = _LEADING.sub("", question, count=1)
    return stripped if stripped.strip() else question

"""Why a question was not answered, and the library's overview, in the question's language (the
thresholds that decide it are in knowledge/refusal.py).

`Answer.refusal` carries the reason as a stable code for programs (`ask --json`, the bot's log);
the text the owner reads comes from the message catalogs (sme_advisor/locales, docs/i18n.md).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal, Sequence

from knowledge.types import SourceInfo
from sme_advisor.i18n import N_, translator

Refusal = Literal["not_covered", "unclear", "instructions", "task", "no_answer_sentence"]
REASONS: dict[str, str] = {
    # Nothing in the library is close enough to the question.
    "not_covered": N_("My library doesn't cover this question."),
    # Empty, or letters without words ("asdfgh", "???").
    "unclear": N_("I couldn't make out a question there."),
    # "Ignore your instructions and …"
    "instructions": N_("I only answer questions from my library, and I can't take new instructions about how I work."),
    # "Translate … into Japanese", "Write a Python function …", "tell me a joke".
    "task": N_("I answer questions about running a business from my library; I don't translate, write code or "
               "stories, or do sums."),
    # Related passages were found, but no sentence in them answers the question.
    "no_answer_sentence": N_("I found related passages, but none that answers this question."),
}
# Weak but related evidence: said plainly before the closest passages are quoted.
HEDGE = N_("My library only touches on this; it has no passage that answers it directly. The closest passages:")
# An extractive answer quoted from the other language than the question's, said before the quotes
# (which stay verbatim), keyed by the quotes' language.
ACROSS = {"en": N_("My library answers this in English; the passages, as written:"),
          "zh": N_("My library answers this in Chinese; the passages, as written:")}
OVERVIEW_TOPICS = 8
OVERVIEW_TITLES = 5


def refusal_text(reason: str, language: str, sources: Sequence[SourceInfo]) -> str:
    """The reason in `language`, followed by what the library does cover."""
    tr = translator(language)
    return join_sentences(tr.gettext(REASONS[reason]), library_overview(sources, language), language)


def hedge_text(language: str) -> str:
    return translator(language).gettext(HEDGE)


def across_text(quotes_language: str, language: str) -> str:
    return translator(language).gettext(ACROSS[quotes_language])


def join_sentences(first: str, second: str, language: str) -> str:
    # TRANSLATORS: two sentences one after the other; Chinese puts no space between sentences.
    return translator(language).pgettext("two sentences", "%(first)s %(second)s") % {"first": first, "second": second}


def library_overview(sources: Sequence[SourceInfo], language: str) -> str:
    """A few sentences on what the library holds: size, main topics, some titles (shown as they are)."""
    tr = translator(language)
    if not sources:
        return tr.gettext("My library is empty: an admin needs to add documents first.")
    holds = tr.ngettext("My library holds %(count)d document.", "My library holds %(count)d documents.",
                        len(sources)) % {"count": len(sources)}
    counts = Counter(topic for s in sources for topic in s.topics)
    # TRANSLATORS: between the topics of a list ("a, b, c").
    topics = tr.pgettext("list of topics", ", ").join(
        topic.replace("-", " ") for topic, _ in counts.most_common(OVERVIEW_TOPICS))
    # TRANSLATORS: between the titles of a list ("“A”; “B”").
    separator = tr.pgettext("list of titles", "; ")
    # TRANSLATORS: a document's title inside a sentence; Chinese uses 《…》.
    quoted = tr.pgettext("a document title", "“%(title)s”")
    titles = separator.join(quoted % {"title": s.title} for s in sources[:OVERVIEW_TITLES])
    more = len(sources) - OVERVIEW_TITLES
    if more > 0:
        among = tr.ngettext("Among them: %(titles)s and %(count)d more.", "Among them: %(titles)s and %(count)d more.",
                            more) % {"titles": titles, "count": more}
    else:
        among = tr.gettext("Among them: %(titles)s.") % {"titles": titles}
    if topics:
        covers = tr.gettext("It covers %(topics)s.") % {"topics": topics}
        holds = join_sentences(holds, covers, language)
    return join_sentences(holds, among, language)

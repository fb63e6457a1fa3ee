"""How the advisor presents itself (/start, /help, the `chat` banner): derived from the library, and
worded by an admin where they want (`TEXTS_FILE`, default `<data dir>/texts.toml`).

Without the file, the texts come from the message catalogs and name the library's own main topics
and an example question about the first of them, so a library about bakeries or exports is not
introduced as one about succession. With the file, an admin words any of them per language:

    [en]
    name = "Bakery Advisor"
    intro = "I help bakery owners with {topics}. I answer only from my library and cite my sources."
    examples = ["How do I price a wedding cake?"]
    help = "Ask about recipes costs, staff and hygiene rules."

`{topics}`, `{documents}` and `{titles}` are filled in from the library; other braces stay as
written. A key or language the file leaves out keeps its default (the name falls back to the
English one). The file is read again when it changes, so an edit shows at the next /start; a file
that cannot be read is reported (`problems`) and the defaults stand.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from knowledge.types import SourceInfo
from sme_advisor.i18n import N_, translator
from sme_advisor.texts_file import LANGUAGES, TextsFile, read_texts_file

log = logging.getLogger(__name__)
# TRANSLATORS: the product's name, as /start introduces it ("Hello! I'm SME Advisor.").
DEFAULT_NAME = N_("SME Advisor")
MAIN_TOPICS = 3
SOME_TITLES = 3
_PLACEHOLDER = re.compile(r"\{(topics|documents|titles)\}")


@dataclass(frozen=True, slots=True)
class Welcome:
    name: str
    intro: str
    examples: list[str] = field(default_factory=list)
    help: str | None = None  # the admin's own paragraph for /help, if any

    @property
    def example(self) -> str | None:
        return self.examples[0] if self.examples else None


def main_topics(sources: Sequence[SourceInfo], limit: int = MAIN_TOPICS) -> list[str]:
    """The tags most documents carry, as words ("digital-transformation" → "digital transformation")."""
    counts = Counter(topic for source in sources for topic in source.topics if topic != "general")
    return [topic.replace("-", " ") for topic, _ in counts.most_common(limit)]


def join_words(words: Sequence[str], language: str) -> str:
    """"a, b and c" in `language`."""
    tr = translator(language)
    if len(words) <= 1:
        return "".join(words)
    # TRANSLATORS: between the items of a list but the last two ("a, b and c").
    head = tr.pgettext("list of topics", ", ").join(words[:-1])
    # TRANSLATORS: the last two items of a list; Chinese: "%(first)s和%(last)s".
    return tr.pgettext("last two of a list", "%(first)s and %(last)s") % {"first": head, "last": words[-1]}


def default_welcome(sources: Sequence[SourceInfo], language: str) -> Welcome:
    tr = translator(language)
    topics = main_topics(sources)
    if topics:
        intro = tr.gettext("I help owners of small and medium-sized businesses with questions on %(topics)s. "
                           "I answer only from my library, and I cite the passages I use.") % {
            "topics": join_words(topics, language)}
        examples = [tr.gettext("What should I know about %(topic)s?") % {"topic": topic} for topic in topics]
    elif sources:
        intro = tr.ngettext("I answer questions from my library of %(count)d document, and I cite the passages "
                            "I use.", "I answer questions from my library of %(count)d documents, and I cite the "
                            "passages I use.", len(sources)) % {"count": len(sources)}
        # TRANSLATORS: an example question about one document; %(title)s is its title, as it is.
        examples = [tr.gettext("What does “%(title)s” say?") % {"title": sources[0].title}]
    else:
        intro = tr.gettext("I answer only from my library, and I cite the passages I use.")
        examples = []
    return Welcome(tr.gettext(DEFAULT_NAME), intro, examples)


def welcome(sources: Sequence[SourceInfo], language: str, texts: TextsFile | None = None) -> Welcome:
    """The texts for `language`: the admin's where the file sets them, else the defaults."""
    chosen = default_welcome(sources, language)
    if texts is None:
        return chosen
    own = texts.by_language.get(language, {})
    english = texts.by_language.get("en", {})
    values = {"topics": join_words(main_topics(sources), language),
              "documents": str(len(sources)),
              "titles": translator(language).pgettext("list of titles", "; ").join(
                  s.title for s in sources[:SOME_TITLES])}

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)

    name = own.get("name") or english.get("name")
    if name:
        chosen = replace(chosen, name=fill(name))
    if own.get("intro"):
        chosen = replace(chosen, intro=fill(own["intro"]))
    if own.get("examples"):
        chosen = replace(chosen, examples=[fill(example) for example in own["examples"]])
    if own.get("help"):
        chosen = replace(chosen, help=fill(own["help"]))
    return chosen


class TextsSource:
    """The file, read again only when it changes (its modification time and size)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[float, int] | None = None
        self._texts = TextsFile()

    def texts(self) -> TextsFile:
        try:
            stat = self.path.stat()
            seen: tuple[float, int] | None = (stat.st_mtime, stat.st_size)
        except OSError:
            seen = None
        with self._lock:
            if seen != self._seen:
                self._texts = read_texts_file(self.path) if seen is not None else TextsFile()
                self._seen = seen
                for problem in self._texts.problems:
                    log.warning("%s: %s; that part keeps its default", self.path, problem)
            return self._texts

    def welcome(self, sources: Sequence[SourceInfo], language: str) -> Welcome:
        return welcome(sources, language, self.texts())

"""Answers as Telegram HTML: every interpolated text escaped, long texts split without breaking markup.

Rendering builds one HTML string; `split_html` then cuts it into messages under Telegram's limit,
preferring paragraph, then line (one source per line), then sentence, then word boundaries. It
never cuts inside a tag or an entity, and a cut inside an element closes the open tags at the end
of one part and reopens them (attributes included) at the start of the next, so every part is
balanced on its own.
"""

from __future__ import annotations

import html
import re
from typing import Collection, Iterable, Mapping, Sequence

from knowledge.types import Answer, Citation
from sme_advisor.i18n import translator

MESSAGE_LIMIT = 4096  # Telegram counts UTF-16 code units; `split_html` measures the same way
_MARKER = re.compile(r"\[(\d{1,3})\]")
# Atoms the splitter never cuts: a tag, an entity, or one character of text.
_ATOM = re.compile(r"<[^<>]+>|&#?[A-Za-z0-9]+;|.", re.DOTALL)
_TRAILING_SPACE = re.compile(r"\s+((?:</[^<>]+>)*)$")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")
# How good a cut after an atom is; the best kind that fits wins, and the latest of that kind.
PARAGRAPH, LINE, SENTENCE, WORD, ANYWHERE = 4, 3, 2, 1, 0


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _cut_quality(atoms: Sequence[str], end: int) -> int | None:
    """The quality of cutting after atoms[end - 1], or None where a cut would look broken."""
    last = atoms[end - 1]
    if last == "\n":
        return PARAGRAPH if end >= 2 and atoms[end - 2] == "\n" else LINE
    if last == " ":
        return SENTENCE if end >= 2 and atoms[end - 2] in ".!?:;" else WORD
    if last.startswith("<") and not last.startswith("</"):
        return None  # right after an opening tag: the part would end in an empty element
    return ANYWHERE


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cuts balanced HTML into balanced parts of at most `limit` UTF-16 units each."""
    atoms = _ATOM.findall(text)
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, opening tag as written), outermost first
    start = 0
    while start < len(atoms):
        while start < len(atoms) and atoms[start].isspace():
            start += 1  # a part never starts with the whitespace the previous cut left
        if start == len(atoms):
            break
        prefix = "".join(tag for _, tag in open_tags)  # reopen what the previous part had to close
        size, stack = _units(prefix), list(open_tags)
        best: dict[int, tuple[int, list[tuple[str, str]]]] = {}
        end = start
        while end < len(atoms):
            atom = atoms[end]
            _apply(atom, stack)
            size += _units(atom)
            if size + sum(len(name) + 3 for name, _ in stack) > limit:
                break
            end += 1
            quality = _cut_quality(atoms, end)
            if quality is not None:
                best[quality] = (end, list(stack))
        else:
            best = {PARAGRAPH + 1: (end, stack)}  # the rest fits
        if not best:
            raise ValueError(f"limit {limit} is too small for the markup around {atoms[start]!r}")
        end, stack = best[max(best)]
        part = prefix + "".join(atoms[start:end]) + "".join(f"</{name}>" for name, _ in reversed(stack))
        part = _TRAILING_SPACE.sub(r"\1", part)  # "text </b>" -> "text</b>"
        if _visible(part):
            parts.append(part)
        open_tags, start = stack, end
    return parts


def _apply(atom: str, stack: list[tuple[str, str]]) -> None:
    if not atom.startswith("<") or len(atom) < 3 or atom.endswith("/>"):
        return
    match = _TAG_NAME.match(atom)
    if match is None:
        return
    name = match.group(1).lower()
    if atom.startswith("</"):
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                del stack[index]
                break
    else:
        stack.append((name, atom))


def _visible(part: str) -> bool:
    return bool(re.sub(r"<[^<>]+>", "", part).strip())


# --- what the bot sends ------------------------------------------------------------------------
def answer_html(answer: Answer) -> str:
    """The answer with bold markers [n], then the numbered sources (one line per document), the
    headings in the answer's language."""
    if answer.refused:
        return escape(answer.answer)
    tr = translator(answer.language)
    cited = {str(citation.n) for citation in answer.citations}
    # Only a marker with a source behind it is shown as one; any other "[7]" stays plain text.
    def mark(match: re.Match[str]) -> str:
        return f"<b>{match.group(0)}</b>" if match.group(1) in cited else match.group(0)

    paragraphs = [_MARKER.sub(mark, escape(p.strip())) for p in answer.answer.split("\n\n") if p.strip()]
    text = "\n\n".join(paragraphs)
    if answer.citations:
        heading = tr.gettext("Sources")
        text += f"\n\n<b>{escape(heading)}</b>\n" + "\n".join(source_lines(answer.citations))
    if answer.mode == "extractive" and answer.fallback_reason and not answer.fallback_reason.startswith("condense"):
        note = tr.gettext("(The language model was unavailable; these are the library's own sentences.)")
        text += f"\n\n<i>{escape(note)}</i>"
    return text


def source_lines(citations: Iterable[Citation]) -> list[str]:
    """"[1] [3] Title · p. 3" per document and place: markers into one place share a line."""
    markers: dict[tuple[str, str | None], list[int]] = {}
    titles: dict[str, str] = {}
    for citation in citations:
        markers.setdefault((citation.doc_id, citation.location), []).append(citation.n)
        titles.setdefault(citation.doc_id, citation.title)
    return [f"{' '.join(f'[{n}]' for n in numbers)} {escape(titles[doc_id])}{_where(location)}"
            for (doc_id, location), numbers in markers.items()]


def _where(location: str | None) -> str:
    return f" · <i>{escape(location)}</i>" if location else ""


def answer_messages(answer: Answer, limit: int = MESSAGE_LIMIT) -> list[str]:
    return split_html(answer_html(answer), limit)


def quotes_html(answer: Answer, gone: Collection[str] = ()) -> str:
    """The verbatim passages behind an answer, one quote block per citation; a passage in `gone`
    (chunk ids no longer in the library) says so, since the answer is older than the library."""
    tr = translator(answer.language)
    if not answer.citations:
        return escape(tr.gettext("This answer has no quoted passages."))
    note = "\n<i>" + escape(tr.gettext("This passage is no longer in the library: its document was removed or "
                                        "changed after this answer.")) + "</i>"
    return "\n\n".join(f"<b>[{c.n}] {escape(c.title)}</b>{_where(c.location)}\n"
                         f"<blockquote expandable>{_in_context(c)}</blockquote>{note if c.chunk_id in gone else ''}"
                         for c in answer.citations)


def _in_context(citation: Citation) -> str:
    """The quote in bold where it stands: the sentence before and after it, from the same passage.
    A quote with nothing around it stays plain: bold would mark nothing off."""
    if not (citation.before.strip() or citation.after.strip()):
        return escape(" ".join(citation.quote.split()))
    before = f"{escape(' '.join(citation.before.split()))} " if citation.before.strip() else ""
    after = f" {escape(' '.join(citation.after.split()))}" if citation.after.strip() else ""
    return f"{before}<b>{escape(' '.join(citation.quote.split()))}</b>{after}"


def quote_messages(answer: Answer, limit: int = MESSAGE_LIMIT, gone: Collection[str] = ()) -> list[str]:
    return split_html(quotes_html(answer, gone), limit)


def titled_list(title: str, lines: Iterable[str], footer: str = "", limit: int = MESSAGE_LIMIT) -> list[str]:
    """A bold title, one escaped bullet per line and a footer paragraph, split between lines when long."""
    text = f"<b>{escape(title)}</b>\n" + "\n".join(f"• {escape(line)}" for line in lines)
    return split_html(text + (f"\n\n{escape(footer)}" if footer else ""), limit)


def topics_messages(grouped: Mapping[str, Sequence[str]], language: str = "en",
                    limit: int = MESSAGE_LIMIT) -> list[str]:
    """One bold heading per topic (the admins' tags, as they are), its titles below."""
    tr = translator(language)

    def heading(topic: str) -> str:
        # "general" holds the untagged documents (KnowledgeBase.topics): the one name that is ours.
        return tr.gettext("General") if topic == "general" else topic.replace("-", " ").capitalize()

    sections = [f"<b>{escape(heading(topic))}</b>\n"
                + "\n".join(f"• {escape(title)}" for title in titles) for topic, titles in grouped.items()]
    return split_html("\n\n".join(sections), limit)

"""Prompt templates, stored as files beside this module (package data: `prompts/*.txt`).

- `system.txt`     the rules of a generative answer (passages only, claims as JSON lines with a
                   verbatim quote each, the answer's language, data is not instructions)
- `answer.txt`     the user turn: numbered passages, the conversation so far, the question
- `example.txt`    a worked example shown before an English question (few-shot)
- `example_zh.txt` the same for a Chinese question: Chinese claims, quotes in their passage's language
- `system_copy.txt`, `answer_copy.txt`, `example_copy.txt`: the "copy" style for small local models,
                   which copy passage sentences ending in `[n]` (each copied sentence is its own quote)
- `condense.txt`   rewrites a follow-up as a standalone question (in its language) before retrieval

Templates use LangChain's f-string syntax: `{name}` is a variable, `{{` a literal brace. `{language}`
is the answer's language named in full ("English", "Chinese (简体中文)"): see `language_name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.language import Language

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parent


def read(name: str) -> str:
    """The text of `prompts/<name>.txt`, without its trailing newline."""
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


@dataclass(frozen=True, slots=True)
class Example:
    passages: str
    question: str
    answer: str


LANGUAGE_NAMES = {"en": "English", "zh": "Chinese (简体中文)"}
TRADITIONAL_NAME = "Chinese (繁體中文)"


def language_name(language: Language, question: str = "") -> str:
    """The answer's language as the prompts name it; Chinese written in Traditional characters is
    answered in Traditional characters (OpenCC tells them apart)."""
    if language == "zh" and question and _is_traditional(question):
        return TRADITIONAL_NAME
    return LANGUAGE_NAMES[language]


def _is_traditional(text: str) -> bool:
    from knowledge.chinese import to_simplified

    return to_simplified(text) != text


@cache
def example(language: Language = "en", style: str = "json") -> Example:
    name = "example_copy" if style == "copy" else "example" if language == "en" else f"example_{language}"
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in read(name).splitlines():
        if line.startswith("### "):
            current = sections.setdefault(line[4:].strip(), [])
        elif current is not None and not line.startswith("#"):
            current.append(line)
    text = {name: "\n".join(lines).strip() for name, lines in sections.items()}
    return Example(text["passages"], text["question"], text["answer"])


@cache
def answer_prompt(language: Language = "en", style: str = "json") -> ChatPromptTemplate:
    """The prompt for a question in `language` (its worked example is in that language).
    Variables: `passages`, `conversation` (may be empty), `question`, `language` (a name; the
    "copy" style has no use for it: copied sentences are in their passage's language)."""
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_core.prompts import ChatPromptTemplate

    if style not in ("json", "copy"):
        raise ValueError(f"no answer style {style!r}")
    suffix = "_copy" if style == "copy" else ""
    shot = example(language, style)
    template = read(f"answer{suffix}")
    # The example is rendered with the same template, then passed as fixed messages.
    shot_user = template.format(passages=shot.passages, conversation="", question=shot.question,
                                language=LANGUAGE_NAMES[language])
    return ChatPromptTemplate.from_messages([
        ("system", read(f"system{suffix}")),
        HumanMessage(content=shot_user),
        AIMessage(content=shot.answer),
        ("human", template),
    ])


@cache
def condense_prompt() -> ChatPromptTemplate:
    """Variables: `history`, `question`, `language` (a name)."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("human", read("condense"))])

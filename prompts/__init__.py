"""Prompt templates, stored as files beside this module (package data: `prompts/*.txt`).

- `system.txt`   the rules of a generative answer (passages only, cite [n], data is not instructions)
- `answer.txt`   the user turn: numbered passages, the conversation so far, the question
- `example.txt`  one worked example shown before the real question (few-shot)
- `condense.txt` rewrites a follow-up as a standalone question before retrieval

Templates use LangChain's f-string syntax: `{name}` is a variable, `{{` a literal brace.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

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


@cache
def example() -> Example:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in read("example").splitlines():
        if line.startswith("### "):
            current = sections.setdefault(line[4:].strip(), [])
        elif current is not None and not line.startswith("#"):
            current.append(line)
    text = {name: "\n".join(lines).strip() for name, lines in sections.items()}
    return Example(text["passages"], text["question"], text["answer"])


@cache
def answer_prompt() -> ChatPromptTemplate:
    """Variables: `passages`, `conversation` (may be empty), `question`."""
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_core.prompts import ChatPromptTemplate

    shot = example()
    template = read("answer")
    # The example is rendered with the same template, then passed as fixed messages.
    shot_user = template.format(passages=shot.passages, conversation="", question=shot.question)
    return ChatPromptTemplate.from_messages([
        ("system", read("system")),
        HumanMessage(content=shot_user),
        AIMessage(content=shot.answer),
        ("human", template),
    ])


@cache
def condense_prompt() -> ChatPromptTemplate:
    """Variables: `history`, `question`."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("human", read("condense"))])

"""`sme-advisor chat`: a conversation in the terminal.

In a terminal, lines are read with prompt_toolkit: arrow keys and the usual editing keys work, ↑/↓
recall earlier lines (kept in `<data dir>/chat_history`, so they outlive the session) and Tab
completes the commands. Ctrl-C clears the line, Ctrl-D leaves. When input comes from a pipe, lines
are read plainly, one question a line.

A line starting with "/" is a command, never a question: a mistyped one gets "did you mean" and the
list, and nothing is sent to the library.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from rich.markup import escape

from knowledge.language import Language
from knowledge.types import Turn
from sme_advisor.i18n import translator

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from sme_advisor.welcome import Welcome

COMMANDS = ("/help", "/reset", "/sources", "/quit")
ALIASES = {"/new": "/reset", "/exit": "/quit", "/?": "/help"}
HISTORY_TURNS = 8
HISTORY_FILE = "chat_history"


class LineReader:
    """Reads one line; raises EOFError at the end (Ctrl-D) and KeyboardInterrupt on Ctrl-C."""

    editing = False

    def __init__(self, console: Console) -> None:
        self.console = console

    def read(self, prompt: str) -> str:
        return self.console.input("\n[bold][cyan]" + escape(prompt) + "[/][/] ")


class EditingLineReader(LineReader):
    """prompt_toolkit's line editor with a persistent history and command completion."""

    editing = True

    def __init__(self, console: Console, history_path: Path, input=None, output=None) -> None:  # type: ignore[no-untyped-def]
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import WordCompleter
        from prompt_toolkit.history import FileHistory

        super().__init__(console)
        history_path.parent.mkdir(parents=True, exist_ok=True)
        self.session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history_path)),
            completer=WordCompleter(list(COMMANDS), sentence=True, match_middle=False),
            complete_while_typing=False, input=input, output=output)

    def read(self, prompt: str) -> str:
        self.console.print()
        return self.session.prompt([("fg:ansicyan", prompt), ("", " ")])


def line_reader(console: Console, data_dir: Path) -> LineReader:
    """The line editor when both ends are a terminal, else plain reading (pipes, tests, scripts)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return EditingLineReader(console, data_dir / HISTORY_FILE)
    return LineReader(console)


def command_of(line: str) -> str | None:
    """"/reset" for "/reset" or "/Reset"; None for a question (a line not starting with "/word")."""
    word = line.split()[0] if line.split() else ""
    if not word.startswith("/") or len(word) < 2:
        return None
    word = word.lower()
    return ALIASES.get(word, word)


def help_text(language: str, editing: bool) -> str:
    tr = translator(language)
    lines = [tr.gettext("Ask a question in plain words; a follow-up question uses the conversation."),
             tr.gettext("/reset – forget the conversation\n/sources – list the library\n/help – this message\n"
                        "/quit or Ctrl-D – leave")]
    if editing:
        lines.append(tr.gettext("↑ and ↓ recall earlier lines; Tab completes a command; Ctrl-C clears the line."))
    return "\n".join(lines)


def run_chat(kb: KnowledgeBase, console: Console, reader: LineReader, speaking: Language,
             about: Callable[[str], Welcome]) -> None:
    """The conversation loop; `about(language)` is how the advisor presents itself."""
    from sme_advisor.render import print_answer, print_sources

    tr = translator(speaking)
    introduced = about(speaking)
    console.print(f"[bold]{escape(introduced.name)}[/] — " + escape(introduced.intro))
    console.print(f"[dim]{escape(kb.library_overview(speaking))}[/]")
    console.print("[dim]" + escape(tr.gettext(
        "Commands: /help, /reset forgets the conversation, /sources lists the library, Ctrl-D leaves.")) + "[/]")
    history: list[Turn] = []
    while True:
        tr = translator(speaking)
        try:
            line = reader.read(tr.gettext("You ›")).strip()
        except KeyboardInterrupt:
            if reader.editing:  # Ctrl-C at the prompt clears the line, as in a shell
                continue
            console.print("\n[dim]" + escape(tr.gettext("Goodbye.")) + "[/]")
            return
        except EOFError:
            console.print("\n[dim]" + escape(tr.gettext("Goodbye.")) + "[/]")
            return
        if not line:
            continue
        command = command_of(line)
        if command == "/quit":
            console.print("[dim]" + escape(tr.gettext("Goodbye.")) + "[/]")
            return
        if command == "/reset":
            history.clear()
            console.print("[dim]" + escape(tr.gettext("Conversation forgotten.")) + "[/]")
        elif command == "/sources":
            print_sources(console, kb.sources(), speaking)
        elif command == "/help":
            console.print(escape(help_text(speaking, reader.editing)))
        elif command is not None:
            console.print("[yellow]" + escape(unknown_command(command, speaking)) + "[/]")
        else:
            answer = kb.ask(line, history=history, language=speaking)
            print_answer(console, answer)
            speaking = answer.language  # the commands and prompt follow the owner's last question
            history += [Turn("user", line), Turn("assistant", answer.answer)]
            del history[:-HISTORY_TURNS]


def unknown_command(command: str, language: str) -> str:
    tr = translator(language)
    close = difflib.get_close_matches(command, COMMANDS, n=1, cutoff=0.5)
    if close:
        return tr.gettext("There is no command %(command)s. Did you mean %(suggestion)s? Type /help for the "
                          "commands; nothing was asked.") % {"command": command, "suggestion": close[0]}
    return tr.gettext("There is no command %(command)s. Type /help for the commands; nothing was asked.") % {
        "command": command}

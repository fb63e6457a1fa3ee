"""The command line as an admin uses it: Ctrl-C during ingest, empty folders and address mistakes,
the starter library only on first use, "did you mean", ids that survive 80 columns, the feedback
export, and `chat`'s line editor, history and commands (real knowledge base, real model)."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.storage import BotStore
from ingest.pipeline import IngestProgress, ingest_paths
from ingest.starter import ensure_library, is_first_use
from knowledge.types import Answer, Citation
from sme_advisor.chat import EditingLineReader, LineReader, run_chat
from sme_advisor.cli import app
from sme_advisor.welcome import welcome
from tests.test_ingest import write_note

ROOT = Path(__file__).resolve().parent.parent


def _cli(data_dir: Path, models_dir: Path, *args: str, columns: int = 200):  # type: ignore[no-untyped-def]
    env = {"SME_ADVISOR_DATA_DIR": str(data_dir), "SME_ADVISOR_MODELS_DIR": str(models_dir), "COLUMNS": str(columns),
           "LLM_PROVIDER": "none", "LOAD_TIMEOUT_S": "0"}
    return CliRunner().invoke(app, list(args), env=env)


# --- ingest --------------------------------------------------------------------------------------
def test_ctrl_c_during_an_ingest_keeps_what_was_done_and_says_what_was_not(open_kb, tmp_path: Path) -> None:
    kb = open_kb(tmp_path / "data")
    folder = tmp_path / "docs"
    for name in ("a-guide.txt", "b-guide.txt", "c-guide.txt"):
        write_note(folder, name, extra=f"\n\nThis copy is {name}.")

    def interrupt_after_the_first(event: IngestProgress) -> None:
        if event.doc_index == 1 and event.stage == "reading":
            raise KeyboardInterrupt  # where Python delivers Ctrl-C: in the middle of the work

    try:
        report = ingest_paths(kb, [folder], on_progress=interrupt_after_the_first, isolate=False)
        assert report.interrupted and not report.ok
        assert report.added == ["a-guide"] and [Path(p).name for p in report.not_done] == ["b-guide.txt", "c-guide.txt"]
        assert [s.doc_id for s in kb.sources()] == ["a-guide"]  # the finished document stays, whole
        again = ingest_paths(kb, [folder], isolate=False)  # running it again finishes the job
        assert again.unchanged == ["a-guide"] and again.added == ["b-guide", "c-guide"]
    finally:
        kb.close()


def test_ctrl_c_in_a_real_ingest_process_prints_what_was_done(tmp_path: Path, models_dir: Path) -> None:
    folder = tmp_path / "docs"
    for n in range(40):
        write_note(folder, f"guide-{n:02}.txt", extra=f"\n\nCopy number {n} of the guide.")
    data = tmp_path / "data"
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(data), "SME_ADVISOR_MODELS_DIR": str(models_dir),
           "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, "-m", "sme_advisor", "ingest", str(folder)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while _documents(data) == 0 and process.poll() is None:  # wait until one document is in
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    kept = _documents(data)
    assert process.returncode == 130, stderr
    assert "Interrupted (Ctrl-C)." in stdout and f"{kept} document" in stdout and "not done:" in stdout
    assert 0 < kept < 40 and "Run the same command again" in stdout
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr  # nor the file reader's


def _documents(data: Path) -> int:
    try:
        with sqlite3.connect(data / "catalog.sqlite3", timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_an_empty_folder_and_mistyped_addresses_say_so(tmp_path: Path, models_dir: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / ".hidden.txt").write_text("not read")
    result = _cli(tmp_path / "data", models_dir, "ingest", str(empty), "www.example.com/guide", "ftp://example.org/a",
                  "https:/example.org/b")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "no documents in this folder (it holds no" in output and "pdf" in output
    assert "write the whole address: https://www.example.com/guide" in output
    assert "only http:// and https:// web addresses can be fetched, not ftp://" in output
    assert "not a complete web address" in output
    assert "skipped" in output and ".hidden.txt" in output


def test_an_unreachable_address_names_the_host(tmp_path: Path, models_dir: Path) -> None:
    result = _cli(tmp_path / "data", models_dir, "ingest", "https://no-such-host.invalid/guide")
    assert result.exit_code == 1
    assert "cannot reach no-such-host.invalid: no such host" in " ".join(result.output.split())


def test_ingest_needs_something_to_ingest(tmp_path: Path, models_dir: Path) -> None:
    result = _cli(tmp_path / "data", models_dir, "ingest")
    assert result.exit_code == 2 and "--starter" in result.output


# --- the starter library, "did you mean", ids at 80 columns --------------------------------------
def test_the_starter_library_is_added_on_first_use_only(open_kb, tmp_path: Path, models_dir: Path) -> None:
    data = tmp_path / "data"
    kb = open_kb(data)
    try:
        assert is_first_use(kb)
        ingest_paths(kb, [write_note(tmp_path / "docs", "handover-guide.txt")], isolate=False)
        assert kb.remove_source("handover-guide") and kb.is_empty()
        assert not is_first_use(kb) and ensure_library(kb) is None and kb.is_empty()  # emptied stays empty
    finally:
        kb.close()
    asked = _cli(data, models_dir, "ask", "How do I hand my firm to my children?")
    assert asked.exit_code == 0
    assert "The library is empty." in asked.output and "sme-advisor ingest --starter" in asked.output
    assert "First use" not in asked.output and _documents(data) == 0


def test_sources_remove_and_show_suggest_the_id_meant(open_kb, tmp_path: Path, models_dir: Path) -> None:
    data = tmp_path / "data"
    kb = open_kb(data)
    long_id = "family-business-succession-and-handover-planning-guide-2024"
    ingest_paths(kb, [write_note(tmp_path / "docs", f"{long_id}.txt")], isolate=False)
    kb.close()
    for command in ("remove", "show"):
        result = _cli(data, models_dir, "sources", command, "family-busines-succession")
        assert result.exit_code == 1 and f"did you mean {long_id}" in result.output
    assert _documents(data) == 1  # a suggestion is never acted on
    listing = _cli(data, models_dir, "sources", "list", columns=80)
    assert listing.exit_code == 0
    assert any(line.strip() == long_id for line in listing.output.splitlines())  # whole, on its own line
    assert all(len(line) <= 80 for line in listing.output.splitlines())
    assert "1 passage" in listing.output or "passages" in listing.output
    wide = _cli(data, models_dir, "sources", "list", columns=200)
    assert any(long_id in line for line in wide.output.splitlines()) and "┃ doc_id" in wide.output


# --- feedback export -----------------------------------------------------------------------------
def test_feedback_export_writes_csv_and_jsonl(tmp_path: Path, models_dir: Path) -> None:
    data = tmp_path / "data"
    missing = _cli(data, models_dir, "feedback", "export", "--out", str(tmp_path / "out"))
    assert missing.exit_code == 1 and "no bot database" in missing.output
    store = BotStore(data / "bot.sqlite3")
    answered = store.save_answer(5, 50, Answer("How do I hand over my firm?", "Start early [1].", False, citations=[
        Citation(1, "handover-guide", "Handover guide", "handover-guide:0", "Start early.")]))
    store.save_answer(5, 50, Answer("天气如何？", "我的资料库中没有涉及这个问题的内容。", True, language="zh", refusal="not_covered"))
    store.record_feedback(answered, 50, 1)
    store.close()
    result = _cli(data, models_dir, "feedback", "export", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0 and "(1 vote)" in result.output and "(1 question)" in result.output
    written = {path.name.split("-")[0]: path for path in (tmp_path / "out").iterdir()}
    votes = list(csv.DictReader(io.StringIO(written["feedback"].read_text(encoding="utf-8-sig"))))
    assert votes[0]["vote"] == "up" and votes[0]["question"] == "How do I hand over my firm?"
    assert votes[0]["sources"] == "handover-guide" and votes[0]["source_titles"] == "Handover guide"
    questions = list(csv.DictReader(io.StringIO(written["unanswered"].read_text(encoding="utf-8-sig"))))
    assert questions[0]["question"] == "天气如何？" and questions[0]["reason"] == "not_covered"
    jsonl = _cli(data, models_dir, "feedback", "export", "--out", str(tmp_path / "json"), "--format", "jsonl")
    assert jsonl.exit_code == 0 and all(p.suffix == ".jsonl" for p in (tmp_path / "json").iterdir())
    assert _cli(data, models_dir, "feedback", "export", "--format", "xls").exit_code == 2


# --- chat ----------------------------------------------------------------------------------------
class ScriptedReader(LineReader):
    """The lines an owner types, then Ctrl-D."""

    def __init__(self, console: Console, lines: list[str]) -> None:
        super().__init__(console)
        self.lines = list(lines)

    def read(self, prompt: str) -> str:
        self.console.print(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


def test_chat_commands_and_mistyped_ones_are_never_asked(starter_kb) -> None:  # type: ignore[no-untyped-def]
    screen = io.StringIO()
    console = Console(file=screen, width=200)
    asked: list[str] = []
    original = starter_kb.ask

    def ask(question: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(question)
        return original(question, *args, **kwargs)

    starter_kb.ask = ask
    try:
        run_chat(starter_kb, console, ScriptedReader(console, ["/hepl", "/help", "/frobnicate", "/Sources",
                                                               "How many little giants are based in Shanghai?", "/quit"]),
                 "en", lambda language: welcome(starter_kb.sources(), language))
    finally:
        del starter_kb.ask
    output = screen.getvalue()
    assert asked == ["How many little giants are based in Shanghai?"]  # commands, typos included, stay local
    assert "There is no command /hepl. Did you mean /help?" in output and "nothing was asked" in output
    assert "There is no command /frobnicate. Type /help for the commands" in output
    assert "/reset – forget the conversation" in output and "/quit or Ctrl-D – leave" in output
    assert "little-giants-growing" in output and "262" in output
    assert output.startswith("SME Advisor — I help owners of small and medium-sized businesses with questions on")
    assert "Commands: /help," in output and output.rstrip().endswith("Goodbye.")


def test_the_line_editor_edits_recalls_history_and_completes_commands(tmp_path: Path) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    history = tmp_path / "chat_history"
    console = Console(file=io.StringIO())
    with create_pipe_input() as keys:
        reader = EditingLineReader(console, history, input=keys, output=DummyOutput())
        keys.send_text("What is a little giant?\r")
        assert reader.read("You ›") == "What is a little giant?"
        keys.send_text("abc\x1b[D\x1b[DX\r")  # ← ← then X: line editing, not "^[[D"
        assert reader.read("You ›") == "aXbc"
        keys.send_text("\x1b[A\x1b[A\r")  # ↑ ↑ recalls the line before the last
        assert reader.read("You ›") == "What is a little giant?"
        keys.send_text("/reset\r")
        assert reader.read("You ›") == "/reset"
        # Tab completes the commands (asked of the completer itself: the key runs it in the background)
        completions = reader.session.completer.get_completions(Document("/res"), CompleteEvent())
        assert [c.text for c in completions] == ["/reset"]
    assert "What is a little giant?" in history.read_text(encoding="utf-8")
    with create_pipe_input() as keys:  # a new session remembers the last one
        reader = EditingLineReader(console, history, input=keys, output=DummyOutput())
        keys.send_text("\x1b[A\r")
        assert reader.read("You ›") == "/reset"
        keys.send_text("\x03")  # Ctrl-C
        with pytest.raises(KeyboardInterrupt):
            reader.read("You ›")
        keys.send_text("\x04")  # Ctrl-D on an empty line
        with pytest.raises(EOFError):
            reader.read("You ›")

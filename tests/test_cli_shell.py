"""The `sme-advisor` shell: front ends mounted, not imported into each other; fast paths stay light;
every configuration mistake is one line naming the setting."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sentence_transformers", "torch", "transformers", "onnxruntime", "telegram", "langchain_core",
         "prompt_toolkit", "matplotlib")


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "ADMIN_", "LLM_", "SME_ADVISOR_", "CHROMA_", "MIN_RELEVANCE"))}
    return {**env, "SME_ADVISOR_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1", **extra}


def _imports_after(args: list[str], env: dict[str, str]) -> tuple[int, str, list[str]]:
    """Runs the CLI in a fresh interpreter; returns exit code, output and the heavy modules it imported."""
    probe = ("import json, sys\n"
             "from typer.testing import CliRunner\n"
             "from sme_advisor.cli import app\n"
             f"result = CliRunner().invoke(app, {args!r})\n"
             f"print(json.dumps([result.exit_code, result.output, [m for m in {HEAVY!r} if m in sys.modules]]))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    code, output, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    return code, output, heavy


def test_every_command_is_mounted_in_one_shell(tmp_path: Path) -> None:
    code, output, heavy = _imports_after(["--help"], _clean_env(tmp_path))
    assert code == 0
    for command in ("ask", "chat", "ingest", "reindex", "check", "sources", "bot", "feedback", "eval"):
        assert f" {command} " in output, command
    assert heavy == []


def test_sources_list_loads_no_model_no_telegram(tmp_path: Path) -> None:
    code, output, heavy = _imports_after(["sources", "list"], _clean_env(tmp_path))
    assert code == 0 and "The library is empty" in output
    assert heavy == []


def test_front_ends_do_not_import_the_shell() -> None:
    """Each front end exposes its own typer app; only sme_advisor/cli.py mounts them."""
    front_ends = [ROOT / "bot" / "cli.py", ROOT / "evaluation" / "cli.py", ROOT / "sme_advisor" / "commands.py",
                  ROOT / "sme_advisor" / "context.py"]
    for path in front_ends:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        assert "sme_advisor.cli" not in imported, path
    import bot.cli
    import evaluation.cli
    import sme_advisor.commands

    assert {c.name for c in bot.cli.app.registered_commands} == {"bot"}
    assert {c.name for c in evaluation.cli.app.registered_commands} == {"eval"}
    assert {c.callback.__name__ for c in sme_advisor.commands.app.registered_commands} == {
        "ask", "chat", "ingest", "reindex", "check"}


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("ADMIN_USER_IDS", "@alice", "ADMIN_USER_IDS=@alice: @alice is a username"),
    ("ADMIN_USER_IDS", "12,bob", "ADMIN_USER_IDS=12,bob: 'bob' is not a Telegram user id"),
    ("CHROMA_PORT", "eight", "CHROMA_PORT=eight: expected a whole number"),
    ("LLM_PROVIDER", "gpt", "LLM_PROVIDER=gpt: expected one of 'none', 'openai' or 'local'"),
    ("AUTO_INGEST_STARTER", "maybe", "AUTO_INGEST_STARTER=maybe: expected true or false"),
    ("MIN_RELEVANCE", "high", "MIN_RELEVANCE=high: expected a number"),
])
def test_a_configuration_mistake_is_one_line_naming_the_setting(tmp_path: Path, variable: str, value: str,
                                                                expected: str) -> None:
    for args in (["sources", "list"], ["bot"], ["eval", "x.jsonl"]):
        done = subprocess.run([sys.executable, "-m", "sme_advisor", *args], capture_output=True, text=True,
                              env=_clean_env(tmp_path, **{variable: value}), cwd=ROOT, timeout=120)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert lines[0] == f"Configuration error: {lines[0].split(': ', 1)[1]}" and expected in lines[0], lines
        assert len(lines) == 2 and ".env.example" in lines[1], lines
        assert "Traceback" not in done.stderr and done.stdout == ""


def test_several_mistakes_are_one_line_each_and_help_still_works(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, ADMIN_USER_IDS="@alice", CHROMA_PORT="x")
    done = subprocess.run([sys.executable, "-m", "sme_advisor", "ask", "why?"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert [line.split("=")[0] for line in done.stderr.splitlines()[:2]] == [
        "Configuration error: CHROMA_PORT", "Configuration error: ADMIN_USER_IDS"]
    helped = subprocess.run([sys.executable, "-m", "sme_advisor", "ask", "--help"], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    assert helped.returncode == 0 and "question" in helped.stdout.lower()


def test_an_unreachable_chroma_server_is_one_line_naming_the_settings(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    done = subprocess.run([sys.executable, "-m", "sme_advisor", "sources", "list"], capture_output=True, text=True,
                          env=_clean_env(tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(closed)), cwd=ROOT,
                          timeout=120)
    assert done.returncode == 1  # not 2: a server that is still starting is worth another try
    assert done.stderr.strip() == (f"Error: cannot reach the Chroma server at CHROMA_HOST=127.0.0.1 "
                                   f"CHROMA_PORT={closed}: is `chroma run` running there?")

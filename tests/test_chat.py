from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.starter import starter_files


def test_chat_keeps_the_conversation_and_understands_its_commands(tmp_path: Path, models_dir: Path) -> None:
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(tmp_path / "data"), "SME_ADVISOR_MODELS_DIR": str(models_dir),
           "COLUMNS": "200"}
    turns = ["What are the little giant companies?", "and how many of them are listed on the stock market?",
             "/sources", "/reset", "and how many of them are listed on the stock market?"]
    result = subprocess.run([sys.executable, "-m", "sme_advisor", "chat"], input="\n".join(turns) + "\n",
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    answers = output.split("You ›")[1:]
    assert len(answers) == len(turns) + 1  # one more prompt, then Ctrl-D (end of input) leaves
    assert "300" in answers[1], "the follow-up is answered from the previous turn"
    assert "little-giants-growing" in answers[2] and f"{len(starter_files())} documents" in answers[2]
    assert "Conversation forgotten" in answers[3]
    assert "Goodbye" in output

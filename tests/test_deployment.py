"""The deployment files, tested as far as this machine allows: .env.example names exactly the
settings, the systemd unit passes `systemd-analyze verify` and starts a command that exists, and the
container recipe's files parse and point at what the project installs. (No Docker engine here: the
image itself is not built in the tests.)"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sme_advisor.context import variable_name
from sme_advisor.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*)$")
# Lines whose value is an example to replace, not the default.
EXAMPLES = {"TELEGRAM_BOT_TOKEN", "ADMIN_USER_IDS", "WEBHOOK_URL", "LLM_BASE_URL"}
VENV_BIN = Path(sys.executable).parent


def _documented() -> dict[str, str]:
    return {m.group(1): m.group(2) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
            if (m := VARIABLE.match(line))}


def test_env_example_names_every_setting_once_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    names = [m.group(1) for line in lines if (m := VARIABLE.match(line))]
    assert len(names) == len(set(names))
    assert set(names) == {variable_name(field) for field in Settings.model_fields}
    for index, line in enumerate(lines):  # every setting has words above it (or shares its neighbour's)
        if VARIABLE.match(line):
            above = lines[index - 1]
            assert above.startswith("#") and (VARIABLE.match(above) or len(above) > 3), line
    # systemd's EnvironmentFile and docker's env_file read it: comments, blank lines, NAME=value
    assert all(not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line) for line in lines)


def test_env_example_uncommented_is_valid_and_shows_the_defaults(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    documented = _documented()
    for name in documented:
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in documented.items()), encoding="utf-8")
    configured, defaults = Settings(_env_file=env_file), Settings(_env_file=None)
    for field in Settings.model_fields:
        name = variable_name(field)
        if name not in EXAMPLES:
            assert getattr(configured, field) == getattr(defaults, field), f"{name}: .env.example shows another default"
    assert configured.admin_user_ids == [111111111, 222222222]  # the examples are valid values too


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read(DEPLOY / "sme-advisor.service", encoding="utf-8")
    return parser


def test_the_systemd_units_command_exists_and_starts(tmp_path: Path) -> None:
    service = _unit()["Service"]
    program, *args = shlex.split(service["ExecStart"])
    assert program == "/opt/sme-advisor/.venv/bin/sme-advisor" and args == ["bot"]
    here = VENV_BIN / "sme-advisor"  # the same console script, where this checkout installed it
    assert here.is_file() and os.access(here, os.X_OK)
    done = subprocess.run([str(here), *args, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--webhook-url" in done.stdout
    assert service["WorkingDirectory"] == "/opt/sme-advisor" and service["EnvironmentFile"] == "/etc/sme-advisor/env"
    assert "SME_ADVISOR_DATA_DIR=/var/lib/sme-advisor" in service["Environment"] or any(
        line == "Environment=SME_ADVISOR_DATA_DIR=/var/lib/sme-advisor"
        for line in (DEPLOY / "sme-advisor.service").read_text().splitlines())
    assert service["RestartPreventExitStatus"] == "2"  # the exit code of a configuration error
    # ...which is what a configuration error exits with
    bad = subprocess.run([str(here), "bot"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ADMIN_USER_IDS": "@alice", "SME_ADVISOR_DATA_DIR": str(tmp_path)})
    assert bad.returncode == 2


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # The unit as installed, with this checkout standing in for /opt/sme-advisor.
    text = (DEPLOY / "sme-advisor.service").read_text(encoding="utf-8")
    text = text.replace("/opt/sme-advisor/.venv/bin", str(VENV_BIN)).replace("/opt/sme-advisor", str(ROOT))
    text = text.replace("/etc/sme-advisor/env", str(ENV_EXAMPLE))
    text = re.sub(r"^(User|Group)=.*$", r"\1=root", text, flags=re.MULTILINE)  # no sme-advisor user here
    unit = tmp_path / "sme-advisor.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_container_recipe_runs_the_bot_beside_a_chroma_server() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    chroma, bot = compose["services"]["chroma"], compose["services"]["bot"]
    command = chroma["command"]
    assert command[:2] == ["chroma", "run"]
    options = dict(zip(command[2::2], command[3::2]))
    assert bot["environment"]["CHROMA_HOST"] == "chroma" and bot["environment"]["CHROMA_PORT"] == options["--port"]
    assert options["--host"] == "0.0.0.0" and bot["depends_on"] == ["chroma"]
    build = chroma["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert bot["image"] == chroma["image"]  # one image: the server is chromadb's own, at the locked version
    assert (DEPLOY / bot["env_file"][0]).parent.resolve() == ROOT and ENV_EXAMPLE.is_file()
    # the server command is the one this project installs (tests/test_chroma_server.py runs it for real)
    done = subprocess.run([str(VENV_BIN / "chroma"), "run", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--path" in done.stdout


def test_the_dockerfile_installs_what_setup_installs_and_starts_the_bot() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert instructions[0].startswith("FROM python:3.11")  # requires-python and the lock are for 3.11
    for line in instructions:
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            assert all((ROOT / source).exists() for source in sources), line
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    torch = re.search(r'"torch==([\d.]+)"', setup).group(1)
    assert f'"torch=={torch}"' in text and "pip install -r requirements.lock" in text
    assert 'CMD ["sme-advisor", "bot"]' in text
    assert 'sme-advisor = "sme_advisor.cli:app"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.search(r'include = \[(.*?)\]', (ROOT / "pyproject.toml").read_text(encoding="utf-8")).group(1)
    for package in re.findall(r'"(\w+)\*"', packages):  # every package the wheel holds is copied in
        assert f"COPY {package} ./{package}" in text, package

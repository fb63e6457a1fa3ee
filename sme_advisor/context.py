"""What every front end's commands share: the run's one `Settings` object.

The shell's callback leaves it unbuilt; the first command that needs it builds it, so `--help` never
reads the environment, and a configuration mistake is told in one line per setting, naming the
variable as the admin wrote it (`ADMIN_USER_IDS=@alice: …`), instead of pydantic's traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from pydantic import AliasChoices, ValidationError

from sme_advisor.settings import Settings

CONFIG_EXIT_CODE = 2


def settings_of(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings()
    return root.obj


def load_settings() -> Settings:
    """The settings from the environment and `.env`; exits with one line per mistake."""
    from pydantic_settings import SettingsError

    try:
        return Settings()
    except ValidationError as error:
        _exit_with(configuration_errors(error))
    except SettingsError as error:  # e.g. a .env value that cannot be read at all
        _exit_with([f"{error}"])


def _exit_with(lines: list[str]) -> NoReturn:
    # Plain writes, not rich: a long line must stay one line for grep and for the journal.
    for line in lines:
        sys.stderr.write(f"Configuration error: {line}\n")
    sys.stderr.write("See .env.example for every setting and its meaning.\n")
    raise typer.Exit(CONFIG_EXIT_CODE)


def variable_name(field: str) -> str:
    """The environment variable that sets `field` (its first alias, else its upper-cased name)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    return field.upper()


def configuration_errors(error: ValidationError) -> list[str]:
    """`NAME=value: what is wrong` for each setting pydantic rejected."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        value = problem.get("input")
        shown = value if isinstance(value, str) else "" if value is None else str(value)
        lines.append(f"{variable_name(field)}={shown}: {_reason(problem)}")
    return lines


def _reason(problem: dict) -> str:  # type: ignore[type-arg]
    kind = problem["type"]
    if kind == "int_parsing":
        return "expected a whole number"
    if kind == "float_parsing":
        return "expected a number"
    if kind == "bool_parsing":
        return "expected true or false"
    if kind == "literal_error":
        return f"expected one of {problem.get('ctx', {}).get('expected', '')}"
    if kind == "value_error":  # our validators' own messages
        return str(problem.get("ctx", {}).get("error") or problem["msg"])
    return str(problem["msg"])

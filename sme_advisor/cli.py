"""The `sme-advisor` console command.

Imports stay inside the commands: `--help`, `sources list` and the like must start fast, and only the
commands that embed text pay for loading the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sme_advisor.settings import Settings

app = typer.Typer(
    name="sme-advisor",
    help="Grounded advisory bot for SME owners: answers only from its library, with cited passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="List and remove the documents in the library.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@app.callback()
def main(ctx: typer.Context) -> None:
    ctx.obj = Settings()


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


from sme_advisor import commands as _commands  # noqa: E402  (the commands need `app` above)
from bot.cli import register as _register_bot  # noqa: E402
from evaluation.cli import register as _register_eval  # noqa: E402

_commands.register(app, sources_app)
_register_bot(app)
_register_eval(app)

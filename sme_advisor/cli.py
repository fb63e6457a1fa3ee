"""The `sme-advisor` console command: a shell that mounts each front end's own commands.

- `sme_advisor.commands.app`: the library (ask, chat, ingest, sources, reindex, check);
- `bot.cli.app`: the Telegram bot and its store (bot, feedback);
- `evaluation.cli.app`: answer quality (eval).

Nothing here imports a model, Chroma or Telegram: those imports stay inside the commands that need
them, so `--help` and `sources list` start fast. The settings are built by the first command that
needs them (`sme_advisor.context.settings_of`).
"""

from __future__ import annotations

import typer

from bot.cli import app as bot_app
from evaluation.cli import app as evaluation_app
from sme_advisor.commands import app as library_app

app = typer.Typer(
    name="sme-advisor",
    help="Grounded advisory bot for SME owners: answers only from its library, with cited passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(ctx: typer.Context) -> None:
    ctx.obj = None  # the run's Settings, built on first use


app.add_typer(library_app)
app.add_typer(bot_app)
app.add_typer(evaluation_app)

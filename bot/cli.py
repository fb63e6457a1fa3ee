"""`sme-advisor bot` runs the Telegram bot; `sme-advisor feedback export` takes its store out for review.

Imports stay inside the commands: the CLI must start fast, and `feedback export` needs no Telegram."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


app = typer.Typer(help="The Telegram bot and what it stores.")


@app.command(name="bot")
def run_bot(
    ctx: typer.Context,
    webhook_url: Annotated[Optional[str], typer.Option(
        "--webhook-url", help="Public HTTPS URL for a webhook instead of long polling (default: WEBHOOK_URL; "
                              "unset: long polling).", show_default=False)] = None,
    listen: Annotated[Optional[str], typer.Option(help="Webhook mode: address to listen on (default: "
                                                       "WEBHOOK_LISTEN, 0.0.0.0).", show_default=False)] = None,
    port: Annotated[Optional[int], typer.Option(help="Webhook mode: port to listen on (default: WEBHOOK_PORT, "
                                                     "8443).", show_default=False)] = None,
) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; ADMIN_USER_IDS may add documents)."""
    import logging

    from rich.console import Console

    from sme_advisor.context import settings_of

    err = Console(stderr=True)
    settings = settings_of(ctx)
    webhook_url = webhook_url or settings.webhook_url
    listen = listen or settings.webhook_listen
    port = port or settings.webhook_port
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        err.print("[red]Error:[/] TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram, then run:\n"
                  "  TELEGRAM_BOT_TOKEN=123456:ABC… ADMIN_USER_IDS=<your user id> sme-advisor bot\n"
                  "(see docs/bot.md).")
        raise typer.Exit(2)
    if webhook_url and not _has_webhook_support():
        err.print('[red]Error:[/] webhook mode needs `pip install "python-telegram-bot\\[webhooks]"`; '
                  "without --webhook-url the bot uses long polling, which needs nothing else.")
        raise typer.Exit(2)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.logs import quiet_http_logs, redact_token_in_logs

    quiet_http_logs()  # httpx logs every request URL, and the token is part of each
    redact_token_in_logs(token)
    # Before the model loads and before anything says "running": a wrong token is told in one
    # line, not as PTB's traceback after the start-up banner.
    username = _check_token(settings, token, err)

    from telegram import Update
    from telegram.error import InvalidToken

    from bot.app import build_application
    from sme_advisor.commands import open_knowledge_base
    from sme_advisor.i18n import plural

    # A long-running bot loads a local language model at start, not on the first owner's question.
    with open_knowledge_base(settings, warm_llm=True) as kb:
        application = build_application(settings, kb)
        if not settings.admin_user_ids:
            err.print("[yellow]Note:[/] ADMIN_USER_IDS is empty, so nobody can add documents through Telegram.")
        mode = f"webhook at {webhook_url}, listening on {listen}:{port}" if webhook_url else "long polling"
        err.print(f"[green]SME Advisor bot @{username} running[/] over {plural(len(kb.sources()), 'document')} "
                  f"({mode}). Ctrl-C stops it.", soft_wrap=True)
        updates = [Update.MESSAGE, Update.CALLBACK_QUERY]
        try:
            if webhook_url:
                import secrets
                from urllib.parse import urlparse

                application.run_webhook(listen=listen, port=port, webhook_url=webhook_url,
                                        url_path=urlparse(webhook_url).path.lstrip("/"),
                                        secret_token=secrets.token_urlsafe(32),  # only Telegram knows it
                                        allowed_updates=updates)
            else:
                # Messages sent while the bot was down are still answered (no drop_pending_updates).
                application.run_polling(allowed_updates=updates)
        except InvalidToken:  # revoked while the bot was starting
            err.print("[red]Error:[/] Telegram rejected TELEGRAM_BOT_TOKEN. Copy the token again from @BotFather.")
            raise typer.Exit(2) from None


def _check_token(settings, token: str, err) -> str:  # type: ignore[no-untyped-def]
    """The bot's username from getMe; exits with one line when Telegram rejects the token or
    cannot be reached (a service manager then restarts the bot later)."""
    import asyncio

    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    async def get_me() -> str:
        async with Bot(token, base_url=settings.telegram_base_url,
                       base_file_url=settings.telegram_base_file_url) as bot:  # initialize() calls getMe
            return bot.username

    try:
        return asyncio.run(get_me())
    except InvalidToken:  # PTB's message quotes the token: say it in our own words
        err.print("[red]Error:[/] Telegram rejected TELEGRAM_BOT_TOKEN. Copy the token again from @BotFather "
                  "(it looks like 123456789:AAF…).", soft_wrap=True)
        raise typer.Exit(2) from None
    except NetworkError as error:
        err.print(f"[red]Error:[/] cannot reach the Telegram Bot API at {settings.telegram_base_url} "
                  f"({type(error).__name__}: {error}). Check the network, or TELEGRAM_BASE_URL.", soft_wrap=True)
        raise typer.Exit(1) from None


def _has_webhook_support() -> bool:
    import importlib.util

    return importlib.util.find_spec("tornado") is not None


feedback_app = typer.Typer(help="What owners told the bot: 👍/👎 with question, answer and sources; unanswered "
                                "questions.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def export_feedback(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (for a spreadsheet) or jsonl.")] = "csv",
) -> None:
    """Write the bot's feedback and unanswered questions to two files, for review (as /export does)."""
    from rich.console import Console

    from bot.export import FORMATS, export_files
    from bot.storage import BotStore
    from sme_advisor.context import settings_of

    err, console = Console(stderr=True), Console()
    if fmt not in FORMATS:
        err.print(f"[red]Error:[/] unknown format {fmt!r}: csv or jsonl")
        raise typer.Exit(2)
    settings = settings_of(ctx)
    if not settings.bot_db_path.is_file():
        err.print(f"[red]Error:[/] no bot database at {settings.bot_db_path}: the bot has not run with this data "
                  "dir (SME_ADVISOR_DATA_DIR).")
        raise typer.Exit(1)
    store = BotStore(settings.bot_db_path)
    try:
        files = export_files(store, fmt)  # type: ignore[arg-type]
    finally:
        store.close()
    out.mkdir(parents=True, exist_ok=True)
    for file in files:
        target = out / file.name
        target.write_bytes(file.data)
        what = ("%d vote" if file.rows == 1 else "%d votes") if file.kind == "feedback" else \
            ("%d question" if file.rows == 1 else "%d questions")
        console.print(f"wrote {target} ({what % file.rows})", soft_wrap=True)

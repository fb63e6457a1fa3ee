"""`sme-advisor bot`: runs the Telegram bot (imports stay inside: the CLI must start fast)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command(name="bot")(run_bot)


def run_bot(
    ctx: typer.Context,
    webhook_url: Annotated[Optional[str], typer.Option(
        "--webhook-url", help="Public HTTPS URL for a webhook instead of long polling "
                              "(needs python-telegram-bot[webhooks]).")] = None,
    listen: Annotated[str, typer.Option(help="Webhook mode: address to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Webhook mode: port to listen on.")] = 8443,
) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; ADMIN_USER_IDS may add documents)."""
    import logging

    from rich.console import Console

    from sme_advisor.cli import settings_of

    err = Console(stderr=True)
    settings = settings_of(ctx)
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

    from telegram import Update
    from telegram.error import InvalidToken

    from bot.app import build_application
    from sme_advisor.commands import open_knowledge_base

    # A long-running bot loads a local language model at start, not on the first owner's question.
    with open_knowledge_base(settings, warm_llm=True) as kb:
        application = build_application(settings, kb)
        if not settings.admin_user_ids:
            err.print("[yellow]Note:[/] ADMIN_USER_IDS is empty, so nobody can add documents through Telegram.")
        err.print(f"[green]SME Advisor bot running[/] over {len(kb.sources())} documents "
                  f"({'webhook' if webhook_url else 'long polling'}). Ctrl-C stops it.")
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
        except InvalidToken:
            # PTB's message quotes the token: say it in our own words.
            err.print("[red]Error:[/] Telegram rejected TELEGRAM_BOT_TOKEN. Copy the token again from @BotFather.")
            raise typer.Exit(2) from None


def _has_webhook_support() -> bool:
    import importlib.util

    return importlib.util.find_spec("tornado") is not None

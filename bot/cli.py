"""`sme-advisor bot`: runs the Telegram bot (imports stay inside: the CLI must start fast)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command(name="bot")(run_bot)


def run_bot(
    ctx: typer.Context,
    webhook_url: Annotated[Optional[str], typer.Option(
        "--webhook-url", help="Public HTTPS URL for a webhook instead of long polling.")] = None,
    listen: Annotated[str, typer.Option(help="Webhook mode: address to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Webhook mode: port to listen on.")] = 8443,
) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; ADMIN_USER_IDS may add documents)."""
    import logging

    from rich.console import Console

    from sme_advisor.cli import settings_of
    from sme_advisor.commands import open_knowledge_base

    err = Console(stderr=True)
    settings = settings_of(ctx)
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        err.print("[red]Error:[/] TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram, then "
                  "run: TELEGRAM_BOT_TOKEN=123456:ABC… sme-advisor bot (see README, “Running the Telegram bot”).")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.application import build_application, quiet_http_logs

    quiet_http_logs()
    # A long-running bot loads a local language model at start, not on the first owner's question.
    with open_knowledge_base(settings, warm_llm=True) as kb:
        application = build_application(settings, kb)
        if not settings.admin_user_ids:
            err.print("[yellow]Note:[/] ADMIN_USER_IDS is empty, so nobody can add documents through Telegram.")
        err.print(f"[green]SME Advisor bot running[/] over {len(kb.sources())} documents. Ctrl-C stops it.")
        if webhook_url:
            application.run_webhook(listen=listen, port=port, webhook_url=webhook_url)
        else:
            application.run_polling(allowed_updates=["message", "callback_query"])

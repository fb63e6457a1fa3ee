"""Registers this front end's subcommands on the `sme-advisor` command (keep imports light here)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `app`."""

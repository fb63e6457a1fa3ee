"""Telegram front end: renders knowledge-base answers for owners and admins. Never touches Chroma."""

"""SME Advisor: the application shell (settings, CLI) around knowledge/, ingest/ and bot/."""

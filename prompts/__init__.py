"""Prompt templates, stored as files."""

"""Batch evaluation of answer quality over question sets."""

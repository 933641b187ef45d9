"""Embedding pactstub in a test suite (in progress)."""

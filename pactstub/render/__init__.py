"""Turning a matched interaction into a response: generators, templates, state."""

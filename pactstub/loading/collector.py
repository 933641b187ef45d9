"""Problems of one pact file, gathered with their JSON paths instead of raised one by one.

So a user sees everything wrong with a file at once.
"""

from __future__ import annotations

from pactstub.errors import Problem


class Collector:
    """Gathers problems of one file with their JSON paths."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, json_path: str, message: str) -> None:
        self.problems.append(Problem(self.source, json_path, message))

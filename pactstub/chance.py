"""Random generators that stay apart in forked worker processes.

``--workers N`` forks the workers from the process that built the app, so each worker
would copy the app's generator and draw the same "random" values as its siblings: the
same ``uuid()`` in two workers, the same faults at the same moments. Every generator
made here is reseeded in a forked child instead: from the operating system's entropy
when it has no seed; from its seed and the order the worker was forked in when it has
one, so each worker's draws still repeat from one run to the next (which worker
answers which request is up to the server, so only one worker repeats a whole run).
"""

from __future__ import annotations

import os
import random
import weakref

__all__ = ["generator"]

#: every generator made here, with its seed
_made: weakref.WeakKeyDictionary[random.Random, int | None] = weakref.WeakKeyDictionary()
#: how many children this process has forked (a child sees the number before its own fork)
_forks = 0


def generator(seed: int | None = None) -> random.Random:
    """A generator seeded with ``seed`` (``None``: entropy), reseeded apart in each forked child."""
    made = random.Random(seed)
    _made[made] = seed
    return made


def _count_fork() -> None:
    global _forks
    _forks += 1


def _reseed_in_child() -> None:
    for made, seed in list(_made.items()):
        made.seed(None if seed is None else f"{seed}/worker {_forks}")


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere workers are not forked
    os.register_at_fork(after_in_parent=_count_fork, after_in_child=_reseed_in_child)

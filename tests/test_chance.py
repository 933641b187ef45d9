"""Generators reseeded apart in forked workers, so no two workers draw the same values."""

from __future__ import annotations

import os
import random
import warnings

import pytest

from pactstub import chance

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked only on POSIX")


def drawn_in_a_child(made: random.Random) -> int:
    """What ``made`` draws first in a child process forked now."""
    read, write = os.pipe()
    with warnings.catch_warnings():  # a fork beside pytest's threads; the child only draws and exits
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.write(write, str(made.getrandbits(64)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        value = int(pipe.read())
    os.waitpid(pid, 0)
    return value


@pytest.mark.parametrize("seed", [None, 7])
def test_each_forked_child_draws_its_own_values(seed: int | None) -> None:
    made = chance.generator(seed)
    children = [drawn_in_a_child(made), drawn_in_a_child(made)]
    mine = made.getrandbits(64)
    assert len({*children, mine}) == 3


def test_in_this_process_a_seed_repeats() -> None:
    assert chance.generator(7).getrandbits(64) == chance.generator(7).getrandbits(64)
    assert chance.generator(7).getrandbits(64) != chance.generator(8).getrandbits(64)

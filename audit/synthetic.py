"""Reproducible random draws for synthetic scenarios (``examples/*/generate.py``) and tests.

numpy promises a stable stream only for ``Generator.random()`` and
``Generator.integers()``; its higher-level samplers (``choice``, ``normal``,
``binomial``) may change between releases. Every draw here is built from
uniforms, so a generator that uses only these functions and those two
methods writes the same file, byte for byte, on any numpy version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def categorical(u: np.ndarray, probabilities: Sequence[float]) -> np.ndarray:
    """Index of the category each uniform draw in ``u`` falls into, by cumulative probabilities.

    The probabilities need not sum to 1 (they are normalised); a draw at the top edge falls into the last one.
    """
    cumulative = np.cumsum(np.asarray(probabilities, dtype=float))
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)


def pick(u: np.ndarray, labels: Sequence, probabilities: Sequence[float]) -> np.ndarray:
    """A label for each uniform draw in ``u`` (an object array)."""
    return np.asarray(labels, dtype=object)[categorical(u, probabilities)]


def draw(rng: np.random.Generator, labels: Sequence, probabilities: Sequence[float], n: int) -> np.ndarray:
    """``n`` labels drawn independently with the given probabilities (``n`` uniforms from ``rng``)."""
    return pick(rng.random(n), labels, probabilities)


def draw_given(u: np.ndarray, given: np.ndarray, table: Mapping[str, Sequence[float]], labels: Sequence) -> np.ndarray:
    """For each row, a label drawn with the probabilities ``table[given[row]]`` from the uniform ``u[row]``.

    A row whose ``given`` value is not in ``table`` gets None.
    """
    out = np.empty(len(u), dtype=object)
    for key, probabilities in table.items():
        mask = given == key
        out[mask] = pick(u[mask], labels, probabilities)
    return out


def standard_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` standard normal draws by the Box-Muller transform on ``rng.random()`` (two uniforms each)."""
    u1 = 1.0 - rng.random(n)  # in (0, 1], so the log is finite
    u2 = rng.random(n)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

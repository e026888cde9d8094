"""The logistic sigmoid, computed so that it never overflows.

Private: the cells import it from here so that there is one copy;
``rnncore.functional.sigmoid`` (the public, validated version) may reuse it.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []  # private; nothing is re-exported


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for any finite ``x``.

    The textbook formula overflows in ``exp(-x)`` for ``x < -710`` in float64
    (``x < -89`` in float32). Writing ``e = exp(-|x|)``, which lies in (0, 1],
    gives ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``:
    the same function, with no overflow and no warning.

    Taught in chapter 6, Gated recurrent units (gates squash to (0, 1)).

    Parameters
    ----------
    x : ndarray of any shape
        Floating-point pre-activations.

    Returns
    -------
    s : ndarray of the same shape and dtype as x
        Values in [0, 1].
    """
    e = np.exp(-np.abs(x))  # in (0, 1]: cannot overflow
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

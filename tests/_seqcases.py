"""Shared cases for the sequence tests (test_rnn_seq, test_gru_seq, test_lstm_seq).

The independent route for every sequence function is an explicit loop of the
readable cell functions: forward step by step, backward step by step with the
parameter gradients summed over time.
"""

import numpy as np

import rnncore

# (T, N, D, H): T = 1, N = 1, D ≠ H, D = H
SHAPES = [(1, 1, 3, 3), (1, 3, 2, 4), (4, 1, 3, 2), (5, 3, 4, 6), (3, 2, 5, 5)]

KEYS = {
    "rnn": ("W_xh", "W_hh", "b_h"),
    "gru": ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h"),
    "gru_after": ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h", "b_hn"),
    "lstm": (
        "W_xi",
        "W_hi",
        "b_i",
        "W_xf",
        "W_hf",
        "b_f",
        "W_xo",
        "W_ho",
        "b_o",
        "W_xc",
        "W_hc",
        "b_c",
    ),
}


def make_params(kind, D, H, rng, dtype=np.float64, scale=0.6):
    """Random parameters, larger than the default init so that every gate works."""
    params = {}
    for key in KEYS[kind]:
        shape = (H,) if key.startswith("b") else ((D, H) if key.startswith("W_x") else (H, H))
        params[key] = rng.normal(scale=scale, size=shape).astype(dtype)
    return params


def make_case(kind, T, N, D, H, seed=0, dtype=np.float64, with_state=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, N, D)).astype(dtype)
    h0 = rng.uniform(-1, 1, size=(N, H)).astype(dtype) if with_state else None
    c0 = rng.normal(size=(N, H)).astype(dtype) if with_state else None
    params = make_params(kind, D, H, rng, dtype)
    dH = rng.normal(size=(T, N, H)).astype(dtype)
    return X, h0, c0, params, dH


def cell_loop(kind, X, h0, c0, params, dH, dh_T=None, dc_T=None):
    """Forward and backward through time by calling the cells one step at a time.

    Returns (H, C or None, dX, dh0, dc0 or None, grads).
    """
    T, N, _ = X.shape
    H_size = params["W_hh" if kind != "lstm" else "W_hi"].shape[0]
    h = np.zeros((N, H_size)) if h0 is None else h0
    c = np.zeros((N, H_size)) if c0 is None else c0
    hs, cs, caches = [], [], []
    for t in range(T):
        if kind == "rnn":
            h, cache = rnncore.rnn_cell_forward(X[t], h, params)
        elif kind == "lstm":
            h, c, cache = rnncore.lstm_cell_forward(X[t], h, c, params)
            cs.append(c)
        else:
            h, cache = rnncore.gru_cell_forward(X[t], h, params, reset_after=kind == "gru_after")
        hs.append(h)
        caches.append(cache)
    grads = {k: np.zeros_like(params[k]) for k in KEYS[kind]}
    dX = np.zeros_like(X)
    dh = np.zeros((N, H_size)) if dh_T is None else dh_T
    dc = np.zeros((N, H_size)) if dc_T is None else dc_T
    for t in range(T - 1, -1, -1):
        if kind == "rnn":
            dX[t], dh, step = rnncore.rnn_cell_backward(dH[t] + dh, caches[t])
        elif kind == "lstm":
            dX[t], dh, dc, step = rnncore.lstm_cell_backward(dH[t] + dh, dc, caches[t])
        else:
            dX[t], dh, step = rnncore.gru_cell_backward(dH[t] + dh, caches[t])
        for k in grads:
            grads[k] = grads[k] + step[k]
    return (
        np.stack(hs),
        np.stack(cs) if cs else None,
        dX,
        dh,
        dc if kind == "lstm" else None,
        grads,
    )


def assert_close_dicts(got, expected, **tol):
    assert set(got) == set(expected), f"keys {sorted(got)} != {sorted(expected)}"
    for key in expected:
        assert got[key].shape == expected[key].shape, key
        np.testing.assert_allclose(got[key], expected[key], err_msg=key, **tol)


def snapshot(*items):
    """Deep copies of arrays and dicts of arrays, to prove later that nothing changed."""
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append({k: v.copy() for k, v in item.items()})
        else:
            out.append(None if item is None else item.copy())
    return out


def assert_unchanged(before, *items):
    for saved, item in zip(before, items):
        if isinstance(item, dict):
            assert set(saved) == set(item)
            for k in item:
                np.testing.assert_array_equal(item[k], saved[k], err_msg=f"params[{k!r}] changed")
        elif item is not None:
            np.testing.assert_array_equal(item, saved)

"""Typical wrong LSTM cells and backward passes (exercise 7; chapter 7, Long short-term memory)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _sigmoid(a):
    guard("_sigmoid")
    return 1 / (1 + np.exp(-a))


def _lstm(
    x,
    h_prev,
    c_prev,
    p,
    gate=_sigmoid,
    cand=np.tanh,
    swap_if=False,
    squash_c=True,
    input_gate=True,
    old_cell=False,
    swap_fo=False,
):
    guard("_lstm")

    def pre(g):
        return x @ p[f"W_x{g}"] + h_prev @ p[f"W_h{g}"] + p[f"b_{g}"]  # (N, H)

    i, f, o = gate(pre("i")), gate(pre("f")), gate(pre("o"))
    c_tilde = cand(pre("c"))
    if swap_if:
        i, f = f, i
    if swap_fo:
        f, o = o, f
    c = f * c_prev + (i * c_tilde if input_gate else c_tilde)  # (N, H)
    tanh_c = np.tanh(c_prev if old_cell else c)
    h = o * (tanh_c if squash_c else c)  # (N, H)
    cache = {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "i": i,
        "f": f,
        "o": o,
        "c_tilde": c_tilde,
        "tanh_c": tanh_c,
        "p": p,
    }
    return h, c, cache


def solution_lstm_cell_forward(x, h_prev, c_prev, params):
    guard("solution_lstm_cell_forward")
    return _lstm(x, h_prev, c_prev, params)


def _fwd(**kw):
    guard("_fwd")
    return lambda x, h, c, p: _lstm(x, h, c, p, **kw)


LSTM_CELL_FORWARD = (
    Mistake("h = o ⊙ c; the output is o ⊙ tanh(c)", 7, _fwd(squash_c=False)),
    Mistake("the input and forget gates mixed up (c = i ⊙ c_prev + f ⊙ c̃)", 7, _fwd(swap_if=True)),
    Mistake("sigmoid used for the candidate c̃; the candidate uses tanh", 7, _fwd(cand=_sigmoid)),
    Mistake(
        "tanh used for the gates; gates use the sigmoid, so they lie in (0, 1)",
        7,
        _fwd(gate=np.tanh),
    ),
    Mistake("the input gate left out (c = f ⊙ c_prev + c̃)", 7, _fwd(input_gate=False)),
    Mistake(
        "h computed from the old cell state, o ⊙ tanh(c_prev); it uses the new c",
        7,
        _fwd(old_cell=True),
    ),
    Mistake(
        "the forget and output gates mixed up (each computed with the other's weights)",
        7,
        _fwd(swap_fo=True),
    ),
)


def _lstm_back(
    dh,
    dc,
    c,
    add_dc=True,
    dtanh_c=True,
    through_f=True,
    do_tanh=True,
    dsig=lambda s: s * (1 - s),
    average=False,
    from_h=True,
    dc_prev_upstream=False,
    dtanh=lambda t: 1 - t**2,
    df_from_c=False,
    dsig_o=None,
):
    guard("_lstm_back")
    x, h_prev, c_prev, i, f, o, c_tilde, tanh_c, p = (
        c[k] for k in ("x", "h_prev", "c_prev", "i", "f", "o", "c_tilde", "tanh_c", "p")
    )
    cell = np.arctanh(np.clip(tanh_c, -1 + 1e-15, 1 - 1e-15))
    do = dh * (tanh_c if do_tanh else cell)  # (N, H)
    from_h_path = dh * o * (dtanh(tanh_c) if dtanh_c else 1)  # (N, H): h = o ⊙ tanh(c)
    dc_total = (from_h_path if from_h else 0) + (dc if add_dc else 0)  # (N, H)
    dc_prev = (dc if dc_prev_upstream else dc_total) * (f if through_f else 1)
    new_c = f * c_prev + i * c_tilde  # (N, H)
    da = {
        "i": dc_total * c_tilde * dsig(i),
        "f": dc_total * (new_c if df_from_c else c_prev) * dsig(f),
        "o": do * (dsig_o or dsig)(o),
        "c": dc_total * i * (1 - c_tilde**2),
    }
    dx = sum(da[g] @ p[f"W_x{g}"].T for g in "ifoc")  # (N, D)
    dh_prev = sum(da[g] @ p[f"W_h{g}"].T for g in "ifoc")  # (N, H)
    s = 1 / dh.shape[0] if average else 1
    grads = {}
    for g in "ifoc":
        grads[f"W_x{g}"] = x.T @ da[g]
        grads[f"W_h{g}"] = h_prev.T @ da[g]
        grads[f"b_{g}"] = da[g].sum(axis=0) * s
    return dx, dh_prev, dc_prev, grads


def solution_lstm_cell_backward(dh, dc, cache):
    guard("solution_lstm_cell_backward")
    return _lstm_back(dh, dc, cache)


def _pair(**kw):
    guard("_pair")
    return (solution_lstm_cell_forward, lambda dh, dc, cache: _lstm_back(dh, dc, cache, **kw))


LSTM_CELL_BACKWARD = (
    Mistake(
        "the gradient dc arriving from the next step not added to the cell's gradient",
        7,
        _pair(add_dc=False),
    ),
    Mistake(
        "the derivative of tanh(c), 1 − tanh²(c), left out on the way from h to c",
        7,
        _pair(dtanh_c=False),
    ),
    Mistake(
        "dc_prev without the forget gate; c = f ⊙ c_prev + ... gives dc_prev = dc ⊙ f",
        7,
        _pair(through_f=False),
    ),
    Mistake(
        "do = dh ⊙ c; the output gate multiplies tanh(c), so do = dh ⊙ tanh(c)",
        7,
        _pair(do_tanh=False),
    ),
    Mistake(
        "σ' written as σ; the derivative of the sigmoid is σ (1 − σ)", 7, _pair(dsig=lambda s: s)
    ),
    Mistake("bias gradients averaged over the batch instead of summed", 7, _pair(average=True)),
    Mistake(
        "the gradient from h (dh ⊙ o ⊙ (1 − tanh²(c))) not added to dc: the cell state feeds "
        "h too, so its gradient is that plus the dc from the next step",
        7,
        _pair(from_h=False),
    ),
    Mistake(
        "dc_prev = dc ⊙ f with the upstream dc only; it is the total cell gradient (dc plus the "
        "path through tanh(c) from h) times f",
        7,
        _pair(dc_prev_upstream=True),
    ),
    Mistake(
        "1 − tanh(c) used for the derivative of tanh(c); it is 1 − tanh²(c)",
        7,
        _pair(dtanh=lambda t: 1 - t),
    ),
    Mistake(
        "df computed from the new cell state c; c = f ⊙ c_prev + ..., so df = dc ⊙ c_prev",
        7,
        _pair(df_from_c=True),
    ),
    Mistake(
        "σ' written as σ on the output gate; the derivative of the sigmoid is σ (1 − σ)",
        7,
        _pair(dsig_o=lambda s: s),
    ),
)

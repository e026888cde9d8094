"""Random initial parameters for the RNN, GRU and LSTM cells and the output layer.

Every weight and bias is drawn from Uniform(−1/√H, 1/√H), the default of
``torch.nn.RNN``, ``GRU`` and ``LSTM`` (and of ``torch.nn.Linear(H, V)`` for
the output layer, whose fan-in is H). Two reasons:

* *Scale.* A pre-activation such as ``h_prev W_hh`` sums H terms; each weight
  has variance (1/√H)² / 3 = 1/(3H), so with ``|h| <= 1`` the sum has variance at
  most 1/3 whatever H is. tanh and σ then start in their steep middle, not in
  their flat tails where gradients vanish (chapter 5).
* *Comparison.* A model built here starts from the same distribution as the
  PyTorch model a reader may meet next, so training curves can be compared.

Letters in shapes: D input features, H hidden units, V vocabulary (output) size.
Randomness is explicit: every function takes ``rng``, a ``numpy.random.Generator``.

Chapter 10 adds two starts for ``W_hh`` that control its singular values
directly: :func:`orthogonal` (all equal to 1, Saxe, McClelland & Ganguli
2014) and the identity of Le, Jaitly & Hinton's (2015) IRNN
(:func:`init_irnn_params`).
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import check_rng

__all__ = [
    "init_rnn_params",
    "init_gru_params",
    "init_lstm_params",
    "init_output_params",
    "orthogonal",
    "init_irnn_params",
]


def init_rnn_params(D, H, rng, dtype=np.float64):
    """Parameters of a vanilla RNN cell, Uniform(−1/√H, 1/√H).

    Taught in chapter 2, The RNN cell.

    Parameters
    ----------
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.
    dtype : floating dtype
        float64 (default) or float32.

    Returns
    -------
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).
    """
    guard("init_rnn_params")
    _check_sizes(rng, dtype, "init_rnn_params", D=D, H=H)
    return _uniform({"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,)}, H, rng, dtype)


def init_gru_params(D, H, rng, reset_after=False, dtype=np.float64):
    """Parameters of a GRU cell, Uniform(−1/√H, 1/√H).

    Taught in chapter 6, Gated recurrent units.

    Parameters
    ----------
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
        Source of randomness.
    reset_after : bool
        Also make ``b_hn``, the extra bias of PyTorch's variant of the cell.
    dtype : floating dtype
        float64 (default) or float32.

    Returns
    -------
    params : dict
        ``W_xz, W_xr, W_xh`` of shape (D, H); ``W_hz, W_hr, W_hh`` of shape
        (H, H); ``b_z, b_r, b_h`` (and with ``reset_after``, ``b_hn``) of shape (H,).
    """
    guard("init_gru_params")
    _check_sizes(rng, dtype, "init_gru_params", D=D, H=H)
    if not isinstance(reset_after, (bool, np.bool_)):
        raise TypeError(f"reset_after must be True or False, got {reset_after!r}")
    shapes = {}
    for gate in ("z", "r", "h"):
        shapes.update({f"W_x{gate}": (D, H), f"W_h{gate}": (H, H), f"b_{gate}": (H,)})
    if reset_after:
        shapes["b_hn"] = (H,)
    return _uniform(shapes, H, rng, dtype)


def init_lstm_params(D, H, rng, forget_bias=0.0, dtype=np.float64):
    """Parameters of an LSTM cell, Uniform(−1/√H, 1/√H), plus an optional forget bias.

    Taught in chapter 7, Long short-term memory. ``forget_bias`` is added to
    ``b_f``: a value such as 1.0 (Gers et al. 2000; Jozefowicz et al. 2015)
    starts the forget gate near σ(1) ≈ 0.73, so the cell remembers by default
    and gradients flow back through time from the first update. 0.0 gives
    PyTorch's initialisation exactly.

    Parameters
    ----------
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
        Source of randomness.
    forget_bias : float
        Added to every entry of ``b_f``.
    dtype : floating dtype
        float64 (default) or float32.

    Returns
    -------
    params : dict
        For each gate g in i, f, o, c: ``W_xg`` of shape (D, H), ``W_hg`` of
        shape (H, H), ``b_g`` of shape (H,).
    """
    guard("init_lstm_params")
    _check_sizes(rng, dtype, "init_lstm_params", D=D, H=H)
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float, np.number)):
        raise TypeError(f"forget_bias must be a number, got {type(forget_bias).__name__}")
    if not np.isfinite(forget_bias):
        raise ValueError(f"forget_bias must be finite, got {forget_bias}")
    shapes = {}
    for gate in ("i", "f", "o", "c"):
        shapes.update({f"W_x{gate}": (D, H), f"W_h{gate}": (H, H), f"b_{gate}": (H,)})
    params = _uniform(shapes, H, rng, dtype)
    params["b_f"] = (params["b_f"] + forget_bias).astype(dtype)
    return params


def init_output_params(H, V, rng, dtype=np.float64):
    """Parameters of the output layer ``logits = h W_hq + b_q``, Uniform(−1/√H, 1/√H).

    Taught in chapter 3, Softmax and the loss.

    Parameters
    ----------
    H : int
        Hidden units (the layer's fan-in).
    V : int
        Outputs, e.g. the vocabulary size.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : floating dtype
        float64 (default) or float32.

    Returns
    -------
    params : dict
        ``W_hq`` of shape (H, V), ``b_q`` of shape (V,).
    """
    guard("init_output_params")
    _check_sizes(rng, dtype, "init_output_params", H=H, V=V)
    return _uniform({"W_hq": (H, V), "b_q": (V,)}, H, rng, dtype)


def orthogonal(rows, cols, rng, gain=1.0, dtype=np.float64):
    """A random (semi-)orthogonal matrix times ``gain``, as ``torch.nn.init.orthogonal_``.

    The QR factorisation of a standard normal matrix, with the signs of R's
    diagonal moved into Q so that the result is uniformly distributed (Haar
    measure). All singular values equal ``gain``, so ``h W_hh`` neither grows
    nor shrinks any direction at the start: ``W_hh = orthogonal(H, H, rng)``
    keeps gradients through time from exploding or vanishing in a linear
    network (Saxe, McClelland & Ganguli 2014). Taught in chapter 10, Training
    RNNs in practice.

    Parameters
    ----------
    rows, cols : int
        Shape of the result.
    rng : numpy.random.Generator
    gain : float
        Scale of the result.
    dtype : floating dtype

    Returns
    -------
    W : ndarray of shape (rows, cols)
        Orthonormal columns (rows >= cols) or rows (rows < cols), times ``gain``.
    """
    guard("orthogonal")
    _check_sizes(rng, dtype, "orthogonal", rows=rows, cols=cols)
    if isinstance(gain, bool) or not isinstance(gain, (int, float, np.floating)):
        raise TypeError(f"orthogonal: gain must be a number, got {type(gain).__name__}")
    tall = rows >= cols
    A = rng.standard_normal((rows, cols) if tall else (cols, rows))  # tall: QR gives columns
    Q, R = np.linalg.qr(A)  # Q (max, min) with orthonormal columns
    Q = Q * np.sign(np.diag(R))  # fix the signs: otherwise Q is not uniformly distributed
    W = Q if tall else Q.T
    return (gain * W).astype(dtype)


def init_irnn_params(D, H, rng, scale=1.0, input_std=0.001, dtype=np.float64):
    """Parameters of an IRNN: a ReLU RNN that starts as the identity (Le, Jaitly & Hinton 2015).

    ``W_hh = scale * I`` and ``b_h = 0``: with ``activation="relu"`` a
    positive state is copied unchanged from step to step until the inputs
    change it, so gradients pass back through time undamped at the start.
    The input weights are N(0, input_std²), as in the paper's adding
    problem (they report 0.001). Taught in chapter 10, Training RNNs in practice.

    Parameters
    ----------
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
    scale : float
        Multiplies the identity (the paper's "np-RNN" variants use less than 1).
    input_std : float
        Standard deviation of ``W_xh``.
    dtype : floating dtype

    Returns
    -------
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,):
        run them with ``rnn_forward(..., activation="relu")``.
    """
    guard("init_irnn_params")
    _check_sizes(rng, dtype, "init_irnn_params", D=D, H=H)
    for name, value in (("scale", scale), ("input_std", input_std)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise TypeError(
                f"init_irnn_params: {name} must be a number, got {type(value).__name__}"
            )
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"init_irnn_params: {name} must be finite and >= 0, got {value}")
    return {
        "W_xh": (input_std * rng.standard_normal((D, H))).astype(dtype),
        "W_hh": (scale * np.eye(H)).astype(dtype),
        "b_h": np.zeros(H, dtype=dtype),
    }


def _uniform(shapes, fan_in, rng, dtype):
    """One Uniform(−1/√fan_in, 1/√fan_in) array per name, drawn in the order given."""
    bound = 1 / np.sqrt(fan_in)
    return {
        name: rng.uniform(-bound, bound, size=shape).astype(dtype) for name, shape in shapes.items()
    }


def _check_sizes(rng, dtype, where, **sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{where}: {name} must be a positive int, got {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{where}: {name} must be a positive int, got {value}")
    check_rng(rng, where)
    try:
        floating = np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        floating = False
    if not floating:
        raise TypeError(
            f"{where}: dtype must be a floating dtype (np.float64 or np.float32), got {dtype!r}"
        )

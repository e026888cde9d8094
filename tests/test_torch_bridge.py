"""rnncore.torch_bridge, without torch: against the equations and layouts PyTorch documents.

``torch_like_forward`` below is written from the torch.nn.RNN / GRU / LSTM
documentation (column-vector equations ``W x``, gates stacked as r, z, n and
i, f, g, o, two biases, layer k+1 reading the concatenated directions of layer
k); it reads only the state dict. rnncore's own sequence functions must agree
with it. The real check against torch is benchmarks/torch_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnncore.bidirectional import bidirectional_forward, init_bidirectional_params
from rnncore.recurrent import init_params, recurrent_forward
from rnncore.stacked import init_stacked_params, stacked_forward
from rnncore.torch_bridge import TORCH_GATE_ORDER, from_torch_state_dict, to_torch_state_dict

KW = {"rnn": {}, "gru": {"reset_after": True}, "lstm": {}}


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _torch_cell_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step as torch documents it (x, h are rows; torch's W x is x @ W.T)."""
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if cell == "rnn":
        return np.tanh(gi + gh), c
    if cell == "gru":
        i_r, i_z, i_n = np.split(gi, 3, axis=1)
        h_r, h_z, h_n = np.split(gh, 3, axis=1)
        r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, c
    i, f, g, o = np.split(gi + gh, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def torch_like_forward(cell, state, X):
    """Output (T, N, num_directions * H) of a torch RNN module holding ``state``, h0 = c0 = 0."""
    layers = 1 + max(int(k.split("_l")[1].split("_")[0]) for k in state)
    directions = ["", "_reverse"] if any(k.endswith("_reverse") for k in state) else [""]
    inputs = X
    for layer in range(layers):
        outputs = []
        for suffix in directions:
            w = [state[f"{n}_l{layer}{suffix}"] for n in ("weight_ih", "weight_hh")]
            b = [state[f"{n}_l{layer}{suffix}"] for n in ("bias_ih", "bias_hh")]
            H = w[1].shape[1]
            h = np.zeros((X.shape[1], H))
            c = np.zeros_like(h)
            order = range(X.shape[0])[::-1] if suffix else range(X.shape[0])
            out = np.zeros((X.shape[0], X.shape[1], H))
            for t in order:
                h, c = _torch_cell_step(cell, inputs[t], h, c, *w, *b)
                out[t] = h
            outputs.append(out)
        inputs = np.concatenate(outputs, axis=-1)
    return inputs


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_single_layer_matches_torch_documented_equations(cell):
    rng = np.random.default_rng(0)
    D, H, T, N = 3, 4, 5, 2
    params = init_params(cell, D, H, rng, **KW[cell])
    params = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in params.items()}
    X = rng.normal(size=(T, N, D))
    state = to_torch_state_dict(params, cell)
    G = len(TORCH_GATE_ORDER[cell])
    assert {k: v.shape for k, v in state.items()} == {
        "weight_ih_l0": (G * H, D),
        "weight_hh_l0": (G * H, H),
        "bias_ih_l0": (G * H,),
        "bias_hh_l0": (G * H,),
    }
    H_ours, _, _ = recurrent_forward(cell, X, None, params)
    np.testing.assert_allclose(torch_like_forward(cell, state, X), H_ours, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_stacked_matches_torch_documented_equations(cell, bidirectional):
    rng = np.random.default_rng(1)
    D, H, T, N, L = 2, 3, 4, 3, 3
    params = init_stacked_params(cell, D, H, L, rng, bidirectional=bidirectional, **KW[cell])
    params["out.W_hq"] = rng.normal(size=(H, 5))  # a model's other keys are ignored
    X = rng.normal(size=(T, N, D))
    state = to_torch_state_dict(params, cell)
    suffixes = [
        f"_l{k}{r}" for k in range(L) for r in (["", "_reverse"] if bidirectional else [""])
    ]
    assert set(state) == {
        f"{n}{s}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for s in suffixes
    }
    G = len(TORCH_GATE_ORDER[cell])
    assert state["weight_ih_l1"].shape == (G * H, 2 * H if bidirectional else H)
    H_ours, _, _ = stacked_forward(X, params, cell, bidirectional=bidirectional)
    np.testing.assert_allclose(torch_like_forward(cell, state, X), H_ours, rtol=1e-12, atol=1e-14)


def test_single_bidirectional_layer_uses_reverse_suffix():
    rng = np.random.default_rng(2)
    params = init_bidirectional_params("lstm", 2, 3, rng)
    X = rng.normal(size=(4, 2, 2))
    state = to_torch_state_dict(params, "lstm")
    assert sorted(state) == sorted(
        f"{n}_l0{r}"
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        for r in ("", "_reverse")
    )
    H_ours, _ = bidirectional_forward(X, params, "lstm")
    np.testing.assert_allclose(torch_like_forward("lstm", state, X), H_ours, rtol=1e-12)
    back = from_torch_state_dict(state, "lstm")
    assert set(back) == set(params)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_gate_order_with_crafted_params(cell):
    """Fill each rnncore gate with its own constant and find it in torch's row block."""
    D, H = 2, 3
    params = {}
    for name in init_params(cell, D, H, np.random.default_rng(0), **KW[cell]):
        gate = name[-1] if not name.endswith("b_hn") else "hn"
        code = {"h": 1, "r": 2, "z": 3, "i": 4, "f": 5, "c": 6, "o": 7, "hn": 8}[gate]
        kind = {"W_x": 10, "W_h": 20, "b_": 30}[name[:3] if name[:3] in ("W_x", "W_h") else "b_"]
        shape = (D, H) if name.startswith("W_x") else (H, H) if name.startswith("W_h") else (H,)
        params[name] = np.full(shape, float(kind + code))
    state = to_torch_state_dict(params, cell)
    torch_order = {"rnn": "h", "gru": "rzh", "lstm": "ifco"}[cell]  # n ↔ h, g ↔ c
    codes = {"h": 1, "r": 2, "z": 3, "i": 4, "f": 5, "c": 6, "o": 7}
    for j, g in enumerate(torch_order):
        rows = slice(j * H, (j + 1) * H)
        assert (state["weight_ih_l0"][rows] == 10 + codes[g]).all()
        assert (state["weight_hh_l0"][rows] == 20 + codes[g]).all()
        assert (state["bias_ih_l0"][rows] == 30 + codes[g]).all()
        expected_hh = 38 if (cell == "gru" and g == "h") else 0  # only b_hn lives in bias_hh
        assert (state["bias_hh_l0"][rows] == expected_hh).all()


def test_transpose_is_exact_not_reshaped():
    params = {
        "W_xh": np.arange(6.0).reshape(2, 3),
        "W_hh": np.arange(9.0).reshape(3, 3),
        "b_h": np.zeros(3),
    }
    state = to_torch_state_dict(params, "rnn")
    np.testing.assert_array_equal(state["weight_ih_l0"], params["W_xh"].T)
    np.testing.assert_array_equal(state["weight_hh_l0"], params["W_hh"].T)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("layout", ["single", "bidirectional", "stacked", "stacked_bi"])
def test_round_trip(cell, layout):
    rng = np.random.default_rng(3)
    if layout == "single":
        params = init_params(cell, 3, 2, rng, **KW[cell])
    elif layout == "bidirectional":
        params = init_bidirectional_params(cell, 3, 2, rng, **KW[cell])
    else:
        params = init_stacked_params(
            cell, 3, 2, 2, rng, bidirectional=layout == "stacked_bi", **KW[cell]
        )
    back = from_torch_state_dict(to_torch_state_dict(params, cell), cell)
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
        assert back[k].flags.c_contiguous


def test_torch_biases_are_added_back():
    """torch's own initialisation fills both biases; rnncore keeps their sum."""
    rng = np.random.default_rng(4)
    H, D = 2, 3
    state = {
        "weight_ih_l0": rng.normal(size=(4 * H, D)),
        "weight_hh_l0": rng.normal(size=(4 * H, H)),
        "bias_ih_l0": rng.normal(size=4 * H),
        "bias_hh_l0": rng.normal(size=4 * H),
    }
    params = from_torch_state_dict(state, "lstm")
    np.testing.assert_allclose(
        params["b_f"], state["bias_ih_l0"][H : 2 * H] + state["bias_hh_l0"][H : 2 * H]
    )
    X = rng.normal(size=(3, 2, D))
    H_ours, _, _ = recurrent_forward("lstm", X, None, params)
    np.testing.assert_allclose(H_ours, torch_like_forward("lstm", state, X), rtol=1e-12)
    gru_state = {k: rng.normal(size=(3 * H,) + v.shape[1:]) for k, v in state.items()}
    gru = from_torch_state_dict(gru_state, "gru")
    np.testing.assert_array_equal(gru["b_hn"], gru_state["bias_hh_l0"][2 * H :])
    H_gru, _, _ = recurrent_forward("gru", X, None, gru)
    np.testing.assert_allclose(H_gru, torch_like_forward("gru", gru_state, X), rtol=1e-12)
    stacked = from_torch_state_dict(state, "lstm", stacked=True)
    assert set(stacked) == {f"layer0.{k}" for k in params}


def test_float32_is_kept():
    params = init_params("lstm", 2, 3, np.random.default_rng(5), dtype=np.float32)
    state = to_torch_state_dict(params, "lstm")
    assert all(v.dtype == np.float32 for v in state.values())
    assert all(v.dtype == np.float32 for v in from_torch_state_dict(state, "lstm").values())


def test_bad_input():
    rng = np.random.default_rng(6)
    gru = init_params("gru", 2, 3, rng)
    with pytest.raises(ValueError, match="torch.nn.GRU computes the reset_after=True cell"):
        to_torch_state_dict(gru, "gru")
    gru_after = init_params("gru", 2, 3, rng, reset_after=True)
    with pytest.raises(ValueError, match="reset_after=False"):
        to_torch_state_dict(gru_after, "gru", reset_after=False)
    rnn = init_params("rnn", 2, 3, rng)
    with pytest.raises(ValueError, match="reset_after is a GRU option"):
        to_torch_state_dict(rnn, "rnn", reset_after=True)
    with pytest.raises(ValueError, match=r"params\['W_hh'\] has shape \(2, 2\)"):
        to_torch_state_dict({**rnn, "W_hh": np.zeros((2, 2))}, "rnn")
    with pytest.raises(ValueError, match="missing 'W_xi'"):
        to_torch_state_dict(rnn, "lstm")
    with pytest.raises(ValueError, match="cell must be one of"):
        to_torch_state_dict(rnn, "transformer")
    state = to_torch_state_dict(rnn, "rnn")
    with pytest.raises(ValueError, match="unexpected key 'weight'"):
        from_torch_state_dict({**state, "weight": np.zeros(1)}, "rnn")
    with pytest.raises(ValueError, match="missing 'bias_hh_l0'"):
        from_torch_state_dict({k: v for k, v in state.items() if k != "bias_hh_l0"}, "rnn")
    with pytest.raises(ValueError, match=r"a 'lstm' stacks 4 gate\(s\) of H = 3 rows"):
        from_torch_state_dict(state, "lstm")
    with pytest.raises(ValueError, match=r"bias_ih_l0 has shape \(2,\)"):
        from_torch_state_dict({**state, "bias_ih_l0": np.zeros(2)}, "rnn")
    two = {
        **state,
        **{
            k.replace("_l0", "_l1"): v
            for k, v in to_torch_state_dict(init_params("rnn", 3, 3, rng), "rnn").items()
        },
    }
    with pytest.raises(ValueError, match="2 layers need stacked=True"):
        from_torch_state_dict(two, "rnn", stacked=False)
    assert set(from_torch_state_dict(two, "rnn")) == {f"layer{k}.{n}" for k in (0, 1) for n in rnn}
    with pytest.raises(ValueError, match=r"layers \[1\]"):
        from_torch_state_dict({k: v for k, v in two.items() if k.endswith("_l1")}, "rnn")

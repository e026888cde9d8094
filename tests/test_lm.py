"""Tests of rnncore.lm: the language model's forward pass, gradients and step function.

Independent routes: the forward pass against a plain loop of the book's cell
equations written here; gradients against centred finite differences
(rnncore.gradcheck) in float64; carried state against one uninterrupted pass.
"""

import numpy as np
import pytest

from rnncore.gradcheck import gradcheck
from rnncore.lm import init_lm_params, lm_backward, lm_forward, lm_loss, lm_step_fn

CELLS = ("rnn", "gru", "lstm")


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _loop_cell(cell, x, state, p):
    """One step of the book's equations (contract), written independently of rnncore."""
    if cell == "rnn":
        return np.tanh(x @ p["W_xh"] + state @ p["W_hh"] + p["b_h"])
    if cell == "gru":
        z = _sigmoid(x @ p["W_xz"] + state @ p["W_hz"] + p["b_z"])
        r = _sigmoid(x @ p["W_xr"] + state @ p["W_hr"] + p["b_r"])
        h_tilde = np.tanh(x @ p["W_xh"] + (r * state) @ p["W_hh"] + p["b_h"])
        return z * state + (1 - z) * h_tilde
    h, c = state
    i = _sigmoid(x @ p["W_xi"] + h @ p["W_hi"] + p["b_i"])
    f = _sigmoid(x @ p["W_xf"] + h @ p["W_hf"] + p["b_f"])
    o = _sigmoid(x @ p["W_xo"] + h @ p["W_ho"] + p["b_o"])
    c = f * c + i * np.tanh(x @ p["W_xc"] + h @ p["W_hc"] + p["b_c"])
    return o * np.tanh(c), c


def _loop_lm(ids, params, cell, num_layers):
    """Logits by a loop over time and layers; inputs one-hot or embedded."""
    T, N = ids.shape
    V = params["out.W_hq"].shape[1]
    H = params["out.W_hq"].shape[0]
    zeros = np.zeros((N, H))
    states = [(zeros, zeros) if cell == "lstm" else zeros for _ in range(num_layers)]
    logits = np.zeros((T, N, V))
    for t in range(T):
        x = params["embed.W"][ids[t]] if "embed.W" in params else np.eye(V)[ids[t]]
        for layer in range(num_layers):
            p = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(f"layer{layer}.")}
            states[layer] = _loop_cell(cell, x, states[layer], p)
            x = states[layer][0] if cell == "lstm" else states[layer]
        logits[t] = x @ params["out.W_hq"] + params["out.b_q"]
    return logits


def _params(V, H, cell, embed_size, num_layers, seed=0, scale=0.6):
    """init_lm_params' keys and shapes, with N(0, scale²) values.

    PyTorch's small uniform initialisation leaves some gate gradients near
    1e-5 on short sequences, where rounding in the finite differences alone
    reaches 1e-7 relative error; larger weights make every gradient sizeable.
    """
    rng = np.random.default_rng(seed)
    base = init_lm_params(V, H, rng, cell=cell, embed_size=embed_size, num_layers=num_layers)
    return {k: rng.normal(0, scale, size=v.shape) for k, v in base.items()}


CASES = [
    # (T, N, V, H, embed_size, num_layers)
    (4, 3, 5, 6, None, 1),
    (4, 3, 5, 6, 3, 1),
    (3, 2, 4, 5, None, 2),
    (3, 2, 4, 5, 7, 2),
    (1, 1, 3, 2, None, 1),
    (5, 1, 6, 3, 2, 2),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T, N, V, H, E, L", CASES)
def test_forward_matches_a_loop_of_the_equations(cell, T, N, V, H, E, L):
    params = _params(V, H, cell, E, L)
    ids = np.random.default_rng(1).integers(0, V, size=(T, N))
    logits, state_T, _ = lm_forward(ids, params, cell)
    assert logits.shape == (T, N, V)
    np.testing.assert_allclose(logits, _loop_lm(ids, params, cell, L), rtol=1e-10, atol=1e-12)
    assert len(state_T) == L


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T, N, V, H, E, L", CASES)
def test_backward_matches_finite_differences(cell, T, N, V, H, E, L):
    rng = np.random.default_rng(2)
    params = _params(V, H, cell, E, L)
    ids = rng.integers(0, V, size=(T, N))
    logits, _, cache = lm_forward(ids, params, cell)
    dlogits = rng.normal(size=logits.shape)
    grads = lm_backward(dlogits, cache)
    assert set(grads) == set(params)
    # sparse: 6 random entries per array keep 18 cases x up to 27 arrays fast
    errors = gradcheck(
        lambda a: lm_forward(ids, a, cell)[0], params, grads, dout=dlogits, sparse=6, rng=rng
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("E, L", [(None, 1), (4, 2)])
def test_loss_gradient_matches_finite_differences(cell, E, L):
    """The whole lm_loss (mean over unmasked tokens) with a mask and a carried state."""
    rng = np.random.default_rng(3)
    T, N, V, H = 5, 3, 6, 7
    params = _params(V, H, cell, E, L, scale=0.8)
    ids_in = rng.integers(0, V, size=(T, N))
    ids_target = rng.integers(0, V, size=(T, N))
    mask = rng.random((T, N)) < 0.7
    _, state0, _ = lm_forward(rng.integers(0, V, size=(2, N)), params, cell)
    loss, grads, _ = lm_loss(ids_in, ids_target, params, cell, state0=state0, mask=mask)

    def f(a):
        return np.array(lm_loss(ids_in, ids_target, a, cell, state0=state0, mask=mask)[0])

    errors = gradcheck(f, params, grads, eps=1e-5, sparse=5, rng=rng)
    assert max(errors.values()) < 1e-7, errors
    # the loss is the mean over unmasked tokens only: changing a masked target changes nothing
    masked = np.argwhere(~mask)[0]
    other = ids_target.copy()
    other[tuple(masked)] = (other[tuple(masked)] + 1) % V
    assert lm_loss(ids_in, other, params, cell, state0=state0, mask=mask)[0] == loss


def test_loss_value_is_the_mean_negative_log_probability():
    rng = np.random.default_rng(4)
    T, N, V, H = 4, 2, 5, 3
    params = _params(V, H, "rnn", None, 1)
    ids_in, ids_target = rng.integers(0, V, size=(T, N)), rng.integers(0, V, size=(T, N))
    logits = _loop_lm(ids_in, params, "rnn", 1)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, ids_target[:, :, None], 2).mean()
    loss, _, _ = lm_loss(ids_in, ids_target, params, "rnn")
    assert loss == pytest.approx(expected, rel=1e-12)
    assert type(loss) is float


def test_uniform_model_scores_log_V():
    """Zero output weights give uniform predictions: loss log V whatever the input."""
    V = 7
    params = init_lm_params(V, 4, np.random.default_rng(0), cell="gru")
    params["out.W_hq"] = np.zeros_like(params["out.W_hq"])
    params["out.b_q"] = np.zeros_like(params["out.b_q"])
    ids = np.random.default_rng(1).integers(0, V, size=(6, 3))
    loss, _, _ = lm_loss(ids, ids, params, "gru")
    assert loss == pytest.approx(np.log(V), rel=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_carried_state_continues_the_sequence(cell):
    """Two windows with the state carried give the logits of one uninterrupted pass."""
    rng = np.random.default_rng(5)
    params = init_lm_params(6, 5, rng, cell=cell, embed_size=3, num_layers=2)
    ids = rng.integers(0, 6, size=(9, 4))
    whole, state_whole, _ = lm_forward(ids, params, cell)
    first, state, _ = lm_forward(ids[:4], params, cell)
    second, state_T, _ = lm_forward(ids[4:], params, cell, state0=state)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12)
    last = state_whole[-1][0] if cell == "lstm" else state_whole[-1]
    np.testing.assert_allclose(state_T[-1][0] if cell == "lstm" else state_T[-1], last, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_step_fn_reproduces_the_forward_pass(cell):
    rng = np.random.default_rng(6)
    params = init_lm_params(5, 4, rng, cell=cell, num_layers=2)
    ids = rng.integers(0, 5, size=7)
    logits, _, _ = lm_forward(ids[:, None], params, cell)
    step_fn = lm_step_fn(params, cell)
    state = None
    for t, token in enumerate(ids):
        step_logits, state = step_fn(int(token), state)
        assert step_logits.shape == (5,)
        np.testing.assert_allclose(step_logits, logits[t, 0], rtol=1e-12)


def test_step_fn_rejects_bad_tokens():
    step_fn = lm_step_fn(init_lm_params(5, 4, np.random.default_rng(0), cell="rnn"), "rnn")
    with pytest.raises(ValueError, match="token_id 5 is outside 0..4"):
        step_fn(5, None)
    with pytest.raises(TypeError, match="token_id must be an int"):
        step_fn(1.0, None)


def test_init_shapes_keys_and_dtype():
    rng = np.random.default_rng(0)
    params = init_lm_params(11, 8, rng, cell="lstm", embed_size=5, num_layers=2, dtype=np.float32)
    assert params["embed.W"].shape == (11, 5)
    assert params["layer0.W_xi"].shape == (5, 8) and params["layer1.W_xi"].shape == (8, 8)
    assert params["layer1.W_hc"].shape == (8, 8) and params["layer0.b_o"].shape == (8,)
    assert params["out.W_hq"].shape == (8, 11) and params["out.b_q"].shape == (11,)
    assert len(params) == 1 + 2 * 12 + 2
    assert all(v.dtype == np.float32 for v in params.values())
    one_hot = init_lm_params(11, 8, rng, cell="rnn")
    assert "embed.W" not in one_hot and one_hot["layer0.W_xh"].shape == (11, 8)
    # PyTorch's bound 1/sqrt(H) for the recurrent and output weights
    assert np.abs(one_hot["layer0.W_hh"]).max() <= 1 / np.sqrt(8)


def test_float32_stays_float32_and_inputs_are_not_modified():
    rng = np.random.default_rng(7)
    params = init_lm_params(6, 4, rng, cell="lstm", embed_size=3, dtype=np.float32)
    saved = {k: v.copy() for k, v in params.items()}
    ids = rng.integers(0, 6, size=(5, 2))
    ids_saved = ids.copy()
    logits, _, cache = lm_forward(ids, params, "lstm")
    assert logits.dtype == np.float32
    grads = lm_backward(np.ones_like(logits), cache)
    assert all(g.dtype == np.float32 for g in grads.values())
    loss, grads, _ = lm_loss(ids, ids, params, "lstm")
    assert np.isfinite(loss)
    for k in params:
        np.testing.assert_array_equal(params[k], saved[k])
    np.testing.assert_array_equal(ids, ids_saved)


# ---------------------------------------------------------------- bad input


@pytest.fixture
def model():
    return init_lm_params(5, 4, np.random.default_rng(0), cell="rnn")


def test_bad_cell(model):
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'gru', 'lstm'"):
        lm_forward(np.zeros((2, 1), int), model, "transformer")


def test_ids_must_be_integer_and_in_range(model):
    with pytest.raises(TypeError, match="ids must hold integer token ids"):
        lm_forward(np.zeros((2, 1)), model, "rnn")
    with pytest.raises(ValueError, match="id 5, outside the vocabulary's range 0..4"):
        lm_forward(np.full((2, 1), 5), model, "rnn")
    with pytest.raises(ValueError, match=r"ids has shape \(3,\) but lm_forward needs \(T, N\)"):
        lm_forward(np.zeros(3, int), model, "rnn")
    with pytest.raises(ValueError, match=r"ids_target has shape \(3, 1\)"):
        lm_loss(np.zeros((2, 1), int), np.zeros((3, 1), int), model, "rnn")


def test_params_must_be_a_language_model(model):
    with pytest.raises(TypeError, match="params must be a dict"):
        lm_forward(np.zeros((2, 1), int), [1, 2], "rnn")
    missing = {k: v for k, v in model.items() if k != "out.b_q"}
    with pytest.raises(ValueError, match="params is missing 'out.b_q'"):
        lm_forward(np.zeros((2, 1), int), missing, "rnn")
    no_layers = {k: v for k, v in model.items() if k.startswith("out.")}
    with pytest.raises(ValueError, match="no recurrent layer"):
        lm_loss(np.zeros((2, 1), int), np.zeros((2, 1), int), no_layers, "rnn")
    wrong_cell = init_lm_params(5, 4, np.random.default_rng(0), cell="gru")
    with pytest.raises(ValueError, match="missing 'layer0.W_xi'"):
        lm_forward(np.zeros((2, 1), int), wrong_cell, "lstm")
    bad_embed = dict(model, **{"embed.W": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"params\['embed.W'\] has shape \(4, 3\)"):
        lm_forward(np.zeros((2, 1), int), bad_embed, "rnn")


def test_backward_checks_its_inputs(model):
    logits, _, cache = lm_forward(np.zeros((2, 3), int), model, "rnn")
    with pytest.raises(ValueError, match=r"dlogits has shape \(2, 3, 4\) but lm_backward needs"):
        lm_backward(np.zeros((2, 3, 4)), cache)
    with pytest.raises(TypeError, match="cache must be the LMCache"):
        lm_backward(np.zeros_like(logits), (1, 2))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"vocab_size": 0}, ValueError, "vocab_size must be at least 1"),
        ({"hidden_size": 2.5}, TypeError, "hidden_size must be an int"),
        ({"num_layers": 0}, ValueError, "num_layers must be at least 1"),
        ({"embed_size": 0}, ValueError, "embed_size must be at least 1"),
        ({"cell": "cnn"}, ValueError, "cell must be one of"),
        ({"rng": 3}, TypeError, "rng must be a numpy.random.Generator"),
        ({"dtype": np.int32}, TypeError, "dtype must be a floating dtype"),
    ],
)
def test_init_rejects_bad_arguments(kwargs, error, message):
    args = {"vocab_size": 5, "hidden_size": 4, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=message):
        init_lm_params(**args)

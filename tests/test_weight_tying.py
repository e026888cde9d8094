"""Tests of weight tying in rnncore.lm (chapter 10): one matrix for the embedding and the output.

Independent routes: the tied gradient against centred finite differences; against the
sum of the two gradients of an *untied* model whose embedding and output matrices hold
the same numbers (the chain rule for a shared parameter, computed by code that knows
nothing of tying); the logits against a loop written here; and the parameter count
against the formula.
"""

import numpy as np
import pytest

from rnncore.gradcheck import gradcheck
from rnncore.lm import init_lm_params, is_tied, lm_backward, lm_forward, lm_loss
from rnncore.training import train_lm

CELLS = ("rnn", "gru", "lstm")


def _untied_twin(tied):
    """The same model with the shared matrix copied into both ends (two separate arrays)."""
    twin = dict(tied)
    twin["embed.W"] = tied["embed.W"].copy()  # (V, H)
    twin["out.W_hq"] = tied["embed.W"].T.copy()  # (H, V)
    return twin


@pytest.mark.parametrize("cell", CELLS)
def test_tied_model_has_no_output_matrix_and_fewer_parameters(cell):
    V, H = 11, 6
    tied = init_lm_params(V, H, np.random.default_rng(0), cell=cell, tie_weights=True)
    untied = init_lm_params(V, H, np.random.default_rng(0), cell=cell, embed_size=H)
    assert is_tied(tied) and not is_tied(untied)
    assert "out.W_hq" not in tied and tied["embed.W"].shape == (V, H)
    count = sum(v.size for v in tied.values())
    assert sum(v.size for v in untied.values()) - count == H * V  # exactly one (H, V) matrix less
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    assert count == V * H + gates * (H * H + H * H + H) + V  # embed, one layer reading E = H, b_q


@pytest.mark.parametrize("cell", CELLS)
def test_tied_logits_use_the_transposed_embedding(cell):
    rng = np.random.default_rng(1)
    V, H, T, N = 9, 5, 4, 3
    tied = init_lm_params(V, H, rng, cell=cell, tie_weights=True)
    ids = rng.integers(0, V, size=(T, N))
    logits, _, _ = lm_forward(ids, tied, cell)
    twin_logits, _, _ = lm_forward(ids, _untied_twin(tied), cell)
    np.testing.assert_allclose(logits, twin_logits, rtol=0, atol=1e-12)
    # and the same row of the table both feeds token v in and scores token v out
    twin = _untied_twin(tied)
    twin["out.W_hq"] = twin["out.W_hq"] + 1.0
    assert not np.allclose(lm_forward(ids, twin, cell)[0], logits)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_tied_gradient_matches_finite_differences(cell, num_layers):
    rng = np.random.default_rng(2)
    V, H, T, N = 7, 4, 5, 2
    tied = init_lm_params(V, H, rng, cell=cell, tie_weights=True, num_layers=num_layers)
    ids = rng.integers(0, V, size=(T, N))
    logits, _, cache = lm_forward(ids, tied, cell)
    dlogits = rng.normal(size=logits.shape)
    grads = lm_backward(dlogits, cache)
    assert set(grads) == set(tied)
    errors = gradcheck(lambda a: lm_forward(ids, a, cell)[0], tied, grads, dout=dlogits, eps=1e-5)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
def test_tied_gradient_is_the_sum_of_both_untied_gradients(cell):
    rng = np.random.default_rng(3)
    V, H, T, N = 8, 5, 6, 3
    tied = init_lm_params(V, H, rng, cell=cell, tie_weights=True)
    ids_in, ids_target = rng.integers(0, V, size=(2, T, N))
    loss, grads, _ = lm_loss(ids_in, ids_target, tied, cell)
    twin_loss, twin_grads, _ = lm_loss(ids_in, ids_target, _untied_twin(tied), cell)
    assert loss == pytest.approx(twin_loss, abs=1e-12)
    expected = twin_grads["embed.W"] + twin_grads["out.W_hq"].T  # (V, H)
    np.testing.assert_allclose(grads["embed.W"], expected, rtol=1e-12, atol=1e-14)
    # both parts matter: neither use alone gives the tied gradient
    assert not np.allclose(grads["embed.W"], twin_grads["embed.W"])
    assert not np.allclose(grads["embed.W"], twin_grads["out.W_hq"].T)
    for key in twin_grads.keys() - {"embed.W", "out.W_hq"}:
        np.testing.assert_allclose(grads[key], twin_grads[key], rtol=1e-12, atol=1e-14)


def test_training_a_tied_model_keeps_it_tied_and_lowers_the_loss():
    rng = np.random.default_rng(4)
    V, H = 6, 8
    ids = np.tile(np.arange(V), 60)  # 0 1 2 3 4 5 0 1 ...: the next token is always known
    params = init_lm_params(V, H, rng, cell="gru", tie_weights=True)
    trained, history = train_lm(
        params, ids, "gru", seq_len=10, batch_size=4, steps=60, lr=0.05, rng=rng, progress=False
    )
    assert is_tied(trained) and set(trained) == set(params)
    assert np.mean(history["train_loss"][-5:]) < 0.3 * history["train_loss"][0]


def test_bad_tying_arguments_are_named():
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="embed_size must equal hidden_size"):
        init_lm_params(10, 6, rng, embed_size=4, tie_weights=True)
    with pytest.raises(TypeError, match="tie_weights must be True or False"):
        init_lm_params(10, 6, rng, tie_weights="yes")
    with pytest.raises(TypeError, match="is_tied: params must be a dict"):
        is_tied([np.zeros((10, 6))])
    tied = init_lm_params(10, 6, rng, cell="rnn", tie_weights=True)
    broken = dict(tied, **{"embed.W": np.zeros((10, 5))})  # table of width 5, layers of width 6
    with pytest.raises(ValueError, match=r"hidden size must equal the embedding size E = 5"):
        lm_forward(np.zeros((2, 1), dtype=int), broken, "rnn")

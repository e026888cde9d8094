"""Chapter 10's additions: ReLU RNN, orthogonal and identity starts, dropout, stream minibatches."""

from __future__ import annotations

import numpy as np
import pytest

import rnncore as rc
from rnncore.gradcheck import gradcheck

TOL = 1e-7


# --- the ReLU RNN -----------------------------------------------------------------------


def _relu_case(T, N, D, H, seed):
    rng = np.random.default_rng(seed)
    params = {
        "W_xh": rng.normal(scale=0.6, size=(D, H)),
        "W_hh": rng.normal(scale=0.6, size=(H, H)),
        "b_h": np.where(np.arange(H) % 2, 3.0, -3.0),  # units below and above the kink
    }
    return rng.normal(size=(T, N, D)), rng.uniform(0, 1, size=(N, H)), params


@pytest.mark.parametrize("N,D,H", [(1, 2, 3), (4, 3, 2)])
def test_relu_cell_forward_and_gradients(N, D, H):
    X, h_prev, params = _relu_case(1, N, D, H, seed=N + D)
    x = X[0]
    h, cache = rc.rnn_cell_forward(x, h_prev, params, activation="relu")
    np.testing.assert_array_equal(
        h, np.maximum(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"], 0)
    )
    assert (h == 0).any() and (h > 0).any()  # both sides of the kink are exercised
    dh = np.random.default_rng(1).normal(size=h.shape)
    dx, dh_prev, grads = rc.rnn_cell_backward(dh, cache)
    errors = gradcheck(
        lambda a: rc.rnn_cell_forward(
            a["x"], a["h_prev"], {k: a[k] for k in params}, activation="relu"
        )[0],
        {"x": x, "h_prev": h_prev, **params},
        {"x": dx, "h_prev": dh_prev, **grads},
        dout=dh,
    )
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("T,N,D,H", [(1, 1, 2, 3), (5, 3, 2, 4)])
def test_relu_sequence_is_a_loop_of_cells_and_gradients_match(T, N, D, H):
    X, h0, params = _relu_case(T, N, D, H, seed=10 + T)
    H_seq, cache = rc.rnn_forward(X, h0, params, activation="relu")
    h = h0
    for t in range(T):
        h, _ = rc.rnn_cell_forward(X[t], h, params, activation="relu")
        np.testing.assert_allclose(H_seq[t], h, rtol=1e-13, atol=1e-15)
    dH = np.random.default_rng(2).normal(size=H_seq.shape)
    dX, dh0, grads = rc.rnn_backward(dH, cache)
    errors = gradcheck(
        lambda a: rc.rnn_forward(a["X"], a["h0"], {k: a[k] for k in params}, activation="relu")[0],
        {"X": X, "h0": h0, **params},
        {"X": dX, "h0": dh0, **grads},
        dout=dH,
    )
    assert max(errors.values()) < TOL, errors
    tanh, _ = rc.rnn_forward(X, h0, params)
    assert not np.allclose(tanh, H_seq)  # the default is still tanh


def test_activation_reaches_stacked_and_bidirectional_networks():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 2, 2))
    params = rc.init_stacked_params("rnn", 2, 3, 2, rng, bidirectional=True)
    H_top, _, cache = rc.stacked_forward(X, params, "rnn", bidirectional=True, activation="relu")
    assert (H_top >= 0).all() and (H_top == 0).any()
    dX, grads = rc.stacked_backward(np.ones_like(H_top), cache)

    def top(a):
        p = {k: a[k] for k in params}
        return rc.stacked_forward(a["X"], p, "rnn", bidirectional=True, activation="relu")[0]

    errors = gradcheck(top, {"X": X, **params}, {"X": dX, **grads})
    assert max(errors.values()) < TOL, errors
    one = {k[len("layer0.") :]: v for k, v in params.items() if k.startswith("layer0.")}
    H_bi, _ = rc.bidirectional_forward(X, one, "rnn", activation="relu")
    assert (H_bi >= 0).all()
    with pytest.raises(ValueError, match="activation must be one of 'tanh', 'relu'"):
        rc.rnn_forward(X, None, rc.init_rnn_params(2, 3, rng), activation="sigmoid")
    with pytest.raises(TypeError, match="unexpected option 'activation' for cell='gru'"):
        rc.recurrent_forward("gru", X, None, rc.init_params("gru", 2, 3, rng), activation="relu")


def test_relu_float32_stays_float32():
    X, h0, params = _relu_case(3, 2, 2, 3, seed=4)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    H, cache = rc.rnn_forward(X.astype(np.float32), h0.astype(np.float32), p32, activation="relu")
    dX, dh0, grads = rc.rnn_backward(np.ones_like(H), cache)
    assert H.dtype == dX.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


# --- orthogonal and identity starts -----------------------------------------------------


@pytest.mark.parametrize("rows,cols", [(5, 5), (6, 3), (2, 7), (1, 1)])
def test_orthogonal(rows, cols):
    W = rc.orthogonal(rows, cols, np.random.default_rng(5), gain=2.0)
    assert W.shape == (rows, cols)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 2.0, rtol=1e-12)


def test_orthogonal_is_not_biased_towards_positive_diagonals():
    """Without the sign fix QR returns R with a positive diagonal, and Q is not Haar-distributed."""
    diagonals = [rc.orthogonal(3, 3, np.random.default_rng(s))[0, 0] for s in range(400)]
    assert abs(np.mean(diagonals)) < 0.08  # Haar: E[W_00] = 0


def test_irnn_params_copy_a_positive_state():
    params = rc.init_irnn_params(2, 4, np.random.default_rng(6))
    np.testing.assert_array_equal(params["W_hh"], np.eye(4))
    np.testing.assert_array_equal(params["b_h"], 0.0)
    assert 0.0005 < params["W_xh"].std() < 0.002
    h0 = np.array([[0.3, 1.2, 0.0, 2.0]])
    H, _ = rc.rnn_forward(np.zeros((50, 1, 2)), h0, params, activation="relu")
    np.testing.assert_array_equal(H[-1], h0)  # zero inputs: the state is kept exactly
    with pytest.raises(ValueError, match="input_std must be finite and >= 0"):
        rc.init_irnn_params(2, 4, np.random.default_rng(0), input_std=-1.0)
    with pytest.raises(TypeError, match="gain must be a number"):
        rc.orthogonal(2, 2, np.random.default_rng(0), gain="1")


# --- dropout ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["standard", "variational"])
def test_dropout_masks_and_gradients(mode):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(6, 50, 40))
    out, cache = rc.dropout_forward(X, 0.3, np.random.default_rng(8), mode=mode)
    kept = out != 0
    np.testing.assert_allclose(out[kept], X[kept] / 0.7, rtol=1e-14)  # survivors scaled
    assert abs(1 - kept.mean() - 0.3) < 0.04  # about p dropped (2000 draws: 4 sigma)
    same_every_step = (kept == kept[:1]).all()
    assert same_every_step == (mode == "variational")  # one mask per sequence, or per step
    dout = rng.normal(size=X.shape)
    dX = rc.dropout_backward(dout, cache)
    # the same seed draws the same mask on every probe: a fixed function of X
    small, dsmall = X[:2, :3, :4], dout[:2, :3, :4]
    _, small_cache = rc.dropout_forward(small, 0.3, np.random.default_rng(8), mode=mode)
    errors = gradcheck(
        lambda a: rc.dropout_forward(a["X"], 0.3, np.random.default_rng(8), mode=mode)[0],
        {"X": small},
        {"X": rc.dropout_backward(dsmall, small_cache)},
        dout=dsmall,
    )
    assert errors["X"] < TOL
    np.testing.assert_array_equal(dX == 0, ~kept)  # a dropped unit gets no gradient


def test_dropout_expectation_and_evaluation_mode():
    X = np.ones((1, 2000, 50))
    out, _ = rc.dropout_forward(X, 0.5, np.random.default_rng(9))
    assert abs(out.mean() - 1.0) < 0.01  # inverted dropout keeps the mean
    same, cache = rc.dropout_forward(X, 0.5, None, train=False)
    np.testing.assert_array_equal(same, X)
    np.testing.assert_array_equal(rc.dropout_backward(X, cache), X)
    none, _ = rc.dropout_forward(X, 0.0, None)
    np.testing.assert_array_equal(none, X)


def test_dropout_mask_for_the_recurrent_state():
    mask = rc.dropout_mask((1000, 30), 0.25, np.random.default_rng(10), dtype=np.float32)
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / 0.75)}
    assert abs(mask.mean() - 1) < 0.02


def test_dropout_bad_input():
    X = np.ones((2, 3, 4))
    rng = np.random.default_rng(11)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        rc.dropout_forward(X, 1.0, rng)
    with pytest.raises(ValueError, match="mode must be one of"):
        rc.dropout_forward(X, 0.1, rng, mode="zoneout")
    with pytest.raises(ValueError, match=r"X has shape \(3, 4\)"):
        rc.dropout_forward(X[0], 0.1, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        rc.dropout_forward(X, 0.1, 0)
    _, cache = rc.dropout_forward(X, 0.1, rng)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 5\)"):
        rc.dropout_backward(np.ones((2, 3, 5)), cache)
    with pytest.raises(TypeError, match="DropoutCache"):
        rc.dropout_backward(X, None)
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        rc.dropout_mask([3, 4], 0.1, rng)


# --- stream minibatches -----------------------------------------------------------------


def test_sequential_windows_continue_each_other():
    stream = np.arange(1000)  # each id is its own position in the stream
    batches = list(rc.stream_minibatches(stream, 7, 4, np.random.default_rng(12)))
    assert [b.carry_state for b in batches] == [False] + [True] * (len(batches) - 1)
    for previous, current in zip(batches, batches[1:]):
        np.testing.assert_array_equal(current.ids_in[0], previous.ids_in[-1] + 1)
    for b in batches:
        np.testing.assert_array_equal(b.ids_target, b.ids_in + 1)
        assert b.ids_in.shape == (7, 4)
    seen = np.concatenate([b.ids_in.ravel() for b in batches])
    assert len(np.unique(seen)) == len(seen)  # no token read twice in one epoch
    assert len(seen) > 1000 - 4 * 7 - 7  # and only a few are left out


def test_random_partition_shuffles_whole_windows():
    stream = np.arange(500)
    batches = list(rc.stream_minibatches(stream, 5, 3, np.random.default_rng(13), "random"))
    assert all(not b.carry_state for b in batches)
    starts = np.concatenate([b.ids_in[0] for b in batches])
    offset = starts.min() % 5
    assert ((starts - offset) % 5 == 0).all()  # windows on one grid, after the offset
    assert len(np.unique(starts)) == len(starts)
    assert not (np.diff(starts) > 0).all()  # shuffled, not in stream order
    for b in batches:
        np.testing.assert_array_equal(b.ids_in, b.ids_in[0] + np.arange(5)[:, None])
        np.testing.assert_array_equal(b.ids_target, b.ids_in + 1)


def test_random_lengths_are_geometric_with_the_given_mean():
    stream = np.arange(40001)
    batches = list(
        rc.stream_minibatches(stream, 10, 2, np.random.default_rng(14), random_lengths=True)
    )
    lengths = np.array([b.ids_in.shape[0] for b in batches])
    assert lengths.min() == 1 and lengths.max() > 30  # a long tail: some windows reach far back
    assert abs(lengths.mean() - 10) < 0.8
    seen = np.concatenate([b.ids_in[:, 0] for b in batches])
    np.testing.assert_array_equal(seen, seen[0] + np.arange(len(seen)))  # contiguous column


def test_offsets_vary_between_epochs():
    stream = np.arange(300)
    firsts = {
        int(next(rc.stream_minibatches(stream, 8, 2, np.random.default_rng(s))).ids_in[0, 0])
        for s in range(30)
    }
    assert len(firsts) > 3 and max(firsts) < 8
    fixed = next(rc.stream_minibatches(stream, 8, 2, np.random.default_rng(0), random_offset=False))
    assert fixed.ids_in[0, 0] == 0


def test_stream_bad_input():
    rng = np.random.default_rng(15)
    with pytest.raises(ValueError, match="fewer than seq_len \\* batch_size \\+ 1 = 41"):
        rc.stream_minibatches(np.arange(30), 10, 4, rng)
    with pytest.raises(ValueError, match="random_lengths needs partition='sequential'"):
        rc.stream_minibatches(np.arange(300), 10, 4, rng, "random", random_lengths=True)
    with pytest.raises(ValueError, match="partition must be one of"):
        rc.stream_minibatches(np.arange(300), 10, 4, rng, "strided")
    with pytest.raises(TypeError, match="integer token ids"):
        rc.stream_minibatches(np.arange(300.0), 10, 4, rng)


# --- the remaining argument checks of chapters 10 and 11's functions ----------------------


def test_argument_checks_name_the_argument():
    rng = np.random.default_rng(16)
    X = np.ones((2, 3, 4))
    with pytest.raises(TypeError, match="p must be a number"):
        rc.dropout_forward(X, "0.1", rng)
    with pytest.raises(TypeError, match="train must be True or False"):
        rc.dropout_forward(X, 0.1, rng, train=1)
    with pytest.raises(TypeError, match="init_irnn_params: scale must be a number"):
        rc.init_irnn_params(2, 3, rng, scale=None)
    with pytest.raises(TypeError, match="params must be a dict"):
        rc.seq2seq_forward(
            np.zeros((2, 1), int), np.ones((2, 1), bool), np.zeros((2, 1), int), [], "gru"
        )
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        rc.init_seq2seq_params(5, 5, 2, 3, rng, bidirectional=1)
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        rc.init_seq2seq_params(5, 5, 2, 3, rng, dtype=np.int32)
    params = rc.init_seq2seq_params(5, 5, 2, 3, rng)
    with pytest.raises(TypeError, match="callback must be callable"):
        rc.train_seq2seq(params, lambda r: None, "gru", steps=1, lr=0.1, rng=rng, callback=3)
    assert all(len(out) <= 2 for out in rc.translate(params, [[3, 4], [4]], "gru", max_len=2))
    with pytest.raises(TypeError, match="sources must be a list of lists of int ids"):
        rc.pad_seq2seq_batch("34", ["43"])
    with pytest.raises(ValueError, match="same length"):
        rc.exact_match([[3]], [[3], [4]])
    with pytest.raises(TypeError, match="params must be a dict"):
        rc.to_torch_state_dict([], "rnn")
    with pytest.raises(ValueError, match=r"layers \[0, 2\]; they must be numbered"):
        rc.to_torch_state_dict({"layer0.W_xh": X[0], "layer2.W_xh": X[0]}, "rnn")
    with pytest.raises(ValueError, match="state_dict is empty"):
        rc.from_torch_state_dict({}, "rnn")
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        rc.from_torch_state_dict([], "rnn")
    with pytest.raises(TypeError, match="stacked must be True, False or None"):
        rc.from_torch_state_dict({"weight_ih_l0": X[0]}, "rnn", stacked=1)


@pytest.mark.parametrize("T,N,D,H", [(1, 1, 2, 3), (4, 3, 3, 2)])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_variational_rnn_gradients_and_masks(T, N, D, H, activation):
    X, h0, params = _relu_case(T, N, D, H, seed=20 + T)
    rng = np.random.default_rng(21)
    mask_x = rc.dropout_mask((N, D), 0.4, rng)
    mask_h = rc.dropout_mask((N, H), 0.4, rng)
    mask_x[0, 0], mask_h[0, 0] = 0.0, 0.0  # at least one dropped unit of each kind
    H_var, cache = rc.variational_rnn_forward(X, h0, params, mask_x, mask_h, activation)
    dH = rng.normal(size=H_var.shape)
    dX, dh0, grads = rc.variational_rnn_backward(dH, cache)
    errors = gradcheck(
        lambda a: rc.variational_rnn_forward(
            a["X"], a["h0"], {k: a[k] for k in params}, mask_x, mask_h, activation
        )[0],
        {"X": X, "h0": h0, **params},
        {"X": dX, "h0": dh0, **grads},
        dout=dH,
    )
    assert max(errors.values()) < TOL, errors
    assert (dX[:, 0, 0] == 0).all()  # a dropped input unit stays dropped at every step
    assert dh0[0, 0] == 0
    ones_x, ones_h = np.ones((N, D)), np.ones((N, H))
    plain, _ = rc.rnn_forward(X, h0, params, activation=activation)
    same, _ = rc.variational_rnn_forward(X, h0, params, ones_x, ones_h, activation)
    np.testing.assert_allclose(same, plain, rtol=1e-13, atol=1e-15)  # masks of ones: no dropout


def test_variational_rnn_bad_input():
    X, h0, params = _relu_case(2, 2, 3, 4, seed=22)
    with pytest.raises(ValueError, match=r"mask_h has shape \(2, 3\).*\(N, H\) = \(2, 4\)"):
        rc.variational_rnn_forward(X, h0, params, np.ones((2, 3)), np.ones((2, 3)))
    _, cache = rc.variational_rnn_forward(X, None, params, np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"dH has shape \(3, 2, 4\)"):
        rc.variational_rnn_backward(np.ones((3, 2, 4)), cache)
    with pytest.raises(TypeError, match="VariationalRNNCache"):
        rc.variational_rnn_backward(np.ones((2, 2, 4)), None)


def test_irnn_regressor_on_the_adding_problem():
    rng = np.random.default_rng(23)
    params = rc.init_regressor_params(2, 4, rng, cell="rnn")
    params.update(
        {f"layer0.{k}": v for k, v in rc.init_irnn_params(2, 4, rng, input_std=0.5).items()}
    )
    X, y = rc.adding_problem(T=6, N=5, rng=rng)
    loss, grads = rc.regressor_loss(X, y, params, "rnn", activation="relu")
    errors = gradcheck(
        lambda a: np.array(rc.regressor_loss(X, y, a, "rnn", activation="relu")[0]), params, grads
    )
    assert max(errors.values()) < TOL, errors
    y_relu, _ = rc.regressor_forward(X, params, "rnn", activation="relu")
    H, _ = rc.rnn_forward(
        X, None, {k[7:]: v for k, v in params.items() if k.startswith("layer0.")}, activation="relu"
    )
    np.testing.assert_allclose(
        y_relu, H[-1] @ params["out.W_hq"][:, 0] + params["out.b_q"][0], rtol=1e-13
    )
    # the trainer runs the same relu model: its first recorded loss is this model's loss
    first = rc.adding_problem(T=6, N=5, rng=np.random.default_rng(24))
    _, history = rc.train_regressor(
        params, lambda r: first, "rnn", steps=1, lr=0.01, rng=rng, progress=False, activation="relu"
    )
    assert history["train_loss"][0] == pytest.approx(
        rc.regressor_loss(*first, params, "rnn", activation="relu")[0]
    )
    with pytest.raises(ValueError, match="activation='relu' needs cell='rnn'"):
        rc.regressor_loss(
            X, y, rc.init_regressor_params(2, 3, rng, cell="gru"), "gru", activation="relu"
        )

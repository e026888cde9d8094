"""rnncore.init: shapes, dtypes, the Uniform(−1/√H, 1/√H) distribution, explicit randomness."""

import numpy as np
import pytest

from rnncore import init_gru_params, init_lstm_params, init_output_params, init_rnn_params

D, H, V = 7, 16, 30


def expected_shapes(kind):
    if kind == "output":
        return {"W_hq": (H, V), "b_q": (V,)}
    gates = {"rnn": "h", "gru": "zrh", "gru_after": "zrh", "lstm": "ifoc"}[kind]
    shapes = {}
    for g in gates:
        shapes.update({f"W_x{g}": (D, H), f"W_h{g}": (H, H), f"b_{g}": (H,)})
    if kind == "gru_after":
        shapes["b_hn"] = (H,)
    return shapes


def make(kind, seed=0, dtype=np.float64, d=D, h=H):
    rng = np.random.default_rng(seed)
    if kind == "rnn":
        return init_rnn_params(d, h, rng, dtype=dtype)
    if kind == "gru":
        return init_gru_params(d, h, rng, dtype=dtype)
    if kind == "gru_after":
        return init_gru_params(d, h, rng, reset_after=True, dtype=dtype)
    if kind == "lstm":
        return init_lstm_params(d, h, rng, dtype=dtype)
    return init_output_params(h, V, rng, dtype=dtype)


KINDS = ["rnn", "gru", "gru_after", "lstm", "output"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_keys_shapes_dtype_and_bounds(kind, dtype):
    params = make(kind, dtype=dtype)
    bound = dtype(1 / np.sqrt(H))  # fan-in is H for every array, the output layer included
    assert {k: v.shape for k, v in params.items()} == expected_shapes(kind)
    for name, value in params.items():
        assert value.dtype == dtype, name
        assert np.abs(value).max() <= bound, name


def test_default_dtype_is_float64():
    assert all(
        v.dtype == np.float64 for v in init_rnn_params(2, 3, np.random.default_rng(0)).values()
    )


def test_draws_fill_the_interval_uniformly():
    # Uniform(−a, a) has mean 0 and variance a²/3; 40,000 draws pin both to about 1 %
    params = init_rnn_params(200, 200, np.random.default_rng(1))
    W = params["W_xh"]
    a = 1 / np.sqrt(200)
    assert abs(W.mean()) < 0.01 * a
    assert W.var() == pytest.approx(a**2 / 3, rel=0.02)
    assert W.max() > 0.99 * a and W.min() < -0.99 * a
    counts, _ = np.histogram(W, bins=10, range=(-a, a))
    assert counts.min() > 0.9 * W.size / 10  # flat, not bell-shaped


def test_output_layer_bound_uses_H_not_V():
    params = init_output_params(4, 1000, np.random.default_rng(2))  # 1/√4 = 0.5, 1/√1000 ≈ 0.03
    assert 0.45 < np.abs(params["W_hq"]).max() <= 0.5


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_params_different_seed_different(kind):
    a, b, c = make(kind, seed=3), make(kind, seed=3), make(kind, seed=4)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name]), name
    # and every array is its own draw, not a copy of another
    flat = [tuple(v.ravel()[:3]) for v in a.values()]
    assert len(set(flat)) == len(flat)


def test_forget_bias_shifts_b_f_only():
    base = init_lstm_params(D, H, np.random.default_rng(5))
    shifted = init_lstm_params(D, H, np.random.default_rng(5), forget_bias=1.0)
    np.testing.assert_allclose(shifted["b_f"] - base["b_f"], np.ones(H), rtol=0, atol=1e-15)
    for name in base.keys() - {"b_f"}:
        np.testing.assert_array_equal(shifted[name], base[name])
    f32 = init_lstm_params(D, H, np.random.default_rng(5), forget_bias=1.0, dtype=np.float32)
    assert f32["b_f"].dtype == np.float32


def test_reset_after_adds_only_b_hn():
    book = init_gru_params(D, H, np.random.default_rng(6))
    after = init_gru_params(D, H, np.random.default_rng(6), reset_after=True)
    assert after.keys() - book.keys() == {"b_hn"}


# --- bad input ------------------------------------------------------------------------------


def test_sizes_must_be_positive():
    with pytest.raises(ValueError, match=r"init_rnn_params: H must be a positive int, got 0"):
        init_rnn_params(3, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"init_output_params: V must be a positive int, got -2"):
        init_output_params(3, -2, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [3.0, True, "3", None])
def test_sizes_must_be_ints(bad):
    with pytest.raises(TypeError, match=r"init_gru_params: D must be a positive int, got "):
        init_gru_params(bad, 4, np.random.default_rng(0))


def test_numpy_integer_sizes_are_accepted():
    params = init_lstm_params(np.int64(2), np.int32(3), np.random.default_rng(0))
    assert params["W_hc"].shape == (3, 3)


@pytest.mark.parametrize("bad", [0, np.random.RandomState(0), None])
def test_rng_must_be_a_generator(bad):
    with pytest.raises(
        TypeError,
        match=r"init_lstm_params: rng must be a numpy.random.Generator.*"
        r"default_rng",
    ):
        init_lstm_params(2, 3, bad)


@pytest.mark.parametrize("bad", [np.int64, "int32", "not a dtype", object])
def test_dtype_must_be_floating(bad):
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype"):
        init_rnn_params(2, 3, np.random.default_rng(0), dtype=bad)


def test_reset_after_must_be_a_bool():
    with pytest.raises(TypeError, match=r"reset_after must be True or False, got 1"):
        init_gru_params(2, 3, np.random.default_rng(0), reset_after=1)


def test_forget_bias_must_be_a_finite_number():
    with pytest.raises(TypeError, match=r"forget_bias must be a number, got str"):
        init_lstm_params(2, 3, np.random.default_rng(0), forget_bias="1")
    with pytest.raises(ValueError, match=r"forget_bias must be finite, got nan"):
        init_lstm_params(2, 3, np.random.default_rng(0), forget_bias=float("nan"))

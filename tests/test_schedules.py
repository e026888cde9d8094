"""Tests of rnncore.schedules and of the trainers' lr_schedule (chapter 10).

Independent facts: the closed forms at named points (cos(pi/2) = 0, so a cosine
schedule is halfway at half its length; a halving every k steps gives 2**-m at
step m*k), monotonicity, and, for the trainers, plain SGD on a problem whose
updates can be replayed by hand: after training with a schedule the parameters
must equal those of an SGD loop written here with the same rates.
"""

import math
from functools import partial

import numpy as np
import pytest

import rnncore as rc
from rnncore.schedules import cosine_decay, linear_warmup, step_decay, warmup_cosine


def test_step_decay_halves_every_k_steps():
    values = [step_decay(s, every=10, factor=0.5) for s in range(35)]
    assert values[:10] == [1.0] * 10
    assert values[10:20] == [0.5] * 10 and values[20] == 0.25 and values[34] == 0.125
    assert step_decay(999, every=1000, factor=0.1) == 1.0 and step_decay(1000, 1000, 0.1) == 0.1


def test_cosine_decay_hits_its_closed_form_points():
    total = 200
    assert cosine_decay(0, total) == 1.0
    assert cosine_decay(total // 2, total) == pytest.approx(0.5, abs=1e-15)  # cos(pi/2) = 0
    assert cosine_decay(total, total) == pytest.approx(0.0, abs=1e-15)
    assert cosine_decay(5 * total, total, final=0.1) == pytest.approx(0.1)  # stays at the floor
    assert cosine_decay(total // 2, total, final=0.2) == pytest.approx(0.6)  # halfway to 0.2
    quarter = cosine_decay(total // 4, total)
    assert quarter == pytest.approx((1 + math.sqrt(0.5)) / 2)  # cos(pi/4) = 1/sqrt(2)
    values = np.array([cosine_decay(s, total) for s in range(total + 1)])
    assert np.all(np.diff(values) < 0)  # strictly decreasing to the end


def test_linear_warmup_reaches_one_at_the_last_warmup_step():
    assert linear_warmup(0, 4) == 0.25 and linear_warmup(1, 4) == 0.5
    assert linear_warmup(3, 4) == 1.0 and linear_warmup(100, 4) == 1.0
    assert linear_warmup(0, 1) == 1.0  # one warm-up step: no warm-up at all


def test_warmup_cosine_joins_the_two_pieces_continuously():
    w, total = 10, 110
    up = [warmup_cosine(s, w, total) for s in range(w)]
    assert up == pytest.approx([(s + 1) / w for s in range(w)])
    assert warmup_cosine(w, w, total) == 1.0  # the decay starts from the top
    assert warmup_cosine(w + 50, w, total) == pytest.approx(0.5)  # half of the 100 decay steps
    assert warmup_cosine(total, w, total, final=0.05) == pytest.approx(0.05)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: step_decay(-1, 10), ValueError, "step must be >= 0"),
        (lambda: step_decay(1.5, 10), TypeError, "step must be an int"),
        (lambda: step_decay(3, 0), ValueError, "every must be a positive int"),
        (lambda: step_decay(3, 10, factor=1.5), ValueError, r"factor must lie in \(0, 1\]"),
        (lambda: cosine_decay(3, 10, final=-0.1), ValueError, r"final must lie in \[0, 1\]"),
        (lambda: cosine_decay(3, True), TypeError, "total_steps must be a positive int"),
        (lambda: linear_warmup(3, 0), ValueError, "warmup_steps must be a positive int"),
        (lambda: warmup_cosine(3, 10, 10), ValueError, "must be smaller than total_steps"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def _sgd_by_hand(params, make_batch, rng, steps, rates):
    """Plain SGD on the regressor written here: p <- p - rate * grad, no clipping."""
    params = {k: v.copy() for k, v in params.items()}
    for step in range(steps):
        X, y = make_batch(rng)
        _, grads = rc.regressor_loss(X, y, params, "rnn")
        params = {k: params[k] - rates[step] * grads[k] for k in params}
    return params


def test_train_regressor_uses_lr_times_the_schedule_at_every_step():
    params = rc.init_regressor_params(2, 5, np.random.default_rng(0), cell="rnn")

    def make_batch(rng):
        return rc.adding_problem(6, 8, rng)

    schedule = partial(step_decay, every=3, factor=0.5)
    steps, lr = 7, 0.2
    trained, history = rc.train_regressor(
        params, make_batch, "rnn", steps=steps, lr=lr, rng=np.random.default_rng(1),
        clip=None, optimizer="sgd", progress=False, lr_schedule=schedule,
    )  # fmt: skip
    rates = [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05]  # 0.2 * 0.5 ** (step // 3), by hand
    assert history["lr"] == pytest.approx(rates)
    expected = _sgd_by_hand(params, make_batch, np.random.default_rng(1), steps, rates)
    for key in params:
        np.testing.assert_allclose(trained[key], expected[key], rtol=1e-12, atol=1e-14)
    # without a schedule the rate is constant and the result differs
    constant, history = rc.train_regressor(
        params, make_batch, "rnn", steps=steps, lr=lr, rng=np.random.default_rng(1),
        clip=None, optimizer="sgd", progress=False,
    )  # fmt: skip
    assert history["lr"] == [lr] * steps
    assert not np.allclose(constant["layer0.W_hh"], trained["layer0.W_hh"])


def test_train_lm_records_the_scheduled_rates_and_a_zero_rate_freezes_the_model():
    rng = np.random.default_rng(2)
    V = 5
    ids = rng.integers(0, V, size=400)
    params = rc.init_lm_params(V, 4, rng, cell="rnn")
    schedule = partial(warmup_cosine, warmup_steps=3, total_steps=9)
    _, history = rc.train_lm(
        params, ids, "rnn", seq_len=5, batch_size=4, steps=12, lr=0.01, rng=rng,
        progress=False, lr_schedule=schedule,
    )  # fmt: skip
    assert history["lr"] == pytest.approx([0.01 * schedule(s) for s in range(12)])
    assert history["lr"][2] == pytest.approx(0.01) and history["lr"][-1] == 0.0
    frozen, _ = rc.train_lm(
        params, ids, "rnn", seq_len=5, batch_size=4, steps=4, lr=0.01, rng=rng,
        progress=False, optimizer="sgd", lr_schedule=lambda step: 0.0,
    )  # fmt: skip
    for key in params:
        np.testing.assert_array_equal(frozen[key], params[key])


def test_a_bad_schedule_is_named():
    params = rc.init_regressor_params(2, 3, np.random.default_rng(0), cell="rnn")
    kw = dict(steps=2, lr=0.1, rng=np.random.default_rng(0), progress=False)

    def make_batch(rng):
        return rc.adding_problem(4, 2, rng)

    with pytest.raises(TypeError, match="lr_schedule must be callable"):
        rc.train_regressor(params, make_batch, "rnn", lr_schedule=0.5, **kw)
    with pytest.raises(ValueError, match=r"lr_schedule\(0\) must be finite and >= 0"):
        rc.train_regressor(params, make_batch, "rnn", lr_schedule=lambda s: -1.0, **kw)
    with pytest.raises(TypeError, match=r"lr_schedule\(0\) must return a number"):
        rc.train_regressor(params, make_batch, "rnn", lr_schedule=lambda s: "fast", **kw)

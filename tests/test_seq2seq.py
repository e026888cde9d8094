"""rnncore.seq2seq and its encoder: whole-model gradients, padding, decoding, training."""

from __future__ import annotations

import numpy as np
import pytest

import rnncore as rc
from rnncore.bidirectional import bidirectional_forward
from rnncore.encoder import encoder_backward, encoder_forward
from rnncore.gradcheck import gradcheck
from rnncore.recurrent import recurrent_forward

TOL = 1e-7
CELLS = ["rnn", "gru", "lstm"]
ATTENTIONS = ["additive", "general", None]


def _model(cell, bidirectional, attention, seed=0, scale=True):
    rng = np.random.default_rng(seed)
    params = rc.init_seq2seq_params(
        6, 7, 3, 4, rng, cell=cell, bidirectional=bidirectional, attention=attention,
        attention_size=3,
    )  # fmt: skip
    if scale:  # larger weights: attention scores far from uniform, gradients far from 0
        params = {k: v * (3 if k.startswith("att.") else 1.5) for k, v in params.items()}
    return params


def _batch(seed=1, lengths=(5, 2, 3), tgt_lengths=(4, 4, 2)):
    rng = np.random.default_rng(seed)
    T_s, T_t, N = max(lengths), max(tgt_lengths), len(lengths)
    src = rng.integers(0, 6, size=(T_s, N))
    src_mask = np.arange(T_s)[:, None] < np.array(lengths)[None, :]
    tgt_in = rng.integers(0, 7, size=(T_t, N))
    tgt_out = rng.integers(0, 7, size=(T_t, N))
    tgt_mask = np.arange(T_t)[:, None] < np.array(tgt_lengths)[None, :]
    return src, src_mask, tgt_in, tgt_out, tgt_mask


# --- the encoder ------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_encoder_reads_each_sequence_as_if_alone(cell):
    rng = np.random.default_rng(2)
    params = rc.init_bidirectional_params(cell, 3, 4, rng)
    lengths = [4, 1, 3]
    X = rng.normal(size=(4, 3, 3))
    mask = np.arange(4)[:, None] < np.array(lengths)[None, :]
    H_enc, summary, _ = encoder_forward(X, mask, params, cell)
    assert H_enc.shape == (4, 3, 8) and summary.shape == (3, 8)
    for n, L in enumerate(lengths):
        alone, _ = bidirectional_forward(X[:L, n : n + 1], params, cell)  # no padding at all
        np.testing.assert_allclose(H_enc[:L, n], alone[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(summary[n, :4], alone[L - 1, 0, :4], rtol=1e-12)
        np.testing.assert_allclose(summary[n, 4:], alone[0, 0, 4:], rtol=1e-12)


def test_unidirectional_encoder_is_one_recurrent_pass():
    rng = np.random.default_rng(3)
    params = {f"fwd.{k}": v for k, v in rc.init_params("gru", 2, 3, rng).items()}
    X = rng.normal(size=(3, 2, 2))
    mask = np.array([[1, 1], [1, 1], [1, 0]], dtype=bool)
    H_enc, summary, _ = encoder_forward(X, mask, params, "gru")
    H, _, _ = recurrent_forward("gru", X, None, {k[4:]: v for k, v in params.items()})
    np.testing.assert_array_equal(H_enc, H)
    np.testing.assert_array_equal(summary, np.stack([H[2, 0], H[1, 1]]))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_gradients(cell, bidirectional):
    rng = np.random.default_rng(4)
    make = rc.init_bidirectional_params if bidirectional else None
    if make is None:
        params = {f"fwd.{k}": v for k, v in rc.init_params(cell, 2, 3, rng).items()}
    else:
        params = make(cell, 2, 3, rng)
    X = rng.normal(size=(4, 3, 2))
    mask = np.arange(4)[:, None] < np.array([4, 1, 2])[None, :]
    H_enc, summary, cache = encoder_forward(X, mask, params, cell)
    dH, ds = rng.normal(size=H_enc.shape), rng.normal(size=summary.shape)
    dX, grads = encoder_backward(dH, ds, cache)
    assert grads.keys() == params.keys()
    errors = gradcheck(
        lambda a: encoder_forward(a["X"], mask, {k: a[k] for k in params}, cell)[:2],
        {"X": X, **params},
        {"X": dX, **grads},
        dout=(dH, ds),
    )
    assert max(errors.values()) < TOL, errors


def test_encoder_bad_input():
    rng = np.random.default_rng(5)
    params = rc.init_bidirectional_params("rnn", 2, 3, rng)
    X = rng.normal(size=(3, 2, 2))
    with pytest.raises(ValueError, match=r"mask\[:, 1\] has a real position after a padding"):
        encoder_forward(X, np.array([[1, 1], [1, 0], [1, 1]], dtype=bool), params, "rnn")
    with pytest.raises(ValueError, match=r"mask\[:, 0\] is all False"):
        encoder_forward(X, np.array([[0, 1], [0, 1], [0, 1]], dtype=bool), params, "rnn")
    with pytest.raises(ValueError, match=r"mask has shape \(3, 3\)"):
        encoder_forward(X, np.ones((3, 3), dtype=bool), params, "rnn")
    with pytest.raises(ValueError, match="missing 'fwd.W_xz'"):
        encoder_forward(X, np.ones((3, 2), dtype=bool), params, "gru")
    _, _, cache = encoder_forward(X, np.ones((3, 2), dtype=bool), params, "rnn")
    with pytest.raises(ValueError, match=r"dsummary has shape \(2, 3\).*\(N, E\) = \(2, 6\)"):
        encoder_backward(np.zeros((3, 2, 6)), np.zeros((2, 3)), cache)
    with pytest.raises(TypeError, match="EncoderCache"):
        encoder_backward(np.zeros((3, 2, 6)), np.zeros((2, 6)), None)


# --- the whole model --------------------------------------------------------------------


# Each cell with each part switched on at least once; a probe is a whole forward pass, so
# a few random entries per array (sparse) keep the check under two seconds per model.
MODELS = [
    ("rnn", True, "additive"),
    ("gru", True, "additive"),
    ("lstm", True, "additive"),
    ("rnn", True, "general"),
    ("gru", False, "general"),
    ("lstm", False, None),
    ("gru", True, None),
]


@pytest.mark.parametrize("cell,bidirectional,attention", MODELS)
def test_whole_model_gradients(cell, bidirectional, attention):
    params = _model(cell, bidirectional, attention)
    src, src_mask, tgt_in, _, _ = _batch()
    logits, _, cache = rc.seq2seq_forward(src, src_mask, tgt_in, params, cell)
    dlogits = np.random.default_rng(6).normal(size=logits.shape)
    grads = rc.seq2seq_backward(dlogits, cache)
    assert grads.keys() == params.keys()
    errors = gradcheck(
        lambda a: rc.seq2seq_forward(src, src_mask, tgt_in, a, cell)[0],
        params,
        grads,
        dout=dlogits,
        sparse=4,
        rng=np.random.default_rng(7),
        eps=1e-5,  # 1e-6 leaves round-off of 1e-7 on the smallest gradients (enc.bwd.W_hf)
    )
    assert max(errors.values()) < TOL, errors


def test_masked_loss_gradients_and_value():
    cell = "gru"
    params = _model(cell, True, "additive", seed=8)
    batch = _batch(seed=9)
    loss, grads = rc.seq2seq_loss(*batch, params, cell)
    logits, _, _ = rc.seq2seq_forward(*batch[:3], params, cell)
    expected, _ = rc.sequence_loss(logits, batch[3], mask=batch[4], reduction="mean")
    assert loss == pytest.approx(float(expected), rel=1e-14)
    errors = gradcheck(
        lambda a: np.array(rc.seq2seq_loss(*batch, a, cell)[0]),
        params,
        grads,
        sparse=3,
        rng=np.random.default_rng(10),
        eps=1e-5,
    )
    assert max(errors.values()) < 1e-6, errors  # a mean loss: smaller gradients, eps 1e-5


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_padding_changes_nothing_and_batching_is_invisible(attention):
    params = _model("gru", True, attention, seed=11)
    src, src_mask, tgt_in, _, _ = _batch(seed=12)
    logits, alphas, _ = rc.seq2seq_forward(src, src_mask, tgt_in, params, "gru")
    other = src.copy()
    other[~src_mask] = (other[~src_mask] + 1) % 6  # different ids at padding
    logits2, _, _ = rc.seq2seq_forward(other, src_mask, tgt_in, params, "gru")
    np.testing.assert_allclose(logits2, logits, rtol=1e-12, atol=1e-14)
    for n, L in enumerate(src_mask.sum(axis=0)):
        alone, _, _ = rc.seq2seq_forward(
            src[:L, n : n + 1], src_mask[:L, n : n + 1], tgt_in[:, n : n + 1], params, "gru"
        )
        np.testing.assert_allclose(logits[:, n], alone[:, 0], rtol=1e-11, atol=1e-13)
    if attention is None:
        assert alphas is None
    else:
        assert alphas.shape == (tgt_in.shape[0], 3, src.shape[0])
        assert (alphas[:, ~src_mask.T] == 0).all()
        np.testing.assert_allclose(alphas.sum(axis=-1), 1.0, rtol=1e-13)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", ["additive", None])
def test_step_fn_reproduces_teacher_forcing(cell, attention):
    params = _model(cell, True, attention, seed=13)
    rng = np.random.default_rng(14)
    source = rng.integers(0, 6, size=4)
    tgt_in = rng.integers(0, 7, size=(5, 1))
    logits, _, _ = rc.seq2seq_forward(source[:, None], np.ones((4, 1), bool), tgt_in, params, cell)
    step_fn, state = rc.seq2seq_step_fn(params, source, cell)
    for t in range(5):
        log_probs, state = step_fn(tgt_in[t], state)
        expected = logits[t] - np.log(np.exp(logits[t]).sum(axis=-1, keepdims=True))
        np.testing.assert_allclose(log_probs, expected, rtol=1e-12, atol=1e-13)
    # a beam of 3 copies of the state decodes each copy alike
    step_fn, state0 = rc.seq2seq_step_fn(params, source, cell)
    triple = tuple(np.repeat(a, 3, axis=0) for a in state0)
    log_probs, _ = step_fn(np.array([1, 1, 1]), triple)
    np.testing.assert_allclose(log_probs, np.repeat(log_probs[:1], 3, axis=0), rtol=1e-14)


def test_float32_model():
    rng = np.random.default_rng(15)
    params = rc.init_seq2seq_params(6, 7, 3, 4, rng, dtype=np.float32)
    loss, grads = rc.seq2seq_loss(*_batch(), params, "gru")
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_init_shapes():
    params = rc.init_seq2seq_params(
        5, 8, 3, 4, np.random.default_rng(16), cell="lstm", attention="general"
    )
    assert params["src_embed.W"].shape == (5, 3) and params["tgt_embed.W"].shape == (8, 3)
    assert params["enc.bwd.W_xi"].shape == (3, 4)
    assert params["bridge.W"].shape == (8, 4) and params["att.W_a"].shape == (4, 8)
    assert params["dec.W_xi"].shape == (3 + 8, 4) and params["out.W"].shape == (4 + 8, 8)
    plain = rc.init_seq2seq_params(
        5, 8, 3, 4, np.random.default_rng(16), bidirectional=False, attention=None
    )
    assert not any(k.startswith(("att.", "enc.bwd.")) for k in plain)
    assert plain["dec.W_xz"].shape == (3 + 4, 4)
    with pytest.raises(ValueError, match="attention must be one of"):
        rc.init_seq2seq_params(5, 8, 3, 4, np.random.default_rng(0), attention="dot")


def test_model_bad_input():
    params = _model("gru", True, "additive")
    src, src_mask, tgt_in, tgt_out, tgt_mask = _batch()
    with pytest.raises(ValueError, match="holds the id 9, outside the vocabulary's range 0..5"):
        rc.seq2seq_forward(np.full_like(src, 9), src_mask, tgt_in, params, "gru")
    with pytest.raises(ValueError, match=r"tgt_in has shape \(4, 2\).*\(T_t, N\) = \(T_t, 3\)"):
        rc.seq2seq_forward(src, src_mask, tgt_in[:, :2], params, "gru")
    with pytest.raises(ValueError, match="src_mask.*real position after a padding"):
        rc.seq2seq_forward(src, src_mask[::-1], tgt_in, params, "gru")
    with pytest.raises(ValueError, match="missing 'out.b'"):
        rc.seq2seq_forward(
            src, src_mask, tgt_in, {k: v for k, v in params.items() if k != "out.b"}, "gru"
        )
    bad = {**params, "dec.W_xz": np.zeros((4, 4))}
    with pytest.raises(
        ValueError, match=r"params\['dec.W_xz'\] has shape \(4, 4\).*\(M\+E, S\) = \(11, 4\)"
    ):
        rc.seq2seq_forward(src, src_mask, tgt_in, bad, "gru")
    with pytest.raises(ValueError, match="missing 'enc.fwd.W_xi'"):
        rc.seq2seq_forward(src, src_mask, tgt_in, params, "lstm")
    _, _, cache = rc.seq2seq_forward(src, src_mask, tgt_in, params, "gru")
    with pytest.raises(ValueError, match=r"dlogits has shape \(4, 3, 6\)"):
        rc.seq2seq_backward(np.zeros((4, 3, 6)), cache)
    with pytest.raises(TypeError, match="Seq2SeqCache"):
        rc.seq2seq_backward(np.zeros((4, 3, 7)), None)
    with pytest.raises(ValueError, match=r"tgt_out has shape \(3, 3\)"):
        rc.seq2seq_loss(src, src_mask, tgt_in, tgt_out[:3], tgt_mask, params, "gru")
    with pytest.raises(ValueError, match=r"tgt_mask has shape \(4, 2\).*\(T_t, N\) = \(4, 3\)"):
        rc.seq2seq_loss(src, src_mask, tgt_in, tgt_out, tgt_mask[:, :2], params, "gru")
    with pytest.raises(TypeError, match="tgt_mask must be a NumPy array"):
        rc.seq2seq_loss(src, src_mask, tgt_in, tgt_out, None, params, "gru")
    step_fn, state0 = rc.seq2seq_step_fn(params, src[:, 0], "gru")
    with pytest.raises(ValueError, match="outside the vocabulary's range 0..6"):
        step_fn(np.array([7]), state0)


# --- tasks, decoding and training -------------------------------------------------------


def test_tasks_and_padding():
    rng = np.random.default_rng(17)
    for task, rule in (("copy", list), ("reverse", lambda s: s[::-1]), ("sort", sorted)):
        sources, targets = rc.seq2seq_examples(task, 20, 2, 5, 4, rng)
        assert all(2 <= len(s) <= 5 and min(s) >= 3 and max(s) <= 6 for s in sources)
        assert targets == [list(rule(s)) for s in sources]
    batch = rc.pad_seq2seq_batch([[3, 4, 5], [6]], [[5, 4, 3], []])
    np.testing.assert_array_equal(batch.src_ids, [[3, 6], [4, 0], [5, 0]])
    np.testing.assert_array_equal(batch.src_mask, [[1, 1], [1, 0], [1, 0]])
    np.testing.assert_array_equal(batch.tgt_in, [[1, 1], [5, 0], [4, 0], [3, 0]])
    np.testing.assert_array_equal(batch.tgt_out, [[5, 2], [4, 0], [3, 0], [2, 0]])
    np.testing.assert_array_equal(batch.tgt_mask, [[1, 1], [1, 0], [1, 0], [1, 0]])
    assert rc.exact_match([[3, 4, 2], [5]], [[3, 4], [6]]) == 0.5
    with pytest.raises(ValueError, match="at least one token"):
        rc.pad_seq2seq_batch([[]], [[3]])
    with pytest.raises(ValueError, match="same length"):
        rc.pad_seq2seq_batch([[3]], [[3], [4]])
    with pytest.raises(TypeError, match=r"sources\[0\] must be a list of non-negative int ids"):
        rc.pad_seq2seq_batch([[3.0]], [[3]])
    with pytest.raises(ValueError, match="max_len must be at least 4"):
        rc.seq2seq_examples("copy", 2, 4, 3, 5, rng)
    with pytest.raises(ValueError, match="task must be one of"):
        rc.seq2seq_examples("translate", 2, 1, 3, 5, rng)


def _unigram_entropy(batch):
    """Entropy of the real target tokens' frequencies: the best loss of a model that ignores
    the source and the position (computed from the data, not from the model)."""
    tokens = batch.tgt_out[batch.tgt_mask]
    counts = np.bincount(tokens).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


@pytest.mark.slow
def test_training_learns_reversal_and_decodes_it():
    rng = np.random.default_rng(18)
    params = rc.init_seq2seq_params(9, 9, 8, 16, rng, cell="gru", attention="additive")
    before = {k: v.copy() for k, v in params.items()}

    def make(r):
        return rc.seq2seq_batch("reverse", 32, 2, 5, 6, r)

    trained, history = rc.train_seq2seq(
        params, make, "gru", steps=200, lr=0.01, rng=rng, progress=False
    )
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])  # the caller's dict is untouched
    assert len(history["train_loss"]) == len(history["grad_norm"]) == 200
    test = make(np.random.default_rng(99))
    baseline = _unigram_entropy(test)  # about log 6 of the symbols, less for EOS
    loss, _ = rc.seq2seq_loss(*test, trained, "gru")
    assert loss < 0.25 * baseline, (loss, baseline)
    sources, targets = rc.seq2seq_examples("reverse", 40, 2, 5, 6, np.random.default_rng(98))
    assert rc.exact_match(rc.translate(trained, sources, "gru"), targets) > 0.8
    beam = rc.translate(trained, sources, "gru", beam_width=3)
    assert rc.exact_match(beam, targets) > 0.8


def test_train_seq2seq_checks_its_inputs():
    params = _model("gru", True, "additive", scale=False)
    rng = np.random.default_rng(19)
    with pytest.raises(TypeError, match="make_batch must return a Seq2SeqBatch"):
        rc.train_seq2seq(params, lambda r: (1, 2), "gru", steps=1, lr=0.1, rng=rng, progress=False)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        rc.train_seq2seq(
            params, lambda r: _batch(), "gru", steps=1, lr=0.1, rng=rng, optimizer="lbfgs"
        )
    with pytest.raises(TypeError, match="make_batch must be callable"):
        rc.train_seq2seq(params, None, "gru", steps=1, lr=0.1, rng=rng)
    # batches of different lengths train one after another
    shapes = iter([(4, 1, 2), (2, 2, 1)])

    def varying(r):
        lengths = next(shapes)
        return _batch(seed=20, lengths=lengths, tgt_lengths=(3,) * len(lengths))

    calls = []
    trained, history = rc.train_seq2seq(
        params, varying, "gru", steps=2, lr=0.1, rng=rng, progress=False,
        callback=lambda step, p, h: calls.append(step),
    )  # fmt: skip
    assert calls == [2] and len(history["train_loss"]) == 2
    assert not np.array_equal(trained["out.W"], params["out.W"])

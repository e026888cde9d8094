"""The committed results of benchmarks/torch_train_compare.py, which chapter 10 reads.

The benchmark needs torch, which is never installed in the project's environment, so
its JSON is committed and these tests check it without torch: against itself (every
summary recomputed from the stored curves), against an analytic fact (an untrained
model with small output weights predicts nearly uniformly: its first loss is close
to log V), and against rnncore as it is now (the first updates of the rnncore side,
replayed here from the recorded configuration, give the recorded losses). A JSON
left behind by a broken benchmark, or made stale by a change to rnncore, fails here.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import rnncore as rc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "torch_train_compare.json"
PAIRS = {
    "rnncore_vs_torch_float64": ("rnncore_float64", "torch_float64"),
    "rnncore_vs_torch_clip_as_rnncore_float64": (
        "rnncore_float64",
        "torch_float64_clip_as_rnncore",
    ),
    "rnncore_vs_torch_both_biases_float64": ("rnncore_float64", "torch_float64_both_biases"),
    "rnncore_vs_torch_float32": ("rnncore_float32", "torch_float32"),
    "rnncore_float32_vs_float64": ("rnncore_float32", "rnncore_float64"),
    "torch_float32_vs_float64": ("torch_float32", "torch_float64"),
}


@pytest.fixture(scope="module")
def bench():
    return json.loads(RESULTS.read_text())


def test_every_run_has_one_loss_and_norm_per_update(bench):
    steps = bench["config"]["steps"]
    assert set(bench["runs"]) == {name for pair in PAIRS.values() for name in pair}
    for name, run in bench["runs"].items():
        assert len(run["loss"]) == len(run["grad_norm"]) == steps, name
        assert all(math.isfinite(x) and x > 0 for x in run["loss"] + run["grad_norm"]), name
        assert run["wall_per_step_median"] > 0 and run["cpu_per_step_mean"] > 0, name


def test_recorded_differences_are_those_of_the_recorded_curves(bench):
    checkpoints = bench["config"]["checkpoints"]
    assert checkpoints == sorted(checkpoints) and checkpoints[-1] == bench["config"]["steps"]
    assert set(bench["comparisons"]) == set(PAIRS)
    for name, (a, b) in PAIRS.items():
        c = bench["comparisons"][name]
        assert c["steps"] == checkpoints
        gap = np.abs(np.array(bench["runs"][a]["loss"]) - np.array(bench["runs"][b]["loss"]))
        assert c["max_loss_diff"] == pytest.approx([gap[:k].max() for k in checkpoints])
        assert len(c["max_param_diff"]) == len(c["worst_param"]) == len(checkpoints)


def test_clipped_steps_and_speed_ratios_follow_from_the_runs(bench):
    clip = bench["config"]["clip"]
    for name, run in bench["runs"].items():
        assert bench["clipped_steps"][name] == sum(n > clip for n in run["grad_norm"])
    # clipping must have been exercised, or the comparison says nothing about it
    assert 0 < bench["clipped_steps"]["rnncore_float64"] < bench["config"]["steps"]
    for dtype, ratios in bench["speed_ratio_vs_torch"].items():
        torch_time = bench["runs"][f"torch_{dtype}"]["wall_per_step_median"]
        ours = bench["runs"][f"rnncore_{dtype}"]["wall_per_step_median"]
        assert ratios["torch"] == 1.0
        assert ratios["rnncore"] == pytest.approx(ours / torch_time)


def test_first_loss_is_close_to_log_v(bench):
    """init_output_params draws small weights, so the untrained model is nearly uniform."""
    log_v = math.log(bench["data"]["vocab_size"])
    for name, run in bench["runs"].items():
        assert abs(run["loss"][0] - log_v) < 0.05, name
    # and training did something: the loss fell well below uniform
    assert bench["runs"]["rnncore_float64"]["loss"][-1] < log_v - 1


def test_the_benchmarks_parity_claims_hold_in_the_json(bench):
    """What chapter 10 states: rounding-level agreement once the two details are handled."""
    c = bench["comparisons"]
    exact = c["rnncore_vs_torch_clip_as_rnncore_float64"]
    assert exact["max_loss_diff"][-1] < 1e-12 and exact["max_param_diff"][-1] < 1e-10
    assert c["rnncore_vs_torch_float64"]["max_param_diff"][0] < 1e-12  # before any clip drift
    assert c["rnncore_vs_torch_both_biases_float64"]["max_loss_diff"][-1] > 1e-3
    assert c["rnncore_vs_torch_float32"]["max_loss_diff"][-1] < 1e-5


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_rnncore_today_reproduces_the_recorded_first_updates(bench, dtype, tol):
    """Replays the benchmark's rnncore side (rnncore_step) for a few updates, without torch."""
    cfg = bench["config"]
    text = rc.shakespeare_text(cfg["text"])
    vocab = rc.Vocab([list(text)])
    ids = vocab.encode(list(text))
    assert (len(ids), len(vocab)) == (
        bench["data"]["text_characters"],
        bench["data"]["vocab_size"],
    )
    params = rc.init_lm_params(
        len(vocab),
        cfg["hidden"],
        np.random.default_rng(cfg["seed"]),
        cell="lstm",
        embed_size=cfg["embed"],
    )
    assert sum(v.size for v in params.values()) == bench["data"]["parameters"]
    params = {k: v.astype(dtype) for k, v in params.items()}
    opt, state, losses = rc.adam_init(params), None, []
    windows = rc.lm_batches(ids, cfg["seq_len"], cfg["batch"])
    for _, (ids_in, ids_target) in zip(range(4), windows):
        loss, grads, state = rc.lm_loss(ids_in, ids_target, params, "lstm", state0=state)
        grads, _ = rc.clip_grad_norm(grads, cfg["clip"])
        params, opt = rc.adam_step(params, grads, opt, lr=cfg["lr"])
        losses.append(loss)
    recorded = bench["runs"][f"rnncore_{np.dtype(dtype).name}"]["loss"][:4]
    np.testing.assert_allclose(losses, recorded, rtol=0, atol=tol)

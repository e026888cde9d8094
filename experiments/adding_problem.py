"""The adding problem at several sequence lengths: vanilla RNN, GRU and LSTM side by side.

Hochreiter & Schmidhuber (1997), experiment 4, in the form of Le, Jaitly & Hinton
(2015), section 4.1: every step carries a value from U(0, 1) and a marker; two
steps are marked, one in each half; the target is the sum of the two marked
values. Always predicting 1 scores MSE = Var(u1 + u2) = 2/12 = 1/6 ~ 0.167, so a
network "solves" the task only well below that line.

For every sequence length T and every cell the script trains one network
(same width, optimiser, learning rate, clipping, batch size and number of
updates; fresh random batches each step), scores it every ``eval_every``
updates on a fixed test set of sequences never trained on, and writes the
final test MSE, the curve, the seed and the wall time to a JSON file that
chapter 9 of the book reads.

    python experiments/adding_problem.py            # full run, seed 0, ~4 min of one core
    python experiments/adding_problem.py --seed 1   # another seed, to adding_problem_seed1.json
    python experiments/adding_problem.py --quick    # a few seconds, for the tests

Everything is computed with rnncore (regressor_loss, clip_grad_norm, adam_step).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import rnncore as rc

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

FULL = dict(
    lengths=[10, 25, 50, 100],
    cells=["rnn", "gru", "lstm"],
    hidden=32,
    batch=32,
    steps=1500,
    lr=0.01,
    clip=1.0,
    forget_bias=1.0,
    test_size=1000,
    eval_every=100,
    seed=0,
)
QUICK = dict(
    lengths=[5, 10],
    cells=["rnn", "gru", "lstm"],
    hidden=8,
    batch=16,
    steps=40,
    lr=0.01,
    clip=1.0,
    forget_bias=1.0,
    test_size=200,
    eval_every=20,
    seed=0,
)


def test_mse(params, cell, X, y):
    """Mean squared error of the regressor on a fixed test set (no training)."""
    y_hat, _ = rc.regressor_forward(X, params, cell)  # (N_test,)
    return float(np.mean((y_hat - y) ** 2))


def train_one(cell, T, cfg, X_test, y_test):
    """Train one regressor with Adam on fresh batches; return its curve and final test MSE."""
    rng = np.random.default_rng([cfg["seed"], T, rc.recurrent.CELLS.index(cell)])
    forget_bias = cfg["forget_bias"] if cell == "lstm" else 0.0
    params = rc.init_regressor_params(2, cfg["hidden"], rng, cell=cell, forget_bias=forget_bias)
    state = rc.adam_init(params)
    curve_steps, curve_mse = [0], [test_mse(params, cell, X_test, y_test)]
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(1, cfg["steps"] + 1):
        X, y = rc.adding_problem(T, cfg["batch"], rng)  # (T, N, 2), (N,) never seen before
        _, grads = rc.regressor_loss(X, y, params, cell)
        grads, _ = rc.clip_grad_norm(grads, cfg["clip"])
        params, state = rc.adam_step(params, grads, state, lr=cfg["lr"])
        if step % cfg["eval_every"] == 0:
            curve_steps.append(step)
            curve_mse.append(test_mse(params, cell, X_test, y_test))
    return {
        "cell": cell,
        "T": T,
        "test_mse": curve_mse[-1],
        "best_test_mse": min(curve_mse),
        "curve_steps": curve_steps,
        "curve_test_mse": curve_mse,
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }


def run(cfg, out_path, log=print):
    start = time.perf_counter()
    runs, baselines = [], {}
    for T in cfg["lengths"]:
        # The test set depends on T and the seed only, so every cell sees the same sequences.
        X_test, y_test = rc.adding_problem(
            T, cfg["test_size"], np.random.default_rng([cfg["seed"], T, 99])
        )
        baselines[str(T)] = float(np.mean((1.0 - y_test) ** 2))
        for cell in cfg["cells"]:
            result = train_one(cell, T, cfg, X_test, y_test)
            runs.append(result)
            log(
                f"T={T:4d} {cell:5s} test MSE {result['test_mse']:.4f} "
                f"(predict-1 baseline {baselines[str(T)]:.4f}) {result['wall_seconds']:.1f} s"
            )
    results = {
        "experiment": "adding_problem",
        "description": "Final test MSE on the adding problem (Le et al. 2015 form) after the same "
        "number of Adam updates for each cell; baseline = always predict 1.",
        "config": cfg,
        "analytic_baseline_mse": 1 / 6,
        "test_baseline_mse": baselines,
        "runs": runs,
        "total_wall_seconds": time.perf_counter() - start,
        "command": "python experiments/adding_problem.py"
        + (" --quick" if cfg["steps"] == QUICK["steps"] else "")
        + (f" --seed {cfg['seed']}" if cfg["seed"] else ""),
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as handle:
        json.dump(results, handle, indent=1)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run (seconds), for tests")
    parser.add_argument("--out", help="where to write the JSON results")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL, seed=args.seed)
    default = "adding_problem" + ("_quick" if args.quick else "")
    default += (f"_seed{args.seed}" if args.seed else "") + ".json"
    out = args.out or os.path.join(RESULTS, default)
    results = run(cfg, out)
    print(f"wrote {out} in {results['total_wall_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())

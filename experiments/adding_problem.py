"""The adding problem at several sequence lengths: vanilla RNN, GRU, LSTM and IRNN side by side.

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

``--irnn`` runs chapter 10's comparison instead (written to adding_irnn.json):
the tanh RNN, the IRNN of Le, Jaitly & Hinton (2015) (ReLU units, W_hh = I,
biases 0, input weights N(0, 0.001^2), a small learning rate and clipping, as
they used) and the LSTM, at longer sequences.

    python experiments/adding_problem.py            # full run, seed 0, ~4 min of one core
    python experiments/adding_problem.py --seed 1   # another seed, to adding_problem_seed1.json
    python experiments/adding_problem.py --irnn     # chapter 10: tanh RNN, IRNN, LSTM
    python experiments/adding_problem.py --quick    # a few seconds, for the tests

Everything is computed with rnncore (regressor_loss, clip_grad_norm, adam_step).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import rnncore as rc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the folder's shared helpers; this folder is no package)

# Seeds depend on the cell's place in this tuple: the first three keep the numbers of the runs
# made before the IRNN was added.
CELL_IDS = ("rnn", "gru", "lstm", "irnn")

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
# Chapter 10: the IRNN beside the tanh RNN and the LSTM. Le et al. (2015) trained the IRNN with
# a small learning rate and gradient clipping; lr_by_cell gives it its own (the others keep lr).
IRNN_FULL = dict(
    FULL,
    lengths=[50, 100, 150],
    cells=["rnn", "irnn", "lstm"],
    steps=5000,
    lr_by_cell={"irnn": 1e-3},
    eval_every=250,
)
IRNN_QUICK = dict(QUICK, cells=["rnn", "irnn", "lstm"], lr_by_cell={"irnn": 1e-3})


def init_params(cell, cfg, rng):
    """Initial regressor parameters; "irnn" is a ReLU RNN with W_hh = I and zero biases."""
    if cell == "irnn":
        params = rc.init_regressor_params(2, cfg["hidden"], rng, cell="rnn")
        irnn = rc.init_irnn_params(2, cfg["hidden"], rng)  # W_xh ~ N(0, 0.001^2), W_hh = I
        params.update({f"layer0.{k}": v for k, v in irnn.items()})
        return params
    forget_bias = cfg["forget_bias"] if cell == "lstm" else 0.0
    return rc.init_regressor_params(2, cfg["hidden"], rng, cell=cell, forget_bias=forget_bias)


def run_as(cell):
    """The rnncore cell and the activation that a cell name of this script runs with."""
    return ("rnn", "relu") if cell == "irnn" else (cell, "tanh")


def test_mse(params, cell, X, y):
    """Mean squared error of the regressor on a fixed test set (no training)."""
    base, activation = run_as(cell)
    y_hat, _ = rc.regressor_forward(X, params, base, activation=activation)  # (N_test,)
    return float(np.mean((y_hat - y) ** 2))


def train_one(cell, T, cfg, X_test, y_test):
    """Train one regressor with Adam on fresh batches; return its curve and final test MSE."""
    rng = np.random.default_rng([cfg["seed"], T, CELL_IDS.index(cell)])
    params = init_params(cell, cfg, rng)
    base, activation = run_as(cell)
    lr = cfg.get("lr_by_cell", {}).get(cell, cfg["lr"])
    state = rc.adam_init(params)
    curve_steps, curve_mse = [0], [test_mse(params, cell, X_test, y_test)]
    clipped = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(1, cfg["steps"] + 1):
        X, y = rc.adding_problem(T, cfg["batch"], rng)  # (T, N, 2), (N,) never seen before
        _, grads = rc.regressor_loss(X, y, params, base, activation=activation)
        grads, norm = rc.clip_grad_norm(grads, cfg["clip"])
        clipped += bool(norm > cfg["clip"])
        params, state = rc.adam_step(params, grads, state, lr=lr)
        if step % cfg["eval_every"] == 0:
            curve_steps.append(step)
            curve_mse.append(test_mse(params, cell, X_test, y_test))
    result = {
        "cell": cell,
        "T": T,
        "test_mse": curve_mse[-1],
        "best_test_mse": min(curve_mse),
        "curve_steps": curve_steps,
        "curve_test_mse": curve_mse,
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }
    if "lr_by_cell" in cfg:  # chapter 10's runs also record the learning rate and clipping
        result.update(lr=lr, clipped_fraction=clipped / cfg["steps"])
    return result


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
    irnn = "irnn" in cfg["cells"]
    results = {
        "experiment": "adding_irnn" if irnn else "adding_problem",
        "description": "Final test MSE on the adding problem (Le et al. 2015 form) after the same "
        "number of Adam updates for each cell; baseline = always predict 1.",
        "config": cfg,
        "analytic_baseline_mse": 1 / 6,
        "test_baseline_mse": baselines,
        "runs": runs,
        "total_wall_seconds": time.perf_counter() - start,
        "command": _common.command(
            "adding_problem",
            quick=cfg["steps"] == QUICK["steps"],
            seed=cfg["seed"],
            extra=" --irnn" if irnn else "",
        ),
        "environment": _common.environment(),
    }
    _common.write_json(results, out_path)
    return results


def main(argv=None):
    parser = _common.parser(__doc__, seed=True)
    parser.add_argument(
        "--irnn", action="store_true", help="chapter 10: tanh RNN, IRNN and LSTM (adding_irnn.json)"
    )
    args = parser.parse_args(argv)
    if args.irnn:
        cfg = dict(IRNN_QUICK if args.quick else IRNN_FULL, seed=args.seed)
    else:
        cfg = dict(QUICK if args.quick else FULL, seed=args.seed)
    out = _common.out_path(args, "adding_irnn" if args.irnn else "adding_problem")
    results = run(cfg, out)
    print(f"wrote {out} in {results['total_wall_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())

"""Speed of rnncore's tuned LSTM and GRU sequences against torch.nn and the cell loop.

Forward + backward of a whole sequence, single thread, float32. The loss is
``sum(H * dH)`` for a fixed random ``dH``, so every implementation computes the
gradients of the inputs, the initial state(s) and all weights. Printed as a
markdown table with ratios against baselines measured in the same run:

* ``torch.nn.LSTM`` / ``torch.nn.GRU`` (when torch is importable);
* the readable cells of ``rnncore`` called step by step (what tuning bought);
* the machine's SGEMM throughput: numpy matmul running exactly the GEMMs of the
  algorithm (same shapes, same transposes), so "% of SGEMM" is the share of
  rnncore's time that is matrix multiplication.

Run (see benchmarks/README.md):
    PYTHONPATH=/work/main /work/bench-venv/bin/python benchmarks/bench_sequences.py
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy (and torch) load their BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's rnncore
import rnncore  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(1)
except ImportError:  # a benchmark, not a test: report what can be measured
    torch = None

CONFIGS = ((50, 64, 256, 256), (50, 32, 65, 128))  # (T, N, D, H)
DTYPE = np.float32


# --- the GEMMs each algorithm performs: (m, k, n, transpose_a, transpose_b, count) ------------


def gemm_list(cell, T, N, D, H):
    """Every matrix product of rnncore's forward + backward, as (m, k, n, tA, tB, times)."""
    TN = T * N
    if cell == "lstm":
        G = 4 * H
        return [
            (TN, D, G, 0, 0, 1),
            (N, H, G, 0, 0, T),  # forward: inputs, recurrence
            (N, G, H, 0, 1, T),
            (H, TN, G, 1, 0, 1),  # backward: dh_prev, dW_h
            (D, TN, G, 1, 0, 1),
            (TN, G, D, 0, 1, 1),
        ]  # dW_x, dX
    if cell == "gru_after":
        G = 3 * H
        return [
            (TN, D, G, 0, 0, 1),
            (N, H, G, 0, 0, T),
            (N, G, H, 0, 1, T),
            (H, TN, G, 1, 0, 1),
            (D, TN, G, 1, 0, 1),
            (TN, G, D, 0, 1, 1),
        ]
    G = 3 * H  # default GRU: gates and candidate need separate recurrent products
    return [
        (TN, D, G, 0, 0, 1),
        (N, H, 2 * H, 0, 0, T),
        (N, H, H, 0, 0, T),
        (N, H, H, 0, 1, T),
        (N, 2 * H, H, 0, 1, T),
        (H, TN, 2 * H, 1, 0, 1),
        (H, TN, H, 1, 0, 1),
        (D, TN, G, 1, 0, 1),
        (TN, G, D, 0, 1, 1),
    ]


def gemm_flops(gemms):
    return sum(2 * m * k * n * times for m, k, n, _, _, times in gemms)


def gemm_runner(gemms, rng):
    """A function that runs the same GEMMs with numpy, outputs preallocated."""
    jobs = []
    for m, k, n, ta, tb, times in gemms:
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(DTYPE)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(DTYPE)
        jobs.append((a.T if ta else a, b.T if tb else b, np.empty((m, n), DTYPE), times))

    def run():
        for a, b, out, times in jobs:
            for _ in range(times):
                np.matmul(a, b, out=out)

    return run


# --- implementations -------------------------------------------------------------------------


def tuned(cell, X, h0, c0, params, dH):
    if cell == "lstm":

        def run():
            _, _, cache = rnncore.lstm_forward(X, h0, c0, params)
            return rnncore.lstm_backward(dH, cache)
    else:
        reset_after = cell == "gru_after"

        def run():
            _, cache = rnncore.gru_forward(X, h0, params, reset_after=reset_after)
            return rnncore.gru_backward(dH, cache)

    return run


def cell_loop(cell, X, h0, c0, params, dH):
    """The readable cells called step by step, gradients accumulated over time."""
    T = X.shape[0]

    def run():
        caches, h, c = [], h0, c0
        for t in range(T):
            if cell == "lstm":
                h, c, cache = rnncore.lstm_cell_forward(X[t], h, c, params)
            else:
                h, cache = rnncore.gru_cell_forward(
                    X[t], h, params, reset_after=cell == "gru_after"
                )
            caches.append(cache)
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        dX = np.empty_like(X)
        dh, dc = np.zeros_like(h0), np.zeros_like(h0)
        for t in range(T - 1, -1, -1):
            if cell == "lstm":
                dX[t], dh, dc, step = rnncore.lstm_cell_backward(dH[t] + dh, dc, caches[t])
            else:
                dX[t], dh, step = rnncore.gru_cell_backward(dH[t] + dh, caches[t])
            for k in grads:
                grads[k] += step[k]
        return dX, dh, grads

    return run


def torch_module(cell, X, h0, c0, params, dH):
    """torch.nn.LSTM / GRU with rnncore's weights; returns (run, max |H - H_torch|)."""
    D, H = params["W_xz" if cell != "lstm" else "W_xi"].shape
    cat = np.concatenate
    if cell == "lstm":
        module = torch.nn.LSTM(D, H)
        w_ih = cat([params[k] for k in ("W_xi", "W_xf", "W_xc", "W_xo")], axis=1).T
        w_hh = cat([params[k] for k in ("W_hi", "W_hf", "W_hc", "W_ho")], axis=1).T
        b_ih = cat([params[k] for k in ("b_i", "b_f", "b_c", "b_o")])
        b_hh = np.zeros_like(b_ih)
    else:  # torch.nn.GRU is the reset_after GRU, gate order r, z, n
        module = torch.nn.GRU(D, H)
        w_ih = cat([params[k] for k in ("W_xr", "W_xz", "W_xh")], axis=1).T
        w_hh = cat([params[k] for k in ("W_hr", "W_hz", "W_hh")], axis=1).T
        b_ih = cat([params[k] for k in ("b_r", "b_z", "b_h")])
        b_hh = cat([np.zeros_like(params["b_hn"]), np.zeros_like(params["b_hn"]), params["b_hn"]])
    with torch.no_grad():
        for name, value in (
            ("weight_ih_l0", w_ih),
            ("weight_hh_l0", w_hh),
            ("bias_ih_l0", b_ih),
            ("bias_hh_l0", b_hh),
        ):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    # Same work as rnncore: gradients of the inputs and initial states too.
    x_t = torch.from_numpy(X).requires_grad_(True)
    h0_t = torch.from_numpy(h0[None]).requires_grad_(True)
    c0_t = torch.from_numpy(c0[None]).requires_grad_(True)
    dH_t = torch.from_numpy(dH)
    state0 = (h0_t, c0_t) if cell == "lstm" else h0_t
    tensors = [x_t, h0_t, c0_t, *module.parameters()]

    def run():
        for tensor in tensors:
            tensor.grad = None
        out, _ = module(x_t, state0)
        (out * dH_t).sum().backward()
        return out

    with torch.no_grad():
        out = module(x_t, state0)[0].numpy()
    forward = (
        rnncore.lstm_forward(X, h0, c0, params)[0]
        if cell == "lstm"
        else rnncore.gru_forward(X, h0, params, reset_after=True)[0]
    )
    return run, float(np.abs(out - forward).max())


def measure(runs, repeats, clock):
    """Time each callable ``repeats`` times, interleaved so that load spikes hit all alike."""
    for run in runs.values():
        run()  # warm up
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = clock()
            run()
            times[name].append(clock() - start)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wall",
        action="store_true",
        help="time with the wall clock instead of the process's CPU time",
    )
    args = parser.parse_args()
    # Everything runs on one thread, so CPU time is the work done; unlike wall time it
    # does not count the moments a busy machine gives the core to someone else.
    clock = time.perf_counter if args.wall else time.process_time
    rng = np.random.default_rng(args.seed)

    print(
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
        f"float32, 1 thread, {args.repeats} repeats (interleaved), "
        f"{'wall-clock' if args.wall else 'CPU'} time in ms; "
        "speed ratios = baseline time / time, from the best run\n"
    )
    header = (
        "| T, N, D, H | implementation | best ms | median ms | × torch | × cell loop "
        "| GFLOP/s | % of SGEMM |"
    )
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    notes = []
    for T, N, D, H in CONFIGS:
        X = rng.standard_normal((T, N, D)).astype(DTYPE)
        h0 = (0.5 * rng.standard_normal((N, H))).astype(DTYPE)
        c0 = (0.5 * rng.standard_normal((N, H))).astype(DTYPE)
        dH = rng.standard_normal((T, N, H)).astype(DTYPE)
        size = f"{T}, {N}, {D}, {H}"
        for cell, label, torch_cell in (
            ("lstm", "LSTM", "lstm"),
            ("gru_after", "GRU reset_after (= torch)", "gru"),
            ("gru", "GRU (book default)", "gru"),
        ):
            if cell == "lstm":
                params = rnncore.init_lstm_params(D, H, rng, dtype=DTYPE)
            else:
                params = rnncore.init_gru_params(D, H, rng, reset_after=cell != "gru", dtype=DTYPE)
            gemms = gemm_list(cell, T, N, D, H)
            flops = gemm_flops(gemms)
            runs = {
                "rnncore": tuned(cell, X, h0, c0, params, dH),
                "cells": cell_loop(cell, X, h0, c0, params, dH),
                "sgemm": gemm_runner(gemms, rng),
            }
            if torch is not None and torch_cell == "gru" and cell == "gru":
                pass  # torch has no GRU of the book's default form; see the row above
            elif torch is not None:
                runs["torch"], diff = torch_module(torch_cell, X, h0, c0, params, dH)
                if cell != "gru":
                    notes.append(f"{label} {size}: max |H_rnncore - H_torch| = {diff:.1e}")
            result = measure(runs, args.repeats, clock)
            sgemm_best = result["sgemm"][0]
            if "torch" in result:
                torch_best = result["torch"][0]
            baseline_torch = torch_best if torch is not None else None
            for name, shown in (
                ("rnncore", f"rnncore {label}"),
                ("cells", f"rnncore cells, loop ({label})"),
                ("torch", f"torch.nn.{'LSTM' if cell == 'lstm' else 'GRU'}"),
                ("sgemm", "SGEMM only (same GEMMs, numpy)"),
            ):
                if name not in result:
                    continue  # torch's GRU row is printed once, beside reset_after
                best, median = result[name]
                vs_torch = f"{baseline_torch / best:.2f}" if baseline_torch else "–"
                vs_cells = f"{result['cells'][0] / best:.2f}"
                gflops = f"{flops / best / 1e9:.1f}" if name in ("rnncore", "sgemm") else "–"
                share = f"{100 * sgemm_best / best:.0f} %" if name in ("rnncore", "sgemm") else "–"
                print(
                    f"| {size} | {shown} | {1e3 * best:.2f} | {1e3 * median:.2f} | {vs_torch} "
                    f"| {vs_cells} | {gflops} | {share} |"
                )
    for note in notes:
        print(f"\n{note}", end="")
    print()


if __name__ == "__main__":
    main()

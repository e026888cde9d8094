"""Character language models of names: vanilla RNN, GRU and LSTM for the same compute budget.

Each cell is trained on the same stream of US census surnames (rnncore.load_names("last"):
88,799 names, about 700,000 characters, from the MIT-licensed ``names`` package, 1990 census)
with the same hidden size, optimiser, window length and batch size, for the same CPU time of
training, and scored on names it never saw. The surnames rather than the 4,275 female first
names: on the small list a minute of training is dozens of epochs and the faster cells overfit,
so the comparison would measure overfitting rather than the cells. The results
(validation loss in nats per character and perplexity, beside the uniform, unigram and bigram
baselines) go to a JSON file that chapter 9 of the book reads.

    python experiments/char_lm.py            # full run, about 3 minutes of one core
    python experiments/char_lm.py --quick    # a few seconds, for the tests

The budget is CPU time spent training (time.process_time, validation excluded), not wall
time, so that other programs running on the machine do not change how much training a cell
gets; wall time is recorded too.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import rnncore as rc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the folder's shared helpers; this folder is no package)

FULL = dict(
    kind="last",
    valid_fraction=0.1,
    cells=["rnn", "gru", "lstm"],
    hidden=128,
    seq_len=32,
    batch=32,
    lr=0.005,
    clip=5.0,
    cpu_budget_seconds=60.0,
    eval_every=100,
    monitor_names=1000,
    seed=0,
)
QUICK = dict(
    kind="female",
    valid_fraction=0.1,
    cells=["rnn", "gru", "lstm"],
    hidden=16,
    seq_len=16,
    batch=8,
    lr=0.01,
    clip=5.0,
    cpu_budget_seconds=0.3,
    eval_every=10,
    monitor_names=50,
    seed=0,
)


def ngram_baselines(train_ids, valid_ids, V):
    """Cross-entropy (nats per character) of count-based models on the validation stream.

    uniform: log V. unigram: training frequencies (add-one smoothed). bigram: P(next | this)
    from training pair counts (add-one smoothed). Scored on the same predictions a recurrent
    model makes: every validation token after the first.
    """
    unigram = np.bincount(train_ids, minlength=V) + 1.0  # (V,)
    unigram /= unigram.sum()
    pairs = np.ones((V, V))  # (V, V) add-one
    np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1.0)
    bigram = pairs / pairs.sum(axis=1, keepdims=True)
    return {
        "uniform": float(np.log(V)),
        "unigram": float(-np.mean(np.log(unigram[valid_ids[1:]]))),
        "bigram": float(-np.mean(np.log(bigram[valid_ids[:-1], valid_ids[1:]]))),
    }


def train_one(cell, cfg, train_ids, valid_ids, monitor_ids, V):
    rng = np.random.default_rng([cfg["seed"], rc.recurrent.CELLS.index(cell)])
    params = rc.init_lm_params(V, cfg["hidden"], rng, cell=cell)
    opt = rc.adam_init(params)
    step, curve = 0, {"step": [], "cpu_seconds": [], "valid_loss": []}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    used, eval_cpu = 0.0, 0.0  # training CPU so far; CPU spent on the curve (not counted)
    while used < cfg["cpu_budget_seconds"]:
        offset = int(rng.integers(0, cfg["seq_len"]))  # new window borders every epoch
        state = None
        for ids_in, ids_target in rc.lm_batches(train_ids, cfg["seq_len"], cfg["batch"], offset):
            _, grads, state = rc.lm_loss(ids_in, ids_target, params, cell, state0=state)
            grads, _ = rc.clip_grad_norm(grads, cfg["clip"])
            params, opt = rc.adam_step(params, grads, opt, lr=cfg["lr"])
            step += 1
            used = time.process_time() - cpu0 - eval_cpu
            if step % cfg["eval_every"] == 0:
                eval_start = time.process_time()
                curve["step"].append(step)
                curve["cpu_seconds"].append(used)
                curve["valid_loss"].append(rc.evaluate_lm(params, monitor_ids, cell, batch_size=8))
                eval_cpu += time.process_time() - eval_start
            if used >= cfg["cpu_budget_seconds"]:
                break
    train_cpu = time.process_time() - cpu0 - eval_cpu
    valid = rc.evaluate_lm(params, valid_ids, cell, batch_size=1)  # every token scored once
    return {
        "cell": cell,
        "steps": step,
        "valid_loss": valid,
        "valid_perplexity": float(np.exp(valid)),
        "best_monitor_loss": min(curve["valid_loss"]) if curve["valid_loss"] else None,
        "parameters": int(sum(v.size for v in params.values())),
        "cpu_seconds": train_cpu,
        "wall_seconds": time.perf_counter() - wall0,
        "curve": curve,
    }


def run(cfg, out_path, log=print):
    start = time.perf_counter()
    names = rc.load_names(cfg["kind"])
    train_names, valid_names = rc.split_train_valid(
        names, cfg["valid_fraction"], np.random.default_rng(cfg["seed"])
    )
    vocab = rc.names_vocab(names)
    train_ids = rc.encode_names(train_names, vocab)
    valid_ids = rc.encode_names(valid_names, vocab)
    # The learning curve is scored on the first validation names only (cheaper); the final
    # number on all of them.
    monitor_ids = rc.encode_names(valid_names[: cfg["monitor_names"]], vocab)
    V = len(vocab)
    baselines = ngram_baselines(train_ids, valid_ids, V)
    log(
        f"{len(train_names)} training names ({len(train_ids)} tokens), {len(valid_names)} "
        f"validation names ({len(valid_ids)} tokens), V = {V}; baselines {baselines}"
    )
    runs = []
    for cell in cfg["cells"]:
        result = train_one(cell, cfg, train_ids, valid_ids, monitor_ids, V)
        runs.append(result)
        log(
            f"{cell:5s} {result['steps']:5d} steps, valid loss {result['valid_loss']:.4f} "
            f"(perplexity {result['valid_perplexity']:.2f}) cpu {result['cpu_seconds']:.0f} s, "
            f"wall {result['wall_seconds']:.0f} s"
        )
    results = {
        "experiment": "char_lm",
        "description": "Character language models of names trained for the same CPU time; "
        "validation loss in nats per character (every validation token after "
        "the first, state carried across names); curve on the first monitor_names "
        "validation names.",
        "config": cfg,
        "data": {
            "train_names": len(train_names),
            "valid_names": len(valid_names),
            "train_tokens": int(len(train_ids)),
            "valid_tokens": int(len(valid_ids)),
            "vocab_size": V,
        },
        "baselines": baselines,
        "runs": runs,
        "total_wall_seconds": time.perf_counter() - start,
        "command": _common.command("char_lm", quick=cfg is QUICK),
        "environment": _common.environment(),
    }
    _common.write_json(results, out_path)
    return results


def main(argv=None):
    _common.main(__doc__, run, FULL, QUICK, "char_lm", argv)


if __name__ == "__main__":
    sys.exit(main())

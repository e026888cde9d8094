"""Sequence to sequence with and without attention, scored by source length.

The experiment beside Bahdanau, Cho & Bengio (2015), figure 2: an encoder-decoder
that must squeeze the whole source into one fixed-size vector loses quality as the
sources grow; the same model with additive attention keeps it. Our "translation"
task is synthetic and generated offline (rnncore.tasks_seq2seq): write a random
string of symbols backwards. The first output token depends on the last input token
and the last output token on the first input token, so every output position needs
a different part of the source.

For every seed and for attention in ("additive", None) the script trains one GRU
encoder-decoder (bidirectional encoder, the same sizes, optimiser, learning rate,
clipping, batch size and number of updates; fresh random batches of mixed lengths
each step), then decodes a fixed test set of every source length greedily and
records the share of outputs that are exactly right and the share of right tokens,
with the CPU and wall time. The JSON file goes to results/, and the trained
parameters of the first seed's two models (float32) to .npz files beside it
(chapter 11 draws their attention weights and decodes with them).

    python experiments/seq2seq_attention.py           # full run, about 8 min of one core
    python experiments/seq2seq_attention.py --quick   # a few seconds, for the tests

Everything is computed with rnncore (init_seq2seq_params, train_seq2seq, translate).
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
    task="reverse",
    num_symbols=10,
    min_len=3,
    max_len=12,
    cell="gru",
    embed=16,
    hidden=32,
    bidirectional=True,
    attentions=["additive", None],
    batch=32,
    steps=600,
    lr=0.005,
    clip=5.0,
    test_per_length=200,
    seeds=[0, 1, 2],
    examples_saved=3,
)
QUICK = dict(
    FULL,
    num_symbols=6,
    min_len=2,
    max_len=6,
    embed=8,
    hidden=16,
    batch=16,
    steps=150,
    lr=0.01,
    test_per_length=40,
    seeds=[0],
)


def label(attention):
    """The name of a model in the results: "additive" or "none"."""
    return attention or "none"


def token_accuracy(output, target):
    """Share of target positions the output gets right; missing or extra tokens count as wrong."""
    right = sum(a == b for a, b in zip(output, target))
    return right / max(len(output), len(target))


def test_sets(cfg, seed):
    """A fixed test set for each source length, the same for every model of a seed."""
    sets = {}
    for L in range(cfg["min_len"], cfg["max_len"] + 1):
        rng = np.random.default_rng([seed, 99, L])
        sets[L] = rc.seq2seq_examples(
            cfg["task"], cfg["test_per_length"], L, L, cfg["num_symbols"], rng
        )
    return sets


def train_one(cfg, seed, attention, sets):
    """Train one model on fresh batches; decode every test set greedily and score it."""
    V = cfg["num_symbols"] + 3  # the symbols plus PAD, BOS and EOS
    rng = np.random.default_rng([seed, cfg["attentions"].index(attention)])
    params = rc.init_seq2seq_params(
        V,
        V,
        cfg["embed"],
        cfg["hidden"],
        rng,
        cell=cfg["cell"],
        bidirectional=cfg["bidirectional"],
        attention=attention,
    )

    def make_batch(rng):
        return rc.seq2seq_batch(
            cfg["task"], cfg["batch"], cfg["min_len"], cfg["max_len"], cfg["num_symbols"], rng
        )

    wall, cpu = time.perf_counter(), time.process_time()
    params, history = rc.train_seq2seq(
        params,
        make_batch,
        cfg["cell"],
        steps=cfg["steps"],
        lr=cfg["lr"],
        rng=rng,
        clip=cfg["clip"],
        progress=False,
    )
    train_cpu, train_wall = time.process_time() - cpu, time.perf_counter() - wall
    by_length, examples = [], []
    for L, (sources, targets) in sets.items():
        outputs = rc.translate(params, sources, cfg["cell"])
        by_length.append(
            {
                "length": L,
                "exact_match": rc.exact_match(outputs, targets),
                "token_accuracy": float(
                    np.mean([token_accuracy(o, t) for o, t in zip(outputs, targets)])
                ),
            }
        )
        k = cfg["examples_saved"]
        examples += [
            {"source": s, "target": t, "output": o}
            for s, t, o in zip(sources[:k], targets[:k], outputs[:k])
        ]
    losses = np.array(history["train_loss"])
    window = 10  # mean loss over blocks of 10 updates, for the curves
    curve = losses[: len(losses) // window * window].reshape(-1, window).mean(axis=1)
    return params, {
        "seed": seed,
        "attention": label(attention),
        "parameters": int(sum(v.size for v in params.values())),
        "by_length": by_length,
        "examples": examples,
        "final_train_loss": float(losses[-50:].mean()),
        "loss_curve_every": window,
        "loss_curve": curve.tolist(),
        "train_cpu_seconds": train_cpu,
        "train_wall_seconds": train_wall,
        "cpu_seconds": time.process_time() - cpu,
        "wall_seconds": time.perf_counter() - wall,
    }


def run(cfg, out_path, log=print):
    start = time.perf_counter()
    runs = []
    stem = os.path.splitext(out_path)[0]
    for seed in cfg["seeds"]:
        sets = test_sets(cfg, seed)
        for attention in cfg["attentions"]:
            params, result = train_one(cfg, seed, attention, sets)
            runs.append(result)
            if seed == cfg["seeds"][0]:  # the first seed's models, for the chapter's figures
                path = f"{stem}_params_{label(attention)}.npz"
                np.savez_compressed(path, **{k: v.astype(np.float32) for k, v in params.items()})
            scores = " ".join(f"{r['length']}:{r['exact_match']:.2f}" for r in result["by_length"])
            log(
                f"seed {seed} {label(attention):8s} exact match by length {scores} "
                f"({result['cpu_seconds']:.0f} s CPU)"
            )
    results = {
        "experiment": "seq2seq_attention",
        "description": "Exact match and token accuracy of greedy decoding by source length, "
        "for the same GRU encoder-decoder with additive attention and without attention "
        "(the fixed-size bottleneck), trained on the reversal task; Bahdanau et al. 2015, "
        "figure 2.",
        "config": cfg,
        "vocab_size": cfg["num_symbols"] + 3,
        "runs": runs,
        "params_files": {
            label(a): os.path.basename(f"{stem}_params_{label(a)}.npz") for a in cfg["attentions"]
        },
        "total_wall_seconds": time.perf_counter() - start,
        "command": _common.command("seq2seq_attention", quick=cfg["steps"] == QUICK["steps"]),
        "environment": _common.environment(),
    }
    _common.write_json(results, out_path)
    return results


def main(argv=None):
    _common.main(__doc__, run, FULL, QUICK, "seq2seq_attention", argv)


if __name__ == "__main__":
    sys.exit(main())

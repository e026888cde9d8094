"""Parity of rnncore's cells with torch.nn.GRUCell and torch.nn.LSTMCell.

Copies a randomly initialised torch cell's weights into an rnncore parameter
dict (using the mapping written in the cells' docstrings) and prints the
largest absolute difference, in float64 for a few shapes, of the outputs
(forward) and of every gradient against torch's autograd (backward).
Then checks ``rnncore.torch_bridge`` for whole modules: rnncore parameters
(single layer, stacked, bidirectional) go through ``to_torch_state_dict`` into
``torch.nn.RNN``/``GRU``/``LSTM`` with ``load_state_dict``, and torch's own
initial weights come back through ``from_torch_state_dict``; both directions
print the largest difference of the output sequences.

Needs torch (only in the benchmark venv, never in .venv):

    PYTHONPATH=/work/main /work/bench-venv/bin/python benchmarks/torch_parity.py
"""

from __future__ import annotations

import numpy as np
import torch

from rnncore import (
    from_torch_state_dict,
    gru_cell_backward,
    gru_cell_forward,
    init_stacked_params,
    lstm_cell_backward,
    lstm_cell_forward,
    stacked_forward,
    to_torch_state_dict,
)

SHAPES = [(1, 3, 3), (4, 5, 7), (32, 65, 128)]  # (N, D, H)


def gru_params_from_torch(cell: torch.nn.GRUCell) -> dict:
    """torch stacks r, z, n; rnncore's b_r, b_z are torch's two biases added."""
    W_ir, W_iz, W_in = cell.weight_ih.detach().double().numpy().reshape(3, cell.hidden_size, -1)
    W_hr, W_hz, W_hn = cell.weight_hh.detach().double().numpy().reshape(3, cell.hidden_size, -1)
    b_ir, b_iz, b_in = cell.bias_ih.detach().double().numpy().reshape(3, -1)
    b_hr, b_hz, b_hn = cell.bias_hh.detach().double().numpy().reshape(3, -1)
    return {
        "W_xr": W_ir.T, "W_hr": W_hr.T, "b_r": b_ir + b_hr,
        "W_xz": W_iz.T, "W_hz": W_hz.T, "b_z": b_iz + b_hz,
        "W_xh": W_in.T, "W_hh": W_hn.T, "b_h": b_in, "b_hn": b_hn,
    }  # fmt: skip


def lstm_params_from_torch(cell: torch.nn.LSTMCell) -> dict:
    """torch stacks i, f, g, o (g is rnncore's candidate c); each bias is the sum of two."""
    W_ih = cell.weight_ih.detach().double().numpy().reshape(4, cell.hidden_size, -1)
    W_hh = cell.weight_hh.detach().double().numpy().reshape(4, cell.hidden_size, -1)
    bias = (cell.bias_ih + cell.bias_hh).detach().double().numpy().reshape(4, -1)
    params = {}
    for k, gate in enumerate("ifco"):
        params[f"W_x{gate}"] = W_ih[k].T
        params[f"W_h{gate}"] = W_hh[k].T
        params[f"b_{gate}"] = bias[k]
    return params


def gru_grads_to_torch_layout(grads: dict) -> tuple:
    """rnncore's GRU gradients stacked as torch's (weight_ih, weight_hh, bias_ih, bias_hh)."""
    weight_ih = np.concatenate([grads["W_xr"].T, grads["W_xz"].T, grads["W_xh"].T])
    weight_hh = np.concatenate([grads["W_hr"].T, grads["W_hz"].T, grads["W_hh"].T])
    # b_r = b_ir + b_hr: both torch biases get the gradient of the sum
    bias_ih = np.concatenate([grads["b_r"], grads["b_z"], grads["b_h"]])
    bias_hh = np.concatenate([grads["b_r"], grads["b_z"], grads["b_hn"]])
    return weight_ih, weight_hh, bias_ih, bias_hh


def lstm_grads_to_torch_layout(grads: dict) -> tuple:
    """rnncore's LSTM gradients stacked as torch's (weight_ih, weight_hh, bias_ih, bias_hh)."""
    weight_ih = np.concatenate([grads[f"W_x{g}"].T for g in "ifco"])
    weight_hh = np.concatenate([grads[f"W_h{g}"].T for g in "ifco"])
    bias = np.concatenate([grads[f"b_{g}"] for g in "ifco"])
    return weight_ih, weight_hh, bias, bias


def torch_grads(cell) -> tuple:
    return tuple(
        p.grad.numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    )


def max_diff(ours, theirs) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs))


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, numpy {np.__version__}; float64; max |rnncore - torch|")
    for N, D, H in SHAPES:
        x = rng.normal(size=(N, D))
        h_prev = rng.uniform(-1, 1, size=(N, H))
        c_prev = rng.normal(size=(N, H))
        dh = rng.normal(size=(N, H))
        dc = rng.normal(size=(N, H))
        tx, th, tc = (torch.from_numpy(a).requires_grad_() for a in (x, h_prev, c_prev))

        gru = torch.nn.GRUCell(D, H).double()
        h, cache = gru_cell_forward(x, h_prev, gru_params_from_torch(gru), reset_after=True)
        dx, dh_prev, grads = gru_cell_backward(dh, cache)
        h_torch = gru(tx, th)
        h_torch.backward(torch.from_numpy(dh))
        gru_fwd = max_diff([h], [h_torch.detach().numpy()])
        gru_bwd = max_diff(
            [dx, dh_prev, *gru_grads_to_torch_layout(grads)],
            [tx.grad.numpy(), th.grad.numpy(), *torch_grads(gru)],
        )

        for t in (tx, th):
            t.grad = None
        lstm = torch.nn.LSTMCell(D, H).double()
        h, c, cache = lstm_cell_forward(x, h_prev, c_prev, lstm_params_from_torch(lstm))
        dx, dh_prev, dc_prev, grads = lstm_cell_backward(dh, dc, cache)
        h_torch, c_torch = lstm(tx, (th, tc))
        torch.autograd.backward([h_torch, c_torch], [torch.from_numpy(dh), torch.from_numpy(dc)])
        lstm_fwd = max_diff([h, c], [h_torch.detach().numpy(), c_torch.detach().numpy()])
        lstm_bwd = max_diff(
            [dx, dh_prev, dc_prev, *lstm_grads_to_torch_layout(grads)],
            [tx.grad.numpy(), th.grad.numpy(), tc.grad.numpy(), *torch_grads(lstm)],
        )

        print(
            f"N={N:<3} D={D:<3} H={H:<4} "
            f"GRUCell (reset_after=True) forward {gru_fwd:.1e} backward {gru_bwd:.1e} | "
            f"LSTMCell forward {lstm_fwd:.1e} backward {lstm_bwd:.1e}"
        )


MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
MODULE_CASES = [(1, False), (3, False), (1, True), (2, True)]  # (num_layers, bidirectional)


def module_parity(T=7, N=3, D=5, H=6) -> None:
    """to_torch_state_dict / from_torch_state_dict against torch.nn.RNN, GRU and LSTM."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(T, N, D))
    print(f"\ntorch_bridge, float64, T={T} N={N} D={D} H={H}: max |rnncore - torch| of the outputs")
    for cell, module_type in MODULES.items():
        for layers, bidirectional in MODULE_CASES:
            kw = {"reset_after": True} if cell == "gru" else {}
            params = init_stacked_params(cell, D, H, layers, rng, bidirectional=bidirectional, **kw)
            ours, _, _ = stacked_forward(X, params, cell, bidirectional=bidirectional)
            module = module_type(D, H, num_layers=layers, bidirectional=bidirectional).double()
            state = to_torch_state_dict(params, cell)
            module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
            with torch.no_grad():
                theirs = module(torch.from_numpy(X))[0].numpy()
            to_torch = float(np.abs(ours - theirs).max())
            # and back: torch's own initial weights (both biases non-zero) run in rnncore
            fresh = module_type(D, H, num_layers=layers, bidirectional=bidirectional).double()
            back = from_torch_state_dict(
                {k: v.numpy() for k, v in fresh.state_dict().items()}, cell, stacked=True
            )
            with torch.no_grad():
                theirs = fresh(torch.from_numpy(X))[0].numpy()
            ours, _, _ = stacked_forward(X, back, cell, bidirectional=bidirectional)
            from_torch = float(np.abs(ours - theirs).max())
            print(
                f"{module_type.__name__:<5} layers={layers} bidirectional={bidirectional!s:<5} "
                f"to_torch {to_torch:.1e}  from_torch {from_torch:.1e}"
            )


if __name__ == "__main__":
    main()
    module_parity()

"""The driver of backward checks: the student's forward and backward, graded together.

The cache is the student's own design, so a backward pass can only be run on
the cache of the student's own forward pass. For every case the driver

1. runs the student's forward pass, checks the shapes of its outputs and,
   when the gradients are compared with the reference's (part ``"values"``),
   their values (a wrong forward pass is reported first: fix it before the
   gradients);
2. runs the student's backward pass on random upstream gradients and checks
   the types and shapes of what it returns (part ``"shapes"``);
3. compares every gradient with the reference's (part ``"values"``;
   tolerances ``rtol = 1e-6, atol = 1e-8``);
4. compares every gradient with centred finite differences of the student's
   own forward pass (part ``"gradcheck"``; relative error below 1e-6).

Part ``"gradients"`` is ``"values"`` and ``"gradcheck"`` together.

Gradients are compared in the order the backward pass computes them
(``Pair.order``), and the message names the first that differs and its stage:
an error early in the backward pass spoils everything after it, so the first
wrong gradient is where to look. The orders, from the upstream gradient back
to the inputs:

* RNN cell: the bias (``b_h``, the sum of ``da = dh ⊙ (1 − h²)``), the
  weights (``W_xh``, ``W_hh``), ``dh_prev``, ``dx``;
* RNN over a sequence (BPTT): ``dX[t]`` from the last step ``t = T − 1`` back
  to ``t = 0`` (so a wrong recurrence shows as "dX[T−1] right, dX[T−2]
  wrong"), the weights summed over time, ``dh0`` (BPTT's very last result);
  the same for the variational-dropout RNN, whose masks are arguments after
  ``params`` (``Pair.fixed``) that get no gradient and stay fixed for the
  finite differences;
* GRU cell: the update gate (``b_z``, ``W_xz``, ``W_hz``; ``dz`` comes straight
  from ``dh``), the candidate (``b_h``, ``W_xh``, ``W_hh``), the reset gate
  (``b_r``, ``W_xr``, ``W_hr``; reached through the candidate), ``dh_prev``,
  ``dx``;
* LSTM cell: the output gate (``b_o``, ``W_xo``, ``W_ho``; ``do`` comes straight
  from ``dh``), the cell state (``dc_prev``: the total ``dc`` through ``f``),
  the forget gate, the input gate, the candidate (each ``b``, ``W_x``, ``W_h``),
  ``dh_prev``, ``dx``;
* additive attention: the score vector (``v_a``, reached through the softmax),
  the score's hidden layer (``b_a``, ``W_ea``, ``W_sa``), ``ds_prev``,
  ``dH_enc`` (the weighted sum's path and the score's, added last); its
  ``mask`` is a fixed argument.

Finite differences (part ``"gradcheck"``) are reported in the same order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._guard import refusing
from ..gradcheck import gradcheck, relative_error
from ._compare import compare, diagnosing, parts
from ._driver import GRADCHECK_TOL, reference, summary
from ._harness import ALL, _copy, array_out, call, dict_out, fail, unpack
from .sandbox.errors import SandboxLimit

__all__: list[str] = []

PARTS = ("shapes", "values", "gradcheck")
ALIASES = {"gradients": ("values", "gradcheck")}


class Pair(NamedTuple):
    """What a forward/backward pair takes and returns (names as in the book)."""

    forward: str  # "rnn_cell_forward"
    backward: str  # "rnn_cell_backward"
    inputs: tuple  # ("x", "h_prev"): the differentiable positional inputs
    outputs: tuple  # (("h", ("N", "H")),): forward outputs before the cache
    grads: tuple  # ("dx", "dh_prev"): input gradients the backward returns
    upstream: tuple  # ("dh",): one upstream gradient per forward output
    letters: tuple  # shape letters of each input, for messages
    order: tuple = ()  # ((stage, (gradient or parameter names)), ...) in backward-pass order
    over_time: tuple = ()  # gradients compared one time step at a time, from the last back
    fixed: tuple = ()  # arguments after params that get no gradient ("mask_x", "mask_h")


def stages_text(pair: Pair) -> str:
    """ "output gate (b_o, W_xo, W_ho) → cell state (dc_prev) → ...": the order, for messages."""
    return " → ".join(
        stage if stage.startswith(names[0]) else f"{stage} ({', '.join(names)})"
        for stage, names in pair.order
    )


def _ordered(pair: Pair, params) -> list:
    """(stage, name) of every returned gradient, in the order of the backward pass."""
    listed = [(stage, n) for stage, names in pair.order for n in names]
    seen = {n for _, n in listed}
    rest = [("", n) for n in (*pair.grads, *params) if n not in seen]  # anything unlisted last
    return [(stage, n) for stage, n in listed if n in pair.grads or n in params] + rest


def _first_wrong(pair: Pair, stage: str, what: str, err: AssertionError, more: str = ""):
    """``err``'s message, followed by where in the backward pass the first difference is."""
    where = "" if not stage or stage.startswith(what.split("[")[0]) else f", at the {stage}"
    return fail(
        pair.backward,
        str(err).split(": ", 1)[1] + f"\nIn the order of the backward pass ({stages_text(pair)}), "
        f"{what} is the first gradient that differs{where}: look there first.{more}",
    )


def _text(names) -> str:
    return "(" + ", ".join(names) + ")"


def _run_pair(pair: Pair, fwd, bwd, case, runner):
    """Forward then backward; ``runner(fn, args, name, arg_names, keep)`` runs one call."""
    args = [_copy(a) for a in case.args]
    out = runner(fwd, args, pair.forward, _forward_args(pair), ())
    got = unpack(
        out, len(pair.outputs) + 1, _text([o for o, _ in pair.outputs] + ["cache"]), pair.forward
    )
    upstream = [u.copy() for u in case.extra["upstream"]]
    return runner(bwd, (*upstream, got[-1]), pair.backward, (*pair.upstream, "cache"), ("cache",))


def _forward_args(pair: Pair) -> tuple:
    """The forward pass's argument names: the inputs, ``params``, the fixed arguments."""
    return (*pair.inputs, "params", *pair.fixed)


def _student(fn, args, name, arg_names, keep):
    return call(fn, args, name=name, arg_names=arg_names, keep=keep)


def _quiet(fn, args, name, arg_names, keep):
    with np.errstate(all="ignore"):
        return fn(*args)


def check_backward(
    pair: Pair, student_forward, student_backward, cases, *, part, mistakes=(), forward_mistakes=()
):
    """Grade a forward/backward pair on every case (see the module docstring)."""
    chosen = parts(part, PARTS, pair.backward, ALIASES)
    cases = list(cases)
    n_in = len(pair.inputs)
    for case in cases:
        x_args, params = case.args[:n_in], case.args[n_in]
        expected = reference(pair.forward, *case.args)
        exp_grads = reference(pair.backward, *case.extra["upstream"], expected[-1])

        # 1. the forward pass must be right before its gradients can be
        raw = call(
            student_forward,
            case.args,
            name=pair.forward,
            arg_names=_forward_args(pair),
            case=case.label,
            cache_last=len(pair.outputs) + 1,
        )
        fwd_what = _text([o for o, _ in pair.outputs] + ["cache"])

        def produce_fwd(fn, case=case):
            return fn(*[_copy(a) for a in case.args])

        with diagnosing(
            pair.forward,
            [(produce_fwd, raw)],
            forward_mistakes,
            lambda r: tuple(unpack(r, len(pair.outputs) + 1, "", "")[:-1]),
        ):
            got = unpack(raw, len(pair.outputs) + 1, fwd_what, pair.forward)
            for value, (what, letters), exp in zip(got, pair.outputs, expected):
                array_out(value, what, exp.shape, pair.forward, letters)
                if "values" not in chosen:
                    continue  # shapes and finite differences need no right forward pass
                compare(
                    value,
                    exp,
                    what,
                    pair.forward,
                    f"{case.label}; fix your forward pass before its gradients",
                )
        cache = got[-1]

        # 2-3. the backward pass against the reference
        upstream = case.extra["upstream"]
        raw = call(
            student_backward,
            (*[u.copy() for u in upstream], cache),
            name=pair.backward,
            arg_names=(*pair.upstream, "cache"),
            keep=("cache",),
            case=case.label,
        )

        def produce(fns, case=case):
            return _run_pair(pair, fns[0], fns[1], case, _quiet)

        bwd_what = _text([*pair.grads, "grads"])
        with diagnosing(pair.backward, [(produce, raw)], mistakes):
            got = unpack(raw, len(pair.grads) + 1, bwd_what, pair.backward)
            mine = [
                array_out(g, what, a.shape, pair.backward, letters)
                for g, what, a, letters in zip(got, pair.grads, x_args, pair.letters)
            ]
            grads = dict_out(
                got[-1], "grads", {k: v.shape for k, v in params.items()}, pair.backward
            )
            if "values" in chosen:
                _compare_in_order(pair, dict(zip(pair.grads, mine)), grads, exp_grads, case)
            # 4. the backward pass against finite differences of the student's forward
            if "gradcheck" in chosen:
                _finite_differences(pair, student_forward, case, mine, grads)
    return summary(pair.backward, chosen, PARTS, len(cases))


def _compare_in_order(pair: Pair, mine: dict, grads: dict, exp_grads, case) -> None:
    """Compare every gradient with the reference's, the first in backward-pass order first."""
    expected = {**dict(zip(pair.grads, exp_grads)), **exp_grads[-1]}
    yours = {**mine, **grads}
    for stage, key in _ordered(pair, grads):
        what = key if key in mine else f"grads[{key!r}]"
        steps = range(yours[key].shape[0] - 1, -1, -1) if key in pair.over_time else (None,)
        for t in steps:
            sub = (lambda a: a) if t is None else (lambda a, t=t: a[t])
            label = what if t is None else f"{what}[{t}]"
            try:
                compare(sub(yours[key]), sub(expected[key]), label, pair.backward, case.label)
            except AssertionError as err:
                later = t is not None and t < steps[0]
                more = (
                    f" {what}[{t + 1}:] are right, so one step works: look at the gradient "
                    "carried back to the previous step."
                    if later
                    else ""
                )
                raise _first_wrong(pair, stage, label, err, more) from None


def _remote_gradcheck(pair: Pair, student_forward, case, analytic, eps: float = 1e-6) -> dict:
    """:func:`rnncore.gradcheck.gradcheck` for a forward pass that runs in the sandbox.

    The same centred differences, but every probe point is sent in one request
    (one round trip instead of two per entry); the loss and the differences are
    computed here, from the outputs the student's forward pass returned.
    """
    n_in = len(pair.inputs)
    point = [np.array(a, dtype=np.float64) for a in case.args[:n_in]]
    point.append({k: np.array(v, dtype=np.float64) for k, v in case.args[n_in].items()})
    point += [_copy(a) for a in case.args[n_in + 1 :]]  # fixed arguments (masks): never probed
    where = {name: (k, None) for k, name in enumerate(pair.inputs)}
    where.update({key: (n_in, key) for key in case.args[n_in]})
    probes, spans = [], {}
    for name in analytic:
        index, key = where[name]
        flat = (point[index] if key is None else point[index][key]).reshape(-1)
        spans[name] = (len(probes), flat.size)
        for i, saved in enumerate(flat):
            probes += [(index, key, i, saved + eps), (index, key, i, saved - eps)]
    outputs = student_forward._sandbox.probe(
        student_forward.__name__, point, probes, len(pair.outputs)
    )
    upstream = [np.asarray(u, dtype=np.float64) for u in case.extra["upstream"]]
    losses = []
    for out in outputs:
        if len(out) != len(upstream) or any(o.shape != u.shape for o, u in zip(out, upstream)):
            raise ValueError("your forward pass returned outputs of other shapes at nearby points")
        losses.append(sum(float(np.sum(o * u)) for o, u in zip(out, upstream)))
    losses = np.array(losses)
    errors = {}
    for name, grad in analytic.items():
        start, size = spans[name]
        pair_losses = losses[start : start + 2 * size].reshape(size, 2)
        numeric = (pair_losses[:, 0] - pair_losses[:, 1]) / (2 * eps)
        errors[name] = relative_error(np.asarray(grad, dtype=np.float64).reshape(-1), numeric)
    return errors


def _finite_differences(pair: Pair, student_forward, case, mine, grads) -> None:
    n_in = len(pair.inputs)
    params = case.args[n_in]
    inputs = {**dict(zip(pair.inputs, case.args[:n_in])), **params}

    def f(arrays):
        args = [arrays[k] for k in pair.inputs]
        fixed = [_copy(a) for a in case.args[n_in + 1 :]]
        with refusing(ALL), np.errstate(all="ignore"):
            out = student_forward(*args, {k: arrays[k] for k in params}, *fixed)
        return tuple(out[: len(pair.outputs)])

    analytic = {**dict(zip(pair.inputs, mine)), **grads}
    try:
        if getattr(student_forward, "__rnnbook_remote__", False):
            errors = _remote_gradcheck(pair, student_forward, case, analytic)
        else:
            errors = gradcheck(f, inputs, analytic, dout=case.extra["upstream"])
    except SandboxLimit:
        raise
    except Exception as err:  # pragma: no cover - the forward already ran on this case
        raise fail(
            pair.backward,
            f"finite differences of your forward pass failed ({type(err).__name__}: {err}).",
        ) from None
    inputs_of = dict(zip(pair.grads, pair.inputs))
    for stage, key in _ordered(pair, params):
        error = errors.get(inputs_of.get(key, key))
        if error is not None and not error < GRADCHECK_TOL:
            label = key if key in inputs_of else f"grads[{key!r}]"
            raise _first_wrong(
                pair,
                stage,
                label,
                AssertionError(
                    f"{pair.backward}: {label} disagrees with finite differences of your "
                    f"own forward pass{case.label}: relative error "
                    f"{error:.2g} (should be below {GRADCHECK_TOL:g})."
                ),
            )

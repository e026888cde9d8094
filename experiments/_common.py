"""What every experiment script shares: the environment record, the JSON file, the command line.

Each script in this folder defines its configurations (``FULL``, ``QUICK``) and a
``run(cfg, out_path, log=print)`` that returns a dict of results; the helpers
below add the record of where and how the numbers were made, write the file,
and parse ``--quick`` / ``--out`` (and, for the scripts that repeat over seeds,
``--seed``), so that every script's results look alike and are read alike by the
book.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def environment():
    """Python and NumPy versions, machine and UTC date of the run (a dict of strings)."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def command(script, quick=False, seed=0, extra=""):
    """The command line that reproduces a run, e.g. ``python experiments/x.py --quick``."""
    line = f"python experiments/{script}.py" + (" --quick" if quick else "")
    return line + (f" --seed {seed}" if seed else "") + extra


def write_json(results, out_path):
    """Write ``results`` (with one space of indent) to ``out_path``, making its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as handle:
        json.dump(results, handle, indent=1)


def parser(doc, seed=False):
    """An argument parser with ``--quick`` and ``--out`` (and ``--seed`` if asked)."""
    parse = argparse.ArgumentParser(description=doc.splitlines()[0])
    parse.add_argument("--quick", action="store_true", help="tiny run (seconds), for tests")
    parse.add_argument("--out", help="where to write the JSON results")
    if seed:
        parse.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    return parse


def out_path(args, stem):
    """``--out``, or ``results/<stem>[_quick][_seed<k>].json``."""
    if args.out:
        return args.out
    name = stem + ("_quick" if args.quick else "")
    name += f"_seed{args.seed}" if getattr(args, "seed", 0) else ""
    return os.path.join(RESULTS, name + ".json")


def main(doc, run, full, quick, stem, argv=None):
    """The command line of a script without seeds: run FULL (or QUICK) and report the time."""
    args = parser(doc).parse_args(argv)
    out = out_path(args, stem)
    results = run(quick if args.quick else full, out)
    print(f"wrote {out} in {results['total_wall_seconds']:.0f} s wall")

"""Instructions per step, counted by valgrind: figures that the machine's load does not move.

Run with `.venv/bin/python benchmarks/instructions.py` (needs valgrind: `apt-get install
valgrind`; micrograd from the `bench` extra, for its row). Times on a shared
machine move with its load, and not alike for every engine: a figure that does not is
the number of instructions a step executes, which callgrind counts. Each workload runs
in a child process under callgrind twice, for FEW and for MANY steps after the same
setup; the difference over MANY - FEW is one step's instructions, setup and start-up
cancelled out. The workloads:

  - lecture: `benchmarks/lecture.py`'s step, micrograd's demo loop, on scalargrad, on
    the object floor (`floor_engine.py`) and on micrograd (slow under valgrind: one
    step each);
  - compiled: `benchmarks/compile.py`'s standard step, on the compiled batch step and
    on NumPy written by hand. JAX is not counted: its runtime has threads that wait
    by spinning, so its count follows the timing (296K and 804K per step in two runs
    here).

An instruction is not a unit of time: a step that waits on memory, or runs in the
kernel, costs more time than its count says (callgrind counts user space only, and a
`rep` string instruction once per byte it moves). Compare counts within a row's peers.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = {
    # name: (workload, steps FEW, steps MANY)
    "lecture scalargrad": ("lecture", 1, 4),
    "lecture object floor": ("lecture", 1, 4),
    "lecture micrograd": ("lecture", 1, 2),
    "compiled batch step": ("compiled", 10, 110),
    "NumPy written by hand": ("compiled", 10, 110),
}


def stepper(name: str) -> Callable[[int], Any] | None:
    """One step of workload `name` (set up once); None where its engine is missing."""
    if name.startswith("lecture"):
        from lecture import engines, lecture_step

        from scalargrad.data import moons

        found = engines(floor=True)
        engine = name.removeprefix("lecture ")
        if engine not in found:
            return None
        Value, make = found[engine]
        model = make()
        X, labels = moons(100, noise=0.1, seed=0)
        y = [2 * label - 1 for label in labels]
        return lambda k: lecture_step(Value, model, X, y, k)
    import compile as standard  # benchmarks/compile.py

    if name == "compiled batch step":
        return standard.compiled_batch()
    return standard.numpy_by_hand()[0]


def instructions(output: str) -> int:
    """The total callgrind reports on stderr: '==12== Collected : 123456789'."""
    found = re.search(r"Collected : (\d+)", output)
    if found is None:
        raise RuntimeError(f"valgrind printed no instruction count:\n{output[-2000:]}")
    return int(found.group(1))


def counted(name: str, steps: int) -> int | None:
    """Instructions of a child process that sets workload `name` up and runs `steps`."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, os.path.join(HERE, "instructions.py"), "--child", name, str(steps),
    ]  # fmt: skip
    # One BLAS thread: callgrind runs threads one at a time anyway, and counts them all.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode == 3:  # the child's "engine not installed"
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{name}: the child failed:\n{done.stderr[-2000:]}")
    return instructions(done.stderr)


def child(name: str, steps: int) -> None:
    step = stepper(name)
    if step is None:
        sys.exit(3)
    for k in range(steps):
        step(k % 100)


def main() -> None:
    """Count each workload's instructions per step and print them beside its peers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=["lecture", "compiled"], help="run only one of the two workloads"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("instructions.py: valgrind is not installed (apt-get install valgrind)")
    print(describe())
    for name, (workload, few, many) in WORKLOADS.items():
        if args.only and workload != args.only:
            continue
        small, large = counted(name, few), counted(name, many)
        if small is None or large is None:
            print(f"  {name:28s} not installed")
            continue
        print(f"  {name:28s} {(large - small) / (many - few) / 1000:12,.0f}K instructions per step")


if __name__ == "__main__":
    main()

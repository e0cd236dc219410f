"""The demo as a learner runs it: `scalargrad demo`, start to finish, in a fresh process.

Run with `.venv/bin/python benchmarks/demo.py`. Runs the command --repeats times (each
into a fresh folder, each a new Python: imports included) and prints the median wall
time, the median peak memory (the child's maximum resident set size, as
`resource.getrusage(RUSAGE_CHILDREN)` reports it) and the median CPU time (user + system,
Graphviz's processes included: on a shared machine, a steadier guide than the wall
time); `--gif` times the demo with its animation, `--no-compile` with eager training
(the default trains compiled). POSIX only (resource). The wall time
means something on a quiet machine only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from machine import describe  # benchmarks/machine.py, beside this script


def run_once(extra: list[str]) -> tuple[float, int, float]:
    """One `scalargrad demo` in a new process: (wall seconds, peak resident bytes,
    CPU seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "scalargrad", "demo", "--no-progress", *extra]
        # RUSAGE_CHILDREN's ru_maxrss is the largest of every child reaped so far, so
        # each run is measured by a small probe process whose only child it is.
        probe = (
            "import resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "seconds = time.perf_counter() - start\n"
            "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, *command],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
    seconds, maxrss, cpu = done.stdout.split()
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return float(seconds), int(maxrss) * scale, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gif", action="store_true", help="time `scalargrad demo --gif`")
    parser.add_argument(
        "--no-compile", action="store_true", help="time `scalargrad demo --no-compile`"
    )
    args = parser.parse_args()
    print(describe())
    extra = ["--gif"] if args.gif else []
    extra += ["--no-compile"] if args.no_compile else []
    started = time.perf_counter()
    runs = [run_once(extra) for _ in range(args.repeats)]
    seconds = statistics.median(wall for wall, _, _ in runs)
    peak = statistics.median(rss for _, rss, _ in runs)
    cpu = statistics.median(cpu for _, _, cpu in runs)
    print(
        f"scalargrad demo {' '.join(extra)}".rstrip()
        + f": median of {args.repeats} runs: {seconds:.2f} s wall, "
        f"{peak / 2**20:.0f} MB peak resident memory, {cpu:.2f} s CPU "
        f"(walls: {', '.join(f'{wall:.2f} s' for wall, _, _ in runs)}; "
        f"{time.perf_counter() - started:.0f} s in all; load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

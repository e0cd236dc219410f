"""The `scalargrad` command (also `python -m scalargrad`): a parser over `scalargrad.demo`
and `scalargrad.formula_graph`, which check every output path before any work.

    scalargrad demo                     train on moons, write pictures into scalargrad-out/
    scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3 --out graph.svg

Every error is one line on stderr, "scalargrad: error: ...", with the exit statuses below.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

from scalargrad import __version__
from scalargrad.formula import FUNCTIONS
from scalargrad.optim import OPTIMIZERS
from scalargrad.validate import count_text, path_text, positive_text

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1  # Graphviz missing or failing: nothing the arguments could fix
EXIT_USAGE = 2  # bad arguments, formulas, domain errors, unusable output paths
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # kill: 128 + SIGTERM

# The demo's datasets, named here so that --help does not load the demo (and matplotlib).
DATASETS = ("moons", "xor", "circles", "spirals")


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class ToolError(Exception):
    """A failure the arguments cannot fix (Graphviz missing): one line, exit status 1."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every cleanup runs, as for Ctrl-C."""


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one-line form every scalargrad error has."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line with a pointer to --help, and exit with status 2."""
        print(f"scalargrad: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `scalargrad` command with `argv` (default: sys.argv[1:]); the exit status."""
    on_sigterm = signal.signal(signal.SIGTERM, _terminate)
    try:
        args = _parse(_parser(), argv)
        return int(args.run(args))
    except (UsageError, ToolError) as error:
        print(f"scalargrad: error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        # Whatever was under way has been cleaned up on the way here: nothing is written.
        print("scalargrad: error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("scalargrad: error: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, on_sigterm)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed arguments; a usage error (exit status 2) from the command's own parser.

    argparse sets a token such as "-x*2" aside as an unknown option; for `graph` without
    a FORMULA, a lone such token (one dash) is the formula, as a learner types it.
    """
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:
        unrecognized = f"unrecognized arguments: {' '.join(unknown)}"
        parser.error(unrecognized if unknown else "choose a command: demo or graph")
    command: argparse.ArgumentParser = args.parser
    if args.command == "graph" and args.formula is None:
        if len(unknown) == 1 and unknown[0].startswith("-") and not unknown[0].startswith("--"):
            args.formula = unknown.pop()
        else:
            # What was set aside is most likely a formula that starts with '-'.
            dashes = "; a formula that starts with '-' goes after '--', as in scalargrad graph"
            hint = f"{dashes} --set x=1 -- '-x*2'" if unknown else ""
            command.error(f"the following arguments are required: FORMULA{hint}")
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scalargrad",
        description="A scalar autograd engine to learn, teach and see backpropagation.",
        epilog="Run `scalargrad demo --help` or `scalargrad graph --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"scalargrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,graph}", parser_class=_Parser)

    demo = commands.add_parser(
        "demo",
        help="train a small network and draw what happened",
        description="Train a small MLP on a 2-D dataset and write into DIR (default: "
        "scalargrad-out) the loss, the decision boundary, one sample's loss graph before and "
        "after backward(), backprop.html that steps through it, and model.json. Files of "
        "those names already in DIR are overwritten; other files in DIR are left alone.",
    )
    demo.add_argument("--dataset", choices=DATASETS, default="moons", help="default: moons")
    steps = "full-batch steps (default: 100)"
    demo.add_argument("--steps", type=_argument(count_text), default=100, metavar="N", help=steps)
    demo.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam", help="default: adam")
    demo.add_argument(
        "--lr", type=_argument(positive_text), metavar="X", help="default: by dataset"
    )
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="default: 0")
    demo.add_argument("--out", type=_path, default=Path("scalargrad-out"), metavar="DIR")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    # Its default is set by set_defaults: argparse would print "(default: True)" after it.
    compiled = "train compiled, a NumPy matrix product per layer (the default; --no-compile "
    compiled += "trains Value by Value, to the same numbers, many times slower)"
    demo.add_argument("--compile", action=argparse.BooleanOptionalAction, help=compiled)
    demo.add_argument("--gif", action="store_true", help="also write backprop.gif (slower)")
    demo.set_defaults(run=run_demo, parser=demo, compile=True)

    graph = commands.add_parser(
        "graph",
        usage="%(prog)s [-h] [--set NAME=VALUE] [--out FILE] [--html PAGE] [--code] "
        "[--local-grads] [--rankdir DIR] [--gif] FORMULA",
        help="draw a formula's graph and its gradients",
        description="Print the value of FORMULA and the gradient of each variable (give each "
        "its value with --set NAME=VALUE), and draw its graph: a .png before and after "
        "backward(), a .svg or .pdf after. A formula may use numbers, variables, + - * / **, "
        f"parentheses and {', '.join(FUNCTIONS)}; it is never run as code.",
        epilog="A formula that starts with '-' can be typed as it is; if it is taken for an "
        "option (such as '-h'), put it after '--': scalargrad graph --set x=1 -- '-x*2'.",
    )
    # nargs="?": a missing FORMULA is reported by _parse, which first looks for one
    # that argparse took for an option.
    graph.add_argument("formula", nargs="?", metavar="FORMULA", help='such as "tanh(x*w + b)"')
    graph.add_argument(
        "--set", dest="values", action="append", type=_assignment, default=[], metavar="NAME=VALUE"
    )
    picture = "the picture, .png .svg or .pdf, overwriting any file there (default: graph.png, "
    picture += "unless only --html or --code is asked for)"
    graph.add_argument("--out", type=_path, metavar="FILE", help=picture)
    page = "also write the step-through page"
    graph.add_argument("--html", type=_path, metavar="PAGE", help=page)
    graph.add_argument("--code", action="store_true", help="print the forward and backward code")
    graph.add_argument("--local-grads", action="store_true", help="write d(out)/d(in) on each edge")
    graph.add_argument("--rankdir", type=str.upper, default="LR", metavar="DIR", help="LR TB RL BT")
    graph.add_argument(
        "--gif", action="store_true", help="also write FILE.gif beside FILE (overwriting any file)"
    )
    graph.set_defaults(run=run_graph, parser=graph)
    return parser


def _argument(read: Callable[[str], T]) -> Callable[[str], T]:
    """`read` as an argparse type: its ValueError is the usage error "argument --X: ..."."""

    def typed(text: str) -> T:
        try:
            return read(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return typed


_path = _argument(path_text)


def _assignment(text: str) -> tuple[str, float]:
    from scalargrad.formula_graph import read_assignment

    return _argument(read_assignment)(text)


# formula_graph, demo and viz are imported where a command needs them: they load Graphviz's
# bindings, NumPy and matplotlib, which --help, --version and a mistyped argument do without.


def run_graph(args: argparse.Namespace) -> int:
    """`scalargrad graph`: print the formula's value and gradients; draw what is asked."""
    from scalargrad.formula_graph import assigned_values, draw_formula

    out = args.out or (Path("graph.png") if args.gif or not (args.html or args.code) else None)
    with _reported():
        values = assigned_values(args.formula, args.values)
        drawn = draw_formula(
            args.formula,
            values,
            out,
            html=args.html,
            gif=args.gif,
            local_grads=args.local_grads,
            rankdir=args.rankdir,
        )
    print(drawn.report(code=args.code))
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    """`scalargrad demo`: train, then write the pictures, the page, the model and a summary."""
    from scalargrad import demo

    with _reported():
        summary = demo.run(
            args.dataset,
            args.out,
            optimizer=args.optimizer,
            lr=args.lr,
            steps=args.steps,
            seed=args.seed,
            progress=not args.no_progress,
            compile=args.compile,
            gif=args.gif,
        )
    print(summary.report())
    return EXIT_OK


@contextmanager
def _reported() -> Iterator[None]:
    """Bad input (a ValueError) becomes a UsageError; Graphviz missing or failing, a ToolError."""
    from scalargrad.viz import GraphvizNotFoundError, RenderError

    try:
        yield
    except (GraphvizNotFoundError, RenderError) as error:
        raise ToolError(str(error)) from None
    except ValueError as error:
        raise UsageError(str(error)) from None

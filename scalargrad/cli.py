"""The `scalargrad` command (also `python -m scalargrad`): a parser over `scalargrad.demo`
and `scalargrad.formula_graph`, which check every output path before any work.

    scalargrad demo                     train on moons, write pictures into scalargrad-out/
    scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3 --out graph.svg

Every error is one line on stderr, "scalargrad: error: ...", with the exit statuses below.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

from scalargrad import __version__
from scalargrad.formula import FUNCTIONS, parse
from scalargrad.optim import OPTIMIZERS

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
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
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
        parser.error(
            f"unrecognized arguments: {' '.join(unknown)}"
            if unknown
            else "choose a command: demo or graph"
        )
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
        description="Train a small MLP on a 2-D dataset (a progress bar shows loss and "
        "accuracy), then write into DIR: loss.png, decision_boundary.png, graph_before.png "
        "and graph_after.png (one sample's loss graph through the untrained model, before "
        "and after backward()) and model.json (the trained model); with --gif also "
        "backprop.gif (that backward() step by step). Files of those names already in DIR "
        "are overwritten; other files in DIR are left alone.",
        epilog="moons, xor and circles train MLP(2, [4, 4, 1]) with tanh and the hinge loss; "
        "spirals (3 classes) MLP(2, [8, 3]) with relu and cross-entropy. Each optimizer has "
        "a learning rate chosen for each dataset; --lr sets another.",
    )
    demo.add_argument("--dataset", choices=DATASETS, default="moons", help="default: moons")
    demo.add_argument(
        "--steps",
        type=_positive_int,
        default=100,
        metavar="N",
        help="training steps, each on all the data (default: 100)",
    )
    demo.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam", help="default: adam")
    demo.add_argument(
        "--lr", type=_positive_float, metavar="X", help="learning rate (default: by dataset)"
    )
    demo.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed for data and weights (default: 0)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("scalargrad-out"),
        metavar="DIR",
        help="folder to write into, made if missing (default: scalargrad-out)",
    )
    demo.add_argument("--no-progress", action="store_true", help="train without the progress bar")
    demo.add_argument("--gif", action="store_true", help="also write backprop.gif (slower)")
    demo.set_defaults(run=run_demo, parser=demo)

    graph = commands.add_parser(
        "graph",
        usage="%(prog)s [-h] [--set NAME=VALUE] [--out FILE] [--local-grads] [--rankdir DIR] "
        "[--gif] FORMULA",
        help="draw a formula's graph and its gradients",
        description="Draw the computation graph of FORMULA and print its value and the "
        "gradient of each variable. A .png shows the graph before and after backward(), side "
        "by side; a .svg or .pdf (for slides) shows it after backward(). A formula may use "
        "numbers, variables, + - * / **, parentheses, and the functions "
        f"{', '.join(FUNCTIONS)}. It is read with Python's ast module against that list and "
        "never run as code. A graph too big to read is refused, with its size.",
        epilog='Example: scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set '
        "b=0.3. A formula that starts with '-' can be typed as it is (scalargrad graph '-x*2' "
        "--set x=1); if it is taken for an option (such as '-h'), put it after '--': "
        "scalargrad graph --set x=1 -- '-x*2'.",
    )
    # nargs="?": a missing FORMULA is reported by _parse, which first looks for one
    # that argparse took for an option.
    graph.add_argument("formula", nargs="?", metavar="FORMULA", help='such as "tanh(x*w + b)"')
    graph.add_argument(
        "--set",
        dest="values",
        action="append",
        type=_assignment,
        default=[],
        metavar="NAME=VALUE",
        help="the value of a variable; give one --set for each variable the formula uses",
    )
    graph.add_argument(
        "--out",
        type=Path,
        default=Path("graph.png"),
        metavar="FILE",
        help="the picture, .png .svg or .pdf, overwriting any file there (default: graph.png)",
    )
    graph.add_argument("--local-grads", action="store_true", help="write d(out)/d(in) on each edge")
    graph.add_argument(
        "--rankdir",
        type=str.upper,
        default="LR",
        metavar="DIR",
        help="the arrows' direction: LR (left to right, the default), TB (top down), RL, BT",
    )
    graph.add_argument(
        "--gif",
        action="store_true",
        help="also write backward() step by step, FILE.gif beside FILE (overwriting any file)",
    )
    graph.set_defaults(run=run_graph, parser=graph)
    return parser


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _positive_float(text: str) -> float:
    if _finite_float(text) <= 0.0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return float(text)


def _finite_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return number


def _assignment(text: str) -> tuple[str, float]:
    """'x=0.5' -> ('x', 0.5), the name as Python reads it in a formula (NFKC)."""
    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, as in --set x=0.5")
    name = unicodedata.normalize("NFKC", name.strip())
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{name!r} is not a variable name, as in --set x=0.5")
    if name in FUNCTIONS:
        raise argparse.ArgumentTypeError(f"{name} is a function, so it cannot be a variable")
    try:
        return name, _finite_float(value.strip())
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"the value of {name}: {error}") from None


# formula_graph, demo and viz are imported where a command needs them, not at the top:
# viz loads matplotlib and Graphviz's bindings, which --help, --version and a mistyped
# argument do without (and answer several times sooner for it).


def run_graph(args: argparse.Namespace) -> int:
    """`scalargrad graph`: draw the formula into --out; print its value and gradients."""
    from scalargrad.formula_graph import draw_formula

    values: dict[str, float] = {}
    for name, value in args.values:
        if name in values:
            raise UsageError(f"{name} is set twice (--set {name}=...); set it once")
        values[name] = value
    try:
        missing = [name for name in parse(args.formula).variables if name not in values]
        if missing:
            settings = " ".join(f"--set {name}=VALUE" for name in missing)
            raise UsageError(f"the formula uses {', '.join(missing)}; give a value with {settings}")
        with _graphviz_errors():
            drawn = draw_formula(
                args.formula,
                values,
                args.out,
                gif=args.gif,
                local_grads=args.local_grads,
                rankdir=args.rankdir,
            )
    except ValueError as error:  # the formula, a value, a path, the graph's size
        raise UsageError(str(error)) from None
    print(f"{drawn.formula.text} = {drawn.value:.6g}")
    for name in drawn.formula.variables:
        print(f"  d/d{name} = {drawn.gradients[name]:.6g}")
    picture, *animation = drawn.written
    shown = (
        "before and after backward()" if picture.suffix.lower() == ".png" else "after backward()"
    )
    written = [f"{picture} ({shown})", *(f"{path} (backward() step by step)" for path in animation)]
    print(f"wrote {', '.join(written)}")
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    """`scalargrad demo`: train, then write the pictures, the model and a summary."""
    from scalargrad import demo

    try:
        with _graphviz_errors():
            summary = demo.run(
                args.dataset,
                args.out,
                optimizer=args.optimizer,
                lr=args.lr,
                steps=args.steps,
                seed=args.seed,
                progress=not args.no_progress,
                gif=args.gif,
            )
    except ValueError as error:  # an output path, or training diverged
        raise UsageError(str(error)) from None
    print(summary.report())
    return EXIT_OK


@contextmanager
def _graphviz_errors() -> Iterator[None]:
    """Graphviz missing or failing becomes a ToolError (one line, exit status 1)."""
    from scalargrad.viz import GraphvizNotFoundError, RenderError

    try:
        yield
    except (GraphvizNotFoundError, RenderError) as error:
        raise ToolError(str(error)) from None

"""The `scalargrad` command: `scalargrad demo` and `scalargrad graph` (also `python -m scalargrad`).

    scalargrad demo                     train on moons, write pictures into scalargrad-out/
    scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3 --out graph.png

A parser over `scalargrad.demo` and `scalargrad.formula`. Every error is one line on
stderr, "scalargrad: error: ...", with exit status 2 for bad arguments, formulas,
domain errors and output paths that cannot be written (1 when Graphviz is missing or
fails, 130 on Ctrl-C, 143 on SIGTERM). Every output path is checked before any work;
files are written at the end, each through `scalargrad.safe_write`.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

from scalargrad import __version__
from scalargrad.engine import topological_order
from scalargrad.formula import FUNCTIONS, FormulaError, evaluate, parse
from scalargrad.optim import OPTIMIZERS
from scalargrad.safe_write import UnwritablePathError, checked_target, write_bytes

EXIT_OK = 0
EXIT_ERROR = 1  # Graphviz missing or failing: nothing the arguments could fix
EXIT_USAGE = 2  # bad arguments, formulas, domain errors, unusable output paths
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # kill: 128 + SIGTERM

# The demo's datasets, named here so that --help does not load the demo (and matplotlib).
DATASETS = ("moons", "xor", "circles", "spirals")
# A bigger graph is slow to lay out and too big to read (as viz's max_nodes says).
FORMULA_MAX_NODES = 300
FORMULA_GIF_MAX_NODES = 100
# Put where argparse says FORMULA is missing, since the likely cause is a formula that
# starts with '-' and so was taken for an option.
FORMULA_AFTER_DASHES = (
    "a formula that starts with '-' goes after '--', as in scalargrad graph --set x=1 -- '-x*2'"
)


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
    except (UsageError, UnwritablePathError) as error:
        _print_error(error)
        return EXIT_USAGE
    except ToolError as error:
        _print_error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        # Whatever was under way has been cleaned up on the way here: nothing is written.
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _print_error("terminated")
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, on_sigterm)


def _print_error(error: Exception | str) -> None:
    message = " ".join(str(error).split())  # one line, whatever the message held
    print(f"scalargrad: error: {message}", file=sys.stderr)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed arguments; a usage error (exit status 2) from the command's own parser.

    argparse takes a token such as "-x*2" for an unknown option and sets it aside; for
    `graph` without a FORMULA, a lone such token (one dash, not a known option) is the
    formula, so a formula can start with '-' as a learner types it.
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
        elif unknown:
            command.error(f"the following arguments are required: FORMULA; {FORMULA_AFTER_DASHES}")
        else:
            command.error("the following arguments are required: FORMULA")
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


# ---- arguments --------------------------------------------------------------------------


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
        description=(
            "Train a small MLP on a 2-D dataset (a progress bar shows loss and accuracy), "
            "then write into DIR: loss.png, decision_boundary.png, graph_before.png and "
            "graph_after.png (one sample's loss graph through the untrained model, before "
            "and after backward()), backprop.gif (that backward() step by step) and "
            "model.json (the trained model). Files of those names already in DIR are "
            "overwritten; other files in DIR are left alone."
        ),
        epilog=(
            "Models: moons, xor and circles train MLP(2, [4, 4, 1]) with tanh and the hinge "
            "loss; spirals (3 classes) trains MLP(2, [8, 3]) with relu and cross-entropy. "
            "Each optimizer has a learning rate chosen for each dataset; --lr sets another."
        ),
    )
    demo.add_argument("--dataset", choices=DATASETS, default="moons", help="default: moons")
    demo.add_argument(
        "--steps",
        type=_positive_int,
        default=100,
        metavar="N",
        help="training steps, each on the whole dataset (default: 100)",
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
        help=(
            "directory to write into, made if missing; the demo's files in it are "
            "overwritten (default: scalargrad-out)"
        ),
    )
    demo.add_argument("--no-progress", action="store_true", help="train without the progress bar")
    demo.set_defaults(run=run_demo, parser=demo)

    graph = commands.add_parser(
        "graph",
        usage="%(prog)s [-h] [--set NAME=VALUE] [--out FILE.png] [--gif] FORMULA",
        help="draw a formula's graph before and after backward()",
        description=(
            "Draw the computation graph of FORMULA, before backward() and after it, in one "
            "PNG; print its value and the gradient of each variable. A formula may use "
            "numbers, variables, + - * / **, parentheses, and the functions "
            f"{', '.join(FUNCTIONS)}. It is read with Python's ast module against that "
            f"list and never run as code. A picture shows at most {FORMULA_MAX_NODES} "
            f"nodes, an animation (--gif) at most {FORMULA_GIF_MAX_NODES}."
        ),
        epilog=(
            'Example: scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3. '
            "A formula that starts with '-' can be typed as it is (scalargrad graph '-x*2' "
            "--set x=1); if it is taken for an option (such as '-h'), put it after '--': "
            "scalargrad graph --set x=1 -- '-x*2'."
        ),
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
        metavar="FILE.png",
        help="where to write the picture, overwriting any file there (default: graph.png)",
    )
    graph.add_argument(
        "--gif",
        action="store_true",
        help=(
            "also write backward() step by step as an animation, FILE.gif beside FILE.png "
            "(overwriting any file there)"
        ),
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
    number = _finite_float(text)
    if number <= 0.0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return number


def _finite_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return number


def _assignment(text: str) -> tuple[str, float]:
    """'x=0.5' -> ('x', 0.5), the name as Python reads it in a formula."""
    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, as in --set x=0.5")
    # Python reads identifiers in NFKC form, so a formula's names are too.
    name = unicodedata.normalize("NFKC", name.strip())
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{name!r} is not a variable name, as in --set x=0.5")
    if name in FUNCTIONS:
        raise argparse.ArgumentTypeError(f"{name} is a function, so it cannot be a variable")
    try:
        return name, _finite_float(value.strip())
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"the value of {name}: {error}") from None


# ---- scalargrad graph -------------------------------------------------------------------


def run_graph(args: argparse.Namespace) -> int:
    """`scalargrad graph`: the formula's graph before and after backward(), as a PNG."""
    out: Path = args.out
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out names the picture to write and must end in .png, got {out}")
    gif = out.with_suffix(".gif")
    targets = [checked_target(path, "graph") for path in ([out, gif] if args.gif else [out])]
    values: dict[str, float] = {}
    for name, value in args.values:
        if name in values:
            raise UsageError(f"{name} is set twice (--set {name}=...); set it once")
        values[name] = value
    try:
        formula = parse(args.formula)
        missing = [name for name in formula.variables if name not in values]
        if missing:
            settings = " ".join(f"--set {name}=VALUE" for name in missing)
            raise UsageError(f"the formula uses {', '.join(missing)}; give a value with {settings}")
        root = evaluate(formula, values)
    except FormulaError as error:
        raise UsageError(str(error)) from None

    order = topological_order(root)
    if len(order) > FORMULA_MAX_NODES:
        raise UsageError(
            f"the formula's graph has {len(order)} nodes; a picture shows at most "
            f"{FORMULA_MAX_NODES}, so shorten the formula"
        )
    if args.gif and len(order) > FORMULA_GIF_MAX_NODES:
        raise UsageError(
            f"the formula's graph has {len(order)} nodes; --gif animates at most "
            f"{FORMULA_GIF_MAX_NODES} (one frame per node), so leave out --gif or shorten it"
        )
    root.backward()
    variables = {node.label: node for node in order if node.label in values}
    bad = [name for name in formula.variables if not math.isfinite(variables[name].grad)]
    if bad:
        raise UsageError(f"the gradient of {', '.join(bad)} is not a finite number")

    # Here, not at the top: viz loads Graphviz's bindings, which --help does without.
    from scalargrad.viz import before_after, save_animation

    with _graphviz_errors():
        drawn = before_after(root, local_grads=True, max_nodes=FORMULA_MAX_NODES)
        pictures = [drawn.combined_png()]
        if args.gif:
            with tempfile.TemporaryDirectory(prefix=".scalargrad-") as folder:
                animation = Path(folder) / gif.name
                save_animation(root, animation, max_nodes=FORMULA_GIF_MAX_NODES, local_grads=True)
                pictures.append(animation.read_bytes())
    for target, picture in zip(targets, pictures):
        write_bytes(target, picture, "graph")

    print(f"{formula.text} = {root.data:.6g}")
    for name in formula.variables:
        print(f"  d/d{name} = {variables[name].grad:.6g}")
    written = [f"{out} (before and after backward())"]
    if args.gif:
        written.append(f"{gif} (backward() step by step)")
    print("wrote " + ", ".join(written))
    return EXIT_OK


# ---- scalargrad demo --------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """`scalargrad demo`: train, then write the pictures, the model and a summary."""
    # Here, not at the top: the demo loads matplotlib and Pillow, which --help and
    # `scalargrad graph` do without.
    from scalargrad import demo

    out: Path = args.out
    recipe = demo.RECIPES[args.dataset]
    started = time.perf_counter()
    try:
        with _graphviz_errors():
            summary = demo.run(
                args.dataset,
                out,
                optimizer=args.optimizer,
                lr=args.lr,
                steps=args.steps,
                seed=args.seed,
                progress=not args.no_progress,
            )
    except demo.TrainingDiverged as error:
        raise UsageError(str(error)) from None
    seconds = time.perf_counter() - started
    history = summary.history
    print(
        f"{recipe.dataset} ({len(recipe.data(args.seed)[0])} points), {recipe.model_name()}, "
        f"{recipe.loss} loss, {args.optimizer} (lr {summary.lr:g}), {args.steps} steps"
    )
    # The numbers the progress bar ended on: the last step's, measured on all points.
    print(
        f"last step: loss={history.loss[-1]:.4f}, accuracy={history.accuracy[-1]:.1%}, "
        f"{seconds:.1f} s"
    )
    print(
        f"pictured: sample {summary.sample} (class {summary.sample_class}), its loss through "
        "the untrained model and the gradients of that one loss"
    )
    print(f"wrote {out}{os.sep}: {', '.join(path.name for path in summary.written)}")
    return EXIT_OK


@contextmanager
def _graphviz_errors() -> Iterator[None]:
    """Graphviz missing or failing becomes a ToolError (one line, exit status 1)."""
    from scalargrad.viz import GraphvizNotFoundError, RenderError

    try:
        yield
    except (GraphvizNotFoundError, RenderError) as error:
        raise ToolError(str(error)) from None

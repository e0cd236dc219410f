"""The `scalargrad` command: `scalargrad demo` and `scalargrad graph` (also `python -m scalargrad`).

    scalargrad demo                     train on moons, write pictures into scalargrad-out/
    scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3 --out graph.png

Every error is one line on stderr, "scalargrad: error: ...", with exit status 2 for
bad arguments, formulas and domain errors (1 when Graphviz is missing or fails).
Everything is checked and computed before the first file is written, and files are
written beside their destination and moved into place last, so a failure writes nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scalargrad import __version__
from scalargrad.formula import FUNCTIONS, FormulaError, evaluate, parse

EXIT_OK = 0
EXIT_ERROR = 1  # Graphviz missing or failing: nothing the arguments could fix
EXIT_USAGE = 2  # bad arguments, formulas, domain errors

DATASETS = ("moons", "xor", "circles", "spirals")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
# Learning rates that train every dataset's model well in 100 steps (measured, seeds 0-2).
DEFAULT_LR = {"sgd": 0.5, "momentum": 0.05, "adam": 0.05, "rmsprop": 0.02}
MOMENTUM = 0.9
DEMO_FILES = (
    "loss.png",
    "decision_boundary.png",
    "graph_before.png",
    "graph_after.png",
    "backprop.gif",
    "model.json",
)
# Each backprop.gif frame is a full Graphviz render; 72 dpi keeps it quick and readable.
GIF_DPI = 72
GIF_SECONDS_PER_FRAME = 0.7
FORMULA_GIF_MAX_NODES = 100


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class ToolError(Exception):
    """A failure the arguments cannot fix (Graphviz missing): one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one-line form every scalargrad error has."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line with a pointer to --help, and exit with status 2."""
        print(f"scalargrad: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `scalargrad` command with `argv` (default: sys.argv[1:]); the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: demo or graph")
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UsageError as error:
        _print_error(error)
        return EXIT_USAGE
    except ToolError as error:
        _print_error(error)
        return EXIT_ERROR


def _print_error(error: Exception) -> None:
    message = " ".join(str(error).split())  # one line, whatever the message held
    print(f"scalargrad: error: {message}", file=sys.stderr)


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
            "graph_after.png (one sample's loss graph before and after backward()), "
            "backprop.gif (backward() step by step) and model.json (the trained model)."
        ),
        epilog=(
            "Models: moons, xor and circles train MLP(2, [4, 4, 1]) with tanh and the hinge "
            "loss; spirals (3 classes) trains MLP(2, [8, 3]) with relu and cross-entropy. "
            "Default learning rates: "
            + ", ".join(f"{name} {lr:g}" for name, lr in DEFAULT_LR.items())
            + f" (momentum is SGD with momentum {MOMENTUM:g})."
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
    demo.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default: adam")
    demo.add_argument(
        "--lr", type=_positive_float, metavar="X", help="learning rate (default: by optimizer)"
    )
    demo.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed for data and weights (default: 0)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("scalargrad-out"),
        metavar="DIR",
        help="directory to write into, made if missing (default: scalargrad-out)",
    )
    demo.add_argument("--no-progress", action="store_true", help="train without the progress bar")
    demo.set_defaults(run=run_demo)

    graph = commands.add_parser(
        "graph",
        help="draw a formula's graph before and after backward()",
        description=(
            "Draw the computation graph of FORMULA, before backward() and after it, in one "
            "PNG; print its value and the gradient of each variable. A formula may use "
            "numbers, variables, + - * / **, parentheses, and the functions "
            f"{', '.join(FUNCTIONS)}. It is read with Python's ast module against that "
            "list and never run as code."
        ),
        epilog='Example: scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3',
    )
    graph.add_argument("formula", metavar="FORMULA", help='such as "tanh(x*w + b)"')
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
        help="where to write the picture (default: graph.png)",
    )
    graph.add_argument(
        "--gif",
        action="store_true",
        help="also write backward() step by step as an animation, FILE.gif beside FILE.png",
    )
    graph.set_defaults(run=run_graph)
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
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; name a .png file")
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

    from scalargrad.engine import topological_order
    from scalargrad.viz import before_after, gradients

    grads = gradients(root)
    bad = [leaf.label for leaf in grads if leaf.label in values and not math.isfinite(grads[leaf])]
    if bad:
        raise UsageError(f"the gradient of {', '.join(bad)} is not a finite number")
    node_count = len(topological_order(root))
    gif = out.with_suffix(".gif")
    if args.gif and node_count > FORMULA_GIF_MAX_NODES:
        raise UsageError(
            f"the formula's graph has {node_count} nodes; --gif animates at most "
            f"{FORMULA_GIF_MAX_NODES} (one frame per node), so leave out --gif or shorten it"
        )

    with _graphviz_errors():
        picture = before_after(root, local_grads=True).combined_png()
        with _staging(out.parent) as staging:
            (staging / out.name).write_bytes(picture)
            if args.gif:
                from scalargrad.viz import save_animation

                save_animation(
                    root, staging / gif.name, max_nodes=FORMULA_GIF_MAX_NODES, local_grads=True
                )
            _move_into(staging, out.parent)

    print(f"{formula.text} = {root.data:.6g}")
    leaves = {leaf.label: leaf for leaf in grads if leaf.label in values and not leaf.parents}
    for name in formula.variables:
        print(f"  d/d{name} = {grads[leaves[name]]:.6g}")
    written = [f"{out} (before and after backward())"]
    if args.gif:
        written.append(f"{gif} (backward() step by step)")
    print("wrote " + ", ".join(written))
    return EXIT_OK


# ---- scalargrad demo --------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How the demo trains on one dataset: the data, the model and the loss."""

    dataset: str
    hidden: tuple[int, ...]
    activation: str
    classes: int
    loss: str

    def model_name(self) -> str:
        """'MLP(2, [4, 4, 1]) with tanh'."""
        widths = ", ".join(str(n) for n in (*self.hidden, self.outputs))
        return f"MLP(2, [{widths}]) with {self.activation}"

    @property
    def outputs(self) -> int:
        """One score for two classes, one logit per class otherwise."""
        return 1 if self.classes == 2 else self.classes


# Small enough that one sample's loss graph (about 60 nodes) can be read in a picture and
# animated in a few seconds, big enough to learn each dataset in 100 steps.
RECIPES = {
    "moons": Recipe("moons", (4, 4), "tanh", 2, "hinge"),
    "xor": Recipe("xor", (4, 4), "tanh", 2, "hinge"),
    "circles": Recipe("circles", (4, 4), "tanh", 2, "hinge"),
    "spirals": Recipe("spirals", (8,), "relu", 3, "cross_entropy"),
}


def run_demo(args: argparse.Namespace) -> int:
    """`scalargrad demo`: train, then write the pictures, the model and a summary."""
    started = time.perf_counter()
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    recipe = RECIPES[args.dataset]
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr

    from scalargrad import data
    from scalargrad.nn import MLP
    from scalargrad.train import LOSSES
    from scalargrad.viz import before_after, plot_decision_boundary, plot_loss, save_animation

    X, y = _dataset(recipe.dataset, args.seed, data)
    model = MLP(2, [*recipe.hidden, recipe.outputs], recipe.activation, seed=args.seed)
    loss_function = LOSSES[recipe.loss]

    # The pictured graph is drawn before training changes the weights in place: one
    # sample's loss through the untrained model, which is the first step's backward().
    sample = _worst_sample(model, X, y, loss_function)
    sample_loss = _sample_loss(model, X[sample], y[sample], loss_function)
    pictures = before_after(sample_loss)

    with _graphviz_errors(), _staging(out) as staging, ThreadPoolExecutor(2) as pool:
        # Graphviz runs in other processes, so the pictures render while Python trains.
        rendered = [pool.submit(graph.pipe, "png") for graph in pictures]
        animation = pool.submit(
            save_animation,
            sample_loss,
            staging / "backprop.gif",
            seconds_per_frame=GIF_SECONDS_PER_FRAME,
            op_steps_only=True,
            dpi=GIF_DPI,
        )
        try:
            history, final_accuracy = _train(args, model, X, y, loss_function, lr, staging)
            plot_loss(history, path=staging / "loss.png")
            plot_decision_boundary(
                model, X, y, resolution=60, path=staging / "decision_boundary.png"
            )
            before, after = (future.result() for future in rendered)
            animation.result()
        except BaseException:
            animation.cancel()
            for future in rendered:
                future.cancel()
            raise
        (staging / "graph_before.png").write_bytes(before)
        (staging / "graph_after.png").write_bytes(after)
        _move_into(staging, out)

    seconds = time.perf_counter() - started
    print(
        f"{recipe.dataset} ({len(X)} points), {recipe.model_name()}, {recipe.loss} loss, "
        f"{args.optimizer} (lr {lr:g}), {args.steps} steps"
    )
    print(f"final loss {history.loss[-1]:.4g}, accuracy {final_accuracy:.1%}, {seconds:.1f} s")
    print(
        f"pictured: sample {sample} (class {y[sample]}), its loss through the untrained model, "
        f"with the gradients of the first step"
    )
    print(f"wrote {out}{os.sep}: {', '.join(DEMO_FILES)}")
    return EXIT_OK


def _train(
    args: argparse.Namespace,
    model: Any,
    X: list[list[float]],
    y: list[int],
    loss_function: Any,
    lr: float,
    staging: Path,
) -> tuple[Any, float]:
    """Train `model` as the arguments say, save it into `staging`; the History and accuracy."""
    from scalargrad import modelfile
    from scalargrad.optim import SGD, Adam, RMSprop
    from scalargrad.train import accuracy, fit

    optimizer: Any
    if args.optimizer == "momentum":
        optimizer = SGD(model.parameters(), lr, momentum=MOMENTUM)
    else:
        optimizer_class = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}[args.optimizer]
        optimizer = optimizer_class(model.parameters(), lr=lr)
    try:
        history = fit(
            model,
            X,
            y,
            loss=loss_function,
            optimizer=optimizer,
            epochs=args.steps,
            progress=not args.no_progress,
        )
        if not all(math.isfinite(loss) for loss in history.loss):
            raise ValueError(f"the loss became {history.loss[-1]}")
        final_accuracy = accuracy(model, X, y)
        modelfile.save(model, staging / "model.json")
    except (ArithmeticError, ValueError) as error:
        raise UsageError(f"training diverged: {error}; try a smaller --lr") from None
    return history, final_accuracy


def _dataset(name: str, seed: int, data: Any) -> tuple[list[list[float]], list[int]]:
    if name == "xor":
        X, y = data.xor()
    else:
        X, y = getattr(data, name)(n=100, seed=seed)
    return X, y


def _worst_sample(model: Any, X: list[list[float]], y: list[int], loss_function: Any) -> int:
    """The sample the model gets most wrong: its loss graph has gradients worth seeing
    (a sample already classified with margin to spare has zero hinge gradients)."""
    from scalargrad.engine import no_grad

    with no_grad():
        losses = [loss_function([model(x)], [target]).data for x, target in zip(X, y)]
    return max(range(len(losses)), key=losses.__getitem__)


def _sample_loss(model: Any, x: list[float], target: int, loss_function: Any) -> Any:
    """One sample's loss as a graph, with its inputs, score and loss labelled."""
    from scalargrad.engine import Value

    inputs = [Value(v, label=f"x{i}") for i, v in enumerate(x)]
    output = model(inputs)
    for i, score in enumerate(output if isinstance(output, list) else [output]):
        score.label = "score" if not isinstance(output, list) else f"logit{i}"
    loss = loss_function([output], [target])
    loss.label = f"loss (class {target})"
    return loss


# ---- writing all or nothing -------------------------------------------------------------


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A fresh directory to write into, removed afterwards with whatever is left in it.

    It is made in the nearest existing ancestor of `target`, so the files move into
    place by renaming at the end, and nothing is left behind if anything fails.
    """
    ancestor = target.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    try:
        path = Path(tempfile.mkdtemp(prefix=".scalargrad-", dir=ancestor))
    except OSError as error:
        raise UsageError(f"cannot write to {target}: {error.strerror or error}") from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _move_into(staging: Path, target: Path) -> None:
    """Move every file in `staging` into `target`, which is made if missing."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        names = sorted(entry.name for entry in staging.iterdir())
        for name in names:
            os.replace(staging / name, target / name)
    except OSError as error:
        raise UsageError(f"cannot write to {target}: {error.strerror or error}") from None


@contextmanager
def _graphviz_errors() -> Iterator[None]:
    """Graphviz missing or failing becomes a ToolError (one line, exit status 1)."""
    from scalargrad.viz import GraphvizNotFoundError, RenderError

    try:
        yield
    except (GraphvizNotFoundError, RenderError) as error:
        raise ToolError(str(error)) from None

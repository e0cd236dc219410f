"""The `scalargrad` command: `scalargrad demo` and `scalargrad graph` (also `python -m scalargrad`).

    scalargrad demo                     train on moons, write pictures into scalargrad-out/
    scalargrad graph "tanh(x*w + b)" --set x=0.5 --set w=-1.2 --set b=0.3 --out graph.png

Every error is one line on stderr, "scalargrad: error: ...", with exit status 2 for
bad arguments, formulas and domain errors (1 when Graphviz is missing or fails, 130
when interrupted with Ctrl-C). Everything is checked and computed before the first file
is written, and files are written beside their destination and moved into place last,
once every destination is known to take them, so a failure writes nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
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
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it

DATASETS = ("moons", "xor", "circles", "spirals")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
# The learning rate for each dataset and optimizer. Measured over seeds 0-2 with the
# default 100 steps, the lowest accuracy each reaches: adam 98% or more on every dataset,
# rmsprop 93% (spirals) or more, momentum 99% or more except spirals (78%), sgd 100% on
# xor and circles but 91% on moons and 72% on spirals: plain gradient descent needs
# more steps there, whatever its rate (0.1 to 2 were tried).
DEFAULT_LR = {
    "moons": {"sgd": 1.0, "momentum": 0.1, "adam": 0.1, "rmsprop": 0.05},
    "xor": {"sgd": 1.0, "momentum": 0.1, "adam": 0.1, "rmsprop": 0.05},
    "circles": {"sgd": 1.0, "momentum": 0.1, "adam": 0.1, "rmsprop": 0.05},
    "spirals": {"sgd": 1.0, "momentum": 0.4, "adam": 0.1, "rmsprop": 0.02},
}
MOMENTUM = 0.9
DEMO_FILES = (
    "loss.png",
    "decision_boundary.png",
    "graph_before.png",
    "graph_after.png",
    "backprop.gif",
    "model.json",
)
# Each backprop.gif frame is a full Graphviz render, and the GIF's cost grows with its
# pixels. 72 dpi keeps the 60-node graphs of moons, xor and circles quick and readable;
# a bigger graph gets proportionally fewer dots per inch (spirals' 84 nodes: 51 dpi).
GIF_DPI = 72
GIF_NODES_AT_FULL_DPI = 60
GIF_SECONDS_PER_FRAME = 0.7
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


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one-line form every scalargrad error has."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line with a pointer to --help, and exit with status 2."""
        print(f"scalargrad: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `scalargrad` command with `argv` (default: sys.argv[1:]); the exit status."""
    try:
        args = _parse(_parser(), argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except UsageError as error:
        _print_error(error)
        return EXIT_USAGE
    except ToolError as error:
        _print_error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        # Whatever was under way has been cleaned up on the way here: nothing is written.
        _print_error("interrupted")
        return EXIT_INTERRUPTED


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
            "Default learning rates: "
            + "; ".join(
                f"{dataset} " + ", ".join(f"{optimizer} {lr:g}" for optimizer, lr in rates.items())
                for dataset, rates in DEFAULT_LR.items()
            )
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
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; name a .png file")
    gif = out.with_suffix(".gif")
    if args.gif:
        _check_targets(out.parent, [gif.name])
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

    from scalargrad.engine import gradients, topological_order
    from scalargrad.viz import before_after

    grads = gradients(root)
    bad = [leaf.label for leaf in grads if leaf.label in values and not math.isfinite(grads[leaf])]
    if bad:
        raise UsageError(f"the gradient of {', '.join(bad)} is not a finite number")
    node_count = len(topological_order(root))
    if node_count > FORMULA_MAX_NODES:
        raise UsageError(
            f"the formula's graph has {node_count} nodes; a picture shows at most "
            f"{FORMULA_MAX_NODES}, so shorten the formula"
        )
    if args.gif and node_count > FORMULA_GIF_MAX_NODES:
        raise UsageError(
            f"the formula's graph has {node_count} nodes; --gif animates at most "
            f"{FORMULA_GIF_MAX_NODES} (one frame per node), so leave out --gif or shorten it"
        )

    with _graphviz_errors():
        picture = before_after(root, local_grads=True, max_nodes=FORMULA_MAX_NODES).combined_png()
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
    _check_targets(out, DEMO_FILES)
    recipe = RECIPES[args.dataset]
    lr = DEFAULT_LR[args.dataset][args.optimizer] if args.lr is None else args.lr

    from scalargrad import modelfile
    from scalargrad.engine import topological_order
    from scalargrad.train import LOSSES
    from scalargrad.viz import before_after, plot_decision_boundary, plot_loss, save_animation

    X, y, model = demo_setup(args.dataset, args.seed)
    loss_function = LOSSES[recipe.loss]

    # The pictured graph is one sample's loss through the untrained model, drawn before
    # training changes the weights in place. (The first step's backward() is through the
    # mean loss over all samples, which holds this sample's loss as one of its terms.)
    sample = _worst_sample(model, X, y, loss_function)
    sample_loss = _sample_loss(model, X[sample], y[sample], loss_function)
    pictures = before_after(sample_loss)
    node_count = len(topological_order(sample_loss))
    gif_dpi = GIF_DPI * min(1.0, GIF_NODES_AT_FULL_DPI / node_count)

    with _graphviz_errors(), _staging(out) as staging:
        # Graphviz runs in other processes, so the pictures render while Python trains.
        pool = ThreadPoolExecutor(2)
        cancel = threading.Event()
        try:
            rendered = [pool.submit(graph.pipe, "png") for graph in pictures]
            animation = pool.submit(
                save_animation,
                sample_loss,
                staging / "backprop.gif",
                seconds_per_frame=GIF_SECONDS_PER_FRAME,
                op_steps_only=True,
                dpi=gif_dpi,
                cancel=cancel,
            )
            trained = train(
                model,
                X,
                y,
                dataset=args.dataset,
                optimizer=args.optimizer,
                lr=lr,
                steps=args.steps,
                progress=not args.no_progress,
            )
            modelfile.save(model, staging / "model.json")
            plot_loss(trained.history, path=staging / "loss.png")
            plot_decision_boundary(
                model, X, y, resolution=60, path=staging / "decision_boundary.png"
            )
            before, after = (future.result() for future in rendered)
            animation.result()
        except BaseException:
            # On an error or Ctrl-C the animation skips the frames it has not started, so
            # this waits only for the renders under way. (Not waiting would gain nothing:
            # Python waits for the pool's threads at exit, after the staging is removed.)
            cancel.set()
            pool.shutdown(cancel_futures=True)
            raise
        pool.shutdown()
        (staging / "graph_before.png").write_bytes(before)
        (staging / "graph_after.png").write_bytes(after)
        _move_into(staging, out)

    seconds = time.perf_counter() - started
    print(
        f"{recipe.dataset} ({len(X)} points), {recipe.model_name()}, {recipe.loss} loss, "
        f"{args.optimizer} (lr {lr:g}), {args.steps} steps"
    )
    print(
        f"trained model: loss {trained.loss:.4g}, accuracy {trained.accuracy:.1%} "
        f"(on all {len(X)} points), {seconds:.1f} s"
    )
    print(
        f"pictured: sample {sample} (class {y[sample]}), its loss through the untrained "
        "model and the gradients of that one loss"
    )
    print(f"wrote {out}{os.sep}: {', '.join(DEMO_FILES)}")
    return EXIT_OK


@dataclass(frozen=True)
class Trained:
    """What training gave: the History, and the trained model's loss and accuracy."""

    history: Any
    # Both measured on all samples with the trained weights (the History's last loss
    # is from before the last step).
    loss: float
    accuracy: float


def demo_setup(dataset: str, seed: int) -> tuple[list[list[float]], list[int], Any]:
    """The demo's samples, targets and untrained model for `dataset` and `seed`."""
    from scalargrad import data
    from scalargrad.nn import MLP

    recipe = RECIPES[dataset]
    X, y = _dataset(dataset, seed, data)
    model = MLP(2, [*recipe.hidden, recipe.outputs], recipe.activation, seed=seed)
    return X, y, model


def train(
    model: Any,
    X: list[list[float]],
    y: list[int],
    *,
    dataset: str,
    optimizer: str,
    lr: float | None = None,
    steps: int = 100,
    progress: bool = False,
) -> Trained:
    """Train `model` from demo_setup in place, as `scalargrad demo` does (lr None: the
    default for the dataset and optimizer); UsageError if the training diverges."""
    from scalargrad.engine import no_grad
    from scalargrad.optim import SGD, Adam, RMSprop
    from scalargrad.train import LOSSES, accuracy, fit

    loss_function = LOSSES[RECIPES[dataset].loss]
    rate = DEFAULT_LR[dataset][optimizer] if lr is None else lr
    chosen: Any
    if optimizer == "momentum":
        chosen = SGD(model.parameters(), rate, momentum=MOMENTUM)
    else:
        optimizer_class = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}[optimizer]
        chosen = optimizer_class(model.parameters(), lr=rate)
    try:
        history = fit(
            model, X, y, loss=loss_function, optimizer=chosen, epochs=steps, progress=progress
        )
        with no_grad():
            final_loss = loss_function([model(x) for x in X], y).data
        if not all(math.isfinite(loss) for loss in [*history.loss, final_loss]):
            raise ValueError(f"the loss became {final_loss}")
        final_accuracy = accuracy(model, X, y)
    except (ArithmeticError, ValueError) as error:
        raise UsageError(f"training diverged: {error}; try a smaller --lr") from None
    return Trained(history, final_loss, final_accuracy)


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
    """Move every file in `staging` into `target`, which is made if missing; all of
    their names are checked first, so either every file moves or none does."""
    names = sorted(entry.name for entry in staging.iterdir())
    _check_targets(target, names)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(staging / name, target / name)
    except OSError as error:
        raise UsageError(f"cannot write to {target}: {error.strerror or error}") from None


def _check_targets(directory: Path, names: Iterable[str]) -> None:
    """UsageError naming the first of `names` in `directory` that a file cannot replace:
    a directory or anything else that is not a file (a link is replaced, not followed)."""
    for name in names:
        path = directory / name
        try:
            mode = path.lstat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # nothing in the way (or no directory yet, which _staging reports)
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise UsageError(f"cannot write {path}: it is {what}; move it out of the way")


@contextmanager
def _graphviz_errors() -> Iterator[None]:
    """Graphviz missing or failing becomes a ToolError (one line, exit status 1)."""
    from scalargrad.viz import GraphvizNotFoundError, RenderError

    try:
        yield
    except (GraphvizNotFoundError, RenderError) as error:
        raise ToolError(str(error)) from None

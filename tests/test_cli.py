"""The `scalargrad` command end to end: exit statuses, files, output.

Most tests call `cli.main` in this process, as `python -m scalargrad` does; a
subprocess runs where a process is what is tested (the console script, signals).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import scalargrad
from scalargrad import cli, demo, modelfile
from scalargrad.cli import DATASETS
from scalargrad.data import moons
from scalargrad.demo import FILES as DEMO_FILES
from scalargrad.engine import topological_order
from scalargrad.formula import evaluate, parse
from scalargrad.formula_graph import GIF_MAX_NODES, MAX_NODES, draw_formula
from scalargrad.oplang import FLOAT_NAMESPACE
from scalargrad.optim import OPTIMIZERS
from scalargrad.train import accuracy
from scalargrad.viz.html import page_html

SCRIPT = Path(sys.executable).with_name("scalargrad")
# A `python -c` program that runs the command as `python -m scalargrad` does, with Ctrl-C
# raising KeyboardInterrupt even where the test runner's shell ignores SIGINT.
RUN_MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from scalargrad.cli import main; sys.exit(main(sys.argv[1:]))"
)


def scalargrad_command(
    *args: str, cwd: Path, env: dict[str, str] | None = None, program: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m scalargrad ARGS` in `cwd`, as a learner would from a shell (or
    `python -c PROGRAM ARGS`)."""
    command = ["-m", "scalargrad"] if program is None else ["-c", program]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


class Command:
    """`scalargrad ARGS` run through `cli.main` in this process, in a folder of its own,
    with what it printed captured: the same result a subprocess would give."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run `scalargrad ARGS` in `cwd` (default: the test's folder)."""
        self.monkeypatch.chdir(cwd or self.folder)
        self.capsys.readouterr()
        try:
            status = cli.main(list(args))
        except SystemExit as exit:  # --help and --version, as argparse ends them
            status = exit.code if isinstance(exit.code, int) else 1
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(["scalargrad", *args], status, out, err)


@pytest.fixture
def command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Command:
    """`command("graph", "x", ...)`: the scalargrad command, in tmp_path, in this process."""
    return Command(tmp_path, monkeypatch, capsys)


def assert_one_line_error(
    done: subprocess.CompletedProcess[str], pattern: str = "", status: int = 2
) -> None:
    """Exit status 2 (or `status`) and exactly one line on stderr, 'scalargrad: error: ...'."""
    assert done.returncode == status, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("scalargrad: error: "), lines[0]
    assert pattern in lines[0], lines[0]
    assert done.stdout == ""


def files_in(directory: Path) -> list[str]:
    """Every file and directory under `directory`, hidden ones included."""
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


# ---- scalargrad demo ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """`scalargrad demo` with its defaults, run once in a fresh directory."""
    workdir = tmp_path_factory.mktemp("demo")
    done = scalargrad_command("demo", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return workdir, done.stdout, done.stderr


@pytest.mark.slow
def test_the_default_demo_writes_its_files_into_scalargrad_out_and_no_gif(
    default_demo: tuple[Path, str, str],
) -> None:
    """With no options the demo writes exactly its files into ./scalargrad-out: no GIF."""
    workdir, _, _ = default_demo
    assert files_in(workdir) == [
        "scalargrad-out",
        *sorted(f"scalargrad-out/{n}" for n in DEMO_FILES),
    ]


@pytest.mark.slow
def test_the_demo_pictures_are_valid_pngs(default_demo: tuple[Path, str, str]) -> None:
    """The PNGs open as PNGs, none of them over 25 Mpx."""
    out = default_demo[0] / "scalargrad-out"
    for name in ("loss.png", "decision_boundary.png", "graph_before.png", "graph_after.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            assert image.width > 100 and image.height > 100
            assert image.width * image.height <= 25_000_000


@pytest.mark.slow
def test_the_demo_model_file_loads_and_classifies_the_moons_it_learned(
    default_demo: tuple[Path, str, str],
) -> None:
    """model.json loads with modelfile.load, and the model is the accurate one trained."""
    model = modelfile.load(default_demo[0] / "scalargrad-out" / "model.json")
    X, y = moons(n=100, seed=0)
    assert accuracy(model, X, y) >= 0.95


@pytest.mark.slow
def test_the_demo_prints_a_summary_of_loss_accuracy_time_and_files(
    default_demo: tuple[Path, str, str],
) -> None:
    """stdout names the run; the last step's loss and accuracy, the very numbers the
    progress bar ended on; the time; the pictured sample; and every file."""
    _, summary, progress = default_demo
    run, trained, pictured, wrote = summary.splitlines()
    assert run == (
        "moons (100 points), MLP(2, [4, 4, 1]) with tanh, hinge loss, adam (lr 0.1), 100 steps, "
        "compiled (NumPy, a matrix product per layer)"
    )
    numbers = re.fullmatch(
        r"last step: loss=(\S+), accuracy=([\d.]+)%, ([\d.]+) s",
        trained,
    )
    assert numbers is not None, trained
    loss, percent, seconds = numbers.groups()
    bar_ends = re.findall(r"accuracy=([\d.]+)%, loss=(\S+?)\]", progress)
    assert bar_ends[-1] == (percent, loss)
    assert 0.0 < float(seconds) < 300.0
    sample = re.fullmatch(
        r"pictured: sample (\d+) \(class ([01])\), its loss through the untrained model "
        r"and the gradients of that one loss; open backprop.html in a browser to step "
        r"through backward\(\)",
        pictured,
    )
    assert sample is not None, pictured
    assert 0 <= int(sample.group(1)) < 100
    assert wrote == f"wrote scalargrad-out{os.sep}: {', '.join(DEMO_FILES)}"


@pytest.mark.slow
def test_the_demo_shows_a_progress_bar_with_loss_and_accuracy(
    default_demo: tuple[Path, str, str],
) -> None:
    """The training progress bar goes to stderr, with the loss and the accuracy."""
    progress = default_demo[2]
    assert "loss=" in progress
    assert "accuracy=" in progress
    assert "100/100" in progress


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "optimizer"), [("xor", "momentum"), ("circles", "rmsprop"), ("spirals", "adamw")]
)
def test_the_demo_trains_every_dataset_with_any_optimizer(
    tmp_path: Path, command: Command, dataset: str, optimizer: str
) -> None:
    """Each dataset and optimizer runs through, writing all the files into --out."""
    done = command(
        "demo",
        "--dataset",
        dataset,
        "--optimizer",
        optimizer,
        "--steps",
        "5",
        "--seed",
        "3",
        "--no-progress",
        "--out",
        "results/run",
    )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path / "results" / "run")) == sorted(DEMO_FILES)
    assert sorted(os.listdir(tmp_path)) == ["results"]  # no staging directory left
    assert done.stdout.startswith(f"{dataset} ")
    assert f"{optimizer} (lr " in done.stdout
    assert "5 steps" in done.stdout


def test_the_demo_uses_the_learning_rate_it_is_given(tmp_path: Path) -> None:
    """--lr is the learning rate the optimizer uses: the saved model is the one training
    with that rate gives, not the one the recipe's rate gives."""
    summary = demo.run("xor", tmp_path, steps=2, lr=0.125, progress=False)
    assert summary.lr == 0.125
    saved = modelfile.load(tmp_path / "model.json").state_dict()
    recipe = demo.RECIPES["xor"]
    X, y = recipe.data(0)
    trained = {}
    for lr in (0.125, None):
        model = recipe.model(0)
        demo.train(recipe, model, X, y, optimizer="adam", lr=lr, steps=2)
        trained[lr] = model.state_dict()
    assert recipe.lr("adam") != 0.125
    assert saved == trained[0.125] != trained[None]


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_optimizer_learns_every_dataset_with_the_demos_rate(
    dataset: str, optimizer: str
) -> None:
    """With the demo's rate for its dataset and optimizer, 100 steps lower the loss and
    classify clearly better than chance (the rates were tuned on seeds 0-2)."""
    recipe = demo.RECIPES[dataset]
    X, y = recipe.data(0)
    model = recipe.model(0)
    history = demo.train(recipe, model, X, y, optimizer=optimizer)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, X, y) >= 0.7


def test_the_command_lines_datasets_are_the_demos_recipes() -> None:
    """--dataset offers exactly the datasets the demo has a recipe for."""
    assert list(DATASETS) == list(demo.RECIPES)


def test_the_demo_replaces_its_own_files_and_keeps_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running into a folder that holds other files overwrites only the demo's; without
    gif=True no animation is drawn."""

    def animate(*args: object) -> None:
        raise AssertionError("the animation was drawn without gif=True")

    monkeypatch.setattr(demo, "animate", animate)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "model.json").write_text("old")
    demo.run("xor", out, steps=2, progress=False)
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "model.json").read_text())["format"] == "scalargrad-model"
    assert sorted(os.listdir(out)) == sorted([*DEMO_FILES, "notes.txt"])


def test_the_demo_draws_its_animation_only_with_gif(
    command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --gif, backprop.gif joins the files and the list printed. (The animation is
    stubbed: this is about the option; without it, see the test above.)"""
    drawn = []

    def animate(loss: object, path: Path, cancel: object = None) -> Path:
        drawn.append(path.name)
        path.write_bytes(b"GIF89a")
        return path

    monkeypatch.setattr(demo, "animate", animate)
    done = command(
        "demo", "--dataset", "xor", "--steps", "1", "--no-progress", "--out", "animated", "--gif"
    )
    assert done.returncode == 0, done.stderr
    assert drawn == ["backprop.gif"]
    assert (Path("animated") / "backprop.gif").read_bytes() == b"GIF89a"
    assert done.stdout.splitlines()[-1].endswith("model.json, backprop.gif")


def test_the_demo_trains_compiled_unless_told_no_compile_and_its_help_says_so(
    command: Command,
) -> None:
    """Without options the demo trains compiled; --no-compile trains eagerly, and the
    summary says which; --help names the default."""
    for flags, how in (
        ([], "compiled (NumPy, a matrix product per layer)"),
        (["--no-compile"], "eager"),
    ):
        done = command("demo", "--dataset", "xor", "--steps", "3", "--no-progress", *flags)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].endswith(f"3 steps, {how}")
    demo_help = " ".join(command("demo", "--help").stdout.split())
    assert "--compile, --no-compile train compiled" in demo_help
    assert "(the default; --no-compile trains Value by Value" in demo_help


def test_the_command_line_stays_a_thin_parser() -> None:
    """cli.py is at most 250 lines: the work is in demo and formula_graph."""
    assert len(Path(cli.__file__).read_text().splitlines()) <= 250


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "argument --steps: must be at least 1"),
        (["--steps", "ten"], "argument --steps: 'ten' is not a whole number"),
        (["--lr", "-1"], "argument --lr: must be greater than 0"),
        (["--lr", "nan"], "argument --lr: must be a finite number"),
        (["--lr", "inf"], "argument --lr: must be a finite number"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
        (["--seed", "x"], "argument --seed"),
        (["--bogus"], "unrecognized arguments: --bogus (see scalargrad demo --help)"),
        (["--out", ""], "argument --out: is empty; give a file or folder name"),
    ],
)
def test_bad_demo_arguments_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, command: Command, args: list[str], message: str
) -> None:
    """A bad option is one line on stderr, exit status 2, and no file or directory."""
    done = command("demo", *args)
    assert_one_line_error(done, message)
    assert files_in(tmp_path) == []


def test_a_demo_out_that_is_a_file_is_refused_and_left_alone(
    tmp_path: Path, command: Command
) -> None:
    """--out naming an existing file is an error; the file is not touched."""
    (tmp_path / "taken").write_text("keep")
    done = command("demo", "--out", "taken")
    assert_one_line_error(done, "cannot write taken/loss.png: taken is a file, not a folder")
    assert files_in(tmp_path) == ["taken"]
    assert (tmp_path / "taken").read_text() == "keep"


def test_a_demo_out_below_a_file_is_refused_and_nothing_is_left_behind(
    tmp_path: Path, command: Command
) -> None:
    """--out inside a file (a directory that cannot be made) is refused, and leaves
    neither a half-written set of files nor a staging directory."""
    (tmp_path / "taken").write_text("keep")
    done = command(
        "demo",
        "--dataset",
        "xor",
        "--steps",
        "1",
        "--no-progress",
        "--out",
        "taken/out",
    )
    assert_one_line_error(done, "cannot write taken/out/loss.png: taken is a file, not a folder")
    assert files_in(tmp_path) == ["taken"]


def test_a_demo_is_refused_before_training_when_a_directory_is_where_a_file_goes(
    tmp_path: Path, command: Command
) -> None:
    """A directory named like one of the demo's files (out/loss.png) is named in the
    error, and no file is moved into --out."""
    (tmp_path / "out" / "loss.png").mkdir(parents=True)
    done = command("demo", "--dataset", "xor", "--steps", "1", "--no-progress", "--out", "out")
    assert_one_line_error(
        done, f"cannot write out{os.sep}loss.png: it is a folder; name a file, or move it out"
    )
    assert files_in(tmp_path) == ["out", "out/loss.png"]


def stop_a_demo_while_it_trains(tmp_path: Path, signum: int) -> subprocess.CompletedProcess[str]:
    """Start `scalargrad demo`, send `signum` once its temporary folder exists (training
    and rendering under way), and return how it ended. TMPDIR is tmp_path/tmp."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        # Eager, so that training lasts long enough to be interrupted.
        [sys.executable, "-c", RUN_MAIN, "demo", "--no-progress", "--no-compile", "--out", "out"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    deadline = time.monotonic() + 60
    while not list(temporary.glob(".scalargrad-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()
    time.sleep(0.3)  # training, and the pictures rendering
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGINT and the exit status 130 are POSIX")
def test_ctrl_c_during_the_demo_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C while training and rendering: one line, exit status 130, no traceback, no
    file, and no temporary folder left behind."""
    done = stop_a_demo_while_it_trains(tmp_path, signal.SIGINT)
    assert_one_line_error(done, "interrupted", status=130)
    assert files_in(tmp_path) == ["tmp"]


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and the exit status 143 are POSIX")
def test_sigterm_during_the_demo_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    """`kill` while training and rendering: one line, exit status 143, and no file or
    temporary folder left behind."""
    done = stop_a_demo_while_it_trains(tmp_path, signal.SIGTERM)
    assert_one_line_error(done, "terminated", status=143)
    assert files_in(tmp_path) == ["tmp"]


def test_a_demo_whose_training_diverges_exits_2_and_writes_nothing(
    tmp_path: Path, command: Command
) -> None:
    """A learning rate so large the loss becomes NaN is reported in one line, exit 2,
    and no file is written, not even the pictures that were already rendered."""
    done = command(
        "demo",
        "--dataset",
        "spirals",
        "--optimizer",
        "sgd",
        "--lr",
        "1e300",
        "--steps",
        "5",
        "--no-progress",
    )
    assert_one_line_error(done, "training diverged")
    assert "try a smaller --lr" in done.stderr
    assert files_in(tmp_path) == []


# ---- scalargrad graph ---------------------------------------------------------------------

NEURON_TEXT = "tanh(x*w + b)"
NEURON_VALUES = {"x": 0.5, "w": -1.2, "b": 0.3}
NEURON = [
    NEURON_TEXT,
    *(arg for name, v in NEURON_VALUES.items() for arg in ("--set", f"{name}={v}")),
]


def test_graph_writes_one_png_and_prints_the_value_and_gradients(
    tmp_path: Path, command: Command
) -> None:
    """The issue's example writes graph.png and prints the output and each d/dvariable."""
    done = command("graph", *NEURON, "--out", "graph.png")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["graph.png"]
    with Image.open(tmp_path / "graph.png") as image:
        assert image.format == "PNG"
    lines = done.stdout.splitlines()
    assert lines[0] == "tanh(x*w + b) = -0.291313"
    assert lines[1:4] == ["  d/dx = -1.09816", "  d/dw = 0.457568", "  d/db = 0.915137"]
    assert lines[4] == "wrote graph.png (before and after backward())"


def test_graph_with_gif_writes_an_animation_with_a_frame_per_node(
    tmp_path: Path, command: Command
) -> None:
    """--gif adds FILE.gif beside FILE.png: one frame per node of the graph, and one more."""
    done = command("graph", *NEURON, "--out", "pics/neuron.png", "--gif")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["pics", "pics/neuron.gif", "pics/neuron.png"]
    with Image.open(tmp_path / "pics" / "neuron.gif") as gif:
        # x, w, b, x*w, x*w + b, tanh: six nodes, seven frames.
        assert gif.n_frames == 7
    assert "pics/neuron.gif (backward() step by step)" in done.stdout


def test_graph_writes_svg_and_pdf_for_slides_with_local_grads_and_rankdir(
    tmp_path: Path, command: Command
) -> None:
    """--out's extension picks the format; --local-grads labels the edges and --rankdir
    (in any case) turns the picture, as draw_formula does with the same options."""
    done = command("graph", *NEURON, "--out", "n.svg", "--local-grads", "--rankdir", "tb")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "wrote n.svg (after backward())"
    draw_formula(NEURON_TEXT, NEURON_VALUES, tmp_path / "same.svg", local_grads=True, rankdir="TB")
    assert (tmp_path / "n.svg").read_text() == (tmp_path / "same.svg").read_text()
    done = command("graph", *NEURON, "--out", "n.pdf")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    assert files_in(tmp_path) == ["n.pdf", "n.svg", "same.svg"]


def test_graph_writes_graph_png_by_default(tmp_path: Path, command: Command) -> None:
    """Without --out the picture is ./graph.png."""
    done = command("graph", "x * x", "--set", "x=3")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["graph.png"]
    assert "  d/dx = 6" in done.stdout


def test_a_formula_that_starts_with_a_minus_can_be_typed_as_it_is(
    tmp_path: Path, command: Command
) -> None:
    """ "-x*2" looks like an option to argparse but is taken as the formula, before or
    after the options; after '--' it works too."""
    for args in (
        ["-x*2", "--set", "x=1"],
        ["--set", "x=1", "-x*2"],
        ["--set", "x=1", "--", "-x*2"],
    ):
        done = command("graph", *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("-x*2 = -2\n  d/dx = -2\n")


def test_a_missing_formula_beside_an_unknown_option_points_to_the_double_dash(
    tmp_path: Path,
    command: Command,
) -> None:
    """When FORMULA is missing and something was taken for an option, the error says a
    formula starting with '-' goes after '--'; graph --help says so too."""
    done = command("graph", "--set", "x=1", "--x")
    assert_one_line_error(
        done,
        "the following arguments are required: FORMULA; a formula that starts with '-' goes "
        "after '--', as in scalargrad graph --set x=1 -- '-x*2' (see scalargrad graph --help)",
    )
    help_text = " ".join(command("graph", "--help").stdout.split())
    assert "put it after '--': scalargrad graph --set x=1 -- '-x*2'" in help_text


def test_graph_overwrites_its_files_and_its_help_says_so(tmp_path: Path, command: Command) -> None:
    """--out and FILE.gif replace files already there, as `dot -o` does, and --help of
    graph and of demo say that files are overwritten."""
    (tmp_path / "g.png").write_text("old")
    (tmp_path / "g.gif").write_text("old")
    done = command("graph", "x*2", "--set", "x=1", "--out", "g.png", "--gif")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "g.gif").read_bytes().startswith(b"GIF8")
    graph_help = " ".join(command("graph", "--help").stdout.split())
    assert "the picture, .png .svg or .pdf, overwriting any file there" in graph_help
    assert "FILE.gif beside FILE (overwriting any file)" in graph_help
    demo_help = " ".join(command("demo", "--help").stdout.split())
    assert "Files of those names already in DIR are overwritten" in demo_help


def test_graph_refuses_a_picture_of_more_nodes_than_the_limit(
    tmp_path: Path, command: Command
) -> None:
    """A formula whose graph has more than 300 nodes is refused in one line naming the
    count and the limit, without --gif too, before anything is drawn."""
    formula = "+".join(["x*x"] * 151)  # 151 products, 150 sums and x: 302 nodes
    done = command("graph", formula, "--set", "x=1")
    assert_one_line_error(
        done,
        f"the formula's graph has 302 nodes; a picture shows at most {MAX_NODES}, "
        "so shorten the formula",
    )
    assert files_in(tmp_path) == []


def test_graph_reports_a_gradient_that_is_not_a_finite_number(
    tmp_path: Path, command: Command
) -> None:
    """1/x at x = 1e-200 has a value but its gradient, -1e400, overflows: exit 2."""
    done = command("graph", "1/x", "--set", "x=1e-200")
    assert_one_line_error(done, "the gradient of x is not a finite number")
    assert files_in(tmp_path) == []


def test_graph_refuses_an_out_that_is_a_directory(tmp_path: Path, command: Command) -> None:
    """--out naming a directory (even one ending in .png) is refused and left alone."""
    (tmp_path / "pics.png").mkdir()
    done = command("graph", "x", "--set", "x=1", "--out", "pics.png")
    assert_one_line_error(done, "graph: cannot write pics.png: it is a folder; name a file")
    assert files_in(tmp_path) == ["pics.png"]


def test_graph_refuses_a_gif_whose_name_is_a_directory_and_writes_no_png(
    tmp_path: Path, command: Command
) -> None:
    """With --gif, a directory where FILE.gif goes is named, and FILE.png is not written."""
    (tmp_path / "g.gif").mkdir()
    done = command("graph", "x", "--set", "x=1", "--out", "g.png", "--gif")
    assert_one_line_error(
        done, "graph: cannot write g.gif: it is a folder; name a file, or move it out of the way"
    )
    assert files_in(tmp_path) == ["g.gif"]


def test_graph_into_an_unwritable_folder_exits_2_and_writes_nothing(
    tmp_path: Path, command: Command, unwritable_folder: Path
) -> None:
    """A folder that takes no file is reported in one line, exit status 2."""
    done = command("graph", "x", "--set", "x=1", "--out", "locked/g.png")
    assert_one_line_error(done, "graph: cannot write locked/g.png: the folder locked takes no")
    assert files_in(tmp_path) == ["locked"]


@pytest.mark.skipif(os.name != "posix", reason="a fake `dot` is a shell script")
def test_a_failing_graphviz_exits_1_in_one_line(
    tmp_path: Path, command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When `dot` fails (here a fake one that exits 1), and no pygraphviz stands in for
    it, the error is one line naming dot's message, exit status 1, and no file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\necho 'dot: simulated failure' >&2\nexit 1\n")
    (bin_dir / "dot").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # importing it fails
    done = command("graph", "x*2", "--set", "x=1", cwd=work)
    assert_one_line_error(done, "failed (exit status 1): dot: simulated failure", status=1)
    assert files_in(work) == []


def test_a_missing_graphviz_exits_1_with_what_to_install(
    tmp_path: Path, command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no `dot` on PATH and no pygraphviz, the error says what to install, exit 1."""
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # importing it fails
    done = command("graph", "x*2", "--set", "x=1")
    assert_one_line_error(done, "Rendering needs Graphviz, and none was found", status=1)
    assert files_in(tmp_path) == []


HOSTILE_FORMULAS = [
    ("__import__('os')", "__import__() is not a function a formula can call"),
    ("__import__('os').system('touch pwned')", "only these functions can be called"),
    ("x.__class__.__mro__[-1].__subclasses__()", "only these functions can be called"),
    ("x.__class__", "attribute access"),
    ("().__class__.__bases__", "attribute access"),
    ("lambda: 0", "lambda"),
    ("(lambda: 0)()", "only these functions can be called"),
    ("open('pwned', 'w')", "open() is not a function a formula can call"),
    ("exec('x')", "exec() is not a function a formula can call"),
    ("[x for x in ()]", "comprehensions"),
    ("2**10**10", "too large for a float"),
    ("9**9**9**9", "too large for a float"),
    ("10" * 200 + "**x", "too large for a float"),
    ("x" + "+x" * 600, "characters long"),
    ("(" * 300 + "x" + ")" * 300, "not valid"),
    ("x y", "invalid syntax at column 3"),
    ("log(x - 1)", "cannot compute log(x - 1)"),
    ("1/(x - 0.5)", "zero"),
]


@pytest.mark.parametrize(("formula", "message"), HOSTILE_FORMULAS)
def test_hostile_and_broken_formulas_exit_2_and_write_nothing(
    tmp_path: Path, command: Command, formula: str, message: str
) -> None:
    """Builtins, attribute chains, lambdas, huge exponents, syntax and domain errors: one
    line on stderr, exit status 2, no file (nor any file the formula asked for)."""
    values = ["--set", "x=0.5"] if "x" in formula.replace("exec", "").replace("lambda", "") else []
    done = command("graph", formula, *values, "--gif")
    assert_one_line_error(done, message)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x*w"], "the formula uses x, w; give a value with --set x=VALUE --set w=VALUE"),
        (["x", "--set", "x=1", "--set", "y=2"], "y is given a value but not used"),
        (["x", "--set", "x=1", "--set", "x=2"], "x is set twice"),
        (["x", "--set", "x"], "argument --set: 'x' is not NAME=VALUE"),
        (["x", "--set", "x=one"], "argument --set: the value of x: 'one' is not a number"),
        (["x", "--set", "x=nan"], "argument --set: the value of x: must be a finite number"),
        (["x", "--set", "1x=2"], "argument --set: '1x' is not a variable name"),
        (["tanh(x)", "--set", "tanh=2"], "argument --set: tanh is a function"),
        (
            ["x", "--set", "x=1", "--out", "graph.jpg"],
            "must end in .png, .svg, .pdf",
        ),
        (["x", "--set", "x=1", "--rankdir", "up"], "rankdir must be one of LR, RL, TB, BT"),
        ([], "the following arguments are required: FORMULA"),
    ],
)
def test_bad_graph_arguments_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, command: Command, args: list[str], message: str
) -> None:
    """Missing, unused, repeated or malformed --set values, an --out of another image
    format and an unknown --rankdir are refused."""
    done = command("graph", *args)
    assert_one_line_error(done, message)
    assert files_in(tmp_path) == []


def test_graph_refuses_an_animation_of_a_graph_too_big_to_step_through(
    tmp_path: Path, command: Command
) -> None:
    """--gif on a graph of more than 100 nodes is refused before anything is drawn."""
    # Twelve sums of ten x's, multiplied: 108 + 11 op nodes and the leaf x, nested shallowly.
    formula = " * ".join(["(" + " + ".join(["x"] * 10) + ")"] * 12)
    done = command("graph", formula, "--set", "x=1", "--gif")
    assert_one_line_error(done, f"an animation shows at most {GIF_MAX_NODES}")
    assert files_in(tmp_path) == []


def test_graph_code_prints_the_passes_as_python_with_the_variables_as_arguments(
    tmp_path: Path, command: Command
) -> None:
    """--code alone prints a function of x, w, b after the gradients, and draws nothing;
    run, it returns the value and the gradients printed above it."""
    done = command("graph", *NEURON, "--code")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == []
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        "tanh(x*w + b) = -0.291313",
        "  d/dx = -1.09816",
        "  d/dw = 0.457568",
        "  d/db = 0.915137",
    ]
    code = "\n".join(lines[4:])
    assert lines[4] == "def forward_backward(x, w, b):"
    assert "g_h2 = g_o * (1.0 - o * o)" in code  # tanh's derivative, from the op table
    namespace = dict(FLOAT_NAMESPACE)
    exec(code, namespace)
    value, grads, _ = namespace["forward_backward"](*NEURON_VALUES.values())
    drawn = draw_formula(NEURON_TEXT, NEURON_VALUES)
    assert value == drawn.value
    assert list(grads) == [drawn.gradients[name] for name in ("x", "w", "b")]


def test_graph_code_with_out_prints_the_code_and_draws_the_picture(
    tmp_path: Path, command: Command
) -> None:
    """--code beside --out (or --gif) prints the code and writes the files asked for."""
    done = command("graph", "x*x", "--set", "x=3", "--code", "--out", "g.svg")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["g.svg"]
    assert "def forward_backward(x):" in done.stdout
    assert done.stdout.splitlines()[-1] == "wrote g.svg (after backward())"


def test_graph_html_writes_a_page_that_needs_no_network_and_no_picture(
    tmp_path: Path, command: Command
) -> None:
    """--html alone writes the step-through page, with no URL in it, and no graph.png;
    beside --out, both."""
    done = command("graph", *NEURON, "--html", "pages/neuron.html")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["pages", "pages/neuron.html"]
    assert done.stdout.splitlines()[-1] == (
        "wrote pages/neuron.html (step through it in a browser)"
    )
    page = (tmp_path / "pages" / "neuron.html").read_text()
    assert not re.search(r"https?://", page)
    assert page == page_html(evaluate(parse(NEURON_TEXT), NEURON_VALUES))  # the same graph
    done = command("graph", *NEURON, "--out", "n.png", "--html", "n.html")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["n.html", "n.png", "pages", "pages/neuron.html"]


def test_graph_writes_a_page_named_htm_as_save_html_does(tmp_path: Path, command: Command) -> None:
    """--html takes a .htm name, as save_html does."""
    done = command("graph", *NEURON, "--html", "n.htm")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path) == ["n.htm"]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("page.txt", "the page's name must end in .html or .htm, got page.txt"),
        ("taken.html", "graph: cannot write taken.html: it is a folder"),
    ],
)
def test_graph_checks_the_page_path_before_drawing_anything(
    tmp_path: Path, command: Command, html: str, message: str
) -> None:
    """A page name that is not .html, or a folder where the page goes, is refused before
    the picture is drawn: nothing is written."""
    (tmp_path / "taken.html").mkdir()
    done = command("graph", *NEURON, "--out", "g.png", "--html", html)
    assert_one_line_error(done, message)
    assert files_in(tmp_path) == ["taken.html"]


# ---- the command itself -------------------------------------------------------------------


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    """--version prints 'scalargrad X.Y.Z' and exits 0."""
    done = scalargrad_command("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout == f"scalargrad {scalargrad.__version__}\n"


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        ([], ["demo", "graph", "--version"]),
        (["demo"], ["--dataset", "--steps", "--optimizer", "--lr", "--seed", "--out"]),
        (["graph"], ["FORMULA", "--set", "--out", "--gif", "tanh"]),
    ],
)
def test_every_command_has_help(
    tmp_path: Path, command: Command, args: list[str], mentions: list[str]
) -> None:
    """--help on the command and on each subcommand exits 0 and names the options."""
    done = command(*args, "--help")
    assert done.returncode == 0, done.stderr
    for word in mentions:
        assert word in done.stdout


def test_no_command_is_a_usage_error(tmp_path: Path, command: Command) -> None:
    """`scalargrad` alone says to choose a command, exit status 2."""
    assert_one_line_error(command(), "choose a command: demo or graph")


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed here")
def test_the_console_script_runs_the_same_command(tmp_path: Path) -> None:
    """The installed `scalargrad` script is the same command as `python -m scalargrad`."""
    done = subprocess.run(
        [str(SCRIPT), "graph", "x * 2", "--set", "x=1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x * 2 = 2\n")


# ---- output paths: checked before any work ----------------------------------------------

LONG_NAME = "n" * 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["graph", "x", "--set", "x=1", "--out", f"{LONG_NAME}.png"], "choose a shorter name"),
        (["graph", "x", "--set", "x=1", "--gif", "--out", f"{LONG_NAME}.png"], "shorter name"),
        (["demo", "--out", LONG_NAME], "choose a shorter name"),
        (["demo", "--out", f"{LONG_NAME}/out"], "choose a shorter name"),
    ],
)
def test_an_overlong_output_name_is_one_line_and_exit_2_before_any_work(
    tmp_path: Path, command: Command, args: list[str], message: str
) -> None:
    """A name longer than the file system takes is refused up front, not after the
    pictures are drawn (a 253-character name.png is fine; its name.gif is not)."""
    done = command(*args)
    assert_one_line_error(done, message)
    assert files_in(tmp_path) == []


def test_a_demo_into_an_unwritable_folder_is_one_line_and_exit_2(
    tmp_path: Path, command: Command, unwritable_folder: Path
) -> None:
    """A folder that takes no file is found before training, as for graph."""
    done = command("demo", "--out", "locked/out")
    assert_one_line_error(done, "demo: cannot write locked/out/loss.png: the folder locked")
    assert files_in(tmp_path) == ["locked"]


# ---- the demo's animation ----------------------------------------------------------------


def test_the_pictured_graph_is_a_snapshot_that_training_does_not_change() -> None:
    """Every node of the demo's sample graph keeps its number while the model trains:
    a forward pass through the untrained weights gives the same numbers node by node,
    each one its op applied to its parents."""
    recipe = demo.RECIPES["moons"]
    X, y = recipe.data(0)
    model = recipe.model(0)
    sample, pictured = demo.sample_graph(recipe, model, X, y)
    before = [node.data for node in topological_order(pictured)]
    demo.train(recipe, model, X, y, optimizer="adam", steps=20)
    assert [node.data for node in topological_order(pictured)] == before
    same_sample, again = demo.sample_graph(recipe, recipe.model(0), X, y)
    assert same_sample == sample
    assert [node.data for node in topological_order(again)] == before


def test_every_frame_shows_the_numbers_of_the_untrained_graph() -> None:
    """Frames drawn after training show each node's untrained number, the number a
    fresh forward pass through the untrained model gives."""
    from scalargrad.viz import backward_steps
    from scalargrad.viz.graph import format_number

    recipe = demo.RECIPES["xor"]
    X, y = recipe.data(0)
    model = recipe.model(0)
    _, pictured = demo.sample_graph(recipe, model, X, y)
    demo.train(recipe, model, X, y, optimizer="adam", steps=20)
    _, fresh = demo.sample_graph(recipe, recipe.model(0), X, y)
    shown = [format_number(node.data) for node in topological_order(fresh)]
    for step in backward_steps(pictured, max_nodes=None):
        source = step.graph.source
        assert all(f"data {number}" in source for number in shown), step.index


@pytest.mark.slow
def test_two_demos_with_one_seed_draw_byte_identical_gifs_at_most_1280_wide(
    tmp_path: Path, command: Command
) -> None:
    """--gif draws backward() step by step from a snapshot taken before training: the
    same seed, the same GIF, many frames, at most 1280 px wide."""
    gifs = []
    for run in ("a", "b"):
        done = command("demo", "--dataset", "spirals", "--no-progress", "--out", run, "--gif")
        assert done.returncode == 0, done.stderr
        gifs.append((tmp_path / run / "backprop.gif").read_bytes())
    assert gifs[0] == gifs[1]
    with Image.open(tmp_path / "a" / "backprop.gif") as gif:
        assert gif.width <= 1280
        assert gif.n_frames > 10

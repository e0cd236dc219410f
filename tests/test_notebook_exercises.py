"""Every notebook's exercises, run twice: with the solution the check passes, with a
wrong answer it fails saying what is wrong.

A notebook's "## Your turn" section runs on its own (it imports what it needs), so
its code cells are run here in one namespace, with the cell that starts
`# Exercise N: your answer` replaced by the solution in notebooks/solutions/ or by a
wrong answer below; the cell that starts `# Exercise N: check` ends with the check.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from scalargrad.exercises import Verdict

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted((NOTEBOOKS / "src").glob("*.py"))
ANSWER = re.compile(r"# Exercise (\d+): your answer")
CHECK = re.compile(r"# Exercise (\d+): check")
SOLUTION = re.compile(r"^# %% Exercise (\d+)\s*$", re.MULTILINE)


def _load_build() -> Any:
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()

# (notebook, exercise) -> (a wrong answer, what its check must say)
WRONG_ANSWERS: dict[tuple[str, str], tuple[str, str]] = {
    ("01", "1"): (
        "def sigmoid_derivative(x):\n    return 1 / (1 + math.exp(-x))",
        r"^Not yet: at x = -2\.0 your derivative gives 0\.119203, "
        r"but backward\(\) gives 0\.104994\.$",
    ),
    ("01", "2"): (
        'predicted = {"a": "+", "b": "-", "c": "+", "d": "0"}',
        r"^Not yet: c: you predicted '\+', but its gradient is -0\.003641 \(negative\)\.$",
    ),
    ("02", "1"): (
        "def mul(a, b):\n"
        "    out = Value(a.data * b.data, (a, b), '*')\n"
        "    def _backward():\n"
        "        a.grad = b.data * out.grad\n"
        "        b.grad = a.data * out.grad\n"
        "    out._backward = _backward\n"
        "    return out",
        r"^Not yet: mul\(a, a\) \(one Value as both inputs\) at a = 2\.0: your _backward gives "
        r"a\.grad = 2\.0, but the right value is 4\.0\.$",
    ),
    ("02", "2"): (
        'predicted = {"a": "+", "b": "+"}',
        r"^Not yet: a: you predicted '\+', but its gradient is -0\.1966 \(negative\)\.$",
    ),
    ("03", "1"): (
        "def tanh(x):\n"
        "    t = math.tanh(x.data)\n"
        "    out = Value(t, (x,), 'tanh')\n"
        "    def _backward():\n"
        "        x.grad += (1 - t) * out.grad\n"
        "    out._backward = _backward\n"
        "    return out",
        r"^Not yet: tanh\(x\) at x = -1\.0: your _backward gives x\.grad = 1\.76159, "
        r"but the right value is 0\.419974\.$",
    ),
    ("03", "2"): (
        "learning_rate = 1.0",
        r"^Not yet: with lr = 1\.0 the loss went from 1\.019 to .* in 50 steps: "
        r"the steps overshoot; try a smaller lr\.$",
    ),
    ("04", "1"): (
        'predicted = {"A": "+", "B": "-", "C": "0", "D": "+"}',
        r"^Not yet: A: you predicted '\+', but its gradient is -0\.25 \(negative\)\.$",
    ),
    ("04", "2"): (
        "learning_rate = 0.01",
        r"^Not yet: with lr = 0\.01 the loss went from 1\.03 to 0\.9\d+ in 30 steps, "
        r"but it must end below 0\.35: try a larger lr\.$",
    ),
    ("05", "1"): (
        "def power(x, y):\n"
        "    out = Value(x.data**y.data, (x, y), '**')\n"
        "    def _backward():\n"
        "        x.grad += y.data * x.data ** (y.data - 1) * out.grad\n"
        "        y.grad += out.data * out.grad\n"
        "    out._backward = _backward\n"
        "    return out",
        r"^Not yet: power\(x, y\) at x = 1\.5, y = 2\.0: "
        r"d\(output 0\)/dy at inputs \[1\.5, 2\.0\]: "
        r"backward\(\) gives 2\.25, finite differences give 0\.912",
    ),
    ("05", "2"): (
        "def tanh_second_derivative(x):\n    return -2 * math.tanh(x)",
        r"^Not yet: at x = -1\.0 your derivative gives 1\.52319, but backward\(\) gives 0\.6397\.$",
    ),
    ("06", "1"): (
        "Z = X @ W.T",
        r"^Not yet: your Z\[0, 0\] is -1\.25882, but the engine gives -0\.758821\.$",
    ),
    ("06", "2"): (
        "dW = X.T @ dZ",
        r"^Not yet: your dW has shape \(3, 4\), but it must have shape \(4, 3\)\.$",
    ),
    ("07", "1"): (
        "dw2 = 0.5",
        r"^Not yet: you gave 0\.5 for do/dw2 with x2 = 1, but it is 0\.0887119\.$",
    ),
    ("07", "2"): (
        "dL_da = -3.0",
        r"^Not yet: you gave -3\.0 for dL/da at a = -1, but it is -4\.0\.$",
    ),
    ("08", "1"): (
        "parameter_count = 64 * 32 + 32 * 10",
        r"^Not yet: you gave 2368 for the parameters of MLP\(64, \[32, 10\]\), "
        r"but it is 2410\.$",
    ),
    ("08", "2"): (
        "dead_count = sum(1 for neuron in killed.layers[0].neurons if neuron(X[0]).data == 0)",
        r"^Not yet: you gave 23 for the dead ReLUs, but it is 15\.$",
    ),
}


def your_turn_cells(source: Path) -> list[str]:
    """The code cells of a notebook's '## Your turn' section, in order."""
    cells = build.cells_of(source.read_text(encoding="utf-8"))
    starts = [i for i, (kind, text) in enumerate(cells) if text.startswith("## Your turn")]
    assert len(starts) == 1, f"{source.name}: needs one '## Your turn' section"
    return [text for kind, text in cells[starts[0] :] if kind == "code"]


def exercises_of(source: Path) -> list[str]:
    """The exercise numbers of a notebook, from its answer cells."""
    return [m[1] for text in your_turn_cells(source) if (m := ANSWER.match(text))]


def solutions_of(source: Path) -> dict[str, str]:
    """Exercise number -> the solution's code, from notebooks/solutions/<same name>."""
    text = (NOTEBOOKS / "solutions" / source.name).read_text(encoding="utf-8")
    parts = SOLUTION.split(text)
    return {number: code for number, code in zip(parts[1::2], parts[2::2])}


def run_your_turn(source: Path, answers: dict[str, str]) -> dict[str, Verdict]:
    """Run the section with the given answer cells swapped in; each exercise's verdict."""
    namespace: dict[str, Any] = {"__name__": "your_turn"}
    verdicts: dict[str, Verdict] = {}
    for text in your_turn_cells(source):
        answer, check = ANSWER.match(text), CHECK.match(text)
        if answer and answer[1] in answers:
            text = answers[answer[1]]
        tree = ast.parse(text)
        last = tree.body[-1] if check and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body.pop()
        exec(compile(tree, f"<{source.stem}>", "exec"), namespace)
        if check:
            assert last is not None, f"{source.stem}: the check cell must end with the check"
            value = eval(compile(ast.Expression(last.value), "<check>", "eval"), namespace)
            assert isinstance(value, Verdict)
            verdicts[check[1]] = value
    return verdicts


EXERCISES = [(source, number) for source in SOURCES for number in exercises_of(source)]
ids = [f"{source.stem[:2]}-exercise-{number}" for source, number in EXERCISES]


def test_every_notebook_ends_with_exercises_that_have_solutions_and_wrong_answers() -> None:
    """Each notebook has at least two exercises, each with a solution and a wrong answer."""
    for source in SOURCES:
        numbers = exercises_of(source)
        assert len(numbers) >= 2, source.name
        assert sorted(solutions_of(source)) == sorted(numbers), source.name
        assert all((source.stem[:2], n) in WRONG_ANSWERS for n in numbers), source.name


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem[:2] for s in SOURCES])
def test_the_notebook_as_shipped_says_not_yet_to_every_exercise(source: Path) -> None:
    """The placeholders (...) are graded 'Not yet' with what to write, never an error."""
    verdicts = run_your_turn(source, {})
    assert sorted(verdicts) == sorted(exercises_of(source))
    for number, verdict in verdicts.items():
        assert not verdict, (source.name, number)
        assert verdict.message.startswith("Not yet: "), verdict.message


@pytest.mark.parametrize(("source", "number"), EXERCISES, ids=ids)
def test_the_solution_passes_its_check(source: Path, number: str) -> None:
    """With the solution from notebooks/solutions/ in place, the check says 'Right'."""
    verdict = run_your_turn(source, {number: solutions_of(source)[number]})[number]
    assert verdict, verdict.message
    assert verdict.message.startswith("Right: ")


@pytest.mark.parametrize(("source", "number"), EXERCISES, ids=ids)
def test_a_wrong_answer_fails_its_check_naming_the_input_and_both_numbers(
    source: Path, number: str
) -> None:
    """With a typical mistake in place, the check fails with the message written here."""
    code, message = WRONG_ANSWERS[(source.stem[:2], number)]
    verdict = run_your_turn(source, {number: code})[number]
    assert not verdict
    assert re.search(message, verdict.message), verdict.message

"""What a learner or a teacher runs into at the edges of the promises: bad input
refused with a message that names the mistake (and nothing written half-way), and odd
but valid input that works."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scalargrad import cli
from scalargrad.engine import Value
from scalargrad.losses import binary_cross_entropy, hinge, l2_penalty
from scalargrad.modelfile import load, save
from scalargrad.nn import MLP
from scalargrad.optim import SGD, Adam
from scalargrad.train import fit


def run_cli(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> Any:
    """`scalargrad ARGS` run in `folder` through cli.main: (status, stdout, stderr)."""
    monkeypatch.chdir(folder)
    capsys.readouterr()
    try:
        status = cli.main(list(args))
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


# The command line


def test_a_formula_broken_over_lines_reads_as_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A newline between tokens is whitespace, as a space is: `x +<newline> 1` is x + 1."""
    status, out, err = run_cli(
        tmp_path, monkeypatch, capsys, "graph", "x +\n 1", "--set", "x=1", "--code"
    )
    assert (status, err) == (0, "")
    assert "= 2" in out


def test_code_for_a_formula_without_variables_has_no_nameless_gradient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`scalargrad graph 3 --code` prints no `g_ = 1.0`, a gradient of a node with no name."""
    status, out, err = run_cli(tmp_path, monkeypatch, capsys, "graph", "3", "--code")
    assert (status, err) == (0, "")
    assert "g_ =" not in out


@pytest.mark.parametrize(
    "formula, values, expected",
    [
        ("αβ*x", ["αβ=1.5", "x=2"], "= 3"),
        ("(" * 199 + "x" + ")" * 199, ["x=1"], "= 1"),
        ("1e-400*x + 1e300*x", ["x=1"], "= 1e+300"),
        ("  x  +  1  ", ["x=1"], "= 2"),
    ],
    ids=["unicode names", "199 brackets", "tiny and huge numbers", "spaces around"],
)
def test_odd_but_valid_formulas_print_their_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    formula: str,
    values: list[str],
    expected: str,
) -> None:
    """Unicode names, deep brackets, tiny and huge numbers and spaces all work."""
    sets = [part for value in values for part in ("--set", value)]
    status, out, err = run_cli(tmp_path, monkeypatch, capsys, "graph", formula, *sets, "--code")
    assert (status, err) == (0, "")
    assert out.splitlines()[0].endswith(expected)


# The engine


def test_backward_refuses_a_number_for_create_graph() -> None:
    """`y.backward(1.0)` (PyTorch's gradient argument) is a TypeError, not create_graph=True."""
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match="create_graph"):
        y.backward(1.0)  # type: ignore[arg-type]


def test_grad_refuses_what_is_not_a_number() -> None:
    """`.grad = "0"` raises a TypeError naming grad, as `.data = "0"` does for data."""
    x = Value(2.0)
    with pytest.raises(TypeError, match="grad"):
        x.grad = "0"


@pytest.mark.parametrize("x", [1e-308, 5e-324, -5e-324, -710.0])
@pytest.mark.parametrize("op", ["tanh", "sigmoid", "exp", "sin", "cos"])
def test_second_derivatives_at_awkward_points_match_the_first_derivative_of_the_first(
    op: str, x: float
) -> None:
    """create_graph at subnormal, huge and underflowing inputs gives f'' without raising."""
    import math

    v = Value(x)
    getattr(v, op)().backward(create_graph=True)
    first = v.grad
    v.grad = 0.0
    first.backward()
    assert math.isfinite(v.grad)


# nn: optimizers, losses, fit


def test_an_optimizer_given_the_model_instead_of_its_parameters_says_so() -> None:
    """`SGD(model, lr=0.1)` names the fix, model.parameters(), not "not iterable"."""
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match=r"parameters\(\)"):
        SGD(model, lr=0.1)  # type: ignore[arg-type]


def test_adam_with_a_single_number_for_betas_names_betas() -> None:
    """`Adam(params, betas=0.9)` is an error about betas, not "float has no len()"."""
    with pytest.raises((TypeError, ValueError), match="betas"):
        Adam([Value(1.0)], lr=0.1, betas=0.9)  # type: ignore[arg-type]


def test_l2_penalty_with_a_text_weight_names_the_weight() -> None:
    """`l2_penalty(params, "0.1")` is a TypeError naming l2_penalty's weight."""
    with pytest.raises(TypeError, match="l2_penalty: weight"):
        l2_penalty([Value(1.0)], "0.1")  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", [binary_cross_entropy, hinge], ids=lambda f: f.__name__)
def test_a_boolean_target_of_a_binary_loss_is_named_by_the_loss(loss: Any) -> None:
    """A True target (from `X[:, 0] > 0`) is an error naming the loss, not "Value: ..."."""
    with pytest.raises((TypeError, ValueError), match=loss.__name__):
        loss([Value(0.5)], [True])


def test_fit_with_mse_on_a_model_of_several_outputs_says_what_is_wrong() -> None:
    """mse on a model with two outputs names fit or mse, not "Value: expected a real number"."""
    model = MLP(2, [3, 2], seed=0)
    with pytest.raises((TypeError, ValueError), match=r"fit|mse"):
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], loss="mse", epochs=1, progress=False)


# Model files


def test_loading_a_folder_is_a_value_error_saying_it_is_not_a_file(tmp_path: Path) -> None:
    """load(folder) is the ValueError "is not a regular file", not "Is a directory: 3"."""
    with pytest.raises(ValueError, match="not a regular file"):
        load(tmp_path)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_loading_a_folder_leaves_no_file_descriptor_open(tmp_path: Path) -> None:
    """Each failed load(folder) closes the descriptor it opened."""
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with pytest.raises(Exception):  # noqa: B017 - the kind is the test above
            load(tmp_path)
    assert len(os.listdir("/proc/self/fd")) - before < 5


def test_a_model_file_with_a_thousands_of_digits_number_is_a_plain_value_error(
    tmp_path: Path,
) -> None:
    """A hostile 5000-digit number is a ValueError naming the file and the number,
    without Python's advice to raise its limit on digits."""
    path = tmp_path / "digits.json"
    path.write_text("1" * 5000)
    with pytest.raises(ValueError, match=r"digits\.json.*a whole number of 5,000 digits") as error:
        load(path)
    assert "set_int_max_str_digits" not in str(error.value)


def test_a_model_file_with_a_key_twice_in_one_object_is_refused(tmp_path: Path) -> None:
    """JSON keeps the last of two equal keys: a weight would be dropped without a word."""
    model = MLP(2, [1], seed=0)
    path = tmp_path / "m.json"
    save(model, path)
    text = path.read_text()
    first_key = text[text.index('"') : text.index('"', text.index('"') + 1) + 1]
    path.write_text(text.replace("{", "{" + first_key + ": 0, ", 1))
    with pytest.raises(ValueError, match=f"the key {first_key.strip(chr(34))!r} appears twice"):
        load(path)


def test_a_file_of_another_shape_is_refused_whole(tmp_path: Path) -> None:
    """A file saved from MLP(3, ...) with nin edited to 2 is refused, naming layer 0."""
    import json

    path = tmp_path / "m.json"
    save(MLP(3, [2, 1], seed=0), path)
    document = json.loads(path.read_text())
    document["architecture"]["nin"] = 2
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="layer 0"):
        load(path)


# The PyTorch bridge


def test_from_torch_refuses_or_matches_a_linear_subclass_with_its_own_forward() -> None:
    """A Linear subclass that computes something else is refused, never silently copied."""
    torch = pytest.importorskip("torch")

    class DoubledLinear(torch.nn.Linear):  # type: ignore[misc, name-defined]
        def forward(self, x: Any) -> Any:
            return 2 * super().forward(x)

    from scalargrad.torch_bridge import from_torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(DoubledLinear(2, 1)).double()
    try:
        model = from_torch(net)
    except ValueError:
        return
    theirs = net(torch.tensor([[0.3, -0.7]], dtype=torch.float64))[0, 0].item()
    output = model([0.3, -0.7])
    assert isinstance(output, Value)
    assert output.data == pytest.approx(theirs, rel=1e-12)


def test_from_torch_of_an_uninitialised_lazy_linear_names_from_torch() -> None:
    """A LazyLinear not yet run has no input width: the error says from_torch, not MLP."""
    torch = pytest.importorskip("torch")
    from scalargrad.torch_bridge import from_torch

    with pytest.raises(ValueError, match="from_torch"):
        from_torch(torch.nn.Sequential(torch.nn.LazyLinear(3)))


# Pictures


def test_before_after_save_writes_nothing_when_the_second_path_is_bad(tmp_path: Path) -> None:
    """before_after(o).save("b.png", "a.jpg") raises and leaves no b.png behind."""
    from scalargrad.viz import before_after

    x = Value(1.0, label="x")
    pair = before_after((x * 2).tanh())
    with pytest.raises(ValueError):
        pair.save(tmp_path / "b.png", tmp_path / "a.jpg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "label", ['a"b', "<b>x</b>", "{x|y}", "\\N", "é∂😀", "</script><script>alert(1)"]
)
def test_hostile_labels_reach_the_svg_and_the_page_as_text(tmp_path: Path, label: str) -> None:
    """Quotes, HTML, record braces, Graphviz escapes and emoji show as typed."""
    import html as html_module

    from scalargrad.viz import draw_graph, save_html

    x = Value(1.5, label=label)
    out = (x * 2.0).tanh()
    out.backward()
    svg = draw_graph(out).save(tmp_path / "g.svg").read_text(encoding="utf-8")
    assert html_module.escape(label) in svg
    page = save_html(out, tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.lower().count("</script") == page.lower().count("<script")

"""scalargrad.compile: traced once, written from the op table, equal to the eager engine."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalargrad
from scalargrad import MLP, Value, dot, gradients, losses, no_grad
from scalargrad import sum as value_sum
from scalargrad.compile import TraceMismatchError, TrainingStep, compile, source
from scalargrad.data import moons
from scalargrad.ops import FUSED_OPS, OPS
from scalargrad.optim import linear
from scalargrad.train import LOSSES, OPTIMIZERS, fit
from tests.strategies import programs

# One small function per entry of the op table, with inputs inside its domain. A new
# op in the table fails test_every_op_of_the_table_has_a_use_here until it is added.
USES: dict[str, tuple[Callable[..., Value], list[float]]] = {
    "add": (lambda x, y: x + y, [0.3, -1.2]),
    "sub": (lambda x, y: x - y, [0.3, -1.2]),
    "mul": (lambda x, y: x * y, [0.3, -1.2]),
    "div": (lambda x, y: x / y, [0.3, -1.2]),
    "pow_value": (lambda x, y: x**y, [0.7, -1.2]),
    "pow": (lambda x, y: (x * y) ** 3 + x**-0.5, [0.7, 1.1]),
    "neg": (lambda x, y: -x * y, [0.3, -1.2]),
    "exp": (lambda x, y: (x * y).exp(), [0.3, -1.2]),
    "log": (lambda x, y: (x * x + y * y).log(), [0.3, -1.2]),
    "sqrt": (lambda x, y: (x * x + y * y).sqrt(), [0.3, -1.2]),
    "relu": (lambda x, y: x.relu() + y.relu(), [0.3, -1.2]),
    "tanh": (lambda x, y: (x * y).tanh(), [0.3, -1.2]),
    "sigmoid": (lambda x, y: (x * 40).sigmoid() + (y * 40).sigmoid(), [0.3, -1.2]),
    "sin": (lambda x, y: (x * y).sin(), [0.3, -1.2]),
    "cos": (lambda x, y: (x * y).cos(), [0.3, -1.2]),
    "abs": (lambda x, y: abs(x) + abs(y), [0.3, -1.2]),
    "sum": (lambda x, y: value_sum([x, y, x * y]), [0.3, -1.2]),
    "dot": (lambda x, y: dot([x, y], [y, 2.0], 0.5) + dot([x], [x]), [0.3, -1.2]),
}


def eager(function: Callable[..., Value], numbers: list[float]) -> tuple[float, list[float]]:
    """The output and input gradients of `function` by the eager engine."""
    inputs = [Value(x) for x in numbers]
    root = function(*inputs)
    grads = gradients(root)
    return root.data, [grads.get(x, 0.0) for x in inputs]


def close(a: float, b: float, tolerance: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def test_every_op_of_the_table_has_a_use_here() -> None:
    """The tests below cover every op of ops.OPS and ops.FUSED_OPS."""
    assert set(USES) == set(OPS) | set(FUSED_OPS)


@pytest.mark.parametrize("name", sorted(USES))
def test_each_op_compiles_to_the_eager_values_and_gradients(name: str) -> None:
    """Compiled Python gives eager's output and gradients for every op of the table."""
    function, numbers = USES[name]
    compiled = compile(function, numbers)
    result = compiled(*numbers)
    output, grads = eager(function, numbers)
    assert close(result.output, output)
    assert all(close(g, e) for g, e in zip(result.input_grads, grads))
    assert name in {node.op.name for node in compiled.graph.nodes if node.op is not None}


@pytest.mark.parametrize("name", sorted(USES))
def test_each_op_runs_batched_as_the_per_sample_loop(name: str) -> None:
    """The NumPy batch gives, row by row, what the compiled function gives per sample."""
    function, numbers = USES[name]
    compiled = compile(function, numbers)
    rows = [numbers, [x * 0.5 for x in numbers], [x * 1.5 for x in numbers]]
    batch = compiled.batch(rows)
    for row, output, grads in zip(rows, batch.outputs, batch.input_grads):
        one = compiled(*row)
        assert close(output, one.output, 1e-9)
        assert all(close(g, e, 1e-9) for g, e in zip(grads, one.input_grads))


def run_program(program: Any) -> Callable[..., Value]:
    def function(*xs: Value) -> Value:
        return program.run(xs, dot, value_sum)  # type: ignore[no-any-return]

    return function


@given(programs())
def test_compiled_random_graphs_equal_eager_values_and_gradients(program: Any) -> None:
    """On random graphs over every op, compiled equals eager to 1e-12."""
    function = run_program(program)
    numbers = list(program.inputs)
    result = compile(function, numbers)(*numbers)
    output, grads = eager(function, numbers)
    assert close(result.output, output)
    assert all(close(g, e) for g, e in zip(result.input_grads, grads))


@given(programs(), st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_batched_random_graphs_equal_the_per_sample_loop(program: Any, shifts: list[float]) -> None:
    """Over a batch of rows, NumPy gives each row's compiled output and gradients."""
    function = run_program(program)
    numbers = list(program.inputs)
    compiled = compile(function, numbers)
    rows = [numbers] + [[x + shift for x in numbers] for shift in shifts]
    batch = compiled.batch(rows)
    for row, output, grads in zip(rows, batch.outputs, batch.input_grads):
        one = compiled(*row)
        assert close(output, one.output, 1e-9)
        assert all(close(g, e, 1e-9) for g, e in zip(grads, one.input_grads))


def test_parameter_gradients_equal_eager_and_batched_ones_are_summed_over_the_batch() -> None:
    """Gradients for parameters: per call as eager backward, per batch their sum."""
    model = MLP(3, [5, 4, 1], "tanh", seed=1)
    parameters = model.parameters()
    compiled = compile(lambda a, b, c: model([a, b, c]), [0.1, 0.2, 0.3], parameters)
    rows = [[0.1, 0.2, 0.3], [-1.0, 0.5, 2.0], [0.0, 0.0, 1.0]]
    total = np.zeros(len(parameters))
    for row in rows:
        root = model(row)
        grads = gradients(root)
        expected = [grads.get(p, 0.0) for p in parameters]
        got = compiled(*row).parameter_grads
        assert all(close(g, e) for g, e in zip(got, expected))
        total += expected
    assert np.allclose(compiled.batch(rows).parameter_grads, total, rtol=1e-12, atol=1e-12)


def test_a_batched_output_that_reads_no_input_is_the_same_for_every_row() -> None:
    """An output made of parameters alone (an L2 penalty) is one number for every row,
    and its parameter gradients are summed over the rows like any other's."""
    w, b = Value(1.5), Value(-0.5)
    for output in (lambda x: w * w * 0.1 + b, lambda x: w):
        result = compile(output, [0.0], [w, b]).batch([[1.0], [2.0], [3.0]])
        single = compile(output, [0.0], [w, b])(0.0)
        assert result.outputs.tolist() == [single.output] * 3
        assert result.parameter_grads.tolist() == [3 * g for g in single.parameter_grads]
        assert result.input_grads.tolist() == [[0.0]] * 3


def test_compiled_functions_read_the_parameters_current_data() -> None:
    """After a parameter's .data changes, the compiled function uses the new number."""
    w = Value(2.0, label="w")
    compiled = compile(lambda x: x * w, [3.0], [w])
    w.data = 5.0
    assert compiled(3.0).output == 15.0


# ---- the source --------------------------------------------------------------------


def test_source_names_lines_after_labels_and_writes_the_chain_rule_from_the_table() -> None:
    """Labels become names; a tanh node's backward line is the table's derivative."""
    w = Value(0.5, label="L0.N3.w1")

    def neuron(x: Value) -> Value:
        h1 = x * w
        h1.label = "h1"
        o = h1.tanh()
        o.label = "o"
        return o

    text = compile(neuron, [1.0], [w]).source
    assert "def forward_backward(x, L0_N3_w1):" in text
    assert "    o = tanh(h1)\n" in text
    assert "    g_h1 = g_o * (1.0 - o * o)\n" in text
    assert OPS["tanh"].derivatives == ("1.0 - out * out",)
    assert "    g_L0_N3_w1 = g_h1 * x\n" in text


def test_numbers_in_the_graph_are_written_as_numbers() -> None:
    """A number that became a leaf is a constant in the code, not an argument."""
    text = compile(lambda x: (x * 2.5 - 1).relu(), [1.0]).source
    assert "def forward_backward(x):" in text
    assert "h1 = x * 2.5" in text
    assert "h2 = h1 - 1.0" in text
    assert "g_h1 = g_o * step(h1)" not in text  # relu's input is h2
    assert "g_h2 = g_o * step(h2)" in text


def test_names_that_are_not_identifiers_or_collide_become_distinct_identifiers() -> None:
    """Labels such as '2 x', 'exp' or the same label twice still give valid, distinct names."""
    a, b, c = Value(1.0, label="2 x"), Value(2.0, label="exp"), Value(3.0, label="exp")
    text = compile(lambda: a * b + c, [], [a, b, c]).source
    assert "def forward_backward(v_2_x, v_exp, v_exp_2):" in text


def test_source_of_a_root_gives_the_code_for_a_formula_graph() -> None:
    """source(root): labelled leaves are the arguments, as `graph --code` will print."""
    x = Value(0.5, label="x")
    text = source((x * x).sin())
    assert text.startswith("def forward_backward(x):")
    assert "g_h1 = g_o * cos(h1)" in text


def test_the_batched_code_is_the_matrix_code_learners_know() -> None:
    """Each layer is one matrix product forward and three backward, the bias's gradient
    being a product with ones, as a weight whose input is always 1."""
    model = MLP(2, [16, 16, 1], seed=0)
    text = compile(lambda a, b: model([a, b]), [0.0, 0.0], model.parameters()).numpy_source
    for line in [
        "Z1 = X @ W1.T + b1",
        "A1 = np.maximum(Z1, 0.0)",
        "Z2 = A1 @ W2.T + b2",
        "dZ2 = dA2 * np.sign(A2)",
        "dA1 = dZ2 @ W2",
        "dW1 += dZ1.T @ X",
        "db1 += ones @ dZ1",
    ]:
        assert f"    {line}\n" in text
    # Three products forward; backward three per layer (dZ @ W, dZ.T @ A, ones @ dZ),
    # and dX = dZ1 @ W1 for the inputs.
    assert text.count(" @ ") == 3 + 3 * 3


def test_the_readmes_matrix_code_is_what_the_compiler_writes() -> None:
    """Every line of the README's NumPy excerpt (comments aside) is in the generated code."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    excerpt = readme.split('"from scratch" projects write by hand:\n\n```python\n')[1]
    lines = [line.split("#")[0].strip() for line in excerpt.split("```")[0].splitlines()]
    model = MLP(2, [16, 16, 1], seed=0)
    text = compile(lambda a, b: model([a, b]), [0.0, 0.0], model.parameters()).numpy_source
    shown = [line for line in lines if line != "..."]
    assert len(shown) >= 4
    for line in shown:
        assert f"    {line}\n" in text


def test_batch_backward_adds_into_the_grad_array_it_is_given_each_time() -> None:
    """A new grad array gets the gradients and the one before is left alone; the same
    one again is added to by the printed code, written again by fit's step, whose
    views of grad are made once per array."""
    model = MLP(2, [3, 1], seed=0)
    samples = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.3)]]
    step = TrainingStep(model, samples, [1, -1], model.parameters(), losses.hinge)
    theta = step.read_parameters()
    (group,) = step._groups(None)
    assert step.joined is not None
    for program, times in ((step.model_program, 2.0), (step.joined.program, 1.0)):
        first, second = np.zeros_like(theta), np.zeros_like(theta)
        arguments = group.arguments if program is step.joined.program else ()
        _, saved = program.forward(step.X, theta, *arguments)
        program.backward(saved, group.seed, first)
        program.backward(saved, group.seed, second)
        assert np.any(first != 0.0) and first.tolist() == second.tolist()
        program.backward(saved, group.seed, second)
        assert (times * first).tolist() == second.tolist()


def test_fits_step_writes_each_gradient_block_where_the_printed_code_adds() -> None:
    """fit's step zeroes grad itself, so its program writes each block with out= (no
    temporary to add): over a grad full of garbage it gives the same gradient as the
    printed code adding into zeros."""
    model = MLP(2, [3, 1], seed=0)
    samples = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.3)], [Value(-0.4), Value(1.5)]]
    step = TrainingStep(model, samples, [1, -1, 1], model.parameters(), losses.hinge)
    assert step.joined is not None
    program = step.joined.program
    assert "    np.matmul(dZ1.T, X, out=dW1)\n" in program.source
    assert "    np.matmul(ones, dZ1, out=db1)\n" in program.source
    theta = step.read_parameters()
    (group,) = step._groups(None)
    _, saved = program.forward(step.X, theta, *group.arguments)
    garbage = np.full_like(theta, 1e9)
    program.backward(saved, group.seed, garbage)
    adding = np.zeros_like(theta)  # the model's program and the loss's, apart, adding
    outputs, model_saved = step.model_program.forward(step.X, theta)
    assert "    dW1 += dZ1.T @ X\n" in step.model_program.source
    head = step.heads[0]
    d_outputs = head.backward(head.forward(outputs, theta, *group.arguments)[1], group.seed, adding)
    step.model_program.backward(model_saved, d_outputs, adding)
    assert garbage.tolist() == pytest.approx(adding.tolist(), abs=1e-15)


def test_a_block_written_before_its_layer_is_added_to_not_overwritten() -> None:
    """A weight that a layer reads and a later op reads again gets that op's gradient
    first (backward runs in reverse): the layer must add to it, even where fit's step
    would write a fresh block."""
    from scalargrad.compile.batch import BatchProgram
    from scalargrad.compile.packs import _layout
    from scalargrad.compile.trace import trace

    model = MLP(2, [2, 1], seed=0)
    w = model.layers[0].neurons[0].w[0]
    inputs = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    out = model(inputs) * w
    graph = trace([out], inputs, model.parameters())
    program = BatchProgram(graph, _layout(graph), False, fit_step=True)
    assert "dW1 += dZ1.T @ X" in program.source
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    theta = np.array([p.data for p in (model.parameters()[k] for k in _layout(graph).order)])
    _, saved = program.forward(X, theta)
    grad = np.zeros_like(theta)
    program.backward(saved, np.ones((2, 1)), grad)
    eager = []
    for row in X.tolist():
        loss = model([Value(v) for v in row]) * w
        eager.append(gradients(loss))
    expected = [sum(g.get(model.parameters()[k], 0.0) for g in eager) for k in _layout(graph).order]
    assert grad.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_relus_batched_derivative_is_eagers_step_at_zero_infinities_and_nan() -> None:
    """ReLU's derivative over a batch, np.sign of its output, is eager's step(x): 0 at
    0, -0 and below, 1 above, NaN at NaN."""
    special = [-math.inf, -2.0, -0.0, 0.0, 1e-300, 3.0, math.inf, math.nan]
    f = compile(lambda x: x.relu() * 2.0, [0.5])
    assert "np.sign(H1)" in f.numpy_source
    batched = f.batch([[x] for x in special]).input_grads[:, 0].tolist()
    for x, got in zip(special, batched):
        expected = eager(lambda v: v.relu() * 2.0, [x])[1][0]
        assert got == expected or (math.isnan(got) and math.isnan(expected)), x


def test_generated_code_compiles_as_python_source() -> None:
    """Both programs are plain Python that compiles on this interpreter."""
    model = MLP(2, [3, 2], seed=0)
    compiled = compile(
        lambda a, b: losses.cross_entropy([model([a, b])], [1]), [0.1, 0.2], model.parameters()
    )
    for text in (compiled.source, compiled.numpy_source):
        __import__("builtins").compile(text, "<test>", "exec")


# ---- guards ----------------------------------------------------------------------------


def test_calling_with_another_number_of_inputs_raises() -> None:
    """A compiled function refuses inputs of another structure, naming both."""
    compiled = compile(lambda x, y: x * y, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"traced with 2 inputs \(x, y\), called with 3"):
        compiled(1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"one row of 2 inputs per sample.*\(3, 3\)"):
        compiled.batch(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="input y must be a number"):
        compiled(1.0, "2")


def test_tracing_freezes_control_flow_and_check_finds_where_it_differs() -> None:
    """An if on .data takes its traced branch; check=n catches the change on a call."""

    def branchy(x: Value) -> Value:
        return x * x if x.data > 0 else -x

    frozen = compile(branchy, [2.0])
    assert frozen(-3.0).output == 9.0  # the traced branch, as jax.jit would
    checked = compile(branchy, [2.0], check=2)
    assert checked(3.0).output == 9.0
    with pytest.raises(TraceMismatchError, match="control flow"):
        checked(-3.0)


def test_check_catches_a_number_read_from_data_while_tracing() -> None:
    """A number read from .data is frozen; check reports the difference it makes."""
    checked = compile(lambda x: x * x.data, [2.0], check=1)
    with pytest.raises(TraceMismatchError, match="frozen"):
        checked(3.0)


def test_bad_uses_of_compile_raise_clear_errors() -> None:
    """Hand-made nodes, non-Value results, bad inputs and no_grad are refused."""
    a = Value(1.0)
    hand_made = Value(2.0, (a,), "twice")
    with pytest.raises(ValueError, match="made by hand"):
        compile(lambda x: x * hand_made, [1.0])
    with pytest.raises(TypeError, match="must return one Value"):
        compile(lambda x: [x, x], [1.0])
    with pytest.raises(TypeError, match="example input x must be a number"):
        compile(lambda x: x, ["1"])
    with pytest.raises(TypeError, match="parameters must be Values"):
        compile(lambda x: x, [1.0], [1.0])  # type: ignore[list-item]
    with no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        compile(lambda x: x, [1.0])


def test_scalargrad_compile_is_the_compile_function() -> None:
    """`scalargrad.compile(...)` is this function, kept out of `import *`."""
    assert scalargrad.compile is compile
    assert "compile" not in scalargrad.__all__


# ---- training ----------------------------------------------------------------------


def targets_for(loss: str, y: list[int]) -> tuple[MLP, list[Any]]:
    """A model and targets that `loss` takes. Hidden tanh, not relu: a relu model whose
    units all die outputs its last bias alone, 5e-18 one way and 0.0 the other, and
    such a score flips its class at the threshold 0 on a rounding."""
    if loss == "cross_entropy":
        return MLP(2, [6, 2], "tanh", seed=0), y
    if loss == "binary_cross_entropy":
        return MLP(2, [6, 1], "tanh", "sigmoid", seed=0), y
    if loss == "hinge":
        return MLP(2, [6, 1], "tanh", seed=0), [2 * t - 1 for t in y]
    if loss == "mse":
        return MLP(2, [6, 1], "tanh", seed=0), [0.3 * t + 0.01 * i for i, t in enumerate(y)]
    return MLP(2, [6, 1], "tanh", seed=0), y


def compare_fits(model_and_targets: Callable[[], tuple[MLP, list[Any]]], **options: Any) -> None:
    X, _ = moons(24, noise=0.1)
    runs = []
    for compiled in (False, True):
        model, targets = model_and_targets()
        parameters = model.parameters()
        history = fit(model, X, targets, progress=False, compile=compiled, **options)
        assert model.parameters() == parameters  # the same Values, updated in place
        runs.append((history, [p.data for p in parameters]))
    (eager_history, eager_data), (compiled_history, compiled_data) = runs
    assert np.allclose(compiled_data, eager_data, rtol=1e-9, atol=1e-9)
    assert np.allclose(compiled_history.loss, eager_history.loss, rtol=1e-9, atol=1e-9)
    assert compiled_history.accuracy == eager_history.accuracy
    assert len(compiled_history.seconds) == len(eager_history.seconds)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_compiled_fit_equals_eager_fit_after_100_steps_for_every_loss(loss: str) -> None:
    """fit(compile=True) gives eager fit's History and parameters to 1e-9, every loss."""
    _, y = moons(24, noise=0.1)
    compare_fits(lambda: targets_for(loss, y), loss=loss, epochs=100, l2=1e-4, lr=0.2)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_compiled_fit_equals_eager_fit_for_every_optimizer_in_mini_batches(optimizer: str) -> None:
    """Every optimizer, shuffled mini-batches of 8: compiled and eager agree to 1e-9."""
    _, y = moons(24, noise=0.1)
    compare_fits(
        lambda: targets_for("hinge", y), loss="hinge", optimizer=optimizer, epochs=34, batch_size=8
    )


def test_compiled_fit_follows_a_learning_rate_schedule() -> None:
    """The standard recipe (a schedule, L2) trains compiled to the eager numbers."""
    _, y = moons(24, noise=0.1)
    compare_fits(
        lambda: (MLP(2, [8, 8, 1], seed=0), y), loss="hinge", lr=linear(1.0, 0.1, 100), l2=1e-4
    )


def test_cross_entropy_over_many_classes_is_one_loss_program_picking_the_target_logit() -> None:
    """The loss graphs of the classes differ only in which logit they subtract: one
    program takes them all, that logit picked per sample, and trains as eagerly."""
    X, _ = moons(24, noise=0.1)  # as compare_fits trains on
    y = [i % 4 for i in range(len(X))]
    model = MLP(2, [5, 4], "tanh", seed=0)
    samples = [[Value(v) for v in row] for row in X]
    step = TrainingStep(model, samples, y, model.parameters(), losses.cross_entropy)
    assert len(step.heads) == 1
    assert "X[:, 4:5]" in step.heads[0].source  # the picked logit, after the four
    compare_fits(
        lambda: (MLP(2, [5, 4], "tanh", seed=0), y), loss="cross_entropy", epochs=20, batch_size=7
    )


def test_hinge_is_one_loss_program_reading_each_samples_sign_per_sample() -> None:
    """hinge's loss graph is 1 - s for t = +1 and 1 + s for t = -1: one program takes
    both, as 1 - T * s with T the sign read per sample, each loss eager's bit for bit
    (on the same scores: the model's sums may differ in the last bit); and it joins the
    model's program, so that the step is one program."""
    X, y = moons(24, noise=0.1)
    model = MLP(2, [5, 1], "tanh", seed=0)
    samples = [[Value(v) for v in row] for row in X]
    signs = [2 * t - 1 for t in y]
    step = TrainingStep(model, samples, signs, model.parameters(), losses.hinge)
    assert len(step.heads) == 1
    assert "T * X" in step.heads[0].source
    scores, _ = step.model_program.forward(step.X, step.read_parameters())
    compiled, _ = step.heads[0].forward(scores, step.read_parameters(), step.per_sample_numbers[0])
    eager_losses = [losses.hinge([Value(z)], [t]).data for z, t in zip(scores[:, 0], signs)]
    assert compiled[:, 0].tolist() == eager_losses
    # One loss program for all samples joins the model's: the step is one program.
    assert step.joined is not None
    assert "    Z2 = A1 @ W2.T + b2\n    H1 = T * Z2\n" in step.joined.program.source
    loss, outputs, _ = step.loss_and_gradient(None, step.read_parameters())
    assert outputs.tolist() == scores.tolist()
    assert loss == pytest.approx(sum(eager_losses) / len(samples), abs=1e-15)


def test_the_l2_penalty_joins_the_steps_program_and_adds_its_value_and_gradient() -> None:
    """With a penalty the step is still one program: the penalty computed once in it,
    its adjoint started at 1, its gradient added after the layers wrote theirs; the
    loss and gradient are eager's."""
    X, y = moons(12, noise=0.1)
    model = MLP(2, [4, 1], "tanh", seed=0)
    samples = [[Value(v) for v in row] for row in X]
    signs = [2 * t - 1 for t in y]
    parameters = model.parameters()
    step = TrainingStep(
        model, samples, signs, parameters, losses.hinge,
        lambda: losses.l2_penalty(parameters, 1e-3),
    )  # fmt: skip
    assert step.joined is not None and step.joined.penalty_at is not None
    assert step.penalty_program is None
    source = step.joined.program.source
    assert "    s1 = theta @ theta\n" in source and "    g_s2 = 1.0\n" in source
    assert source.index("out=dW1)") < source.index("grad += (2.0 * g_s1) * theta")
    loss, _, grad = step.loss_and_gradient(None, step.read_parameters())
    eager = losses.hinge([model(row) for row in samples], signs)
    eager = eager + losses.l2_penalty(parameters, 1e-3)
    expected = gradients(eager)
    assert loss == pytest.approx(eager.data, rel=1e-12)
    assert grad.tolist() == pytest.approx(
        [expected[p] for p in step.theta_parameters], rel=1e-9, abs=1e-15
    )


def test_compiled_fit_counts_correct_predictions_as_eager_fit_does_even_with_nan() -> None:
    """Scores counted as arrays predict the classes eager fit predicts, NaN rows too
    (argmax would take the NaN for the largest score; Python's max does not)."""
    from scalargrad.train import _count_correct, _count_correct_scores

    rows = [[1.0, math.nan, 2.0], [math.nan, 3.0, 1.0], [0.5, 0.2, 0.1], [0.1, 0.1, 0.0]]
    targets = [2, 0, 0, 1]
    eager = _count_correct([[Value(x) for x in row] for row in rows], targets, 0.0)
    assert _count_correct_scores(np.array(rows), targets, 0.0) == eager == 3
    one_output = [[0.3], [-0.2], [math.nan], [0.0]]
    eager = _count_correct([Value(row[0]) for row in one_output], [1, 0, 0, -1], 0.0)
    assert _count_correct_scores(np.array(one_output), [1, 0, 0, -1], 0.0) == eager == 4


def fit_both_ways(make_optimizer: Callable[[MLP], Any] | None = None, **options: Any) -> Any:
    """Eager then compiled fit on one recipe: for each, the model, the optimizer and what
    the callback saw of the parameters (.data and .grad) after each epoch."""
    X, y = moons(24, noise=0.1)
    runs = []
    for compiled in (False, True):
        model = MLP(2, [6, 1], "tanh", seed=0)
        optimizer = make_optimizer(model) if make_optimizer else "adam"
        seen: list[list[tuple[float, float]]] = []

        def look(model: MLP, history: Any, seen: list[Any] = seen) -> None:
            seen.append([(p.data, p.grad) for p in model.parameters()])

        fit(
            model, X, y, loss="hinge", optimizer=optimizer, epochs=6, batch_size=8,
            progress=False, compile=compiled, callback=look, every=2, **options,
        )  # fmt: skip
        runs.append((model, optimizer, seen))
    return runs


def test_compiled_fit_shows_callbacks_the_trained_parameters_and_last_gradients() -> None:
    """The parameters' numbers live in an array during compiled fit; every callback
    still sees each Value's trained .data and the last batch's .grad, as eagerly."""
    (_, _, eager_seen), (_, _, compiled_seen) = fit_both_ways()
    assert len(compiled_seen) == len(eager_seen) == 3
    assert np.allclose(compiled_seen, eager_seen, rtol=1e-9, atol=1e-12)


def test_compiled_fit_leaves_the_optimizer_state_as_eager_fit_does() -> None:
    """An optimizer passed to compiled fit has its step count and running averages, in
    its own lists, as after eager fit: training can go on with it either way."""

    def adam(model: MLP) -> Any:
        return scalargrad.optim.Adam(model.parameters(), lr=0.05)

    (_, eager, _), (_, compiled, _) = fit_both_ways(adam)
    assert compiled.steps_taken == eager.steps_taken == 18
    for name in ("first_moments", "second_moments"):
        assert isinstance(getattr(compiled, name), list)
        assert np.allclose(getattr(compiled, name), getattr(eager, name), rtol=1e-9, atol=1e-15)


def test_compiled_fit_steps_an_optimizer_of_ones_own_through_the_values() -> None:
    """An optimizer with step() and zero_grad() of its own (or a subclass with its own
    update rule or step) sees .grad and moves .data on the Values, compiled as eagerly."""

    class HalfSteps:
        def __init__(self, params: list[Value]) -> None:
            self.params = params

        def step(self) -> None:
            for p in self.params:
                p.data -= 0.05 * p.grad

        def zero_grad(self) -> None:
            for p in self.params:
                p.grad = 0.0

    class SignSGD(scalargrad.optim.SGD):
        def _update(self, i: int, data: float, grad: float, lr: float) -> float:
            return data - lr * math.copysign(1.0, grad)

    class ClippedSGD(scalargrad.optim.SGD):
        def step(self) -> None:
            for p in self.params:
                p.grad = max(-0.1, min(0.1, p.grad))
            super().step()

    assert not SignSGD([Value(1.0)]).steps_arrays
    assert not ClippedSGD([Value(1.0)]).steps_arrays
    for make in (
        lambda m: HalfSteps(m.parameters()),
        lambda m: SignSGD(m.parameters(), lr=0.01),
        lambda m: ClippedSGD(m.parameters(), lr=0.5),
    ):
        (eager_model, _, _), (compiled_model, _, _) = fit_both_ways(make)
        eager_data = [p.data for p in eager_model.parameters()]
        assert np.allclose([p.data for p in compiled_model.parameters()], eager_data, rtol=1e-9)


def test_compiled_fit_refuses_a_loss_that_is_not_a_mean_over_samples() -> None:
    """A loss summing over samples cannot be compiled per sample: the first step says so."""
    X, y = moons(12, noise=0.1)
    with pytest.raises(TraceMismatchError, match="compile=False"):
        fit(
            MLP(2, [4, 1], seed=0), X, y, loss=lambda outs, ts: value_sum(outs),
            epochs=1, progress=False, compile=True,
        )  # fmt: skip


def test_a_batch_that_reads_one_input_twice_in_a_row_adds_both_gradients() -> None:
    """a + a over a batch: d/da is 2 in every row (NumPy's x[:, [0, 0]] += ... adds once)."""
    compiled = compile(lambda a, b: (a + a) + -a + (a + b), [0.0, 0.0])
    batch = compiled.batch([[0.0, 0.0], [1.0, 2.0]])
    assert np.array_equal(batch.input_grads, [[2.0, 1.0], [2.0, 1.0]])

"""Formulas as text: parsed against a whitelist with `ast`, built into a graph of Values."""

from __future__ import annotations

import ast
import builtins
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalargrad.formula
from scalargrad import Value
from scalargrad.engine import topological_order
from scalargrad.formula import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Formula,
    FormulaError,
    evaluate,
    parse,
)

WHITELISTED_NODES = (
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.operator,
    ast.unaryop,
    ast.expr_context,
)
ALLOWED_OPS = {"", "+", "-", "*", "/", "**", "neg", *FUNCTIONS}


def build(text: str, **values: float) -> Value:
    return evaluate(parse(text), values)


def exactly(message: str) -> str:
    """A pattern for pytest.raises(match=...) that only `message`, whole, matches."""
    return f"^{re.escape(message)}$"


# ---- what a formula computes ------------------------------------------------------------


def test_a_neuron_formula_gives_its_value_and_gradients() -> None:
    """tanh(x*w + b) computes the neuron, and backward gives the chain rule's gradients."""
    out = build("tanh(x*w + b)", x=0.5, w=-1.2, b=0.3)
    out.backward()
    leaves = {node.label: node for node in topological_order(out) if not node.parents}
    expected = math.tanh(0.5 * -1.2 + 0.3)
    slope = 1 - expected**2
    assert out.data == pytest.approx(expected)
    assert leaves["x"].grad == pytest.approx(slope * -1.2)
    assert leaves["w"].grad == pytest.approx(slope * 0.5)
    assert leaves["b"].grad == pytest.approx(slope)


def test_variables_are_listed_once_in_the_order_first_used() -> None:
    """The variables of a formula come in reading order, each once."""
    assert parse("b + sin(a) * b / c").variables == ("b", "a", "c")


def test_a_variable_used_twice_is_one_leaf_whose_gradient_sums_its_paths() -> None:
    """x * x has one leaf x, and its gradient is 2x."""
    out = build("x * x", x=3.0)
    out.backward()
    leaves = [node for node in topological_order(out) if not node.parents]
    assert [leaf.label for leaf in leaves] == ["x"]
    assert leaves[0].grad == 6.0


def test_a_number_beside_a_value_is_a_leaf_of_the_op() -> None:
    """x * 2 is a "*" node whose parents are x and a leaf holding 2, as in the lecture."""
    out = build("x * 2", x=1.5)
    assert out.op == "*"
    assert [p.data for p in out.parents] == [1.5, 2.0]
    assert len(topological_order(out)) == 3


def test_numbers_with_only_numbers_beside_them_become_nodes_not_folded_away() -> None:
    """2 ** 3 * x shows the ** op in the graph instead of a precomputed 8."""
    out = build("2 ** 3 * x", x=1.0)
    ops = [node.op for node in topological_order(out)]
    assert "**" in ops
    assert out.data == 8.0


def test_a_formula_of_only_a_number_is_a_leaf_value() -> None:
    """'3' is a Value, so it can be drawn like any other formula."""
    out = build("3")
    assert isinstance(out, Value)
    assert out.data == 3.0


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_of_the_whitelist_matches_its_value_method(name: str) -> None:
    """Each function a formula can call computes the Value method of the same name."""
    out = build(f"{name}(x)", x=0.7)
    assert out.op == name
    assert out.data == pytest.approx(getattr(Value(0.7), name)().data)


def test_unary_minus_and_plus_work_on_values_and_numbers() -> None:
    """-x is a neg node, -2 a plain number, +x the Value itself."""
    assert build("-x", x=2.0).op == "-"
    assert build("x * -2", x=2.0).parents[1].data == -2.0
    out = build("+x", x=2.0)
    assert out.label == "x"


def test_surrounding_spaces_are_ignored() -> None:
    """A formula typed with spaces around it parses; its text is kept without them."""
    assert parse("  x + 1 \n").text == "x + 1"


# ---- what a formula may not do ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", r"__import__\(\) is not a function a formula can call"),
        ("__import__('os').system('true')", "only these functions can be called"),
        ("__import__('os')\n.system('true')", "only these functions can be called"),
        ("x.__class__.__bases__", "attribute access"),
        ("().__class__", "attribute access"),
        ("lambda: 1", "lambda"),
        ("(lambda x: x)(1)", "only these functions can be called"),
        ("eval('1')", r"eval\(\) is not a function"),
        ("open('f')", r"open\(\) is not a function"),
        ("x[0]", "indexing"),
        ("[x for x in y]", "comprehensions"),
        ("x if y else z", "if/else"),
        ("x < 1", "comparisons"),
        ("x and y", "and/or"),
        ("(x := 1)", "assignment"),
        ("'text'", "text"),
        ("b'bytes'", "bytes"),
        ("1j", "complex"),
        ("True", "True"),
        ("None", "None"),
        ("x // 2", "//"),
        ("x % 2", "%"),
        ("~x", "~"),
        ("not x", "^a formula cannot use not; it may use numbers, variables, "),
        ("x @ y", "@"),
        ("f'{x}'", "f-strings"),
        ("tanh", "tanh is a function: call it"),
        ("1e999", "too large for a float"),
        ("9" * 400, "too large for a float"),
        ("x y", "not valid: invalid syntax at column"),
        ("(x", "not valid"),
        ("x = 1", "not valid"),
        ("x\x00", "null byte"),
        # Python 3.10's tokenizer reads "1if" as "1 if": refused either way.
        ("1if x else 2", "invalid decimal literal|cannot use if/else"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_anything_outside_the_whitelist_is_refused_with_a_message(text: str, message: str) -> None:
    """Builtins, attributes, lambdas and other syntax are refused before anything runs."""
    with pytest.raises(FormulaError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tanh(x, y)", "tanh() takes exactly one argument, as in tanh(x); got 2"),
        ("sin()", "sin() takes exactly one argument, as in sin(x); got 0"),
        ("sin(*x)", "sin() cannot unpack arguments (*x); give it one argument, as in sin(x)"),
        ("sin(**x)", "sin() cannot unpack arguments (**x); give it one argument, as in sin(x)"),
        ("tanh(x=1)", "tanh() takes no keyword arguments; give it one argument, as in tanh(x)"),
        ("exp(x, y=1)", "exp() takes no keyword arguments; give it one argument, as in exp(x)"),
    ],
)
def test_a_function_called_other_than_with_one_argument_says_what_is_wrong(
    text: str, message: str
) -> None:
    """Too many or too few arguments, unpacking and keywords each get their own message."""
    with pytest.raises(FormulaError, match=exactly(message)):
        parse(text)


def test_a_formula_longer_than_the_limit_is_refused() -> None:
    """A formula past MAX_LENGTH characters is refused before it is parsed."""
    with pytest.raises(FormulaError, match="characters long"):
        parse("x + " * (MAX_LENGTH // 4) + "x")


NESTED_TOO_DEEP = (
    f"the formula nests more than {MAX_DEPTH} levels deep (in brackets, function calls, "
    "signs or powers); a chain such as a + b + c is not nested"
)


@pytest.mark.parametrize(
    "text",
    [
        "-" * (MAX_DEPTH + 1) + "x",
        "tanh(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
        "x**" * (MAX_DEPTH + 1) + "x",
        "x-(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
    ],
)
def test_a_formula_nested_deeper_than_the_limit_is_refused(text: str) -> None:
    """Nesting past MAX_DEPTH is refused, so evaluation never nears the recursion limit."""
    with pytest.raises(FormulaError, match=exactly(NESTED_TOO_DEEP)):
        parse(text)


@pytest.mark.parametrize(("symbol", "expected"), [("+", 400.0), ("*", 1.0), ("-", -398.0)])
def test_a_long_flat_chain_of_one_operator_is_not_nesting(symbol: str, expected: float) -> None:
    """x + x + ... + x with 400 terms is a chain, not 400 levels: it parses, evaluates
    (without recursing once per term) and has the gradient of the sum."""
    out = build(symbol.join(["x"] * 400), x=1.0)
    assert out.data == expected
    out.backward()
    (leaf,) = [node for node in topological_order(out) if not node.parents]
    assert leaf.grad == {"+": 400.0, "*": 400.0, "-": -398.0}[symbol]


def test_nesting_that_defeats_pythons_own_tokenizer_is_a_formula_error() -> None:
    """Parentheses nested past the 200 levels Python's tokenizer allows: a FormulaError."""
    with pytest.raises(FormulaError, match="too many nested parentheses"):
        parse("(" * 300 + "x" + ")" * 300)


def test_calling_a_long_expression_is_refused_without_recursing_through_it() -> None:
    """(x + x + ... + x)(1) is named in the message from the text, not rebuilt from its
    tree (which recursed once per term and overflowed the stack)."""
    with pytest.raises(FormulaError, match="only these functions can be called, by name"):
        parse("(" + "x+" * 450 + "x)(1)")


def test_a_huge_power_of_numbers_fails_as_a_float_overflow() -> None:
    """2**10**10 is float arithmetic that overflows: a FormulaError, no giant integer."""
    with pytest.raises(FormulaError, match=r"cannot compute 2\*\*10\*\*10: .*too large"):
        build("2**10**10")


def test_a_huge_power_of_a_variable_fails_as_a_float_overflow() -> None:
    """x ** 10 ** 10 overflows at once for x = 2."""
    with pytest.raises(FormulaError, match="too large for a float"):
        build("x ** 10 ** 10", x=2.0)


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("log(x - 1)", {"x": 0.5}, r"cannot compute log\(x - 1\): log: .*-0\.5"),
        ("sqrt(x)", {"x": -4.0}, r"cannot compute sqrt\(x\)"),
        ("1 / x", {"x": 0.0}, r"cannot compute 1 / x: .*zero"),
        ("x / 0", {"x": 1.0}, "zero"),
        ("exp(x)", {"x": 1000.0}, "too large for a float"),
        ("x ** y", {"x": -2.0, "y": 0.5}, "base must be positive"),
        ("x * 1e308 * 10", {"x": 1.0}, "1e\\+308 \\* 10.0 is too large for a float"),
    ],
)
def test_a_domain_error_names_the_part_of_the_formula_at_fault(
    text: str, values: dict[str, float], message: str
) -> None:
    """log of a negative number, division by zero and overflow are FormulaErrors."""
    with pytest.raises(FormulaError, match=message):
        build(text, **values)


def test_a_variable_without_a_value_is_named() -> None:
    """evaluate says which variables have no value."""
    with pytest.raises(FormulaError, match=r"^w, b have no value"):
        build("x*w + b", x=1.0)


def test_a_value_for_a_name_the_formula_does_not_use_is_named() -> None:
    """evaluate refuses values for names not in the formula, and says which."""
    with pytest.raises(FormulaError, match=r"^z is given a value but not used"):
        build("x + 1", x=1.0, z=2.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, "1", True, None])
def test_a_value_must_be_a_finite_number(value: object) -> None:
    """NaN, infinities, text, bools and None are not values for a variable."""
    with pytest.raises(FormulaError, match="value of x must be a"):
        evaluate(parse("x"), {"x": value})  # type: ignore[dict-item]


def test_parse_takes_only_text() -> None:
    """A formula is a str; anything else is a FormulaError."""
    with pytest.raises(FormulaError, match="is text"):
        parse(b"x")  # type: ignore[arg-type]


def test_parse_and_evaluate_never_run_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """With eval and exec gone, and compile allowed only to make a tree (what ast.parse
    asks of it), a formula still parses and evaluates: it is read as data, never run."""
    compile_for_real = builtins.compile

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval or exec was called")

    def compile_to_a_tree_only(
        source: str, filename: str, mode: str, flags: int = 0, **options: object
    ) -> object:
        assert flags & ast.PyCF_ONLY_AST, "compile was asked for code, not a tree"
        return compile_for_real(source, filename, mode, flags, **options)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", compile_to_a_tree_only)
    out = build("tanh(x*w + b)", x=0.5, w=-1.2, b=0.3)
    assert out.data == pytest.approx(-0.2913, abs=1e-4)


# Names through which text becomes code, or a name becomes an object to call.
CODE_RUNNERS = {"eval", "exec", "compile", "__import__", "getattr", "importlib", "globals"}


def test_the_formula_module_names_nothing_that_runs_code() -> None:
    """formula.py's own source never uses eval, exec, compile, __import__, getattr or
    importlib, by name or as an attribute, nor imports them: only ast.parse reads text."""
    source = Path(scalargrad.formula.__file__).read_text(encoding="utf-8")
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.Import):
            used.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            used.add((node.module or "").split(".")[0])
            used.update(alias.name for alias in node.names)
    assert used & CODE_RUNNERS == set()
    assert "parse" in used  # the scan does see attribute uses: ast.parse is one


# ---- laws ---------------------------------------------------------------------------------

TOKENS = [
    "x",
    "y",
    "1",
    "2.5",
    "1e308",
    "+",
    "-",
    "*",
    "/",
    "**",
    "(",
    ")",
    ".",
    ",",
    "[",
    "]",
    "lambda",
    ":",
    "__import__",
    "'os'",
    "os",
    "tanh",
    "log",
    "exp",
    "abs",
    "if",
    "else",
    "=",
    "<",
    "%",
    " ",
]


@given(st.text(max_size=60))
def test_any_text_parses_or_gives_a_formula_error(text: str) -> None:
    """Random text never raises anything but FormulaError, from parse or evaluate."""
    try:
        formula = parse(text)
        evaluate(formula, dict.fromkeys(formula.variables, 0.5))
    except FormulaError:
        pass


@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_any_token_soup_parses_or_gives_a_formula_error(text: str) -> None:
    """Near-formulas made of real tokens never raise anything but FormulaError."""
    try:
        formula = parse(text)
        evaluate(formula, dict.fromkeys(formula.variables, 0.5))
    except FormulaError:
        pass


@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_an_accepted_formula_holds_only_whitelisted_nodes_and_makes_only_whitelisted_ops(
    text: str,
) -> None:
    """Whatever parse accepts is numbers, names, + - * / ** and whitelisted calls, and
    its graph has only the engine's ops for those."""
    try:
        formula = parse(text)
    except FormulaError:
        return
    for node in ast.walk(formula.tree):
        assert isinstance(node, WHITELISTED_NODES), ast.dump(node)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            assert node.func.id in FUNCTIONS
        if isinstance(node, ast.UnaryOp):
            assert isinstance(node.op, (ast.USub, ast.UAdd))
    try:
        out = evaluate(formula, dict.fromkeys(formula.variables, 0.5))
    except FormulaError:
        return
    assert {node.op for node in topological_order(out)} <= ALLOWED_OPS


@dataclass(frozen=True)
class Expression:
    """A formula's text beside its value computed directly with math."""

    text: str
    value: float


def _leaf(values: dict[str, float]) -> st.SearchStrategy[Expression]:
    numbers = st.sampled_from([0.5, 1.0, 2.0, 3.0]).map(lambda n: Expression(repr(n), n))
    names = st.sampled_from(sorted(values)).map(lambda name: Expression(name, values[name]))
    return numbers | names


MATH = {
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
    "abs": abs,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "relu": lambda v: max(v, 0.0),
}


def _extend(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    def binary(left: Expression, symbol: str, right: Expression) -> Expression:
        value = {
            "+": left.value + right.value,
            "-": left.value - right.value,
            "*": left.value * right.value,
        }[symbol]
        return Expression(f"({left.text} {symbol} {right.text})", value)

    def call(name: str, argument: Expression) -> Expression:
        return Expression(f"{name}({argument.text})", MATH[name](argument.value))

    return st.builds(binary, children, st.sampled_from(["+", "-", "*"]), children) | st.builds(
        call, st.sampled_from(sorted(MATH)), children
    )


VALUES = {"x": 0.75, "y": -1.25}


@given(st.recursive(_leaf(VALUES), _extend, max_leaves=12))
def test_a_generated_formula_evaluates_to_what_math_computes(expression: Expression) -> None:
    """Formulas built from the whitelist give the same number as direct float arithmetic."""
    formula = parse(expression.text)
    out = evaluate(formula, {name: VALUES[name] for name in formula.variables})
    assert out.data == pytest.approx(expression.value, rel=1e-12, abs=1e-12)


def test_the_formula_dataclass_keeps_text_tree_and_variables() -> None:
    """parse returns a Formula with the text it read, its tree and its variables."""
    formula = parse("x + 1")
    assert isinstance(formula, Formula)
    assert isinstance(formula.tree, ast.BinOp)
    assert formula.variables == ("x",)

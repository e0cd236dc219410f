"""From scalars to matrices: trace a graph once, show its passes as code, run them fast.

`compile(f, example_inputs, parameters)` calls `f` once on Values and records the
graph it builds. From that graph it writes two programs, each op's forward and each
edge's derivative read from the op table (`scalargrad.ops`), never written again:

- `.source`: straight-line Python on floats, one line per node, then the chain rule
  backwards, one line per edge (`g_h1 += g_o * (1.0 - o * o)`);
- `.numpy_source`: the same graph over a whole batch in NumPy, each scalar node a
  column over the samples, each layer's weighted sums one matrix product
  (`Z1 = X @ W1.T + b1`, `dW1 += dZ1.T @ X`).

>>> from scalargrad import Value
>>> w = Value(-3.0, label="w")
>>> f = compile(lambda x: (x * w).tanh(), [0.5], [w])
>>> result = f(0.5)
>>> round(result.output, 6), [round(g, 6) for g in result.parameter_grads]
(-0.905148, [0.090353])

Tracing freezes Python control flow, as `jax.jit` and `torch.jit.trace` do: an `if`
on `x.data`, a loop whose length depends on the data, or a number read from `.data`
(such as the shift in a log-sum-exp) takes the path and the value it had on the
example inputs, for every later call. `check=n` compares the first `n` calls with
the eager engine and raises `TraceMismatchError` where they part.
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import keyword
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scalargrad.engine import Value, is_grad_enabled, topological_order
from scalargrad.engine import sum as value_sum
from scalargrad.oplang import FLOAT_NAMESPACE, FUNCTIONS
from scalargrad.ops import FUSED_OPS, OPS, FusedOp, Op


class TraceMismatchError(RuntimeError):
    """A compiled function and the eager engine disagree on a call: the traced Python
    took another path (control flow is frozen when tracing) or the graph changed."""


# ---- tracing -----------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One node of a traced graph: a leaf (input, parameter, constant) or an op."""

    kind: str  # "input", "parameter", "constant" or "op"
    op: Op | FusedOp | None
    parents: tuple[int, ...]  # indices into Graph.nodes
    data: float  # the value when traced (a constant's number)
    label: str


@dataclass
class Graph:
    """A traced graph: nodes in topological order, and where its leaves and roots are."""

    nodes: list[Node]
    inputs: list[int | None]  # the node of each input, None if the output ignores it
    parameters: list[int | None]
    outputs: list[int]

    def structure(self) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
        """What must match for two traces to be the same program: kinds, ops, edges."""
        return tuple(
            (node.kind, node.op.name if node.op else "", node.parents) for node in self.nodes
        )


def trace(
    roots: Sequence[Value], inputs: Sequence[Value], parameters: Sequence[Value] = ()
) -> Graph:
    """The graph behind `roots`, with `inputs` and `parameters` as its named leaves.

    Every other leaf is a constant: a number that became a leaf (the 2 of `x * 2`),
    or a Value the graph reads but does not differentiate.
    """
    if not roots:
        raise ValueError("trace: no outputs to trace")
    for root in roots:
        if not isinstance(root, Value):
            raise TypeError(
                f"compile: the function must return a Value (or Values), got {root!r} "
                f"of type {type(root).__name__}"
            )
    if len(roots) == 1:
        order = topological_order(roots[0])
    else:  # one node over all roots gives the order the eager walk uses; then drop it
        order = topological_order(value_sum(roots))[:-1]
    index = {id(v): i for i, v in enumerate(order)}
    input_ids = {id(v): i for i, v in enumerate(inputs)}
    parameter_ids = {id(v): i for i, v in enumerate(parameters)}
    nodes = []
    for v in order:
        if v.parents:
            if v.primitive is None:
                raise ValueError(
                    f"compile: {v!r} was made by hand with its own _backward; the compiler "
                    f"reads each derivative from the op table, so build it from Value's ops"
                )
            parents = tuple(index[id(p)] for p in v.parents)
            nodes.append(Node("op", v.primitive, parents, v.data, v.label))
        elif id(v) in input_ids:
            nodes.append(Node("input", None, (), v.data, v.label))
        elif id(v) in parameter_ids:
            nodes.append(Node("parameter", None, (), v.data, v.label))
        else:
            nodes.append(Node("constant", None, (), v.data, v.label))
    return Graph(
        nodes,
        [index.get(id(v)) for v in inputs],
        [index.get(id(p)) for p in parameters],
        [index[id(root)] for root in roots],
    )


# ---- names ----------------------------------------------------------------------------

# Names the generated code uses itself.
_RESERVED = {
    *FUNCTIONS,
    "pow",
    "slope_pow",
    "np",
    "float",
    "theta",
    "grad",
    "saved",
    "out",
    "X",
    "dX",
    "T",
}


def _identifier(text: str, taken: set[str]) -> str:
    """`text` as a fresh Python name: 'L0.N3.w1' -> 'L0_N3_w1'."""
    name = "".join(c if (c.isalnum() or c == "_") else "_" for c in text) or "v"
    if not name.isidentifier():
        name = "v_" + name
    # Adjoints are named g_<node>, so no node may look like one.
    if keyword.iskeyword(name) or name in _RESERVED or name.startswith("g_"):
        name = "v_" + name
    base, k = name, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _scalar_names(graph: Graph, input_names: Sequence[str]) -> list[str]:
    taken: set[str] = set()
    names = [""] * len(graph.nodes)
    for i, given in zip(graph.inputs, input_names):
        if i is not None:
            names[i] = _identifier(graph.nodes[i].label or given, taken)
    hidden = 0
    for i, node in enumerate(graph.nodes):
        if names[i] or node.kind == "constant":
            continue
        if node.label:
            names[i] = _identifier(node.label, taken)
        elif i == graph.outputs[-1] and len(graph.outputs) == 1:
            names[i] = _identifier("o", taken)
        else:
            hidden += 1
            names[i] = _identifier(f"h{hidden}", taken)
    return names


# ---- expressions from the op table -------------------------------------------------


def _number(x: float) -> ast.expr:
    """A float as source: -2.0 as -(2.0), so `x ** -2.0` keeps its meaning."""
    if math.isnan(x) or math.isinf(x):
        return ast.Call(ast.Name("float", ast.Load()), [ast.Constant(repr(x))], [])
    if math.copysign(1.0, x) < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-x))
    return ast.Constant(x)


_PARSED: dict[str, ast.expr] = {}


def _parsed(expression: str) -> ast.expr:
    """A fresh copy of the expression's tree (parsed once), to substitute into."""
    if expression not in _PARSED:
        _PARSED[expression] = ast.parse(expression, mode="eval").body
    return copy.deepcopy(_PARSED[expression])


class _Substitute(ast.NodeTransformer):
    """Put operands (as syntax trees) in place of the names x, y, out, w_i, x_i, b."""

    def __init__(self, operands: dict[str, ast.expr]) -> None:
        self.operands = operands

    def visit_Name(self, node: ast.Name) -> ast.expr:
        operand = self.operands.get(node.id)
        return node if operand is None else copy.deepcopy(operand)


class _Fold(ast.NodeTransformer):
    """Compute what depends on constants only, with Python's floats, as eager would:
    `y * x ** (y - 1.0) if y != 0 else 0.0` with y = 2.0 becomes `2.0 * x ** 1.0`."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def visit(self, node: ast.AST) -> Any:
        node = super().visit(node)
        if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call, ast.IfExp)):
            names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
            if all(callable(self.namespace.get(name)) for name in names):
                try:
                    value = eval(
                        builtins.compile(
                            ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval"
                        ),
                        self.namespace,
                    )
                except (ArithmeticError, ValueError):
                    return node
                if isinstance(value, bool):
                    return ast.Constant(value)
                if isinstance(value, (int, float)):
                    return _number(float(value))
        return node


class _PythonPow(ast.NodeTransformer):
    # On floats a ** b is a call, as the engine computes it: math.pow in a forward (it
    # raises where ** would quietly give a complex number), oplang.slope_pow in an edge.
    def __init__(self, power: str) -> None:
        self.power = power

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name(self.power, ast.Load()), [node.left, node.right], [])
        return node


_PYTHON_NAMESPACE: dict[str, Any] = {**FLOAT_NAMESPACE, "float": float}


def _python_expression(
    expression: str, operands: dict[str, ast.expr], power: str = "pow"
) -> ast.expr:
    tree = _Substitute(operands).visit(_parsed(expression))
    tree = _PythonPow(power).visit(tree)
    return ast.fix_missing_locations(_Fold(_PYTHON_NAMESPACE).visit(tree))  # type: ignore[no-any-return]


def _expand_fused_forward(op: FusedOp, roles: dict[str, list[ast.expr]]) -> list[ast.expr]:
    """A fused op's forward with its `sum(term_i)` written out term by term, to be added
    left to right after what stands before it, as the engine adds: b, w0 * x0, w1 * x1."""
    tree = ast.parse(op.forward, mode="eval").body
    per_index = {k: v for k, v in roles.items() if k.endswith("_i")}
    count = len(next(iter(per_index.values())))

    def terms(call: ast.Call) -> list[ast.expr]:
        return [
            _Substitute({k: v[i] for k, v in per_index.items()}).visit(copy.deepcopy(call.args[0]))
            for i in range(count)
        ]

    def is_sum(node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "sum"
        )  # fmt: skip

    if is_sum(tree):
        assert isinstance(tree, ast.Call)
        first, *rest = terms(tree)
    else:
        # `b + sum(...)`: the engine starts from b (or, without a bias, from 0.0 and
        # so from the first term: the same number).
        assert isinstance(tree, ast.BinOp) and is_sum(tree.right)
        assert isinstance(tree.right, ast.Call)
        rest = terms(tree.right)
        first = _Substitute({"b": roles["b"][0]}).visit(tree.left) if "b" in roles else rest.pop(0)
    return [first, *rest]


# Terms per line of a long sum: a chain of a few hundred + would overflow the stack of
# the compiler (and of ast.unparse); `h = h + ...` lines keep the left-to-right order.
_TERMS_PER_LINE = 16


def _sum_lines(name: str, terms: Sequence[str]) -> list[str]:
    """`name = t0 + t1 + ...`, continued as `name = name + ...` every few terms."""
    lines = []
    for start in range(0, len(terms), _TERMS_PER_LINE):
        chunk = list(terms[start : start + _TERMS_PER_LINE])
        if start:
            chunk.insert(0, name)
        lines.append(f"{name} = {' + '.join(chunk)}")
    return lines


def _term(expression: ast.expr) -> str:
    """A term of a sum as source: parenthesised where + would bind it otherwise."""
    return ast.unparse(ast.BinOp(ast.Name("_", ast.Load()), ast.Add(), expression))[4:]


def _fused_roles(op: FusedOp, parents: Sequence[ast.expr]) -> dict[str, list[ast.expr]]:
    roles: dict[str, list[ast.expr]] = {}
    for (role, _), parent in zip(op.roles(len(parents)), parents):
        roles.setdefault(role, []).append(parent)
    return roles


# ---- straight-line Python ------------------------------------------------------------


def _scalar_program(
    graph: Graph, names: list[str], input_names: list[str], parameter_names: list[str]
) -> str:
    nodes = graph.nodes

    def operand(i: int) -> ast.expr:
        node = nodes[i]
        return _number(node.data) if node.kind == "constant" else ast.Name(names[i], ast.Load())

    lines = [f"def forward_backward({', '.join([*input_names, *parameter_names])}):"]
    lines.append("    # forward: one line per node")
    for i, node in enumerate(nodes):
        if node.kind != "op":
            continue
        parents = [operand(p) for p in node.parents]
        if isinstance(node.op, FusedOp):
            terms = _expand_fused_forward(node.op, _fused_roles(node.op, parents))
            lines += [f"    {line}" for line in _sum_lines(names[i], [_term(t) for t in terms])]
            continue
        assert isinstance(node.op, Op)
        expression = _python_expression(node.op.forward, dict(zip(node.op.inputs, parents)))
        lines.append(f"    {names[i]} = {ast.unparse(expression)}")

    wanted = {i for i in [*graph.inputs, *graph.parameters] if i is not None}
    needs_grad = _needs_grad(graph, wanted)
    root = graph.outputs[0]
    lines.append("    # backward: the chain rule, one line per edge, newest node first")
    lines.append(f"    g_{names[root]} = 1.0")
    has_grad = {root}
    for i in reversed(range(len(nodes))):
        node = nodes[i]
        if node.kind != "op" or i not in has_grad:
            continue
        grad = ast.Name(f"g_{names[i]}", ast.Load())
        for parent, derivative in zip(node.parents, _edges(node, operand, ast.Name(names[i]))):
            if derivative is None or parent not in needs_grad:
                continue
            share = _times(grad, derivative)
            sign = "+=" if parent in has_grad else "="
            lines.append(f"    g_{names[parent]} {sign} {ast.unparse(share)}")
            has_grad.add(parent)

    def grad_of(i: int | None) -> str:
        return f"g_{names[i]}" if i is not None and i in has_grad else "0.0"

    input_grads = _tuple([grad_of(i) for i in graph.inputs])
    parameter_grads = _tuple([grad_of(i) for i in graph.parameters])
    lines.append(f"    return {ast.unparse(operand(root))}, {input_grads}, {parameter_grads}")
    return "\n".join(lines) + "\n"


def _tuple(items: Sequence[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _needs_grad(graph: Graph, wanted: set[int]) -> set[int]:
    """Nodes on a path from a wanted leaf: only these get adjoints."""
    needs = set(wanted)
    for i, node in enumerate(graph.nodes):
        if any(p in needs for p in node.parents):
            needs.add(i)
    return needs


def _edges(node: Node, operand: Callable[[int], ast.expr], out: ast.expr) -> list[ast.expr | None]:
    """d(node)/d(parent) for each parent, from the op table, as Python on floats."""
    parents = [operand(p) for p in node.parents]
    op = node.op
    if isinstance(op, FusedOp):
        roles = op.roles(len(parents))
        by_role = {(role, i): parent for (role, i), parent in zip(roles, parents)}
        edges: list[ast.expr | None] = []
        for role, i in roles:
            partners = {"x_i": by_role.get(("x_i", i)), "w_i": by_role.get(("w_i", i))}
            known = {k: v for k, v in partners.items() if v is not None}
            edges.append(
                _python_expression(op.derivatives[role], {**known, "out": out}, "slope_pow")
            )
        return edges
    assert isinstance(op, Op)
    operands = {**dict(zip(op.inputs, parents)), "out": out}
    return [
        None if d is None else _python_expression(d, operands, "slope_pow") for d in op.derivatives
    ]


def _times(grad: ast.expr, derivative: ast.expr) -> ast.expr:
    """grad * derivative, written as grad where the derivative is 1 and -grad where -1."""
    if isinstance(derivative, ast.Constant) and derivative.value == 1.0:
        return grad
    if (
        isinstance(derivative, ast.UnaryOp)
        and isinstance(derivative.operand, ast.Constant)
        and derivative.operand.value == 1.0
    ):
        return ast.UnaryOp(ast.USub(), grad)
    return ast.BinOp(grad, ast.Mult(), derivative)


# ---- NumPy over a batch: each scalar node a column, each layer a matrix product ----

_NUMPY_FUNCTIONS = {
    "exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "tanh": "np.tanh", "sin": "np.sin",
    "cos": "np.cos", "abs": "np.abs", "max": "np.maximum", "round": "np.round",
    "sign": "np.sign",
}  # fmt: skip


class _NumPyForm(ast.NodeTransformer):
    """An op-table expression over arrays: `a if c else b` is np.where(c, a, b), and/or
    are logical_and/or, step(x) is np.sign(np.maximum(x, 0.0)): 0 at 0 and below, NaN
    stays NaN, as np.heaviside(x, 0.0) but twice as fast; after a ReLU, whose output
    is np.maximum(x, 0.0), it reads np.sign(A1) (see `_Reuse`)."""

    @staticmethod
    def _call(function: str, *args: ast.expr) -> ast.Call:
        return ast.Call(ast.parse(function, mode="eval").body, list(args), [])

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        assert isinstance(node.func, ast.Name)
        if node.func.id == "step":
            return self._call("np.sign", self._call("np.maximum", node.args[0], ast.Constant(0.0)))
        return self._call(_NUMPY_FUNCTIONS[node.func.id], *node.args)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        return self._call("np.where", node.test, node.body, node.orelse)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        function = "np.logical_and" if isinstance(node.op, ast.And) else "np.logical_or"
        result = node.values[0]
        for value in node.values[1:]:
            result = self._call(function, result, value)
        return result

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        pairs: list[ast.expr] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            pairs.append(ast.Compare(left, [op], [right]))
            left = right
        result = pairs[0]
        for pair in pairs[1:]:
            result = self._call("np.logical_and", result, pair)
        return result


class _Reuse(ast.NodeTransformer):
    """Put the name of a forward line in place of its expression, where a derivative
    computes it again: np.sign(np.maximum(Z1, 0.0)) becomes np.sign(A1)."""

    def __init__(self, computed: dict[str, str]) -> None:
        self.computed = computed  # ast.dump of an expression -> the name it is saved under

    def visit(self, node: ast.AST) -> Any:
        name = self.computed.get(ast.dump(node)) if isinstance(node, ast.expr) else None
        return ast.Name(name, ast.Load()) if name else super().visit(node)


def _numpy_expression(expression: str, operands: dict[str, ast.expr]) -> ast.expr:
    tree = _Fold(_PYTHON_NAMESPACE).visit(_Substitute(operands).visit(_parsed(expression)))
    return ast.fix_missing_locations(_NumPyForm().visit(tree))  # type: ignore[no-any-return]


def _code(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


@dataclass
class _Pack:
    """Nodes computed together: column j of the array `name` is node lanes[j]."""

    name: str
    lanes: list[int | None]
    kind: str  # "input", "dense", "map" or "single"


@dataclass
class Layout:
    """Where each parameter sits in the flat array `theta` the NumPy code reads:
    each layer's weights as one block (row-major), then its biases, then the rest."""

    order: list[int]  # parameter index at each position of theta

    @property
    def position(self) -> dict[int, int]:
        """theta position of each parameter index."""
        return {p: k for k, p in enumerate(self.order)}


@dataclass
class _Emitter:
    graph: Graph
    varies: list[bool]
    theta_of: dict[int, int]  # node -> theta position, for parameter nodes
    want_input_grads: bool
    numbers: int  # the last inputs are numbers per sample, read from T, never differentiated
    forward: list[str] = field(default_factory=list)
    backward: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # shared (per-batch scalar) nodes
    lane_of: dict[int, tuple[_Pack, int]] = field(default_factory=dict)
    packs: list[_Pack] = field(default_factory=list)
    started: set[str] = field(default_factory=set)  # adjoints already assigned
    output_is_shared: bool = False  # the output is the same for every sample
    sums_over_samples: bool = False  # backward sums a bias's adjoint over the samples
    counters: dict[str, int] = field(default_factory=dict)
    computed: dict[str, str] = field(default_factory=dict)  # forward expressions, see _Reuse
    saved: list[str] = field(default_factory=list)  # the names forward returns for backward

    def fresh(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]}"

    def constant_array(self, values: list[Any], prefix: str) -> str:
        import numpy as np

        name = self.fresh(prefix)
        self.constants[name] = np.array(values)
        return name


def _columns(pack: _Pack, cols: Sequence[int]) -> str:
    """Columns `cols` of a pack as NumPy source: Z1, Z1[:, 2:5] or Z1[:, [0, 3]]."""
    cols = list(cols)
    if cols == list(range(len(pack.lanes))):
        return pack.name
    if cols == list(range(cols[0], cols[0] + len(cols))):
        return f"{pack.name}[:, {cols[0]}:{cols[0] + len(cols)}]"
    return f"{pack.name}[:, {cols}]"


def _layout(graph: Graph) -> Layout:
    """Parameters in the order the dense layers of `graph` read them, then the rest."""
    node_to_parameter = {i: k for k, i in enumerate(graph.parameters) if i is not None}
    order: list[int] = []
    seen: set[int] = set()
    emitter = _plan(graph, {}, want_input_grads=False)
    for pack in emitter.packs:
        if pack.kind != "dense":
            continue
        dots = [graph.nodes[i] for i in pack.lanes if i is not None]
        blocks = [
            [p for d in dots for p in d.parents[: len(d.parents) // 2]],
            [d.parents[-1] for d in dots if len(d.parents) % 2],
        ]
        for block in blocks:
            ks = [node_to_parameter[p] for p in block]
            if len(set(ks)) == len(ks) and not seen & set(ks):
                order.extend(ks)
                seen.update(ks)
    order.extend(k for k in range(len(graph.parameters)) if k not in seen)
    return Layout(order)


def _plan(
    graph: Graph, theta_of: dict[int, int], want_input_grads: bool, numbers: int = 0
) -> _Emitter:
    """Group the graph's per-sample nodes into packs, wave by wave: nodes whose
    parents are all computed, with the same op reading the same packs, go together.
    The last `numbers` inputs are a pack of their own, T."""
    nodes = graph.nodes
    varies = [False] * len(nodes)
    for i in graph.inputs:
        if i is not None:
            varies[i] = True
    for i, node in enumerate(nodes):
        if node.kind == "op" and any(varies[p] for p in node.parents):
            varies[i] = True
    emitter = _Emitter(graph, varies, theta_of, want_input_grads, numbers)
    split = len(graph.inputs) - numbers
    for name, leaves in (("X", graph.inputs[:split]), ("T", graph.inputs[split:])):
        inputs = _Pack(name, list(leaves), "input")
        emitter.packs.append(inputs)
        for col, i in enumerate(leaves):
            if i is not None:
                emitter.lane_of[i] = (inputs, col)
    remaining = [i for i, node in enumerate(nodes) if node.kind == "op" and varies[i]]
    while remaining:
        ready = [
            i for i in remaining
            if all(not varies[p] or p in emitter.lane_of for p in nodes[i].parents)
        ]  # fmt: skip
        groups: dict[Any, list[int]] = {}
        for i in ready:
            groups.setdefault(_pack_key(emitter, i), []).append(i)
        for key, members in groups.items():
            for lanes in _distinct_lanes(emitter, key, members):
                kind = key[0]
                pack = _Pack("", list(lanes), kind)
                emitter.packs.append(pack)
                for col, i in enumerate(lanes):
                    emitter.lane_of[i] = (pack, col)
        done = set(ready)
        remaining = [i for i in remaining if i not in done]
    return emitter


def _pack_key(emitter: _Emitter, i: int) -> Any:
    node = emitter.graph.nodes[i]
    nodes = emitter.graph.nodes
    op = node.op
    if isinstance(op, FusedOp) and op.name == "dot" and len(node.parents) >= 2:
        n = len(node.parents) // 2
        ws, xs, bias = node.parents[:n], node.parents[n : 2 * n], node.parents[2 * n :]
        if (
            all(nodes[p].kind == "parameter" for p in (*ws, *bias))
            and all(emitter.varies[p] for p in xs)
            and len({id(emitter.lane_of[p][0]) for p in xs}) == 1
        ):
            return ("dense", xs, bool(bias))
    if isinstance(op, Op):
        return ("map", op.name, tuple(_operand_kind(emitter, p) for p in node.parents))
    return ("single", i)


def _operand_kind(emitter: _Emitter, p: int) -> tuple[Any, ...]:
    if emitter.varies[p]:
        return ("lane", id(emitter.lane_of[p][0]))
    kind = emitter.graph.nodes[p].kind
    return (kind,) if kind in ("constant", "parameter") else ("shared", p)


def _distinct_lanes(emitter: _Emitter, key: Any, members: list[int]) -> list[list[int]]:
    """Split a group so that no two of its nodes read the same columns (x * 2 and x * 3
    from the same x go to two packs): one column of each pack per node."""
    if key[0] != "map":
        return [members]
    nodes = emitter.graph.nodes

    def columns(i: int) -> tuple[int, ...]:
        return tuple(emitter.lane_of[p][1] for p in nodes[i].parents if emitter.varies[p])

    packs: list[dict[tuple[int, ...], int]] = []
    for i in members:
        for pack in packs:
            if columns(i) not in pack:
                pack[columns(i)] = i
                break
        else:
            packs.append({columns(i): i})
    return [[pack[c] for c in sorted(pack)] for pack in packs]


# A layer's weighted sums become matrix products only because the op table says a
# dot's derivatives are its partners (d/dw_i = x_i, d/dx_i = w_i, d/db = 1): then
# the batch's sum of dZ * x_i is dZ.T @ X. Should the table say otherwise, each dot
# is written out term by term from the table instead.
_DOT_IS_BILINEAR = dict(FUSED_OPS["dot"].derivatives) == {"w_i": "x_i", "x_i": "w_i", "b": "1.0"}


def _numpy_program(emitter: _Emitter) -> str:
    graph, nodes = emitter.graph, emitter.graph.nodes
    wanted = {i for i in graph.parameters if i is not None}
    if emitter.want_input_grads:
        differentiated = graph.inputs[: len(graph.inputs) - emitter.numbers]
        wanted.update(i for i in differentiated if i is not None)
    needs = _needs_grad(graph, wanted)
    forward, backward = emitter.forward, emitter.backward
    arguments = ["X", "theta", "T"] if emitter.numbers else ["X", "theta"]
    defined = list(arguments)
    views: list[str] = []  # backward's views of grad, one per weight matrix and bias

    def theta(positions: list[int], block: bool = False) -> str:
        if len(set(positions)) == 1 and not block:
            return f"theta[{positions[0]}]"
        if positions == list(range(len(graph.parameters))):
            return "theta"
        first = positions[0]
        if positions == list(range(first, first + len(positions))):
            return f"theta[{first}:{first + len(positions)}]"
        return f"theta[{emitter.constant_array(positions, 'I')}]"

    def add_to_parameters(positions: list[int], share: str, reduce: str) -> None:
        if len(set(positions)) == 1:
            backward.append(f"grad[{positions[0]}] += np.sum({share})")
        elif len(set(positions)) == len(positions):
            backward.append(f"{theta(positions).replace('theta', 'grad')} += {share}{reduce}")
        else:
            index = emitter.constant_array(positions, "I")
            backward.append(f"np.add.at(grad, {index}, {share}{reduce})")

    # An adjoint first set to another array (dH1 = dH4) shares it, so adding to it in
    # place would change both: it is added to in place only once it owns its array.
    owned: set[str] = set()

    def add_to(pack: _Pack, cols: list[int], share: str, full_shape: bool = True) -> None:
        name = f"d{pack.name}"
        full = cols == list(range(len(pack.lanes)))
        if name not in emitter.started:
            emitter.started.add(name)
            if full and full_shape:
                backward.append(f"{name} = {share}")
                if not (share.isidentifier() or "[" in share):  # a new array, not a view
                    owned.add(name)
                return
            backward.append(f"{name} = np.zeros_like({pack.name})")
            owned.add(name)
        if full and name not in owned:
            backward.append(f"{name} = {name} + {share}")
            return
        if name not in owned:
            backward.append(f"{name} = {name}.copy()")
            owned.add(name)
        if len(set(cols)) < len(cols):  # a column read twice: `+=` would add it once
            backward.append(f"np.add.at({name}, (slice(None), {list(cols)}), {share})")
            return
        target = name if full else f"{name}{_columns(pack, cols)[len(pack.name) :]}"
        backward.append(f"{target} += {share}")

    def add_to_shared(i: int, share: str) -> None:
        name = f"g_{emitter.names[i]}"
        backward.append(f"{name} {'+=' if name in emitter.started else '='} {share}")
        emitter.started.add(name)

    def operand(parents: list[int]) -> tuple[str, str]:
        """The operand that `parents` (one per lane) form, and its kind."""
        first = parents[0]
        if emitter.varies[first]:
            pack = emitter.lane_of[first][0]
            return _columns(pack, [emitter.lane_of[p][1] for p in parents]), "lane"
        kind = nodes[first].kind
        if kind == "constant":
            values = [nodes[p].data for p in parents]
            if all(v == values[0] for v in values):
                return ast.unparse(_number(values[0])), kind
            return emitter.constant_array([values], "C"), kind
        if kind == "parameter":
            return theta([emitter.theta_of[p] for p in parents]), kind
        return emitter.names[first], "shared"

    def contribute_shared(parents: list[int], share: str, full_shape: bool = True) -> None:
        first = parents[0]
        if first not in needs:
            return
        if nodes[first].kind == "parameter":
            add_to_parameters([emitter.theta_of[p] for p in parents], share, "")
        elif nodes[first].kind == "op":
            add_to_shared(first, share)

    def contribute(parents: list[int], share: str, full_shape: bool = True) -> None:
        first = parents[0]
        if first not in needs:
            return
        if emitter.varies[first]:
            pack = emitter.lane_of[first][0]
            add_to(pack, [emitter.lane_of[p][1] for p in parents], share, full_shape)
        elif nodes[first].kind == "parameter":
            add_to_parameters([emitter.theta_of[p] for p in parents], share, ".sum(axis=0)")
        elif nodes[first].kind == "op":
            add_to_shared(first, f"{share}.sum()" if share.isidentifier() else f"({share}).sum()")

    # Nodes that are the same for every sample (made from parameters and constants
    # only, as an L2 penalty is) are computed once, as numbers.
    shared = [i for i, n in enumerate(nodes) if n.kind == "op" and not emitter.varies[i]]
    taken: set[str] = set()
    for i in shared:
        emitter.names[i] = _identifier(nodes[i].label or emitter.fresh("s"), taken)
    for i in shared:
        _emit_shared(emitter, i, operand, theta)
        defined.append(emitter.names[i])

    # Per-sample nodes, pack by pack.
    for pack in emitter.packs[2:]:  # after the inputs, X and T
        _emit_pack_forward(emitter, pack, operand, theta, defined, views)

    # The outputs, and the adjoints they start from.
    outputs = graph.outputs
    backward_args = "dOut"
    all_varies = all(emitter.varies[i] for i in outputs)
    if all_varies and len({id(emitter.lane_of[i][0]) for i in outputs}) == 1:
        pack = emitter.lane_of[outputs[0]][0]
        cols = [emitter.lane_of[i][1] for i in outputs]
        result = _columns(pack, cols)
        if cols == list(range(len(pack.lanes))):
            backward_args = f"d{pack.name}"
            if outputs[0] in needs:
                emitter.started.add(backward_args)
        else:
            contribute(outputs, "dOut")
    elif not any(emitter.varies[i] for i in outputs) and len(outputs) == 1:
        # The same for every sample (an L2 penalty): its adjoint is one number, dOut.
        emitter.output_is_shared = True
        result, _ = operand(outputs)
        contribute_shared(outputs, "dOut")
    else:
        columns = []
        for k, i in enumerate(outputs):
            text, kind = operand([i])
            columns.append(text if kind == "lane" else f"np.full((X.shape[0], 1), {text})")
            contribute([i], f"dOut[:, {k}:{k + 1}]")
        result = f"np.concatenate([{', '.join(columns)}], axis=1)"

    for pack in reversed(emitter.packs[2:]):
        if f"d{pack.name}" in emitter.started:
            _emit_pack_backward(emitter, pack, operand, contribute, add_to_parameters, views)
    for i in reversed(shared):
        if f"g_{emitter.names[i]}" in emitter.started:
            _emit_shared_backward(emitter, i, operand, contribute_shared)

    grad_x = (
        "dX"
        if "dX" in emitter.started
        else ("np.zeros_like(X)" if emitter.want_input_grads else "None")
    )
    emitter.saved = defined
    lines = [f"def forward({', '.join(arguments)}):"]
    lines += [f"    {line}" for line in forward]
    lines.append(f"    return {result}, {_tuple(defined)}")
    lines.append("")
    # The views of grad are made once per grad array (see BatchProgram.backward).
    named = [v.split(" = ")[0] for v in views if not v.startswith("#")]
    if views:
        lines.append("def gradient_views(grad):")
        lines += [f"    {line}" for line in views]
        lines.append(f"    return {_tuple(named) if named else '()'}")
        lines.append("")
        lines.append(f"def backward(saved, {backward_args}, grad, views):")
    else:
        lines.append(f"def backward(saved, {backward_args}, grad):")
    lines.append(
        f"    {_tuple(defined)[1:-1].rstrip(',')}, = saved"
        if len(defined) == 1
        else f"    {', '.join(defined)} = saved"
    )
    if named:
        lines.append(f"    {', '.join(named)}{',' if len(named) == 1 else ''} = views")
    if emitter.sums_over_samples:
        # A bias is a weight whose input is always 1: db1 += dZ1.T @ ones, as dW1 += dZ1.T @ X
        # (a matrix product sums over the samples 2x as fast as dZ1.sum(axis=0) does).
        lines.append("    ones = np.ones(len(X))")
    lines += [f"    {line}" for line in backward]
    lines.append(f"    return {grad_x}")
    return "\n".join(lines) + "\n"


def _emit_shared(emitter: _Emitter, i: int, operand: Any, theta: Any) -> None:
    node = emitter.graph.nodes[i]
    name = emitter.names[i]
    op = node.op
    if isinstance(op, FusedOp) and op.name == "dot" and _dot_over_parameters(emitter, node):
        ws, xs = _pairs_in_theta_order(emitter, node)
        w, x = (theta([emitter.theta_of[p] for p in ps]) for ps in (ws, xs))
        text = f"{w} @ {x}"
        if len(node.parents) % 2:
            text = f"{operand([node.parents[-1]])[0]} + {text}"
        emitter.forward.append(f"{name} = {text}")
        return
    parents = [_code(operand([p])[0]) for p in node.parents]
    if isinstance(op, FusedOp):
        terms = _expand_fused_forward(op, _fused_roles(op, parents))
        emitter.forward += _sum_lines(name, [_term(_NumPyForm().visit(t)) for t in terms])
        return
    assert isinstance(op, Op)
    expression = _numpy_expression(op.forward, dict(zip(op.inputs, parents)))
    emitter.forward.append(f"{name} = {ast.unparse(expression)}")


def _pairs_in_theta_order(emitter: _Emitter, node: Node) -> tuple[list[int], list[int]]:
    """A dot's (weight, input) pairs sorted by where the weights sit in theta, so that
    an L2 penalty over all parameters reads theta as one slice (NumPy's dot does not
    add left to right anyway)."""
    n = len(node.parents) // 2
    pairs = sorted(
        zip(node.parents[:n], node.parents[n : 2 * n]), key=lambda pair: emitter.theta_of[pair[0]]
    )
    return [w for w, _ in pairs], [x for _, x in pairs]


def _dot_over_parameters(emitter: _Emitter, node: Node) -> bool:
    n = len(node.parents) // 2
    return (
        _DOT_IS_BILINEAR
        and n > 1
        and all(emitter.graph.nodes[p].kind == "parameter" for p in node.parents[: 2 * n])
    )


def _emit_shared_backward(emitter: _Emitter, i: int, operand: Any, contribute: Any) -> None:
    node = emitter.graph.nodes[i]
    grad = f"g_{emitter.names[i]}"
    op = node.op
    if isinstance(op, FusedOp) and op.name == "dot" and _dot_over_parameters(emitter, node):
        ws, xs = _pairs_in_theta_order(emitter, node)
        if ws == xs:  # p . p, a sum of squares: both edges reach p, one line adds both
            contribute(ws, f"(2.0 * {grad}) * {operand(xs)[0]}", True)
        else:
            contribute(ws, f"{grad} * {operand(xs)[0]}", True)
            contribute(xs, f"{grad} * {operand(ws)[0]}", True)
        if len(node.parents) % 2:
            contribute([node.parents[-1]], grad)
        return
    _emit_edges(
        emitter, node, [[p] for p in node.parents], grad, emitter.names[i], operand, contribute
    )


def _emit_edges(
    emitter: _Emitter,
    node: Node,
    parents: list[list[int]],
    grad: str,
    out: str,
    operand: Any,
    contribute: Any,
) -> None:
    """One line per input: its adjoint += this node's adjoint * the table's derivative."""
    operands = [_code(operand(ps)[0]) for ps in parents]
    op = node.op
    if isinstance(op, FusedOp):
        roles = op.roles(len(operands))
        by_role = {(role, i): x for (role, i), x in zip(roles, operands)}
        expressions: list[str | None] = [op.derivatives[role] for role, _ in roles]
        names = [
            {
                k: v
                for k, v in (("x_i", by_role.get(("x_i", i))), ("w_i", by_role.get(("w_i", i))))
                if v is not None
            }
            for _, i in roles
        ]
    else:
        assert isinstance(op, Op)
        expressions = list(op.derivatives)
        names = [dict(zip(op.inputs, operands))] * len(operands)
    for ps, expression, known in zip(parents, expressions, names):
        if expression is None:
            continue
        edge = _Reuse(emitter.computed).visit(
            _numpy_expression(expression, {**known, "out": _code(out)})
        )
        share = ast.unparse(_times(_code(grad), edge))
        contribute(ps, share)


def _emit_pack_forward(
    emitter: _Emitter, pack: _Pack, operand: Any, theta: Any, defined: list[str], views: list[str]
) -> None:
    nodes = emitter.graph.nodes
    lanes = [i for i in pack.lanes if i is not None]
    first = nodes[lanes[0]]
    if pack.kind == "dense":
        k = emitter.fresh("Z")[1:]
        pack.name = f"Z{k}"
        n = len(first.parents) // 2
        x = operand(list(first.parents[n : 2 * n]))[0]
        weights = [emitter.theta_of[p] for i in lanes for p in nodes[i].parents[:n]]
        emitter.forward.append(f"W{k} = {theta(weights, True)}.reshape({len(lanes)}, {n})")
        text = f"{x} @ W{k}.T"
        defined += [f"W{k}"]
        views.append(_gradient_view(f"dW{k}", theta(weights, True), f".reshape({len(lanes)}, {n})"))
        if len(first.parents) % 2:
            biases = theta([emitter.theta_of[nodes[i].parents[-1]] for i in lanes], True)
            emitter.forward.append(f"b{k} = {biases}")
            views.append(_gradient_view(f"db{k}", biases, ""))
            text += f" + b{k}"
        emitter.forward.append(f"{pack.name} = {text}")
        defined.append(pack.name)
        return
    op = first.op
    if pack.kind == "map":
        assert isinstance(op, Op)
        source = emitter.lane_of.get(first.parents[0]) if first.parents else None
        is_activation = (
            op.activation
            and source is not None
            and source[0].kind == "dense"
            and len(pack.lanes) == len(source[0].lanes)
        )
        pack.name = f"A{source[0].name[1:]}" if is_activation and source else emitter.fresh("H")
        operands = {
            name: _code(operand([nodes[i].parents[k] for i in lanes])[0])
            for k, name in enumerate(op.inputs)
        }
        expression = _numpy_expression(op.forward, operands)
        emitter.forward.append(f"{pack.name} = {ast.unparse(expression)}")
        emitter.computed[ast.dump(expression)] = pack.name
        defined.append(pack.name)
        return
    pack.name = emitter.fresh("H")
    assert isinstance(op, FusedOp)
    if op.name == "sum":
        terms = []
        for run in _runs(emitter, list(first.parents)):
            text, kind = operand(run)
            terms.append(
                f"{text}.sum(axis=1, keepdims=True)" if kind == "lane" and len(run) > 1 else text
            )
        emitter.forward += _sum_lines(pack.name, terms)
    else:
        parents = [_code(operand([p])[0]) for p in first.parents]
        expanded = _expand_fused_forward(op, _fused_roles(op, parents))
        emitter.forward += _sum_lines(pack.name, [_term(_NumPyForm().visit(t)) for t in expanded])
    defined.append(pack.name)


def _gradient_view(name: str, block: str, reshape: str) -> str:
    """`dW1 = grad[0:8].reshape(4, 2)`: a view, so `dW1 += ...` adds into grad. A block
    gathered from scattered positions (a weight shared between layers) is no view:
    its gradient is added position by position instead (see `_add_to_view`)."""
    if "theta[I" in block:
        return f"# {name}: added into grad at {block[6:-1]} with np.add.at"
    return f"{name} = {block.replace('theta', 'grad')}{reshape}"


def _add_to_view(emitter: _Emitter, views: list[str], name: str, share: str) -> None:
    view = next(v for v in views if v.startswith((f"{name} =", f"# {name}:")))
    if view.startswith("#"):
        index = view.split(" at ")[1].split(" ")[0]
        emitter.backward.append(f"np.add.at(grad, {index}, ({share}).ravel())")
    else:
        emitter.backward.append(f"{name} += {share}")


def _runs(emitter: _Emitter, parents: list[int]) -> list[list[int]]:
    """Consecutive parents from the same pack, each column once: one slice each."""
    runs: list[list[int]] = []
    for p in parents:
        last = runs[-1] if runs else None
        if (
            last is not None
            and emitter.varies[p]
            and emitter.varies[last[0]]
            and emitter.lane_of[p][0] is emitter.lane_of[last[0]][0]
            and emitter.lane_of[p][1] == emitter.lane_of[last[-1]][1] + 1
        ):
            last.append(p)
        else:
            runs.append([p])
    return runs


def _emit_pack_backward(
    emitter: _Emitter,
    pack: _Pack,
    operand: Any,
    contribute: Any,
    add_to_parameters: Any,
    views: list[str],
) -> None:
    nodes = emitter.graph.nodes
    lanes = [i for i in pack.lanes if i is not None]
    first = nodes[lanes[0]]
    grad = f"d{pack.name}"
    if pack.kind == "dense":
        k = pack.name[1:]
        n = len(first.parents) // 2
        xs = list(first.parents[n : 2 * n])
        x = operand(xs)[0]
        contribute(xs, f"{grad} @ W{k}")
        _add_to_view(emitter, views, f"dW{k}", f"{grad}.T @ {x}")
        if len(first.parents) % 2:
            emitter.sums_over_samples = True
            _add_to_view(emitter, views, f"db{k}", f"{grad}.T @ ones")
        return
    if pack.kind == "map":
        parents = [[nodes[i].parents[k] for i in lanes] for k in range(len(first.parents))]
        _emit_edges(emitter, first, parents, grad, pack.name, operand, contribute)
        return
    op = first.op
    assert isinstance(op, FusedOp)
    if op.name == "sum":
        for run in _runs(emitter, list(first.parents)):
            contribute(run, grad, len(run) == 1)
        return
    _emit_edges(emitter, first, [[p] for p in first.parents], grad, pack.name, operand, contribute)


class BatchProgram:
    """A traced graph as NumPy over a batch: `forward(X, theta)` gives the outputs
    (one row per sample) and what backward needs; `backward(saved, d_outputs, grad)`
    adds the parameters' gradients, summed over the batch, into `grad` and returns
    the inputs' (None when not asked for). d_outputs has a row per sample, or is one
    number where the output is the same for every sample (`output_is_shared`). The
    last `numbers` inputs are numbers read per sample (a loss's targets), passed
    apart as `forward(X, theta, T)` and given no gradient."""

    def __init__(
        self, graph: Graph, layout: Layout, want_input_grads: bool, numbers: int = 0
    ) -> None:
        import numpy as np

        position = layout.position
        theta_of = {i: position[k] for k, i in enumerate(graph.parameters) if i is not None}
        emitter = _plan(graph, theta_of, want_input_grads, numbers)
        program = _numpy_program(emitter)
        # Then backward takes d(loss)/d(output) as one number, the sum over the samples.
        self.output_is_shared = emitter.output_is_shared
        self.saved_names = emitter.saved
        self.column_of = {i: (pack.name, col) for i, (pack, col) in emitter.lane_of.items()}
        header = "".join(
            f"{name} = np.array({value.tolist()!r})\n" for name, value in emitter.constants.items()
        )
        self.source = f"{header}\n{program}" if header else program
        namespace: dict[str, Any] = {"np": np, "float": float}
        exec(builtins.compile(self.source, "<scalargrad numpy>", "exec"), namespace)
        self.forward: Callable[..., tuple[Any, Any]] = namespace["forward"]
        self._backward: Callable[..., Any] = namespace["backward"]
        self._gradient_views: Callable[[Any], tuple[Any, ...]] | None = namespace.get(
            "gradient_views"
        )
        self._views_of: tuple[Any, tuple[Any, ...]] = (None, ())  # grad, its views

    def backward(self, saved: Any, d_outputs: Any, grad: Any) -> Any:
        """Add the parameters' gradients into `grad`; the inputs' gradients (or None).
        The views of `grad` (dW1, db1, ...) are made once while `grad` is the same array."""
        if self._gradient_views is None:
            return self._backward(saved, d_outputs, grad)
        if self._views_of[0] is not grad:
            self._views_of = (grad, self._gradient_views(grad))
        return self._backward(saved, d_outputs, grad, self._views_of[1])


# ---- the compiled function -------------------------------------------------------------


class Result(NamedTuple):
    """What a compiled function returns: the output and its gradients."""

    output: float
    input_grads: tuple[float, ...]
    parameter_grads: tuple[float, ...]


class BatchResult(NamedTuple):
    """A compiled function over a batch: one row per sample; parameter gradients summed."""

    outputs: Any  # shape (samples,)
    input_grads: Any  # shape (samples, inputs)
    parameter_grads: Any  # shape (parameters,), summed over the samples


class Compiled:
    """A function traced once and compiled; see `compile`."""

    def __init__(
        self,
        function: Callable[..., Value],
        graph: Graph,
        input_names: list[str],
        parameters: list[Value],
        check: int,
    ) -> None:
        self.function = function
        self.graph = graph
        self.input_names = input_names
        self.parameters = parameters
        self.checks_left = check
        names = _scalar_names(graph, input_names)
        parameter_names = [
            names[i] if i is not None else _identifier(p.label or f"p{k}", set(names))
            for k, (i, p) in enumerate(zip(graph.parameters, parameters))
        ]
        input_args = [
            names[i] if i is not None else _identifier(name, set(names))
            for i, name in zip(graph.inputs, input_names)
        ]
        self.source: str = _scalar_program(graph, names, input_args, parameter_names)
        namespace = dict(_PYTHON_NAMESPACE)
        exec(builtins.compile(self.source, "<scalargrad compiled>", "exec"), namespace)
        self._run: Callable[..., tuple[float, tuple[float, ...], tuple[float, ...]]] = namespace[
            "forward_backward"
        ]
        self._batch: BatchProgram | None = None

    def __call__(self, *inputs: float) -> Result:
        """The output and the gradients for these inputs, parameters at their current `.data`."""
        numbers = self._checked(inputs)
        output, input_grads, parameter_grads = self._run(
            *numbers, *(p.data for p in self.parameters)
        )
        result = Result(output, input_grads, parameter_grads)
        if self.checks_left > 0:
            self.checks_left -= 1
            self._compare_with_eager(numbers, result)
        return result

    def _checked(self, inputs: Sequence[float]) -> list[float]:
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"compiled function: traced with {len(self.input_names)} inputs "
                f"({', '.join(self.input_names)}), called with {len(inputs)}; compile it "
                f"again for inputs of another shape"
            )
        numbers = []
        for name, x in zip(self.input_names, inputs):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError(
                    f"compiled function: input {name} must be a number, got {x!r} of type "
                    f"{type(x).__name__}"
                )
            numbers.append(float(x))
        return numbers

    def _compare_with_eager(self, numbers: list[float], result: Result) -> None:
        inputs = [Value(x, label=name) for x, name in zip(numbers, self.input_names)]
        root = self.function(*inputs)
        graph = trace([root], inputs, self.parameters)
        if graph.structure() != self.graph.structure():
            raise TraceMismatchError(
                f"compiled function: on inputs {numbers} the function builds another graph "
                f"({len(graph.nodes)} nodes, traced with {len(self.graph.nodes)}): Python "
                f"control flow (an if or a loop on .data) was frozen when tracing; compile "
                f"it for these inputs, or call it eagerly"
            )
        grads = _eager_gradients(root)
        eager = [
            ("the output", root.data, result.output),
            *((f"d/d{n}", grads.get(id(v), 0.0), g)
              for n, v, g in zip(self.input_names, inputs, result.input_grads)),
            *((f"d/d{p.label or k}", grads.get(id(p), 0.0), g)
              for k, (p, g) in enumerate(zip(self.parameters, result.parameter_grads))),
        ]  # fmt: skip
        for what, expected, got in eager:
            if not _close(expected, got):
                raise TraceMismatchError(
                    f"compiled function: on inputs {numbers}, {what} is {got!r} compiled "
                    f"but {expected!r} eagerly: a number read from .data while tracing was "
                    f"frozen; compile it for these inputs, or call it eagerly"
                )

    @property
    def numpy_source(self) -> str:
        """The NumPy code that runs this function over a batch (see `batch`)."""
        return self._batch_program().source

    def _batch_program(self) -> BatchProgram:
        if self._batch is None:
            self._batch = BatchProgram(self.graph, _layout(self.graph), want_input_grads=True)
            self._layout = _layout(self.graph)
        return self._batch

    def batch(self, X: Any) -> BatchResult:
        """The function on every row of `X` at once, with NumPy: the outputs and input
        gradients per row, and the parameter gradients summed over the rows.

        >>> from scalargrad import Value
        >>> w = Value(2.0, label="w")
        >>> f = compile(lambda x: x * w, [1.0], [w])
        >>> f.batch([[1.0], [3.0]]).parameter_grads.tolist()
        [4.0]
        """
        import numpy as np

        program = self._batch_program()
        rows = np.asarray(X, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != len(self.input_names):
            raise ValueError(
                f"compiled function: batch must have one row of {len(self.input_names)} "
                f"inputs per sample, got an array of shape {rows.shape}"
            )
        order = self._layout.order
        theta = np.array([self.parameters[k].data for k in order], dtype=float)
        grad = np.zeros_like(theta)
        outputs, saved = program.forward(rows, theta)
        seeds = float(rows.shape[0]) if program.output_is_shared else np.ones((rows.shape[0], 1))
        input_grads = program.backward(saved, seeds, grad)
        parameter_grads = np.empty_like(grad)
        parameter_grads[order] = grad
        outputs = np.broadcast_to(np.reshape(outputs, (-1, 1))[:, 0], (rows.shape[0],))
        return BatchResult(outputs, input_grads, parameter_grads)


def _eager_gradients(root: Value) -> dict[int, float]:
    from scalargrad.engine import gradients

    return {id(v): g for v, g in gradients(root).items()}


def _close(expected: float, got: float) -> bool:
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    return abs(expected - got) <= 1e-9 * max(1.0, abs(expected))


def compile(
    function: Callable[..., Value],
    example_inputs: Sequence[float],
    parameters: Sequence[Value] = (),
    *,
    check: int = 0,
) -> Compiled:
    """Trace `function(*inputs)` once on `example_inputs` and compile its graph.

    The result, called with numbers, returns the output and the gradients with
    respect to each input and each of `parameters` (read at their current `.data`),
    equal to eager `backward()`. `.source` shows the forward and backward passes as
    Python; `.batch(X)` runs them over the rows of X with NumPy (`.numpy_source`).
    Python control flow is frozen when tracing; `check=n` compares the first n calls
    with the eager engine.

    >>> f = compile(lambda x, y: x * y + x.tanh(), [1.0, 2.0])
    >>> print(f.source)  # doctest: +NORMALIZE_WHITESPACE
    def forward_backward(x, y):
        # forward: one line per node
        h1 = x * y
        h2 = tanh(x)
        o = h1 + h2
        # backward: the chain rule, one line per edge, newest node first
        g_o = 1.0
        g_h1 = g_o
        g_h2 = g_o
        g_x = g_h2 * (1.0 - h2 * h2)
        g_x += g_h1 * y
        g_y = g_h1 * x
        return o, (g_x, g_y), ()
    """
    if not is_grad_enabled():
        raise RuntimeError("compile: tracing records a graph, which no_grad() switches off")
    params = list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"compile: parameters must be Values, got {p!r} at position {k}")
    names = _input_names(function, len(example_inputs))
    for name, x in zip(names, example_inputs):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(
                f"compile: example input {name} must be a number, got {x!r} of type "
                f"{type(x).__name__}"
            )
    inputs = [Value(float(x), label=name) for x, name in zip(example_inputs, names)]
    root = function(*inputs)
    if not isinstance(root, Value):
        raise TypeError(
            f"compile: the function must return one Value (a loss, a score), got "
            f"{type(root).__name__}; for several outputs, compile a function of each"
        )
    return Compiled(function, trace([root], inputs, params), names, params, check)


def _input_names(function: Callable[..., Any], count: int) -> list[str]:
    """The function's own argument names where it has them, else x0, x1, ..."""
    try:
        arguments = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        arguments = []
    positional = [
        a.name for a in arguments
        if a.kind in (a.POSITIONAL_ONLY, a.POSITIONAL_OR_KEYWORD)
    ]  # fmt: skip
    if len(positional) == count and all(a.kind != a.VAR_POSITIONAL for a in arguments):
        return positional
    return [f"x{i}" for i in range(count)]


def source(root: Value, inputs: Sequence[Value] = ()) -> str:
    """The forward and backward passes of `root`'s graph as Python: what `scalargrad
    graph FORMULA --code` prints. Labelled leaves are inputs; other leaves, numbers.

    >>> from scalargrad import Value
    >>> x = Value(0.5, label="x")
    >>> print(source((x * 2).tanh()).splitlines()[2])
        h1 = x * 2.0
    """
    leaves = list(inputs) or [v for v in topological_order(root) if not v.parents and v.label]
    graph = trace([root], leaves)
    names = _scalar_names(graph, [v.label for v in leaves])
    args = [names[i] for i in graph.inputs if i is not None]
    return _scalar_program(graph, names, args, [])


# ---- training ------------------------------------------------------------------------


class TrainingStep:
    """fit's step, compiled: the model over a batch as matrices, the loss sample by
    sample, the L2 penalty once; the parameters' numbers and gradients as NumPy arrays.

    The model is traced on one sample. The loss is traced on one sample for each
    target value (a loss's Python may branch on the target, as hinge does), and
    losses whose graphs differ only in a number (mse's target), or in adding where
    another subtracts (hinge's 1 + s and 1 - s), share one program that reads the
    numbers per sample, from the array T. Where one loss program takes every
    sample, it is joined to the model's: the step is one program (`joined`). The
    package's losses are means over samples, so the batch's loss is the mean of
    these; the first step is compared with the eager engine (`check_steps`), which
    would catch a loss or model for which it is not.
    """

    def __init__(
        self,
        model: Callable[[list[Value]], Value | list[Value]],
        samples: Sequence[Sequence[Value]],
        targets: Sequence[Any],
        parameters: Sequence[Value],
        loss: Callable[[Any, Sequence[Any]], Value],
        penalty: Callable[[], Value] | None = None,
        check_steps: int = 1,
    ) -> None:
        import numpy as np

        if not is_grad_enabled():
            raise RuntimeError("compile: tracing records a graph, which no_grad() switches off")
        self.model, self.loss, self.penalty = model, loss, penalty
        self.parameters = list(parameters)
        self.checks_left = check_steps
        self.samples, self.targets = list(samples), list(targets)
        self.X = np.array([[v.data for v in sample] for sample in samples], dtype=float)
        inputs = [Value(x, label=f"x{i}") for i, x in enumerate(self.X[0].tolist())]
        example = model(inputs)
        outputs = [example] if isinstance(example, Value) else list(example)
        self.n_outputs = len(outputs)
        graph = trace(outputs, inputs, self.parameters)
        self.layout = _layout(graph)
        self.model_program = BatchProgram(graph, self.layout, want_input_grads=False)
        self.theta_parameters = [self.parameters[k] for k in self.layout.order]
        # The gradient's array, filled anew at each step: views of it are made once.
        self.grad = np.zeros(len(self.theta_parameters))

        self.heads: list[BatchProgram] = []
        # Per target: its loss program, the numbers in it, and which outputs it reads.
        head_of: dict[Any, tuple[int, list[float], list[int]]] = {}
        shapes: dict[Any, list[tuple[Any, Graph]]] = {}
        example_outputs = [v.data for v in outputs]
        for target in dict.fromkeys(targets):
            leaves = [Value(x, label=f"o{i}") for i, x in enumerate(example_outputs)]
            predictions = leaves[0] if self.n_outputs == 1 else leaves
            head = trace([loss([predictions], [target])], leaves, self.parameters)
            shapes.setdefault(_shape(head), []).append((target, head))
        # Within a group, a number that differs between targets is read per sample, and
        # so is an output read in one place that differs between targets (the logit of
        # the target class in cross_entropy): it is picked per sample, an extra column.
        # A node that adds for some targets and subtracts for others (hinge's 1 - s and
        # 1 + s) becomes a - k * b, k = +1 or -1 a number read per sample.
        self.extra_columns: list[list[int]] = []
        self.picked_reads: list[list[int]] = []
        for group, traced in enumerate(shapes.values()):
            graphs = [head for _, head in traced]
            signed = [
                i for i, nodes in enumerate(zip(*(g.nodes for g in graphs)))
                if len({n.op.name for n in nodes if n.op is not None}) > 1
            ]  # fmt: skip
            graphs = [_signed(head, signed) for head in graphs]
            for (target, _), head in zip(traced, graphs):
                numbers = [n.data for n in head.nodes if n.kind == "constant"]
                head_of[target] = (group, numbers, _input_reads(head))
            members = [head_of[target][1:] for target, _ in traced]
            numbers, reads = members[0]
            constants = [k for k in range(len(numbers)) if len({m[0][k] for m in members}) > 1]
            picked = [k for k in range(len(reads)) if len({m[1][k] for m in members}) > 1]
            self.extra_columns.append(constants)
            self.picked_reads.append(picked)
            head_graph = _with_inputs(_with_picked_inputs(graphs[0], picked), constants)
            self.heads.append(BatchProgram(head_graph, self.layout, True, len(constants)))
        # One loss program for every sample, picking nothing: it joins the model's, and
        # the step is one program, forward and backward, with the outputs saved in it.
        self.joined: tuple[BatchProgram, int] | None = None
        if len(self.heads) == 1 and not self.picked_reads[0]:
            joined = BatchProgram(
                _joined(graph, head_graph, self.n_outputs), self.layout, False,
                len(self.extra_columns[0]),
            )  # fmt: skip
            # The outputs must be one array of the program, all of it, to be returned.
            columns = [joined.column_of[i] for i in graph.outputs]
            pack = columns[0][0]
            width = sum(name == pack for name, _ in joined.column_of.values())
            if columns == [(pack, k) for k in range(width)]:
                self.joined = (joined, joined.saved_names.index(pack))
        self.group = np.array([head_of[t][0] for t in targets])
        self.per_sample_numbers = [
            np.array([[head_of[t][1][k] for k in varying] for t in targets])
            for varying in self.extra_columns
        ]
        self.per_sample_picks = [
            np.array([[head_of[t][2][k] for k in picked] for t in targets], dtype=np.intp)
            for picked in self.picked_reads
        ]
        self._last_groups: tuple[Any, list[_HeadRows]] | None = None
        self.penalty_program = None
        self.no_rows = self.X[:0]  # what the penalty's program, the same for all, reads
        if penalty is not None:
            self.penalty_program = BatchProgram(
                trace([penalty()], [], self.parameters), self.layout, False
            )

    def __call__(self, rows: Sequence[int] | None, theta: Any) -> tuple[float, Any, Any]:
        """The loss, the outputs (a row per sample) and d(loss)/d(theta) on the samples
        number `rows` (None: all, in order), the parameters' numbers in `theta` (see
        `read_parameters`); the first calls (`check_steps`) are compared with eager."""
        import numpy as np

        chosen = None if rows is None else np.asarray(rows)
        loss, outputs, grad = self.loss_and_gradient(chosen, theta)
        if self.checks_left > 0:
            self.checks_left -= 1
            self.write_parameters(theta, grad)
            self._compare_with_eager(range(len(self.X)) if rows is None else rows, loss, grad)
        return loss, outputs, grad

    def read_parameters(self) -> Any:
        """The parameters' `.data` as one NumPy array, in the order of `theta_parameters`."""
        import numpy as np

        return np.array([p.data for p in self.theta_parameters], dtype=float)

    def write_parameters(self, theta: Any, grad: Any) -> None:
        """Set the parameters' `.data` and `.grad` from arrays ordered as `theta_parameters`."""
        for p, data, g in zip(self.theta_parameters, theta.tolist(), grad.tolist()):
            p.data, p.grad = data, g

    def loss_and_gradient(self, rows: Any, theta: Any) -> tuple[float, Any, Any]:
        """The loss, the outputs and d(loss)/d(theta) on samples number `rows` (an array,
        or None for all), all in NumPy: `theta` holds the parameters in the order of
        `theta_parameters`. The gradient is the step's own array (`self.grad`), which
        the next call fills anew: copy it to keep it."""
        X = self.X if rows is None else self.X[rows]
        grad = self.grad
        grad.fill(0.0)
        if self.joined is not None:
            program, outputs_at = self.joined
            (group,) = self._groups(rows)
            numbers = () if group.numbers is None else (group.numbers,)
            losses, saved = program.forward(X, theta, *numbers)
            program.backward(saved, group.seed, grad)
            outputs, total = saved[outputs_at], losses.sum()
        else:
            outputs, total = self._model_then_losses(rows, X, theta, grad)
        return self._with_penalty(float(total) * (1.0 / len(X)), theta, grad), outputs, grad

    def _model_then_losses(self, rows: Any, X: Any, theta: Any, grad: Any) -> tuple[Any, Any]:
        """The outputs and the sum of the losses, by the model's program and then each
        loss program on its samples; their gradients added into `grad`."""
        import numpy as np

        outputs, saved = self.model_program.forward(X, theta)
        d_outputs = None
        total = 0.0
        m = self.n_outputs
        for group in self._groups(rows):
            head = self.heads[group.program]
            inputs = outputs if group.samples is None else outputs[group.samples]
            if group.picks is not None:
                inputs = np.hstack([inputs, np.take_along_axis(inputs, group.picks, axis=1)])
            numbers = () if group.numbers is None else (group.numbers,)
            losses, head_saved = head.forward(inputs, theta, *numbers)
            d_inputs = head.backward(head_saved, group.seed, grad)
            d_head = d_inputs[:, :m]
            if group.picks is not None:  # each pick's gradient back to the output it read
                d_head = d_head.copy()
                for j, column in enumerate(group.picks.T):
                    d_head[np.arange(len(d_head)), column] += d_inputs[:, m + j]
            if group.samples is None:
                d_outputs = d_head
            else:
                if d_outputs is None:
                    d_outputs = np.empty_like(outputs)
                d_outputs[group.samples] = d_head
            total += losses.sum()
        self.model_program.backward(saved, d_outputs, grad)
        return outputs, total

    def _with_penalty(self, loss: float, theta: Any, grad: Any) -> float:
        """The loss plus the penalty, whose gradient is added into `grad`."""
        if self.penalty_program is None:
            return loss
        value, saved = self.penalty_program.forward(self.no_rows, theta)
        self.penalty_program.backward(saved, 1.0, grad)  # d(loss)/d(penalty) is 1
        return loss + float(value)

    def _groups(self, rows: Any) -> list[_HeadRows]:
        """For each loss program: its samples in `rows`, their numbers and picks, their
        seeds. Kept for the next call, which in full-batch training has the same rows."""
        import numpy as np

        key = None if rows is None else rows.tobytes()
        if self._last_groups is not None and self._last_groups[0] == key:
            return self._last_groups[1]
        all_rows = np.arange(len(self.X)) if rows is None else rows
        n = len(all_rows)
        groups = []
        in_group = self.group[all_rows]
        for g in range(len(self.heads)):
            chosen = np.flatnonzero(in_group == g)
            if not len(chosen):
                continue
            mine = all_rows[chosen]
            groups.append(
                _HeadRows(
                    g,
                    None if len(chosen) == n else chosen,
                    self.per_sample_numbers[g][mine] if self.extra_columns[g] else None,
                    self.per_sample_picks[g][mine] if self.picked_reads[g] else None,
                    np.full((len(chosen), 1), 1.0 / n),
                )
            )
        self._last_groups = (key, groups)
        return groups

    def _compare_with_eager(self, rows: Sequence[int], loss: float, grad: Any) -> None:
        predictions = [self.model(list(self.samples[i])) for i in rows]
        eager = self.loss(predictions, [self.targets[i] for i in rows])
        if self.penalty is not None:
            eager = eager + self.penalty()
        grads = _eager_gradients(eager)
        compiled = dict(zip(map(id, self.theta_parameters), grad.tolist()))
        checks = [("the loss", eager.data, loss)] + [
            (f"d(loss)/d{p.label or k}", grads.get(id(p), 0.0), compiled[id(p)])
            for k, p in enumerate(self.parameters)
        ]
        for what, expected, got in checks:
            if not _close(expected, got):
                raise TraceMismatchError(
                    f"compiled training: {what} is {got!r} compiled but {expected!r} eagerly. "
                    f"The compiled step needs a model that builds the same graph for every "
                    f"sample and a loss that is the mean of per-sample losses; train with "
                    f"compile=False"
                )


class _HeadRows(NamedTuple):
    """The samples of a batch that one loss program takes, and what it reads of them."""

    program: int  # index into TrainingStep.heads
    samples: Any  # their rows within the batch; None for all
    numbers: Any  # numbers read per sample (None: none)
    picks: Any  # for each pick, which output each sample reads (None: none)
    seed: Any  # d(loss)/d(this sample's loss): 1 / batch size


def _input_reads(graph: Graph) -> list[int]:
    """Which input each edge from an input reads, edge by edge in the order of the nodes."""
    position = {i: k for k, i in enumerate(graph.inputs) if i is not None}
    return [position[p] for node in graph.nodes for p in node.parents if p in position]


def _shape(graph: Graph) -> Any:
    """`structure()` without which input each edge from an input reads, and with add
    and sub as one op: the loss graphs of two targets that differ only there share one
    program (see `_signed`)."""
    inputs = {i for i in graph.inputs if i is not None}
    return tuple(
        (kind, "add" if op == "sub" else op, tuple(-1 if p in inputs else p for p in parents))
        for kind, op, parents in graph.structure()
    )


def _signed(graph: Graph, where: list[int]) -> Graph:
    """`graph` with each add or sub at `where` written a - k * b, with a new constant k:
    +1 for a sub, -1 for an add. The same numbers bit for bit (a product with +-1 is
    exact, and a + b is a - (-b)), and one structure whether the node adds or subtracts.
    """
    if not where:
        return graph
    nodes: list[Node] = []
    moved: list[int] = []
    for i, node in enumerate(graph.nodes):
        parents = tuple(moved[p] for p in node.parents)
        if i in where:
            a, b = parents
            k = 1.0 if node.op is OPS["sub"] else -1.0
            nodes.append(Node("constant", None, (), k, ""))
            nodes.append(Node("op", OPS["mul"], (len(nodes) - 1, b), k * nodes[b].data, ""))
            node = Node("op", OPS["sub"], (a, len(nodes) - 1), node.data, node.label)
        else:
            node = Node(node.kind, node.op, parents, node.data, node.label)
        moved.append(len(nodes))
        nodes.append(node)

    def at(index: int | None) -> int | None:
        return None if index is None else moved[index]

    return Graph(
        nodes,
        [at(i) for i in graph.inputs],
        [at(i) for i in graph.parameters],
        [moved[i] for i in graph.outputs],
    )


def _with_picked_inputs(graph: Graph, picked: list[int]) -> Graph:
    """`graph` with its edges from inputs number `picked` (edges counted as `_input_reads`
    counts them) each reading a new input of its own: the last inputs, whose leaves
    are the first nodes."""
    if not picked:
        return graph
    inputs = {i for i in graph.inputs if i is not None}
    edge_of: dict[tuple[int, int], int] = {}
    count = 0
    for i, node in enumerate(graph.nodes):
        for slot, p in enumerate(node.parents):
            if p in inputs:
                edge_of[i, slot] = count
                count += 1
    shift = len(picked)  # the new leaves go first, so that every parent comes before
    new_leaf = {edge: k for k, edge in enumerate(picked)}
    nodes = [Node("input", None, (), 0.0, "") for _ in picked]
    for i, node in enumerate(graph.nodes):
        parents = tuple(
            new_leaf[edge_of[i, slot]] if edge_of.get((i, slot)) in new_leaf else p + shift
            for slot, p in enumerate(node.parents)
        )
        nodes.append(Node(node.kind, node.op, parents, node.data, node.label))

    def moved(index: int | None) -> int | None:
        return None if index is None else index + shift

    return Graph(
        nodes,
        [*map(moved, graph.inputs), *range(shift)],
        list(map(moved, graph.parameters)),
        [i + shift for i in graph.outputs],
    )


def _joined(model: Graph, head: Graph, m: int) -> Graph:
    """The model's graph with the loss's after it: the loss reads the model's outputs
    where it read its first `m` inputs; its other inputs (numbers per sample) follow
    the model's inputs, and a parameter both read is one node."""
    moved: dict[int, int] = {}
    for k, i in enumerate(head.inputs[:m]):
        if i is not None:
            moved[i] = model.outputs[k]
    for mine, theirs in zip(model.parameters, head.parameters):
        if mine is not None and theirs is not None:
            moved[theirs] = mine
    nodes = list(model.nodes)
    for i, node in enumerate(head.nodes):
        if i not in moved:
            moved[i] = len(nodes)
            parents = tuple(moved[p] for p in node.parents)
            nodes.append(Node(node.kind, node.op, parents, node.data, node.label))

    def at(index: int | None) -> int | None:
        return None if index is None else moved[index]

    return Graph(
        nodes,
        [*model.inputs, *map(at, head.inputs[m:])],
        [mine if mine is not None else at(theirs)
         for mine, theirs in zip(model.parameters, head.parameters)],
        [moved[i] for i in head.outputs],
    )  # fmt: skip


def _with_inputs(graph: Graph, constants: list[int]) -> Graph:
    """`graph` with its constants number `constants` (counted among constants) made inputs."""
    positions = [i for i, n in enumerate(graph.nodes) if n.kind == "constant"]
    chosen = [positions[k] for k in constants]
    nodes = list(graph.nodes)
    for i in chosen:
        nodes[i] = Node("input", None, (), nodes[i].data, "")
    return Graph(nodes, [*graph.inputs, *chosen], graph.parameters, graph.outputs)

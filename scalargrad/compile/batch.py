"""NumPy over a batch: each scalar node a column over the samples, each layer's
weighted sums one matrix product."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scalargrad.compile.expressions import (
    _PYTHON_NAMESPACE,
    _expand_fused_forward,
    _Fold,
    _fused_roles,
    _number,
    _parsed,
    _Substitute,
    _sum_lines,
    _term,
)
from scalargrad.compile.packs import Layout, Plan, _Pack, _plan
from scalargrad.compile.scalar import _needs_grad, _times, _tuple
from scalargrad.compile.trace import Graph, Node, _identifier
from scalargrad.ops import FUSED_OPS, FusedOp, Op

_NUMPY_FUNCTIONS = {
    "exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "tanh": "np.tanh", "sin": "np.sin",
    "cos": "np.cos", "abs": "np.abs", "max": "np.maximum", "round": "np.round",
    "sign": "np.sign",
}  # fmt: skip


# The names the NumPy code gives its own arrays and functions (with trace's _RESERVED).
_NUMPY_NAMES = re.compile(
    r"d?[WbZAH]\d+|[CI]\d+|ones|views|weights|dOut"
    r"|parameter_views|gradient_views|forward|backward"
)


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
class _Block:
    """A layer's weights (W1) or biases (b1) in theta: the matrix the code reads and
    the block of grad (dW1) its gradient goes to."""

    name: str
    positions: list[int]
    reshape: str  # ".reshape(16, 2)" for a matrix, "" for biases
    index: str | None  # a weight shared between layers: scattered positions, this array

    def of(self, array: str) -> str:
        """The block in `array` (theta or grad): theta[0:32].reshape(16, 2)."""
        if self.index is not None:  # gathered: a copy, not a view
            return f"{array}[{self.index}]{self.reshape}"
        first = self.positions[0]
        return f"{array}[{first}:{first + len(self.positions)}]{self.reshape}"


@dataclass
class _Emitter:
    """The NumPy code of a plan as it is written, and what writing it has to remember."""

    plan: Plan
    theta_of: dict[int, int]  # node -> theta position, for parameter nodes
    want_input_grads: bool
    fit_step: bool = False  # see BatchProgram
    totals: int = 0  # the last outputs are added once to the loss (an L2 penalty)
    forward: list[str] = field(default_factory=list)
    backward: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # shared (per-batch scalar) nodes
    started: set[str] = field(default_factory=set)  # adjoints already assigned
    output_is_shared: bool = False  # the output is the same for every sample
    sums_over_samples: bool = False  # backward sums a bias's adjoint over the samples
    counters: dict[str, int] = field(default_factory=dict)
    computed: dict[str, str] = field(default_factory=dict)  # forward expressions, see _Reuse
    saved: list[str] = field(default_factory=list)  # the names forward returns for backward
    blocks: dict[str, _Block] = field(default_factory=dict)  # by name: W1, b1, ...
    written: set[int] = field(default_factory=set)  # theta positions backward has written so far

    # The plan's, read throughout.
    @property
    def graph(self) -> Graph:
        return self.plan.graph

    @property
    def varies(self) -> list[bool]:
        return self.plan.varies

    @property
    def numbers(self) -> int:
        return self.plan.numbers

    @property
    def lane_of(self) -> dict[int, tuple[_Pack, int]]:
        return self.plan.lane_of

    @property
    def packs(self) -> list[_Pack]:
        return self.plan.packs

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

    def theta(positions: list[int]) -> str:
        if len(set(positions)) == 1:
            return f"theta[{positions[0]}]"
        if positions == list(range(len(graph.parameters))):
            return "theta"
        first = positions[0]
        if positions == list(range(first, first + len(positions))):
            return f"theta[{first}:{first + len(positions)}]"
        return f"theta[{emitter.constant_array(positions, 'I')}]"

    def add_to_parameters(positions: list[int], share: str, reduce: str) -> None:
        emitter.written.update(positions)
        if len(set(positions)) == 1:
            backward.append(f"grad[{positions[0]}] += np.sum({share})")
        elif len(set(positions)) == len(positions):
            backward.append(f"grad{theta(positions)[len('theta') :]} += {share}{reduce}")
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
        label = nodes[i].label
        if _NUMPY_NAMES.fullmatch(label):  # a label that is a name of the code: v_ones
            label = f"v_{label}"
        emitter.names[i] = _identifier(label or emitter.fresh("s"), taken)
    for i in shared:
        _emit_shared(emitter, i, operand, theta)
        defined.append(emitter.names[i])

    # Per-sample nodes, pack by pack.
    for pack in emitter.packs[2:]:  # after the inputs, X and T
        _emit_pack_forward(emitter, pack, operand, defined)

    # The outputs, and the adjoints they start from.
    outputs = graph.outputs[: len(graph.outputs) - emitter.totals]
    for i in graph.outputs[len(outputs) :]:
        assert not emitter.varies[i], "a total is the same for every sample"
        contribute_shared([i], "1.0")  # d(loss)/d(a total added to it)
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
            _emit_pack_backward(emitter, pack, operand, contribute)
    for i in reversed(shared):
        if f"g_{emitter.names[i]}" in emitter.started:
            _emit_shared_backward(emitter, i, operand, contribute_shared)

    grad_x = (
        "dX"
        if "dX" in emitter.started
        else ("np.zeros_like(X)" if emitter.want_input_grads else "None")
    )
    emitter.saved = defined
    # The views of theta and grad: for fit's step, made once (see BatchProgram) by
    # parameter_views and gradient_views; in the code a learner reads, at the top of
    # forward and backward. A block gathered from scattered positions is no view: it
    # is read in forward each time, and its gradient added with np.add.at.
    blocks = [b for b in emitter.blocks.values() if b.index is None]
    weights = [b.name for b in blocks] if emitter.fit_step else []
    theta_views = [f"{b.name} = {b.of('theta')}" for b in blocks]
    grad_views = [f"d{b.name} = {b.of('grad')}" for b in blocks]
    # A bias is a weight whose input is always 1: db1 += ones @ dZ1, as dW1 += dZ1.T @ X
    # (a matrix product sums over the samples 2x as fast as dZ1.sum(axis=0) does).
    ones = ["ones"] if emitter.sums_over_samples else []
    extras = (["views"] if weights else []) + (ones if emitter.fit_step else [])
    lines = []
    if weights:
        gradients = [f"d{w}" for w in weights]
        lines += _function("parameter_views", ["theta"], theta_views, _tuple(weights))
        lines += _function("gradient_views", ["grad"], grad_views, _tuple(gradients))
        arguments.append("weights")
        forward.insert(0, _unpacking(weights, "weights"))
        backward.insert(0, _unpacking(gradients, "views"))
    else:
        backward[:0] = grad_views + [f"{name} = np.ones(len(X))" for name in ones]
    lines += _function("forward", arguments, forward, f"{result}, {_tuple(defined)}")
    backward.insert(0, _unpacking(defined, "saved"))
    lines += _function("backward", ["saved", backward_args, "grad", *extras], backward, grad_x)
    return "\n".join(lines)


def _unpacking(names: list[str], value: str) -> str:
    """`a, b = value`; `a, = value` for one name."""
    return f"{', '.join(names)}{',' if len(names) == 1 else ''} = {value}"


def _function(name: str, arguments: list[str], body: list[str], result: str) -> list[str]:
    """The lines of `def name(arguments):` with `body` and `return result`, and a blank."""
    return [
        f"def {name}({', '.join(arguments)}):",
        *(f"    {line}" for line in body),
        f"    return {result}",
        "",
    ]


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


def _emit_pack_forward(emitter: _Emitter, pack: _Pack, operand: Any, defined: list[str]) -> None:
    nodes = emitter.graph.nodes
    lanes = [i for i in pack.lanes if i is not None]
    first = nodes[lanes[0]]
    if pack.kind == "dense":
        k = emitter.fresh("Z")[1:]
        pack.name = f"Z{k}"
        n = len(first.parents) // 2
        x = operand(list(first.parents[n : 2 * n]))[0]
        weights = [emitter.theta_of[p] for i in lanes for p in nodes[i].parents[:n]]
        _add_block(emitter, f"W{k}", weights, f".reshape({len(lanes)}, {n})")
        text = f"{x} @ W{k}.T"
        defined += [f"W{k}"]
        if len(first.parents) % 2:
            biases = [emitter.theta_of[nodes[i].parents[-1]] for i in lanes]
            _add_block(emitter, f"b{k}", biases, "")
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


def _add_block(emitter: _Emitter, name: str, positions: list[int], reshape: str) -> None:
    """A layer's weights or biases, read in forward as `name`: W1 = theta[0:8].reshape(4, 2)
    where the code makes its views there (see `_numpy_program`)."""
    first = positions[0]
    contiguous = positions == list(range(first, first + len(positions)))
    index = None if contiguous else emitter.constant_array(positions, "I")
    block = _Block(name, positions, reshape, index)
    emitter.blocks[name] = block
    if not emitter.fit_step or index is not None:
        emitter.forward.append(f"{name} = {block.of('theta')}")


def _add_product(emitter: _Emitter, name: str, left: str, right: str) -> None:
    """Add the product left @ right to the gradient of block `name` (dW1 += dZ1.T @ X).
    In fit's step, where grad is zeroed by the caller and nothing has written the block
    yet, the product is written into it, np.matmul(..., out=dW1): no temporary array to
    add (8% of the standard step)."""
    block = emitter.blocks[name]
    if block.index is not None:
        emitter.backward.append(f"np.add.at(grad, {block.index}, ({left} @ {right}).ravel())")
    elif emitter.fit_step and emitter.written.isdisjoint(block.positions):
        emitter.backward.append(f"np.matmul({left}, {right}, out=d{name})")
    else:
        emitter.backward.append(f"d{name} += {left} @ {right}")
    emitter.written.update(block.positions)


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


def _emit_pack_backward(emitter: _Emitter, pack: _Pack, operand: Any, contribute: Any) -> None:
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
        _add_product(emitter, f"W{k}", f"{grad}.T", x)
        if len(first.parents) % 2:
            emitter.sums_over_samples = True
            _add_product(emitter, f"b{k}", "ones", grad)
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
    apart as `forward(X, theta, T)` and given no gradient. The last `totals` outputs
    are the same for every sample and added once to the loss (fit's L2 penalty,
    joined to the step): not returned but saved, under their `total_names`, and
    backward starts each at 1.

    `source` is the code, whole in itself: forward makes its views of theta (W1, b1)
    and backward those of grad (dW1, db1), into which it adds. As fit's step
    (`fit_step`), whose caller zeroes grad before backward and passes the same theta
    and grad arrays from call to call, it writes each block of grad where it would
    add (np.matmul(dZ1.T, X, out=dW1) for dW1 += dZ1.T @ X), and takes the views and
    the column of ones it sums with as arguments, made once by `parameter_views` and
    `gradient_views`: a step program keeps the last theta and grad it was given.
    """

    def __init__(
        self,
        graph: Graph,
        layout: Layout,
        want_input_grads: bool,
        numbers: int = 0,
        fit_step: bool = False,
        totals: int = 0,
    ) -> None:
        import numpy as np

        position = layout.position
        theta_of = {i: position[k] for k, i in enumerate(graph.parameters) if i is not None}
        emitter = _Emitter(_plan(graph, numbers), theta_of, want_input_grads, fit_step, totals)
        program = _numpy_program(emitter)
        # Then backward takes d(loss)/d(output) as one number, the sum over the samples.
        self.output_is_shared = emitter.output_is_shared
        self.saved_names = emitter.saved
        self.total_names = [emitter.names[i] for i in graph.outputs[len(graph.outputs) - totals :]]
        self.column_of = {i: (pack.name, col) for i, (pack, col) in emitter.lane_of.items()}
        header = "".join(
            f"{name} = np.array({value.tolist()!r})\n" for name, value in emitter.constants.items()
        )
        self.source = f"{header}\n{program}" if header else program
        namespace: dict[str, Any] = {"np": np, "float": float}
        exec(builtins.compile(self.source, "<scalargrad numpy>", "exec"), namespace)
        self._forward: Callable[..., tuple[Any, Any]] = namespace["forward"]
        self._backward: Callable[..., Any] = namespace["backward"]
        self._parameter_views: Callable[[Any], tuple[Any, ...]] | None = namespace.get(
            "parameter_views"
        )
        self._gradient_views: Callable[[Any], tuple[Any, ...]] | None = namespace.get(
            "gradient_views"
        )
        self._takes_ones = fit_step and emitter.sums_over_samples
        # What forward and backward take after their own arguments in a step program:
        # the views of the last theta; those of the last grad, and ones for the last
        # batch size.
        self._theta: Any = None
        self._weights: tuple[Any, ...] = ()
        self._grad: Any = None
        self._n = -1
        self._extras: tuple[Any, ...] = ()

    def forward(self, X: Any, theta: Any, *numbers: Any) -> tuple[Any, Any]:
        """The outputs, a row per sample, and what backward needs."""
        if self._parameter_views is None:
            return self._forward(X, theta, *numbers)
        if theta is not self._theta:  # fit updates its theta in place: views made once
            self._theta, self._weights = theta, (self._parameter_views(theta),)
        return self._forward(X, theta, *numbers, *self._weights)

    def backward(self, saved: Any, d_outputs: Any, grad: Any) -> Any:
        """Add the parameters' gradients into `grad` (a step program writes them: the
        caller has zeroed it); the inputs' gradients (or None)."""
        if self._gradient_views is None and not self._takes_ones:
            return self._backward(saved, d_outputs, grad)
        n = len(d_outputs)  # a row per sample
        if grad is not self._grad or n != self._n:
            import numpy as np

            self._grad, self._n = grad, n
            views = () if self._gradient_views is None else (self._gradient_views(grad),)
            self._extras = (*views, *((np.ones(n),) if self._takes_ones else ()))
        return self._backward(saved, d_outputs, grad, *self._extras)

"""Tracing: a function's scalar graph recorded once, as numbered nodes, and the
names the generated code gives them."""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass

from scalargrad.engine import Value, topological_order
from scalargrad.engine import sum as value_sum
from scalargrad.oplang import FUNCTIONS
from scalargrad.ops import FusedOp, Op


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



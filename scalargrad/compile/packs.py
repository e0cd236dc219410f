"""Which per-sample nodes the NumPy code computes together: packs of nodes, each
one array with a column per node, a layer's weighted sums one matrix product; and
where each parameter sits in theta."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalargrad.compile.trace import Graph
from scalargrad.ops import FusedOp, Op


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
class Plan:
    """A graph's per-sample nodes in packs, in the order they can be computed."""

    graph: Graph
    varies: list[bool]  # per node: does it differ from sample to sample?
    numbers: int  # the last inputs are numbers per sample, read from T, never differentiated
    lane_of: dict[int, tuple[_Pack, int]] = field(default_factory=dict)  # node -> pack, column
    packs: list[_Pack] = field(default_factory=list)  # X and T first


def _layout(graph: Graph) -> Layout:
    """Parameters in the order the dense layers of `graph` read them, then the rest."""
    node_to_parameter = {i: k for k, i in enumerate(graph.parameters) if i is not None}
    order: list[int] = []
    seen: set[int] = set()
    for pack in _plan(graph).packs:
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


def _plan(graph: Graph, numbers: int = 0) -> Plan:
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
    plan = Plan(graph, varies, numbers)
    split = len(graph.inputs) - numbers
    for name, leaves in (("X", graph.inputs[:split]), ("T", graph.inputs[split:])):
        inputs = _Pack(name, list(leaves), "input")
        plan.packs.append(inputs)
        for col, i in enumerate(leaves):
            if i is not None:
                plan.lane_of[i] = (inputs, col)
    remaining = [i for i, node in enumerate(nodes) if node.kind == "op" and varies[i]]
    while remaining:
        ready = [
            i for i in remaining
            if all(not varies[p] or p in plan.lane_of for p in nodes[i].parents)
        ]  # fmt: skip
        groups: dict[Any, list[int]] = {}
        for i in ready:
            groups.setdefault(_pack_key(plan, i), []).append(i)
        for key, members in groups.items():
            for lanes in _distinct_lanes(plan, key, members):
                kind = key[0]
                pack = _Pack("", list(lanes), kind)
                plan.packs.append(pack)
                for col, i in enumerate(lanes):
                    plan.lane_of[i] = (pack, col)
        done = set(ready)
        remaining = [i for i in remaining if i not in done]
    return plan


def _pack_key(plan: Plan, i: int) -> Any:
    node = plan.graph.nodes[i]
    nodes = plan.graph.nodes
    op = node.op
    if isinstance(op, FusedOp) and op.name == "dot" and len(node.parents) >= 2:
        n = len(node.parents) // 2
        ws, xs, bias = node.parents[:n], node.parents[n : 2 * n], node.parents[2 * n :]
        if (
            all(nodes[p].kind == "parameter" for p in (*ws, *bias))
            and all(plan.varies[p] for p in xs)
            and len({id(plan.lane_of[p][0]) for p in xs}) == 1
        ):
            return ("dense", xs, bool(bias))
    if isinstance(op, Op):
        return ("map", op.name, tuple(_operand_kind(plan, p) for p in node.parents))
    return ("single", i)


def _operand_kind(plan: Plan, p: int) -> tuple[Any, ...]:
    if plan.varies[p]:
        return ("lane", id(plan.lane_of[p][0]))
    kind = plan.graph.nodes[p].kind
    return (kind,) if kind in ("constant", "parameter") else ("shared", p)


def _distinct_lanes(plan: Plan, key: Any, members: list[int]) -> list[list[int]]:
    """Split a group so that no two of its nodes read the same columns (x * 2 and x * 3
    from the same x go to two packs): one column of each pack per node."""
    if key[0] != "map":
        return [members]
    nodes = plan.graph.nodes

    def columns(i: int) -> tuple[int, ...]:
        return tuple(plan.lane_of[p][1] for p in nodes[i].parents if plan.varies[p])

    packs: list[dict[tuple[int, ...], int]] = []
    for i in members:
        for pack in packs:
            if columns(i) not in pack:
                pack[columns(i)] = i
                break
        else:
            packs.append({columns(i): i})
    return [[pack[c] for c in sorted(pack)] for pack in packs]

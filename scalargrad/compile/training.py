"""Training through the compiled batch step: the whole step's loss and gradient in
NumPy, as `fit(..., compile=True)` runs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from scalargrad.compile.batch import BatchProgram
from scalargrad.compile.compiled import _eager_gradients, _refuse_disagreement
from scalargrad.compile.packs import _layout, _plan
from scalargrad.compile.trace import Graph, Node, trace
from scalargrad.engine import Value, is_grad_enabled
from scalargrad.ops import OPS


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
        penalty_graph = None if penalty is None else trace([penalty()], [], self.parameters)
        # One loss program for every sample, picking nothing: it joins the model's, and
        # so does the penalty: the step is one program, forward and backward, with the
        # outputs and the penalty saved in it.
        self.joined: _Joined | None = None
        if len(self.heads) == 1 and not self.picked_reads[0]:
            step_graph = _joined(graph, head_graph, self.n_outputs)
            # The outputs must be one array of the step's program, all of it, to be returned.
            plan = _plan(step_graph, len(self.extra_columns[0]))
            lanes = [plan.lane_of.get(i) for i in graph.outputs]
            pack = lanes[0][0] if lanes[0] is not None else None
            whole = pack is not None and lanes == [(pack, k) for k in range(len(pack.lanes))]
            # A penalty that is an op (not a bare parameter) has a name to be saved under.
            penalty_joins = (
                penalty_graph is not None
                and penalty_graph.nodes[penalty_graph.outputs[0]].kind == "op"
            )
            if whole:
                if penalty_graph is not None and penalty_joins:
                    step_graph = _with_total(step_graph, penalty_graph)
                joined = BatchProgram(
                    step_graph, self.layout, False, len(self.extra_columns[0]),
                    fit_step=True,  # loss_and_gradient zeroes grad; fit keeps theta one array
                    totals=1 if penalty_joins else 0,
                )  # fmt: skip
                outputs_name = joined.column_of[graph.outputs[0]][0]
                penalty_at = None
                if penalty_joins:
                    penalty_at = joined.saved_names.index(joined.total_names[0])
                self.joined = _Joined(joined, joined.saved_names.index(outputs_name), penalty_at)
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
        if penalty_graph is not None and (self.joined is None or self.joined.penalty_at is None):
            self.penalty_program = BatchProgram(penalty_graph, self.layout, False)

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
            program, outputs_at, penalty_at = self.joined
            group = self._groups(rows)[0]
            losses, saved = program.forward(X, theta, *group.arguments)
            program.backward(saved, group.seed, grad)
            outputs, loss = saved[outputs_at], float(losses.sum()) * (1.0 / len(X))
            if penalty_at is not None:  # joined to the step's program
                loss += float(saved[penalty_at])
        else:
            outputs, total = self._model_then_losses(rows, X, theta, grad)
            loss = float(total) * (1.0 / len(X))
        return self._with_penalty(loss, theta, grad), outputs, grad

    def _model_then_losses(self, rows: Any, X: Any, theta: Any, grad: Any) -> tuple[Any, Any]:
        """The outputs and the sum of the losses, by the model's program and then each
        loss program on its samples; their gradients added into `grad`."""
        import numpy as np

        outputs, saved = self.model_program.forward(X, theta)
        shared = self.model_program.output_is_shared  # one number for all: a row each
        if shared:
            outputs = np.full((len(X), 1), outputs)
        d_outputs: Any = None
        total = 0.0
        m = self.n_outputs
        for group in self._groups(rows):
            head = self.heads[group.program]
            inputs = outputs if group.samples is None else outputs[group.samples]
            if group.picks is not None:
                inputs = np.hstack([inputs, np.take_along_axis(inputs, group.picks, axis=1)])
            losses, head_saved = head.forward(inputs, theta, *group.arguments)
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
        self.model_program.backward(saved, d_outputs.sum() if shared else d_outputs, grad)
        return outputs, total

    def _with_penalty(self, loss: float, theta: Any, grad: Any) -> float:
        """The loss plus the penalty, whose gradient is added into `grad`, where the
        penalty has a program of its own (not joined to the step's)."""
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
                    (self.per_sample_numbers[g][mine],) if self.extra_columns[g] else (),
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
        _refuse_disagreement(
            checks,
            "compiled training: ",
            ". The compiled step needs a model that builds the same graph for every sample "
            "and a loss that is the mean of per-sample losses; train with compile=False",
        )


class _Joined(NamedTuple):
    """The step as one program, and where its saved arrays hold the outputs and penalty."""

    program: BatchProgram
    outputs_at: int
    penalty_at: int | None  # None: no penalty


class _HeadRows(NamedTuple):
    """The samples of a batch that one loss program takes, and what it reads of them."""

    program: int  # index into TrainingStep.heads
    samples: Any  # their rows within the batch; None for all
    arguments: tuple[Any, ...]  # forward's after X and theta: (T,), numbers per sample, or ()
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


def _with_total(graph: Graph, penalty: Graph) -> Graph:
    """`graph` with `penalty`'s output after its own: the penalty reads parameters only,
    and a parameter both read is one node."""
    both = _joined(graph, penalty, 0)
    return Graph(both.nodes, both.inputs, both.parameters, [*graph.outputs, *both.outputs])


def _with_inputs(graph: Graph, constants: list[int]) -> Graph:
    """`graph` with its constants number `constants` (counted among constants) made inputs."""
    positions = [i for i, n in enumerate(graph.nodes) if n.kind == "constant"]
    chosen = [positions[k] for k in constants]
    nodes = list(graph.nodes)
    for i in chosen:
        nodes[i] = Node("input", None, (), nodes[i].data, "")
    return Graph(nodes, [*graph.inputs, *chosen], graph.parameters, graph.outputs)

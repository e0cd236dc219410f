"""Model files: `save(model, path)` and `load(path)`, as JSON with a format version.

A file holds the architecture (the class, the input width, and each layer's width and
activation) and the weights, layer by layer:

    {"format": "scalargrad-model", "version": 1,
     "architecture": {"class": "MLP", "nin": 2, "nouts": [16, 1],
                      "activations": ["relu", "linear"]},
     "weights": [{"w": [[...], ...], "b": [...]}, ...]}

`w` of a layer has one row per neuron and one number per input. Loading never runs
code (no pickle): a file is only ever read as data, checked in full, and a model is
returned only when all of it is right. Anything wrong with the file is a ValueError
that says what.
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

from scalargrad import validate
from scalargrad.nn import ACTIVATIONS, MLP, Layer, Module, Neuron
from scalargrad.safe_write import write_bytes

FORMAT = "scalargrad-model"
VERSION = 1
CLASSES = ("MLP", "Layer", "Neuron")
# About 600,000 weights: far more than a model trained on scalars ever has (that
# would take hours a step), and small enough to check in a second or two.
MAX_BYTES = 16 * 2**20

Path = str | os.PathLike[str]


def save(model: Module, path: Path) -> None:
    """Write `model` (an MLP, Layer or Neuron) to `path` as a JSON model file.

    The file is written under a unique temporary name beside its destination and
    then moved into place: a reader (or a crash) never sees half a file, and two
    saves to one path each leave a whole file. A symbolic link is written through;
    a destination that is not a regular file is refused (ValueError).
    """
    text = json.dumps(_document(model), indent=1, allow_nan=False)
    write_bytes(path, (text + "\n").encode("utf-8"), "save")


def load(path: Path) -> MLP | Layer | Neuron:
    """Read a model written by `save`; ValueError if the file is not a valid model file.

    Only a regular file of at most MAX_BYTES is read.
    """
    where = f"load: {os.fspath(path)}"
    raw = _read_at_most(path, MAX_BYTES, where)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError(
            f"{where} starts with a byte-order mark (BOM), which a JSON model file must "
            f"not have; save it again as UTF-8 without a BOM"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where} is not UTF-8 text ({error.reason})") from None
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_int=_whole_number,
            object_pairs_hook=_without_repeats,
        )  # fmt: skip
    except json.JSONDecodeError as error:
        raise ValueError(_json_error(where, text, error)) from None
    except RecursionError:
        raise ValueError(f"{where} is not a model file: its JSON is nested too deeply") from None
    except ValueError as error:  # NaN or Infinity, refused by _refuse_constant
        raise ValueError(f"{where}: {error}") from None
    return _model(document, where)


def _read_at_most(path: Path, limit: int, where: str) -> bytes:
    """The whole file, after checking it is a regular file of at most `limit` bytes."""
    # Non-blocking, so that opening a FIFO returns at once (to be refused) instead of
    # waiting for a writer; reading a regular file is not affected.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    # The kind of file is asked of the descriptor itself, before any file object is
    # made of it: os.fdopen refuses a folder with an error naming only the number.
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{where} is not a regular file; a model file is a file on disk")
        too_big = (
            f"{where} is larger than {limit // 2**20} MiB, far more than any model file "
            f"of scalargrad needs; it is not a model file"
        )
        if info.st_size > limit:
            raise ValueError(too_big)
        # The file may grow while it is read: never read more than the limit.
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            raw = file.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(raw) > limit:
        raise ValueError(too_big)
    return raw


def _json_error(where: str, text: str, error: json.JSONDecodeError) -> str:
    """What is wrong with the JSON, in a learner's words."""
    at = f"at line {error.lineno}, column {error.colno}"
    if error.msg == "Extra data":
        return (
            f"{where} has more after the model's JSON {at}; a model file holds one "
            f"JSON object and nothing after it"
        )
    if not text[error.pos :].strip():
        return f"{where} is not valid JSON: it ends too early {at} (is the file truncated?)"
    return f"{where} is not valid JSON: {error.msg} {at}"


def _document(model: Module) -> dict[str, Any]:
    """The model file's content as plain dicts and lists, ready for `json.dumps`."""
    architecture: dict[str, Any]
    if isinstance(model, MLP):
        architecture = {
            "class": "MLP",
            "nin": model.nin,
            "nouts": list(model.nouts),
            "activations": model.activations,
        }
    elif isinstance(model, Layer):
        architecture = {
            "class": "Layer",
            "nin": model.nin,
            "nout": model.nout,
            "activation": model.activation,
        }
    elif isinstance(model, Neuron):
        architecture = {"class": "Neuron", "nin": model.nin, "activation": model.activation}
    else:
        raise TypeError(f"save: can save an MLP, Layer or Neuron, got {type(model).__name__}")
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise ValueError(
                f"save: parameter {name} is {p.data!r}; only finite weights can be saved "
                f"(did training diverge? try a smaller learning rate)"
            )
    weights = [
        {"w": [[w.data for w in n.w] for n in neurons], "b": [n.b.data for n in neurons]}
        for neurons in _neurons_by_layer(model)
    ]
    return {"format": FORMAT, "version": VERSION, "architecture": architecture, "weights": weights}


def _neurons_by_layer(model: MLP | Layer | Neuron) -> list[list[Neuron]]:
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    if isinstance(model, Layer):
        return [model.neurons]
    return [[model]]


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid weight; a model file holds finite numbers only")


def _whole_number(text: str) -> int:
    # Python 3.11+ refuses to read an int of more than 4,300 digits, with advice about
    # sys.set_int_max_str_digits; no model file needs one (one of 310 is too large for
    # a float, which the checks of the model say), and 3.10 must refuse it alike.
    if len(text.lstrip("-")) > 4300:
        raise ValueError(
            f"it holds a whole number of {len(text.lstrip('-')):,} digits, which no model "
            f"file needs; it is not a model file"
        )
    return int(text)


def _without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON lets a key appear twice and json keeps the last: one of two weights would
    # be dropped without a word.
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object; which one is meant?")
        seen.add(key)
    return dict(pairs)


def _model(document: Any, where: str) -> MLP | Layer | Neuron:
    """Check every part of the document, then build the model in one go."""
    if not isinstance(document, dict):
        raise ValueError(
            f"{where} is not a model file: it holds {_kind(document)}, not a JSON object"
        )
    if document.get("format") != FORMAT:
        raise ValueError(
            f"{where} is not a scalargrad model file: its format is "
            f"{document.get('format')!r}, not {FORMAT!r}"
        )
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise ValueError(
            f"{where}: model file version {version!r} is not supported; this "
            f"scalargrad reads version {VERSION}"
        )
    architecture = _field(document, "architecture", dict, where)
    weights = _field(document, "weights", list, where)
    kind = _field(architecture, "class", str, f"{where}: architecture")
    if kind not in CLASSES:
        raise ValueError(f"{where}: architecture class must be one of {CLASSES}, got {kind!r}")
    nin = _size(_field(architecture, "nin", int, f"{where}: architecture"), "nin", where)
    if kind == "MLP":
        nouts = _field(architecture, "nouts", list, f"{where}: architecture")
        activations = _field(architecture, "activations", list, f"{where}: architecture")
    elif kind == "Layer":
        nouts = [_field(architecture, "nout", int, f"{where}: architecture")]
        activations = [_field(architecture, "activation", str, f"{where}: architecture")]
    else:
        nouts = [1]
        activations = [_field(architecture, "activation", str, f"{where}: architecture")]
    if not nouts:
        raise ValueError(f"{where}: architecture nouts is empty; an MLP has at least one layer")
    if len(activations) != len(nouts):
        raise ValueError(
            f"{where}: architecture has {len(nouts)} layers but {len(activations)} activations"
        )
    for i, (nout, activation) in enumerate(zip(nouts, activations)):
        if isinstance(nout, bool) or not isinstance(nout, int):
            raise ValueError(f"{where}: the width of layer {i} is {nout!r}, not an int")
        _size(nout, f"the width of layer {i}", where)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{where}: the activation of layer {i} is {activation!r}, not one of "
                f"{', '.join(ACTIVATIONS)}"
            )
    if len(weights) != len(nouts):
        raise ValueError(
            f"{where}: the architecture has {len(nouts)} layers but the file has weights "
            f"for {len(weights)}"
        )
    layer_weights = []
    width = nin
    for i, (layer, nout) in enumerate(zip(weights, nouts)):
        layer_weights.append(_layer_weights(layer, width, nout, f"{where}: layer {i}"))
        width = nout

    # Everything is checked: the sizes below come from the weights actually present,
    # so building cannot fail or ask for more memory than the file holds.
    # seed=0: loading must not draw from (and so disturb) the global random state.
    model: MLP | Layer | Neuron
    if kind == "MLP":
        model = MLP(nin, nouts, activations[:-1], activations[-1], seed=0)
    elif kind == "Layer":
        model = Layer(nin, nouts[0], activations[0], seed=0)
    else:
        model = Neuron(nin, activations[0], seed=0)
    for neurons, (rows, biases) in zip(_neurons_by_layer(model), layer_weights):
        for neuron, row, bias in zip(neurons, rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    return model


def _layer_weights(
    layer: Any, nin: int, nout: int, where: str
) -> tuple[list[list[float]], list[float]]:
    if not isinstance(layer, dict):
        raise ValueError(f"{where}: weights must be an object with w and b, got {_kind(layer)}")
    rows = _field(layer, "w", list, where)
    biases = _field(layer, "b", list, where)
    if len(rows) != nout or len(biases) != nout:
        raise ValueError(
            f"{where}: the architecture says {nout} neurons, but w has {len(rows)} rows "
            f"and b has {len(biases)} numbers"
        )
    checked_rows = []
    for j, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != nin:
            length = f"{len(row)} numbers" if isinstance(row, list) else _kind(row)
            raise ValueError(
                f"{where}: neuron {j} should have {nin} weights, but w[{j}] is {length}"
            )
        checked_rows.append([_number(v, f"{where}: w[{j}][{k}]") for k, v in enumerate(row)])
    checked_biases = [_number(v, f"{where}: b[{j}]") for j, v in enumerate(biases)]
    return checked_rows, checked_biases


def _field(mapping: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise ValueError(f"{where} has no {key!r}")
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{where}: {key!r} should be {_KIND_NAMES[kind]}, got {_kind(value)}")
    return value


def _size(n: int, what: str, where: str) -> int:
    if n < 1:
        raise ValueError(f"{where}: {what} must be at least 1, got {n}")
    return n


def _number(value: Any, where: str) -> float:
    # JSON numbers only: a string "1.5" in a weight's place is a broken file, not a number.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} holds {_kind(value)} {value!r}, not a number")
    try:
        return validate.finite_number(value, where)
    except (OverflowError, ValueError) as error:
        raise ValueError(str(error)) from None


# Each JSON kind with its article, as a message names it.
_KIND_NAMES: dict[type, str] = {
    dict: "a JSON object",
    list: "a JSON array",
    str: "a JSON string",
    int: "a JSON integer",
    float: "a JSON number",
    bool: "a JSON boolean",
    type(None): "JSON null",
}


def _kind(value: Any) -> str:
    return _KIND_NAMES.get(type(value), f"a {type(value).__name__}")

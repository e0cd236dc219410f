"""Model files: save/load round-trips, and every bad file is a ValueError that loads nothing."""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalargrad.modelfile import FORMAT, VERSION, load, save
from scalargrad.nn import ACTIVATIONS, MLP, Layer, Neuron

finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def mlps(draw: st.DrawFn) -> MLP:
    """An MLP of up to 3 layers of up to 4 neurons, with any finite weights."""
    nin = draw(st.integers(1, 4))
    nouts = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    activations = draw(
        st.lists(st.sampled_from(ACTIVATIONS), min_size=len(nouts), max_size=len(nouts))
    )
    model = MLP(nin, nouts, activations[:-1], activations[-1], seed=0)
    for p in model.parameters():
        p.data = draw(finite_floats)
    return model


def _saved_and_loaded(model: Any) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.json")
        save(model, path)
        return load(path)


def _load_bytes(data: bytes) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.json")
        with open(path, "wb") as file:
            file.write(data)
        return load(path)


def _architecture(model: Any) -> tuple[Any, ...]:
    if isinstance(model, MLP):
        return ("MLP", model.nin, model.nouts, model.activations)
    return (type(model).__name__, model.nin, model.nout, model.activation)


# ---- round trips ----------------------------------------------------------------------------


@given(mlps())
def test_an_mlp_comes_back_from_its_file_with_every_weight_exact(model: MLP) -> None:
    """load(save(m)) has m's architecture and bit-for-bit the same weights."""
    loaded = _saved_and_loaded(model)
    assert _architecture(loaded) == _architecture(model)
    assert loaded.state_dict() == model.state_dict()


@pytest.mark.parametrize(
    "model",
    [Neuron(3, "tanh", seed=1), Layer(2, 4, "sigmoid", seed=2), MLP(2, [16, 16, 1], seed=3)],
    ids=["Neuron", "Layer", "MLP"],
)
def test_each_kind_of_model_round_trips_and_computes_the_same_outputs(model: Any) -> None:
    """A Neuron, a Layer and an MLP come back as themselves and give the same outputs."""
    loaded = _saved_and_loaded(model)
    assert type(loaded) is type(model)
    assert _architecture(loaded) == _architecture(model)
    x = [0.25, -0.5, 1.0][: model.nin]
    expected = model(x)
    got = loaded(x)
    if isinstance(expected, list):
        assert [v.data for v in got] == [v.data for v in expected]
    else:
        assert got.data == expected.data


def test_a_loaded_model_has_its_parameter_labels() -> None:
    """Loaded parameters are named as when the model was made."""
    loaded = _saved_and_loaded(MLP(2, [3, 1], seed=0))
    assert all(p.label == name for name, p in loaded.named_parameters())


def test_the_file_is_plain_json_with_a_format_and_a_version(tmp_path: Path) -> None:
    """Any JSON reader can read it: format, version, architecture, weights."""
    model = MLP(2, [3, 1], ["tanh"], seed=0)
    save(model, tmp_path / "model.json")
    document = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert document["format"] == FORMAT
    assert document["version"] == VERSION
    assert document["architecture"] == {
        "class": "MLP",
        "nin": 2,
        "nouts": [3, 1],
        "activations": ["tanh", "linear"],
    }
    assert document["weights"][1]["w"] == [[w.data for w in model.layers[1].neurons[0].w]]


def test_save_replaces_an_existing_file_and_leaves_no_partial_file(tmp_path: Path) -> None:
    """Saving over a file replaces it; nothing but the model file is left behind."""
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    save(MLP(2, [5, 1], seed=0), str(path))
    assert load(path).nouts == [5, 1]
    assert os.listdir(tmp_path) == ["model.json"]


def test_loading_leaves_the_global_random_state_alone(tmp_path: Path) -> None:
    """load builds the model without drawing from `random`."""
    save(MLP(2, [8, 1], seed=0), tmp_path / "model.json")
    random.seed(5)
    state = random.getstate()
    load(tmp_path / "model.json")
    assert random.getstate() == state


# ---- what save refuses ----------------------------------------------------------------------


def test_saving_a_model_with_non_finite_weights_is_a_value_error(tmp_path: Path) -> None:
    """NaN or infinite weights are named, and no file is written."""
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[2].w[1].data = math.nan
    with pytest.raises(ValueError, match=r"parameter L0\.N2\.w1 is nan"):
        save(model, tmp_path / "model.json")
    assert os.listdir(tmp_path) == []


def test_saving_something_that_is_not_a_model_is_a_type_error(tmp_path: Path) -> None:
    """Only an MLP, Layer or Neuron can be saved."""
    with pytest.raises(TypeError, match="can save an MLP, Layer or Neuron, got dict"):
        save({"w": 1.0}, tmp_path / "model.json")  # type: ignore[arg-type]


# ---- what load refuses ----------------------------------------------------------------------


def _valid_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.json")
        save(MLP(2, [3, 1], seed=0), path)
        with open(path, encoding="utf-8") as file:
            document: dict[str, Any] = json.load(file)
            return document


def _with(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(document))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda text: text[: len(text) // 2], "is not valid JSON.*truncated"),
        (lambda text: "", "is not valid JSON"),
        (lambda text: "[1, 2]", "not a model file: it holds a JSON array"),
        (lambda text: text.replace(FORMAT, "keras"), "not a scalargrad model file"),
        (lambda text: text.replace('"version": 1', '"version": 2'), "version 2 is not supported"),
        (lambda text: text.replace('"MLP"', '"CNN"'), "class must be one of"),
        (lambda text: text.replace('"linear"', '"swish"'), "activation of layer 1 is 'swish'"),
        (lambda text: text.replace('"nouts": [\n   3,', '"nouts": [\n   4,'), "says 4 neurons"),
        (lambda text: "[" * 100_000, "nested too deeply|not valid JSON"),
    ],
)
def test_a_bad_file_is_a_value_error_that_says_what_is_wrong(mangle: Any, message: str) -> None:
    """Truncated, not a model, another version, unknown names, mismatched shapes."""
    text = json.dumps(_valid_document(), indent=1)
    with pytest.raises(ValueError, match=message):
        _load_bytes(mangle(text).encode("utf-8"))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("weights", 0, "w", 1), [0.5], "neuron 1 should have 2 weights"),
        (
            ("weights", 0, "w", 0, 0),
            "0.5",
            r"layer 0: w\[0\]\[0\] holds a JSON string .0\.5., not a number",
        ),
        (("weights", 0, "w", 0, 0), True, "holds a JSON boolean True, not a number"),
        (("weights", 0, "b", 0), 10**400, "too large for a float"),
        (("weights", 0, "b"), [0.0], "w has 3 rows and b has 1"),
        (("weights",), [], "has 2 layers but the file has weights for 0"),
        (("architecture", "nin"), 0, "nin must be at least 1"),
        (("architecture", "nin"), 3, "neuron 0 should have 3 weights"),
        (("architecture", "nin"), "2", "'nin' should be a JSON integer, got a JSON string"),
        (("architecture", "activations"), ["relu"], "2 layers but 1 activations"),
    ],
)
def test_a_mismatched_file_is_a_value_error_naming_the_part(
    path: Any, value: Any, message: str
) -> None:
    """Shapes that disagree with the architecture, and non-numbers, are named."""
    text = json.dumps(_with(_valid_document(), path, value))
    with pytest.raises(ValueError, match=message):
        _load_bytes(text.encode("utf-8"))


def test_nan_and_infinity_in_a_file_are_refused() -> None:
    """Python's json would read NaN and 1e999; a model file may not hold them."""
    text = json.dumps(_valid_document())
    first_weight = json.dumps(_valid_document()["weights"][0]["w"][0][0])
    for bad in ("NaN", "Infinity", "1e999"):
        with pytest.raises(ValueError, match=r"not a valid weight|expected a finite number"):
            _load_bytes(text.replace(first_weight, bad, 1).encode("utf-8"))


def test_a_file_that_is_not_utf8_is_a_value_error() -> None:
    """Binary junk is refused as not being text."""
    with pytest.raises(ValueError, match="not UTF-8 text"):
        _load_bytes(b"\xff\xfe\x00model")


def test_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    """A path with no file is an OSError, as open() gives, not a ValueError."""
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.json")


# ---- mangled files: only ValueError, and never half a model -----------------------------


def _valid_bytes() -> bytes:
    return json.dumps(_valid_document(), indent=1).encode("utf-8")


@st.composite
def mangled_bytes(draw: st.DrawFn) -> bytes:
    """A valid model file cut short, with bytes flipped, inserted or deleted."""
    data = bytearray(_valid_bytes())
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "truncate":
            del data[position:]
        elif action == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[position : position + draw(st.integers(1, 16))]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every part of a JSON document, the document itself first."""
    keys = (
        value if isinstance(value, dict) else range(len(value)) if isinstance(value, list) else []
    )
    return [prefix] + [path for key in keys for path in _paths(value[key], (*prefix, key))]


VALID_PATHS = _paths(_valid_document())


@st.composite
def mangled_documents(draw: st.DrawFn) -> bytes:
    """A valid model document with one part, at any depth, replaced by any JSON value."""
    path = draw(st.sampled_from(VALID_PATHS))
    replacement = draw(json_values)
    if not path:
        return json.dumps(replacement).encode("utf-8")
    return json.dumps(_with(_valid_document(), path, replacement)).encode("utf-8")


def _loads_a_whole_model_or_raises_value_error(data: bytes) -> None:
    try:
        model = _load_bytes(data)
    except ValueError:
        return
    # Whatever loaded is a complete, working model: every parameter finite, every layer
    # as wide as the next one expects.
    assert all(math.isfinite(p.data) for p in model.parameters())
    output = model([0.5] * model.nin)
    assert output is not None


@given(mangled_bytes())
def test_a_mangled_file_raises_only_value_error_and_never_half_loads(data: bytes) -> None:
    """Bytes cut, flipped, inserted, deleted: a whole model, or a ValueError; nothing else."""
    _loads_a_whole_model_or_raises_value_error(data)


@given(mangled_documents())
def test_a_document_with_any_part_replaced_raises_only_value_error(data: bytes) -> None:
    """Any part of the JSON replaced by any JSON value: a whole model, or a ValueError."""
    _loads_a_whole_model_or_raises_value_error(data)

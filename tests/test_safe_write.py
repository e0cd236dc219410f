"""Saving a model file: atomic, safe beside other writers, and only onto regular files."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import sys
from pathlib import Path

import pytest

from scalargrad.modelfile import MAX_BYTES, load, save
from scalargrad.nn import MLP
from scalargrad.safe_write import UnwritablePathError, checked_target, write_bytes

needs_posix = pytest.mark.skipif(os.name != "posix", reason="FIFOs and symlinks as on POSIX")


def _write_repeatedly(path: str, seed: int, times: int) -> None:
    for _ in range(times):
        save(MLP(2, [8, 8, 1], seed=seed), path)


@pytest.mark.slow
def test_concurrent_saves_to_one_path_always_leave_a_whole_file(tmp_path: Path) -> None:
    """Three processes saving to one path while this one reads it: every read is a
    complete model file (one writer's or another's), and no temporary file is left."""
    path = tmp_path / "model.json"
    save(MLP(2, [8, 8, 1], seed=0), path)
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_repeatedly, args=(str(path), seed, 40)) for seed in (1, 2, 3)
    ]
    for writer in writers:
        writer.start()
    expected = {json.dumps(MLP(2, [8, 8, 1], seed=seed).state_dict()) for seed in (0, 1, 2, 3)}
    reads = 0
    while any(writer.is_alive() for writer in writers) or reads < 20:
        assert json.dumps(load(path).state_dict()) in expected
        reads += 1
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


def test_a_users_own_partial_file_beside_the_model_is_left_alone(tmp_path: Path) -> None:
    """The temporary file has a unique name: `<path>.partial` of the user's is untouched."""
    mine = tmp_path / "model.json.partial"
    mine.write_text("my notes")
    save(MLP(2, [1], seed=0), tmp_path / "model.json")
    assert mine.read_text() == "my notes"
    assert sorted(os.listdir(tmp_path)) == ["model.json", "model.json.partial"]


@needs_posix
def test_saving_onto_a_symlink_writes_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    """A link to a model file stays a link; the file it points to gets the new model."""
    target = tmp_path / "models" / "real.json"
    target.parent.mkdir()
    link = tmp_path / "model.json"
    link.symlink_to(target)
    save(MLP(2, [1], seed=3), link)
    assert link.is_symlink()
    assert load(target).state_dict() == MLP(2, [1], seed=3).state_dict()


@needs_posix
def test_saving_onto_a_fifo_or_a_folder_is_refused_and_leaves_it(tmp_path: Path) -> None:
    """What is not a regular file is not replaced: a ValueError says what it is."""
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="it is not a regular file"):
        save(MLP(2, [1], seed=0), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(ValueError, match="it is a folder"):
        save(MLP(2, [1], seed=0), tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


def test_a_file_name_too_long_for_the_file_system_is_refused_up_front(tmp_path: Path) -> None:
    """A 300-character name is an UnwritablePathError (a ValueError) naming the limit."""
    with pytest.raises(UnwritablePathError, match="choose a shorter name"):
        checked_target(tmp_path / ("m" * 300 + ".json"), "save")
    assert os.listdir(tmp_path) == []


def test_a_folder_that_takes_no_file_is_refused_before_writing(
    unwritable_folder: Path,
) -> None:
    """The check tries to make a file there (permission bits do not stop root)."""
    with pytest.raises(UnwritablePathError, match="takes no new file"):
        write_bytes(unwritable_folder / "model.json", b"{}", "save")


def test_a_missing_folder_is_made_when_writing(tmp_path: Path) -> None:
    """write_bytes makes the folders on the way, as `scalargrad demo --out` needs."""
    path = write_bytes(tmp_path / "a" / "b" / "f.bin", b"data", "demo")
    assert path.read_bytes() == b"data"


@needs_posix
def test_loading_dev_zero_or_a_fifo_is_refused_at_once() -> None:
    """load('/dev/zero') would read until memory runs out; it is not a regular file."""
    with pytest.raises(ValueError, match="is not a regular file"):
        load("/dev/zero")


@needs_posix
def test_loading_a_fifo_with_no_writer_does_not_wait(tmp_path: Path) -> None:
    """Opening a FIFO for reading would block until a writer comes; it is refused."""
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is not a regular file"):
        load(fifo)


def test_a_file_larger_than_any_model_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A file past MAX_BYTES is refused by its size, with a clear message."""
    path = tmp_path / "model.json"
    with open(path, "wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: no time or disk spent
    with pytest.raises(ValueError, match="larger than 16 MiB, far more than any model file"):
        load(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbf{}", "starts with a byte-order mark"),
        (b'{"format": "scalargrad-model"} trailing', "has more after the model's JSON"),
        (b'{"format": "scalargrad-model", ', "it ends too early .* truncated"),
        (b'{"format" "scalargrad-model"}', "Expecting ':' delimiter at line 1, column 11$"),
    ],
)
def test_json_errors_say_what_is_really_wrong(tmp_path: Path, data: bytes, message: str) -> None:
    """Only a file that ends too early is asked about truncation; a BOM or trailing data
    is named as such."""
    path = tmp_path / "model.json"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        load(path)


@pytest.mark.parametrize("document", [[], "text", 1, None, {"format": "scalargrad-model"}])
def test_messages_about_json_kinds_read_as_english(tmp_path: Path, document: object) -> None:
    """'holds a JSON array', never 'a array'."""
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError) as error:
        load(path)
    assert " a array" not in str(error.value) and " a object" not in str(error.value)
    assert " a integer" not in str(error.value)


def test_saved_files_get_the_usual_permissions_of_a_new_file(tmp_path: Path) -> None:
    """The temporary file is private while written; the saved file is not."""
    path = tmp_path / "model.json"
    save(MLP(2, [1], seed=0), path)
    if sys.platform != "win32":
        mask = os.umask(0)
        os.umask(mask)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask

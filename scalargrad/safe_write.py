"""Writing a file so that a reader only ever sees the old file or the whole new one.

The bytes go to a temporary file of a unique name in the destination's folder and are
then moved over the destination with `os.replace`, which is atomic: two processes
saving to one path each write their own temporary file, and the last move wins. A
destination that is a symbolic link is written through the link (the link stays); one
that is not a regular file (a folder, a FIFO, a device) is refused, not replaced.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_bytes(folder / "notes.txt", b"hello", "example").read_bytes()
b'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

PathLike = str | os.PathLike[str]

# Temporary files take this prefix, so a long destination name never makes one too long.
TEMPORARY_PREFIX = ".scalargrad-"


class UnwritablePathError(ValueError):
    """A destination that cannot take a file: the message says why and what to do."""


def checked_target(path: PathLike, where: str) -> Path:
    """The file that writing to `path` will replace, once it is known to be writable.

    A symbolic link resolves to its target. The folder (or, when it does not exist
    yet, its nearest existing ancestor, where the folders would be made) must take a
    new file: this is tried, not guessed from permission bits. Raises
    UnwritablePathError naming the path and the reason.
    """
    given = Path(path)
    target = Path(os.path.realpath(given))
    name_max = _name_max(_nearest_existing(target.parent))
    for part in target.parts:
        if len(os.fsencode(part)) > name_max:
            raise UnwritablePathError(
                f"{where}: cannot write {given}: the name {part[:40]}... is "
                f"{len(os.fsencode(part))} bytes long, more than the {name_max} a file name "
                f"may have here; choose a shorter name"
            )
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # the folders are checked below
        mode = None
    except OSError as error:
        raise UnwritablePathError(f"{where}: cannot write {given}: {_reason(error)}") from None
    if mode is not None and not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise UnwritablePathError(
            f"{where}: cannot write {given}: it is {what}; name a file, or move it out of the way"
        )
    folder = _nearest_existing(target.parent)
    # Messages name the folder as the user wrote it, not as the links resolve.
    shown = _nearest_existing(given.parent)
    if not folder.is_dir():
        raise UnwritablePathError(f"{where}: cannot write {given}: {shown} is a file, not a folder")
    try:
        descriptor, probe = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=folder)
    except OSError as error:
        raise UnwritablePathError(
            f"{where}: cannot write {given}: the folder {shown} takes no new file "
            f"({_reason(error)}); choose another folder"
        ) from None
    os.close(descriptor)
    os.remove(probe)
    return target


def write_bytes(path: PathLike, data: bytes, where: str) -> Path:
    """Write `data` to `path` atomically (see the module docstring); the file written.

    The folder is made if missing. UnwritablePathError if `path` cannot take a file.
    """
    target = checked_target(path, where)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file readable by its owner only; a saved file gets the
        # permissions any new file of this user gets.
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    return target


def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf
        return 255


def _reason(error: OSError) -> str:
    return error.strerror or errno.errorcode.get(error.errno or 0, str(error))


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: setting the umask to read it is not safe beside other threads.
_UMASK = _read_umask()

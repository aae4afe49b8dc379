"""Files in the install's folders, opened so that a link planted in them leads nowhere: a path
must stay inside its folder once resolved, and the file itself is opened with O_NOFOLLOW, so a
letter replaced by a symlink to a key is refused rather than served, and a planted `.partial`
link is replaced rather than written through. Files are created 0600, folders 0700."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from casework.errors import UserError


def _inside(root: Path, path: Path) -> Path:
    """`path`, if it and every folder on the way stay inside `root` (links resolved)."""
    base = root.resolve()
    target = path if path.is_absolute() else base / path
    parent = target.parent.resolve()
    if parent != base and base not in parent.parents:
        raise UserError("file_outside", name=target.name[:60])
    return parent / target.name


def read_inside(root: Path, path: Path) -> bytes:
    """The bytes of a regular file inside `root`; UserError if it is a link, not a regular
    file, or outside."""
    target = _inside(root, path)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise UserError("file_missing", name=target.name[:60]) from None
    except OSError:  # ELOOP: the file is a symlink
        raise UserError("file_outside", name=target.name[:60]) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UserError("file_outside", name=target.name[:60])
        return handle.read()


def is_file_inside(root: Path, path: Path) -> bool:
    """Whether `path` is a regular file (not a link) inside `root`."""
    try:
        target = _inside(root, path)
    except UserError:
        return False
    try:
        return stat.S_ISREG(os.lstat(target).st_mode)
    except FileNotFoundError:
        return False


def make_folder_inside(root: Path, folder: Path) -> Path:
    """`folder` made (0700) inside `root`; UserError if a link takes it elsewhere."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = _inside(root, folder / "x").parent
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.is_symlink() or target.resolve() != target:
        raise UserError("file_outside", name=folder.name[:60])
    return target


def write_inside(root: Path, path: Path, data: bytes) -> Path:
    """Writes `data` to `path` inside `root`, whole or not at all (a crash never leaves half a
    letter): a fresh temporary file (0600, never an existing one or a link) renamed over it."""
    target = _inside(root, path)
    partial = target.with_name(f".{target.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)  # whatever is there, a link included, goes; its target is untouched
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)  # rename replaces a link at `target`, never writes through it
    return target

"""The ground floor's file writers: every file the project writes goes through here.

A file is written to a temporary file in the same folder and renamed onto its name, so an
interrupted write never leaves a half-written file or loses the previous one.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Call `write(tmp_path)`, then rename the result onto `path` (same folder, so atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it 0600: give it what open() would
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if _disk_full(err):
            from perceptzoo.errors import UserError

            raise UserError(f"no space left on the device while writing {path}; the previous "
                            "file is intact. Free some space and run the command again (a "
                            "training run: `perceptzoo train --resume RUN`)") from None
        raise


def _mode_for(path: Path) -> int:
    """The permission bits the file keeps (it exists) or a plain `open()` would give it."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _disk_full(err: BaseException) -> bool:
    while err is not None:
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(err) or "file write failed" in str(err):
            return True
        err = err.__cause__ or err.__context__
    return False


def remove_orphans(folder: str | Path) -> list[str]:
    """Delete temporary files an interrupted `atomic_write` left in `folder` (a SIGKILL between
    creating the temporary file and renaming it); returns their names."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for tmp in folder.glob(".*.tmp"):
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink()
            removed.append(tmp.name)
    return removed


def write_json(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented JSON, atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")

    atomic_write(path, write)


def write_text(path: str | Path, text: str) -> None:
    """Write `text`, atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text)

    atomic_write(path, write)

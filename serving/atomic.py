"""Files replaced atomically: written beside their target, then swapped in with os.replace.

A BI tool, browser or mail client holding the old file sees it whole or sees the new one,
never a half-written file. Every file the serving folder holds is written this way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

# The serving files are meant to be opened by other users and tools.
FILE_MODE = 0o644


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, swapped in with os.replace when the block succeeds
    and deleted in any case.

    Beside the target so the rename stays on one file system; named per process and call so
    two writers never share a temporary file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically, readable by other users."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, FILE_MODE)

"""Files the commands write (``plan --out``, ``--snapshot-out``): checked before the work whose
result they hold, and written with one sentence, not a traceback, when the disk says no.

A scan of an organisation takes minutes; finding only then that ``--out`` names a folder that
does not exist would throw that work away.
"""

from __future__ import annotations

import os
from pathlib import Path

from remediator.errors import BadInputError


def check_writable(path: str, option: str) -> None:
    """BadInputError when ``path`` (given as ``option``) cannot be written as a file."""
    file = Path(path)
    folder = file.parent
    if file.is_dir():
        raise BadInputError(f"{option} {path} is a folder, not a file name")
    if not folder.is_dir():
        raise BadInputError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(file if file.exists() else folder, os.W_OK):
        raise BadInputError(f"{option} {path}: permission denied")


def write_text(path: str | Path, text: str, what: str) -> None:
    """Write ``text`` to ``path`` as UTF-8; BadInputError naming ``what`` when it cannot be."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None

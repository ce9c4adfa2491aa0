"""Reading a document the user names on the command line: a file, or ``-`` for standard input.

Both are read the same way, as bytes and at most a bounded amount (``/dev/zero`` or an endless
pipe must not fill the memory), then decoded as strict UTF-8, so a file and the same bytes on
standard input give the same result or the same message. A UTF-8 byte-order mark is dropped,
as AWS's own tools accept one.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO, TextIO

from remediator.errors import BadInputError


def source_name(source: str) -> str:
    """How messages name FILE: its path, or "standard input" for ``-``."""
    return "standard input" if source == "-" else source


def read_text(source: str, stdin: TextIO | None, limit: int, limit_reason: str) -> str:
    """The text of FILE, or of standard input for ``-``; BadInputError otherwise.

    ``stdin`` is ``sys.stdin``: None when the process was started with it closed. More than
    ``limit`` bytes is refused; ``limit_reason`` says why the limit is enough.
    """
    name = source_name(source)
    try:
        if source == "-":
            if stdin is None:
                raise BadInputError("standard input is closed, so there is nothing to read")
            data = _read_bounded(stdin.buffer, limit)
        else:
            with Path(source).open("rb") as file:
                data = _read_bounded(file, limit)
    except OSError as exc:
        raise BadInputError(f"cannot read {name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise BadInputError(f"{name} is larger than {_size(limit)}, {limit_reason}")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{name} is not UTF-8 text (at byte {exc.start}: {exc.reason})") \
            from None


def _read_bounded(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit + 1`` bytes: one more than allowed tells a stream that is too long."""
    return stream.read(limit + 1)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit:,} bytes"

"""Standard output that outlives its reader: ``remediator ... | head -1``, ``>&-`` and
``>/dev/full`` end with the command's own exit code and no traceback.

Python's advice on SIGPIPE (https://docs.python.org/3/library/signal.html#note-on-sigpipe) is to
point standard output at ``os.devnull`` once a write raised BrokenPipeError, so that nothing
written later, nor the interpreter's last flush, fails again. Here any failed write does that
and is remembered instead of raised, so the command finishes and its exit code still says what
it found or did: ``apply`` must not lose that it changed keys because the reader of its report
went away. A reader that left (a broken pipe) is the reader's choice and is not reported; output
lost otherwise (a closed descriptor, a full disk) is reported on stderr as a warning.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import TextIO


class _GuardedFd(io.RawIOBase):
    """A file descriptor whose first failed write is recorded; nothing is written after it.
    ``closed_from_start``: the process had no standard output, and ``fd`` is os.devnull."""

    def __init__(self, fd: int, closed_from_start: bool = False) -> None:
        super().__init__()
        self._fd = fd
        self._closed_from_start = closed_from_start
        self.failure: OSError | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return self.failure is None and os.isatty(self._fd)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        size = memoryview(data).nbytes
        if self.failure is not None:
            return size
        if self._closed_from_start:
            self.failure = OSError(errno.EBADF, "it is closed")
            return size
        try:
            return os.write(self._fd, data)
        except OSError as exc:
            self.failure = exc
            _point_at_devnull(self._fd)
            return size


def _point_at_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class OutputGuard:
    """Standard output and error guarded for one command: ``release`` flushes them, puts the
    originals back and says (on stderr) when output was lost other than to a reader that
    left. A stream a caller replaced (tests capture them) is left as it is."""

    def __init__(self) -> None:
        self._originals = (sys.stdout, sys.stderr)
        self._stdout = self._guard("stdout", sys.__stdout__)
        self._stderr = self._guard("stderr", sys.__stderr__)

    @staticmethod
    def _guard(name: str, own: TextIO | None) -> _GuardedFd | None:
        stream: TextIO | None = getattr(sys, name)
        if stream is None:  # started with the descriptor closed
            # os.devnull takes the descriptor, so no file opened later is written as output
            raw = _GuardedFd(os.open(os.devnull, os.O_WRONLY), closed_from_start=True)
            encoding: str = "utf-8"
            errors: str | None = "strict"
            lines: bool = False
        elif stream is own:
            try:
                raw = _GuardedFd(stream.fileno())
            except (OSError, ValueError):
                return None
            stream.flush()
            encoding, errors = stream.encoding, stream.errors
            lines = bool(stream.line_buffering)
        else:
            return None
        setattr(sys, name, io.TextIOWrapper(io.BufferedWriter(raw), encoding=encoding,
                                            errors=errors, line_buffering=lines))
        return raw

    def lost(self) -> str | None:
        """Why standard output was lost, when the user should hear of it."""
        failure = None if self._stdout is None else self._stdout.failure
        if failure is None or isinstance(failure, BrokenPipeError):
            return None
        return f"could not write to standard output ({failure.strerror or failure})"

    def release(self) -> None:
        sys.stdout.flush()
        why = self.lost()
        if why is not None:
            print(f"remediator: warning: {why}; the exit code still gives the result",
                  file=sys.stderr)
        sys.stderr.flush()
        if self._stdout is not None:
            sys.stdout = self._originals[0]
        if self._stderr is not None:
            sys.stderr = self._originals[1]

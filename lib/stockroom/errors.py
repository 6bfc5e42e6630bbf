"""Errors that carry enough context for a one-line, actionable message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)@")
_QUERY_PASSWORD = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|secret|token|api_key)=)[^&\s'\"]+", re.I
)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` as logs, messages and the run log may keep it: every one of ``secrets`` (tokens)
    replaced by ``***``, and the password of any URL in it (``scheme://user:password@host``, or
    a ``password=`` / ``token=`` query parameter) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(lambda m: m["head"] + "***@", text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + "***", text)


class StockroomError(Exception):
    """Base class: the CLI prints ``str(error)`` as its one-line reason and exits non-zero."""


@dataclass
class InputProblem:
    """One bad cell (or missing file/column) in a source file.

    ``row`` is the 1-based data row in the source file (the header is not counted), or ``None``
    when the problem concerns the whole file or column.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        # a whole-file problem names the path as given (a missing folder says which one); a
        # URL is named whole (its last segment alone would not say which product it was)
        whole = self.row is None or "://" in str(self.file)
        where = [str(self.file) if whole else Path(self.file).name]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.message}{value}"


class InputError(StockroomError):
    """Bad source data. Raised before anything is written, so stored snapshots are untouched.

    ``problems`` lists every bad cell found (first ones first); ``str()`` names the first with its
    file, row and column and says how many more there are.
    """

    def __init__(self, problems: list[InputProblem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = problems
        more = len(problems) - 1
        suffix = f" (+{more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{problems[0]}{suffix}")


class SnapshotError(StockroomError):
    """The snapshot store refused or failed a write; the previous snapshot is untouched."""


class ConfigError(StockroomError):
    """The install is set up in a way that would break a promise (companies kept apart, ...):
    the message says what to change."""

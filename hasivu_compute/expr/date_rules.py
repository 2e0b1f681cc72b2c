"""What the binder checks of the calendar functions: ``date_diff`` units and the
``strftime`` format language (DuckDB's, as far as Arrow's ``strftime`` can follow it).

The kernels (:mod:`hasivu_compute.exec.kernels.dates`) format with the same code tables
and :func:`strftime_tokens`, so a format the binder accepts is one they can run.

>>> strftime_tokens("%Y-%-m")
[('code', 'Y'), ('text', '-'), ('code', '-m')]
"""

from __future__ import annotations

import re

from hasivu_compute._core.errors import BindError

__all__ = [
    "ARROW_CODES",
    "DIFF_UNITS",
    "FRACTIONS",
    "REWRITES",
    "STRFTIME_CODES",
    "UNPADDED",
    "check_strftime_format",
    "strftime_tokens",
]

#: ``date_diff`` units (canonical names; the SQL front end maps DuckDB's aliases).
DIFF_UNITS = frozenset(
    {"year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond"}
    | {"microsecond"}
)
#: Codes whose output DuckDB and Arrow's ``strftime`` agree on.
ARROW_CODES = frozenset("aAwdbBhmyYHIpMSjUWXGVu%")
#: Codes DuckDB also accepts unpadded (``%-d``).
UNPADDED = frozenset("dmyHIMSj")
#: Fraction-of-second codes and their digits.
FRACTIONS = {"f": 6, "g": 3, "n": 9}
#: DuckDB's ISO forms, spelled with Arrow's codes.
REWRITES = {"c": "%Y-%m-%d %H:%M:%S", "x": "%Y-%m-%d"}
#: Format codes ``strftime`` accepts (``-d`` is ``%-d``).
STRFTIME_CODES = frozenset({*ARROW_CODES, *(f"-{c}" for c in UNPADDED), *FRACTIONS, *REWRITES})
_CODE = re.compile(r"%(-?.)?")


def strftime_tokens(fmt: str) -> list[tuple[str, str]]:
    """``fmt`` as ("text", s) and ("code", c) pieces; BindError on an unknown code or an
    empty format (DuckDB refuses it too)."""
    if not fmt:
        raise BindError("strftime: the format is empty")
    out: list[tuple[str, str]] = []
    at = 0
    for match in _CODE.finditer(fmt):
        if match.start() > at:
            out.append(("text", fmt[at : match.start()]))
        code = match.group(1)
        if code is None or code not in STRFTIME_CODES:
            shown = "%" + (code or "")
            raise BindError(
                f"strftime: unknown format code {shown!r} in {fmt!r} "
                f"(codes: {', '.join(sorted('%' + c for c in STRFTIME_CODES))})"
            )
        out.append(("code", code))
        at = match.end()
    if at < len(fmt):
        out.append(("text", fmt[at:]))
    return out


def check_strftime_format(fmt: str) -> None:
    """Raise BindError naming the first format code ``strftime`` does not support."""
    strftime_tokens(fmt)

"""Zone-map statistics of column blocks, and their JSON form for manifests.

A :class:`ColumnChunkStats` is what pruning sees of a block: row and null
counts, min and max as plain Python scalars (comparable with
``pyarrow.Scalar.as_py()``), whether NaN occurs, and whether a bloom filter
exists. The table layer stores these in manifests, so they round-trip through
JSON exactly (``Decimal``, ``bytes``, dates, tz-aware datetimes, ±inf).
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hasivu_compute._core.errors import InvalidDataError

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


@dataclass(frozen=True, slots=True)
class ColumnChunkStats:
    """Zone map of one column block (or of a whole segment, merged).

    Attributes:
        row_count: rows in the block, nulls included.
        null_count: null rows.
        min: smallest non-null, non-NaN value; ``None`` when all values are null
            (or NaN) or when the type is not tracked.
        max: largest non-null, non-NaN value (an upper bound for truncated strings).
        has_nan: whether a floating-point NaN occurs (NaN never becomes min/max).
        has_bloom: whether the block carries a bloom filter.
    """

    row_count: int
    null_count: int
    min: object | None
    max: object | None
    has_nan: bool = False
    has_bloom: bool = False

    def to_json(self) -> dict[str, JSONValue]:
        """A JSON-friendly dict; :meth:`from_json` restores an equal object."""
        out: dict[str, JSONValue] = {"rows": self.row_count, "nulls": self.null_count}
        if self.min is not None:
            out["min"] = scalar_to_json(self.min)
        if self.max is not None:
            out["max"] = scalar_to_json(self.max)
        if self.has_nan:
            out["nan"] = True
        if self.has_bloom:
            out["bloom"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> ColumnChunkStats:
        """Inverse of :meth:`to_json`; raises ``InvalidDataError`` on a malformed dict."""
        try:
            rows = data["rows"]
            nulls = data["nulls"]
            if not isinstance(rows, int) or not isinstance(nulls, int):
                raise TypeError("rows/nulls must be integers")
            lo = data.get("min")
            hi = data.get("max")
            return cls(
                row_count=rows,
                null_count=nulls,
                min=None if lo is None else scalar_from_json(lo),
                max=None if hi is None else scalar_from_json(hi),
                has_nan=bool(data.get("nan", False)),
                has_bloom=bool(data.get("bloom", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidDataError(f"malformed column stats {dict(data)!r}: {exc}") from exc


def merge_stats(parts: Iterable[ColumnChunkStats]) -> ColumnChunkStats:
    """Merge block stats into the stats of their union (e.g. a whole segment).

    ``has_bloom`` is true only when every part has a bloom filter. A part with
    non-null values but no min (untracked) makes the merged min unknown.
    """
    rows = nulls = 0
    lo: object | None = None
    hi: object | None = None
    lo_known = hi_known = True
    has_nan = False
    has_bloom = True
    seen = False
    for part in parts:
        seen = True
        rows += part.row_count
        nulls += part.null_count
        has_nan = has_nan or part.has_nan
        has_bloom = has_bloom and part.has_bloom
        non_null = part.row_count - part.null_count
        if part.min is None:
            lo_known = lo_known and (non_null == 0 or _nan_only(part))
        elif lo_known:
            lo = part.min if lo is None or part.min < lo else lo  # type: ignore[operator]
        if part.max is None:
            hi_known = hi_known and (non_null == 0 or _nan_only(part))
        elif hi_known:
            hi = part.max if hi is None or part.max > hi else hi  # type: ignore[operator]
    return ColumnChunkStats(
        row_count=rows,
        null_count=nulls,
        min=lo if lo_known else None,
        max=hi if hi_known else None,
        has_nan=has_nan,
        has_bloom=has_bloom and seen,
    )


def _nan_only(stats: ColumnChunkStats) -> bool:
    """True when a block's non-null values are all NaN (so min/max are absent, not unknown)."""
    return stats.has_nan and stats.min is None and stats.max is None


def scalar_to_json(value: object) -> JSONValue:
    """Tag a Python scalar so that :func:`scalar_from_json` restores its exact type."""
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": value if math.isfinite(value) else repr(value)}
    if isinstance(value, Decimal):
        return {"t": "dec", "v": str(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, bytes):
        return {"t": "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"t": "ts", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {"t": "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"t": "td", "v": [value.days, value.seconds, value.microseconds]}
    raise InvalidDataError(f"cannot store a {type(value).__name__} in column stats: {value!r}")


def scalar_from_json(data: JSONValue) -> object:
    """Inverse of :func:`scalar_to_json`."""
    if not isinstance(data, dict) or "t" not in data:
        raise ValueError(f"not a tagged scalar: {data!r}")
    tag, v = data["t"], data.get("v")
    if tag == "bool" and isinstance(v, bool):
        return v
    if tag == "int" and isinstance(v, int):
        return v
    if tag == "float" and isinstance(v, int | float | str):
        return float(v)
    if tag == "dec" and isinstance(v, str):
        return Decimal(v)
    if tag == "str" and isinstance(v, str):
        return v
    if tag == "bytes" and isinstance(v, str):
        return base64.b64decode(v)
    if tag == "ts" and isinstance(v, str):
        return dt.datetime.fromisoformat(v)
    if tag == "date" and isinstance(v, str):
        return dt.date.fromisoformat(v)
    if tag == "time" and isinstance(v, str):
        return dt.time.fromisoformat(v)
    if tag == "td" and isinstance(v, list) and len(v) == 3:
        days, secs, micros = (int(x) for x in v if isinstance(x, int))
        return dt.timedelta(days=days, seconds=secs, microseconds=micros)
    raise ValueError(f"unknown tagged scalar: {data!r}")

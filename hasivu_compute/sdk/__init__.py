"""The Python SDK: ``connect()``, the :class:`Connection`, and the lazy :class:`DataFrame`."""

from __future__ import annotations

from hasivu_compute.sdk.connection import Connection, connect
from hasivu_compute.sdk.dataframe import DataFrame, GroupedFrame

__all__ = ["Connection", "DataFrame", "GroupedFrame", "connect"]

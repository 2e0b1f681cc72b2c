"""The runtime's one point of contact with the plan and exec packages.

Keeping every call into the planner/executor here means a change in their API
is absorbed in one small module, and the actor code stays about Ray.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import xxhash

from hasivu_compute._core.lru import LruCache
from hasivu_compute.plan.nodes import PlanNode, scans

DECODED_FRAGMENTS = 256


def run_on_reader(fragment: Any, reader: Any, broadcasts: Any | None = None) -> pa.Table:
    """Run one fragment, reading files through ``reader`` (a shard's cached reader);
    ``broadcasts``: its broadcast joins' right sides, by broadcast id."""
    from hasivu_compute.exec import run_fragment

    return run_fragment(fragment, reader, broadcasts)


def prepare_plans(plan: PlanNode, catalog: Any) -> Any:
    """Bound, optimized and physical stages of ``plan`` (exec's ``QueryPlans``)."""
    from hasivu_compute.exec import prepare

    return prepare(plan, catalog)


def merge_partials(
    plans: Any, partials: Sequence[pa.Table], schema: pa.Schema | None = None
) -> pa.Table:
    """Combine the fragments' outputs with the plan's merge step, typed as the bound plan
    (``schema``: the bound plan's output schema, when the caller already has it)."""
    from hasivu_compute.exec import merge
    from hasivu_compute.plan.binder import output_schema

    result = merge(list(partials), plans.physical)
    if schema is None:
        schema = output_schema(plans.bound)
    if not result.schema.equals(schema):
        result = result.rename_columns(schema.names).cast(schema)
    return result


def encode_fragment(fragment: Any) -> bytes:
    """The bytes a shard is sent for ``fragment``, made once per prepared query.

    Files travel without their zone maps: pruning used them on the driver, and a
    shard reads a file by path and checksum. That cuts the message from ~5 KB /
    ~110 dataclass objects to ~1.7 KB for a 5-file fragment; pickling and
    unpickling the full one cost ~0.7 ms each way on the one-school query.
    """
    files = tuple(
        dataclasses.replace(sf, file=dataclasses.replace(sf.file, stats={}))
        if dataclasses.is_dataclass(sf.file) and getattr(sf.file, "stats", None)
        else sf
        for sf in fragment.files
    )
    return pickle.dumps(dataclasses.replace(fragment, files=files), protocol=5)


class FragmentDecoder:
    """Shard-side memo of decoded fragments, keyed by their bytes (a repeated query
    decodes its fragment once per shard; identical bytes mean an identical fragment)."""

    def __init__(self, capacity: int = DECODED_FRAGMENTS) -> None:
        self._entries: LruCache[tuple[bytes, Any]] = LruCache(capacity)

    def decode(self, payload: bytes) -> Any:
        """The fragment ``payload`` encodes (see :func:`encode_fragment`)."""
        digest = xxhash.xxh3_64_intdigest(payload)
        hit = self._entries.get(digest)
        if hit is not None and hit[0] == payload:
            return hit[1]
        fragment = pickle.loads(payload)
        self._entries.put(digest, (payload, fragment))
        return fragment


def pruning_lines(plan: PlanNode) -> tuple[str, ...]:
    """``"orders: read partitions 1 of 16, segments 2 of 48, chunks 2 of 48"`` per pruned scan."""
    out = []
    for scan in scans(plan):
        if scan.pruning is not None:
            out.append(f"{scan.table}: {scan.pruning.describe()}")
    return tuple(out)


def explain_text(runner: Any, plan: PlanNode, stage: str | None) -> str:
    """Text of ``plan``: the planner's stages plus how fragments are spread over shards.

    ``stage``: None (optimized + physical + distributed), "all", "bound",
    "optimized", "physical" or "distributed" (shard routing only).
    """
    import hasivu_compute.exec  # noqa: F401  (installs the evaluator constant folding uses)
    from hasivu_compute.plan.explain import explain

    source = runner.source()
    if stage == "distributed":
        return _distributed_text(runner, plan)
    stages: Any = ("optimized", "physical") if stage is None else stage
    text = explain(plan, source, stages)
    if stage in (None, "all", "physical"):
        text += "\n" + _distributed_text(runner, plan)
    return text


def _distributed_text(runner: Any, plan: PlanNode) -> str:
    from hasivu_compute.runtime.query import assign_fragments

    physical = runner.prepare(plan).physical
    groups = assign_fragments(physical.fragments, runner.ring)
    lines = [f"== distributed ({len(runner.ring.shards)} shards) =="]
    for shard in sorted(groups):
        for fragment in groups[shard]:
            rows = sum(sf.file.num_rows for sf in fragment.files)
            lines.append(
                f"shard {shard}: exchange {fragment.exchange_id}, "
                f"{len(fragment.files)} files, {rows:,} rows"
            )
    if not groups:
        lines.append("no shard: every file was pruned")
    return "\n".join(lines)


__all__ = [
    "FragmentDecoder",
    "encode_fragment",
    "explain_text",
    "merge_partials",
    "prepare_plans",
    "pruning_lines",
    "run_on_reader",
]

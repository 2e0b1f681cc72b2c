"""Settings read from the environment (``HASIVU_*``) with pydantic-settings.

One place for every knob so that a notebook, a Ray job and the CLI agree.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The embedded default data folder: ``$XDG_DATA_HOME/hasivu`` or ``~/.local/share/hasivu``."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hasivu"


class Settings(BaseSettings):
    """Engine settings; each field can be set as ``HASIVU_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="HASIVU_", extra="ignore")

    data_dir: str = Field(default_factory=lambda: str(default_data_dir()))
    zstd_level: int = Field(default=1, ge=-7, le=22)
    chunk_rows: int = Field(default=65_536, ge=1, le=1 << 20)
    bloom_min_distinct_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    bloom_fpp: float = Field(default=0.01, gt=0.0, lt=1.0)
    num_shards: int = Field(default=0, ge=0)  # 0 = one per CPU
    num_ingest_actors: int = Field(default=0, ge=0)  # 0 = derived from CPUs
    shard_cache_bytes: int = Field(default=1 << 30, ge=0)
    ray_auth_mode: str = "disabled"
    # An embedded Ray runs its dashboard on 127.0.0.1 so Ray's state API (`ray list
    # actors`, ray.util.state) answers; off saves ~1-2 s of start-up and ~200 MB.
    ray_dashboard: bool = True
    malloc_tuning: bool = True  # keep decode buffers in the C heap (see _core.allocator)
    # partition_by=["school_id"]: a tenant-like key is hashed into this many clusters
    # (schema.partition.default_transform).
    default_buckets: int = Field(default=16, ge=1, le=4096)
    # Compaction (table.compaction): the coordinator merges small files on its own once a
    # table has this many below half the target size; 0 switches it off.
    compact_min_files: int = Field(default=32, ge=0)
    compact_target_rows: int = Field(default=1 << 20, ge=1024)
    # Small writes (runtime.tablelog): calls of at most this many rows are acknowledged
    # from the table's write-ahead log and flushed into segments by rows or age.
    log_max_call_rows: int = Field(default=100_000, ge=0)  # 0: every call writes segments
    log_flush_rows: int = Field(default=1 << 20, ge=1)
    log_flush_age_s: float = Field(default=10.0, gt=0)
    log_max_buffer_rows: int = Field(default=4 << 20, ge=1)
    # Joins (exec.spill): a join whose build side holds more bytes than this is
    # hash-partitioned to local disk (under spill_dir, default the system temp folder)
    # and joined one part at a time.
    join_memory_bytes: int = Field(default=2 << 30, ge=1 << 16)
    spill_dir: str | None = None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]

"""Which engine runs the flow figures (docs/scale.md): DuckDB in-process, the default, or
Apache Spark for histories past one machine. A light module: a command's options and
``obeya --help`` name the engines without loading either."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obeya.errors import InputError

#: The engines a user may name (``--engine``, ``OBEYA_ENGINE``). PostgreSQL is not one: a
#: store on PostgreSQL computes a stream's figures on its server.
ENGINES = ("duckdb", "spark")
#: The columns of events a flow analysis reads, in order: what the store's events table, a
#: Parquet export (``obeya export --events-parquet``) and an event log all hold.
ANALYSED_COLUMNS = (
    "item_id", "state", "t", "seq", "created", "type", "title", "team", "assignee"
)  # fmt: skip
#: The Spark master when none is given: two local cores.
DEFAULT_SPARK_MASTER = "local[2]"


@dataclass(frozen=True)
class Engine:
    """An engine by name, and for Spark its master: ``local[N]``, a cluster's URL
    (``spark://host:7077``, ``yarn``) or Spark Connect (``sc://host:15002``)."""

    name: str = "duckdb"
    spark_master: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise InputError(
                f"{{opt:engine}} is {self.name!r}; give one of {', '.join(ENGINES)}",
                field="engine",
                value=self.name,
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Engine:
        """``OBEYA_ENGINE`` (default duckdb) and ``OBEYA_SPARK_MASTER``."""
        env = os.environ if environ is None else environ
        name = (env.get("OBEYA_ENGINE") or "duckdb").strip().lower()
        return cls(name, env.get("OBEYA_SPARK_MASTER") or None)

    @property
    def in_process(self) -> bool:
        return self.name == "duckdb"

    def connect(self) -> Any:
        """A backend of this engine (:func:`~obeya.core.metrics.engine.release` it)."""
        from obeya.core.metrics.engine import duckdb_backend, spark_backend

        if self.name == "spark":
            return spark_backend(self.spark_master)
        return duckdb_backend()

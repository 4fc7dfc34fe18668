"""Choosing the engine: names, the environment, a local master's cores. (The Spark engine's
figures are tests/spark's.)"""

from __future__ import annotations

import os

import pytest

from obeya.core.metrics.engine import local_cores
from obeya.core.metrics.engines import Engine
from obeya.errors import InputError


def test_the_environment_chooses_unless_told() -> None:
    assert Engine.from_environment({}) == Engine("duckdb", None)
    env = {"OBEYA_ENGINE": " Spark ", "OBEYA_SPARK_MASTER": "spark://host:7077"}
    assert Engine.from_environment(env) == Engine("spark", "spark://host:7077")
    assert not Engine("spark").in_process and Engine().in_process


def test_an_unknown_engine_is_named_with_the_choices() -> None:
    with pytest.raises(InputError) as caught:
        Engine("pandas")
    assert (caught.value.field, caught.value.value) == ("engine", "pandas")
    assert caught.value.shown("cli") == "--engine is 'pandas'; give one of duckdb, spark"


@pytest.mark.parametrize(
    ("master", "cores"),
    [("local", 1), ("local[1]", 1), ("local[3]", 3), ("local[3,2]", 3), ("local[0]", 1)],
)
def test_a_local_masters_cores(master: str, cores: int) -> None:
    assert local_cores(master) == cores


def test_local_star_is_every_core() -> None:
    assert local_cores("local[*]") == (os.cpu_count() or 1)

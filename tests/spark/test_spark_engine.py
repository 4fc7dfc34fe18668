"""The Spark engine gives exactly the default engine's figures (issue: the same metrics on
Spark). Each test computes on a local Spark session and on DuckDB and compares the whole
document, after checking a few figures by hand: "Tiny" (tests/api/tiny.py, worked out in its
docstring), the bundled sample (BPI Challenge 2013 incidents), a filtered window, a map
discovery, and the two doors a user has (``obeya metrics --engine spark`` and a workspace whose
engine is Spark, as ``OBEYA_ENGINE=spark obeya serve`` makes)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.tiny import TINY_CSV, WORKFLOW, tiny_workspace
from obeya.cli.main import app
from obeya.core.events import EventLog
from obeya.core.maps.discovery import discover
from obeya.core.metrics import FlowFilter
from obeya.core.metrics.engine import DEFAULT_DRIVER_MEMORY, analyse_log, analyse_parquet
from obeya.core.metrics.engines import Engine
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap, read_events
from obeya.workspace import Workspace

from support import SAMPLES, twin_fit_on

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

SAMPLE = SAMPLES / "bpic2013_incidents_transitions.csv.gz"
SAMPLE_WORKFLOW = SAMPLES / "bpic2013_workflow.toml"
SAMPLE_COLUMNS = ColumnMap(item_id="case_id", state="status", type="impact")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[EventLog, Workflow]:
    path = tmp_path_factory.mktemp("tiny") / "tiny.csv"
    path.write_text(TINY_CSV, encoding="utf-8")
    return read_events(path), Workflow.from_toml_text(WORKFLOW)


@pytest.fixture(scope="module")
def sample() -> tuple[EventLog, Workflow]:
    return read_events(SAMPLE, columns=SAMPLE_COLUMNS), Workflow.from_toml(SAMPLE_WORKFLOW)


def both(log: EventLog, workflow: Workflow, spark: Any, flt: FlowFilter | None = None) -> Any:
    """The detailed flow document on DuckDB and on Spark."""
    duck = analyse_log(log, workflow, flt, detail=True).to_dict(detail=True)
    on_spark = analyse_log(log, workflow, flt, detail=True, backend=spark).to_dict(detail=True)
    return duck, on_spark


def test_tiny_by_hand_and_as_duckdb(tiny: tuple[EventLog, Workflow], spark: Any) -> None:
    duck, on_spark = both(*tiny, spark)
    ct = on_spark["cycle_time_days"]
    # By hand: cycle times 2, 6 and 4 days; WIP 1 (D); 11 active days of 12.
    assert (ct["p50"], ct["p85"], ct["p95"]) == (4.0, 5.4, 5.8)
    assert (on_spark["items"]["finished"], on_spark["items"]["in_progress"]) == (3, 1)
    assert on_spark["flow_efficiency"] == pytest.approx(11 / 12)
    assert on_spark["throughput_weekly"] == {"2024-01-01": 1, "2024-01-08": 2}
    assert on_spark == duck


def test_the_bundled_sample_as_duckdb(sample: tuple[EventLog, Workflow], spark: Any) -> None:
    duck, on_spark = both(*sample, spark)
    assert on_spark["items"]["finished"] == 7_546  # docs/forecasting.md: 7,546 finished
    assert on_spark == duck


def test_a_window_of_two_types_as_duckdb(sample: tuple[EventLog, Workflow], spark: Any) -> None:
    flt = FlowFilter(types=("High", "Medium"), since=date(2012, 4, 1), until=date(2012, 5, 10))
    duck, on_spark = both(*sample, spark, flt)
    assert 0 < on_spark["items"]["finished"] < 7_546
    assert on_spark == duck


def test_a_map_discovery_as_duckdb(sample: tuple[EventLog, Workflow], spark: Any) -> None:
    log, workflow = sample
    on_spark = discover(log, workflow, backend=spark).to_dict()
    assert on_spark == discover(log, workflow).to_dict()
    assert on_spark["steps"], "the sample's map has steps"


def test_the_cli_and_a_workspace_run_on_spark(tmp_path: Path, spark: Any) -> None:
    # In one process, Spark's builder returns the running session: the command shares it.
    path = tmp_path / "tiny.csv"
    path.write_text(TINY_CSV, encoding="utf-8")
    (tmp_path / "wf.toml").write_text(WORKFLOW, encoding="utf-8")
    args = ["metrics", str(path), "-w", str(tmp_path / "wf.toml"), "--json"]
    default = CliRunner().invoke(app, args)
    on_spark = CliRunner().invoke(app, [*args, "--engine", "spark", "--spark-master", "local[1]"])
    assert default.exit_code == on_spark.exit_code == 0, on_spark.output
    assert json.loads(on_spark.stdout) == json.loads(default.stdout)

    url = f"sqlite:///{tmp_path / 'obeya.db'}"
    with tiny_workspace(url, tmp_path) as duck_ws:
        expected = duck_ws.flow("Tiny", detail=True).to_dict(detail=True)
        expected_map = duck_ws.discover_stream_map("Tiny").to_dict()
    with Workspace(url, engine=Engine("spark")) as ws:
        assert ws.flow("Tiny", detail=True).to_dict(detail=True) == expected
        assert ws.discover_stream_map("Tiny").to_dict() == expected_map


def test_a_parquet_dataset_read_in_place_as_duckdb(
    sample: tuple[EventLog, Workflow], spark: Any, tmp_path: Path
) -> None:
    # The sample stored, exported by month as `obeya export --events-parquet` writes it.
    log, workflow = sample
    url = f"sqlite:///{tmp_path / 'obeya.db'}"
    with Workspace(url) as ws:
        ws.initialise()
        ws.import_file(SAMPLE, "Sample", workflow=workflow, columns=SAMPLE_COLUMNS)
        assert ws.export_events_parquet("Sample", tmp_path / "lake") == log.table.num_rows
    on_spark = analyse_parquet(tmp_path / "lake", workflow, backend=spark).to_dict()
    assert on_spark == analyse_parquet(tmp_path / "lake", workflow).to_dict()
    assert on_spark["items"]["finished"] == 7_546


def test_the_twin_fitted_on_spark_as_in_numpy(
    sample: tuple[EventLog, Workflow], spark: Any
) -> None:
    # Spark orders the events into visits (a cut at 80 % of the events, open visits at the
    # cut); the visits and the twin fitted from them are numpy's exactly.
    assert twin_fit_on(spark, *sample, 0.8) == []


def test_a_local_session_has_obeyas_driver_settings(spark: Any) -> None:
    """What ``spark_backend`` asks of a local driver's JVM reaches it: the throughput
    collector (G1 would show as "G1 Young Generation") and the heap. (Not the shuffle
    partitions: a later ``spark_backend("local[2]")`` resets them on the session it reuses.)"""
    session = spark._session
    beans = session.sparkContext._jvm.java.lang.management.ManagementFactory
    collectors = {bean.getName() for bean in beans.getGarbageCollectorMXBeans()}
    assert collectors == {"PS Scavenge", "PS MarkSweep"}
    memory = os.environ.get("OBEYA_SPARK_DRIVER_MEMORY") or DEFAULT_DRIVER_MEMORY
    assert session.sparkContext.getConf().get("spark.driver.memory") == memory

"""Spark Connect: ``obeya metrics --engine spark --spark-master sc://HOST:PORT`` computes on a
Spark Connect server and gives the default engine's document. The server is a real one, the
Spark Connect server PySpark ships (``local[1]`` behind it), started for this module; the
command runs in its own process, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.tiny import TINY_CSV, WORKFLOW

from support import DATASETS

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
OBEYA = str(Path(sys.executable).with_name("obeya"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sc://127.0.0.1:PORT`` of a Spark Connect server running for this module."""
    if shutil.which("java") is None:
        pytest.skip("Spark Connect needs Java 17 (java is not on the PATH)")
    import pyspark

    home = Path(pyspark.__file__).parent
    port = free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    command = [
        str(home / "bin" / "spark-submit"), "--class", SERVER, "--master", "local[1]",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4",
    ]  # fmt: skip
    env = {**os.environ, "SPARK_HOME": str(home)}
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"the Spark Connect server did not start:\n{tail}")
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def metrics(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [OBEYA, "metrics", *args, "--json"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_metrics_through_spark_connect_as_duckdb(connect_url: str, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(TINY_CSV, encoding="utf-8")
    workflow = tmp_path / "wf.toml"
    workflow.write_text(WORKFLOW, encoding="utf-8")
    remote = ["--engine", "spark", "--spark-master", connect_url]
    on_connect = metrics(str(tiny), "-w", str(workflow), *remote)
    assert on_connect == metrics(str(tiny), "-w", str(workflow))
    # Tiny's hand-worked figures (tests/api/tiny.py): cycle times 2, 6 and 4 days.
    ct = on_connect["cycle_time_days"]
    assert isinstance(ct, dict) and (ct["p50"], ct["p85"], ct["p95"]) == (4.0, 5.4, 5.8)

    helpdesk = DATASETS / "helpdesk.xes.gz"  # 4,580 cases of a real help desk
    on_connect = metrics(str(helpdesk), *remote)
    assert on_connect == metrics(str(helpdesk))

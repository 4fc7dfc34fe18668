"""The review's CPU attacks against a live server (see conftest.py): work that froze the
event loop, and simulations that never ended or outlived their client."""

from __future__ import annotations

import socket
import time
from contextlib import closing
from typing import Any

import httpx
import pytest

from obeya.core.simulation.engine import estimate_work
from obeya.core.simulation.scenario import scenario_from_dict
from security.conftest import Server, bystander

#: One step, one server at 80 % load: its work in events is priced by the server's estimate.
BUSY: dict[str, Any] = {
    "name": "current",
    "arrival_rate_per_day": 40.0,
    "days": 6_000,
    "warmup_days": 10,
    "replications": 1,
    "seed": 7,
    "step": [
        {
            "name": "Build",
            "servers": 1,
            "process_time_days": {"distribution": "exponential", "mean": 0.02},
        }
    ],
}


#: A live `obeya serve` per module, attacked: `make test` runs them, `make check` does not.
pytestmark = pytest.mark.slow


def test_endless_rework_is_refused_before_it_runs(server: Server) -> None:
    """Finding 6: ``complete_accurate = 1e-9`` kept a core busy for 5 minutes after the
    client left. It is priced first: refused at once, naming what drives the work."""
    endless = {**BUSY, "step": [{**BUSY["step"][0], "complete_accurate": 1e-9}]}
    started, cpu = time.monotonic(), server.cpu_seconds()
    answer = httpx.post(
        f"{server.url}/api/simulate",
        json=endless,
        headers=server.headers("no role"),
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert "complete_accurate" in answer.json()["error"]["message"]
    assert time.monotonic() - started < 2.0
    assert server.cpu_seconds() - cpu < 1.0


def test_a_simulation_stops_when_its_client_leaves(server: Server) -> None:
    """Finding 6: a run went on after the client had gone. A run within the budget (a few
    seconds of work) is started, the client hangs up after half a second, and the server's
    CPU falls idle within about a second; meanwhile another user is answered within 1 s."""
    events = estimate_work(scenario_from_dict(BUSY, "scenario")).events
    assert 1_000_000 < events < 2_000_000  # a few seconds of work, inside the budget
    body = httpx.Request("POST", "/api/simulate", json=BUSY).content
    token = server.tokens["viewer"]
    head = (
        f"POST /api/simulate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with bystander(server):
        with closing(socket.create_connection(("127.0.0.1", server.port), timeout=10)) as sock:
            sock.sendall(head + body)
            time.sleep(0.5)
        time.sleep(1.0)  # the route looks for the client every quarter second
        cpu = server.cpu_seconds()
        time.sleep(1.5)
        idle = server.cpu_seconds() - cpu
    assert idle < 0.5, f"the server used {idle:.2f} s of CPU after its client left"


def test_a_large_catalogue_is_refused_and_clustering_leaves_the_loop_free(
    server: Server,
) -> None:
    """Finding 5: 2,000 products from a user with no role froze every request for 32 s on
    the event loop. Over the cap: a 422 at once; at the cap, it computes in the thread pool
    while another user is answered within 1 s."""
    steps = [f"s{i}" for i in range(40)]

    def catalogue(n: int) -> bytes:
        rows = [
            f"P{i},{';'.join(steps[i % 40 : i % 40 + 5])},t{i % 7},m{i % 3},c{i % 5}"
            for i in range(n)
        ]
        header = "product,steps,technologies,markets,segments\n"
        return (header + "\n".join(rows) + "\n").encode()

    headers = server.headers("no role")
    with bystander(server):
        over = httpx.post(
            f"{server.url}/api/families/cluster",
            headers=headers,
            files={"file": ("products.csv", catalogue(2_000), "text/csv")},
            timeout=30,
        )
        at_cap = httpx.post(
            f"{server.url}/api/families/cluster",
            headers=headers,
            files={"file": ("products.csv", catalogue(1_000), "text/csv")},
            timeout=60,
        )
    assert over.status_code == 422, over.text
    assert "1,000" in over.json()["error"]["message"]
    assert at_cap.status_code == 200, at_cap.text[:300]
    assert sum(len(f["products"]) for f in at_cap.json()["families"]) == 1_000
